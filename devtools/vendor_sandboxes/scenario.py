"""The scenario file: what every vendor sandbox serves (format in ``docs/vendors.md``).

One scenario describes sites, their children and child-days in vendor-neutral terms; each vendor
sandbox renders the sites assigned to it into its own payload shape. Loading is strict about the
things a renderer needs and tolerant about optional ones, so tests can build odd data on purpose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

#: Facilities in the scenarios keep Indiana (Indianapolis) wall-clock time.
FACILITY_TIMEZONE = ZoneInfo("America/Indiana/Indianapolis")

VENDORS = ("ALLIANCE_CORE", "BRIGHTWHEEL", "PLAYGROUND")

DEFAULT_SETTINGS: dict[str, Any] = {
    "alliance_core_token_ttl_seconds": 3600,
    "alliance_core_token_max_uses": None,  # a token stops working after this many API calls
    "page_size": 50,  # the largest page a sandbox serves; larger client requests are capped
    "playground_polls_before_complete": 2,
    "playground_token_ttl_seconds": 86400,
    "sloppy_date_filter": False,  # serve every record of the site, ignoring the requested range
}

_MISSING = object()


class ScenarioError(ValueError):
    """The scenario file is unusable."""


@dataclass(frozen=True)
class Child:
    vendor_child_key: str
    state_child_id: Any  # str | None, or _MISSING when the scenario omits the key
    first_name: str
    last_name: str
    birth_date: str | None

    @property
    def has_state_child_id_key(self) -> bool:
        return self.state_child_id is not _MISSING

    @property
    def state_id(self) -> str | None:
        return None if self.state_child_id is _MISSING else self.state_child_id


@dataclass(frozen=True)
class Day:
    index: int
    vendor_child_key: str
    date: dt.date
    status: str  # "present" | "absent"
    check_in: str | None  # as written in the scenario (aware ISO, or naive = keyed-in wall clock)
    check_out: str | None
    reason: str | None

    def stable_id(self, license_number: str, salt: str) -> str:
        text = f"{license_number}|{self.vendor_child_key}|{self.date.isoformat()}|{self.index}|{salt}"
        return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Submission:
    """A site's submission marker as the scenario states it (vendor-neutral)."""

    submitted: bool
    submitted_at: str | None = None  # ISO 8601 with a UTC offset
    data_through: dt.date | None = None


@dataclass(frozen=True)
class Marker:
    """What a vendor says about one requested period of a site (see :func:`marker_for`)."""

    submitted: bool
    submitted_at: dt.datetime | None  # aware; None when not submitted
    data_through: dt.date | None
    issued_at: dt.datetime  # when the vendor's statement was made (report run, upload, certification)


@dataclass(frozen=True)
class Site:
    vendor: str
    license_number: str
    name: str
    children: dict[str, Child]
    days: tuple[Day, ...]
    #: Vendor-shaped records served verbatim after the rendered ones, never filtered or checked:
    #: how tests send malformed, wrong-typed or hostile payloads over real HTTP.
    raw_records: tuple[Any, ...] = ()
    #: The marker for any requested period (None: submitted) and per-period overrides by period start.
    submission: Submission | None = None
    submissions: dict[dt.date, Submission] = field(default_factory=dict)
    #: Vendor-shaped marker entries served verbatim after the rendered ones (malformed-marker tests).
    raw_submissions: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Scenario:
    sites: tuple[Site, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    faults: tuple[dict, ...] = ()

    def sites_for(self, vendor: str) -> dict[str, Site]:
        return {site.license_number: site for site in self.sites if site.vendor == vendor}

    def setting(self, name: str) -> Any:
        return self.settings.get(name, DEFAULT_SETTINGS.get(name))


def _require(mapping: dict, key: str, where: str) -> Any:
    if key not in mapping or mapping[key] in (None, ""):
        raise ScenarioError(f"{where}: '{key}' is required")
    return mapping[key]


def _submission(raw: Any, where: str) -> Submission:
    if not isinstance(raw, dict) or type(raw.get("submitted")) is not bool:
        raise ScenarioError(f"{where}: a submission is an object with 'submitted': true or false")
    submitted_at = raw.get("submitted_at")
    try:
        if submitted_at is not None and dt.datetime.fromisoformat(str(submitted_at)).utcoffset() is None:
            raise ValueError("'submitted_at' needs a UTC offset")
        through = raw.get("data_through")
        through = None if through is None else dt.date.fromisoformat(str(through))
    except ValueError as error:
        raise ScenarioError(f"{where}: {error}") from error
    return Submission(raw["submitted"], None if submitted_at is None else str(submitted_at), through)


def _submissions(raw_site: dict, where: str) -> dict[dt.date, Submission]:
    overrides = raw_site.get("submissions") or []
    if not isinstance(overrides, list):
        raise ScenarioError(f"{where}: 'submissions' must be a list")
    result = {}
    for number, raw in enumerate(overrides):
        o_where = f"{where}.submissions[{number}]"
        try:
            start = dt.date.fromisoformat(str(_require(raw, "period_start", o_where)))
        except (ValueError, TypeError) as error:
            raise ScenarioError(f"{o_where}: {error}") from error
        result[start] = _submission(raw, o_where)
    return result


def parse_scenario(raw: dict) -> Scenario:
    if not isinstance(raw, dict) or not isinstance(raw.get("sites", []), list):
        raise ScenarioError("a scenario is a JSON object with a 'sites' list")
    sites = [_site(raw_site, f"sites[{s_no}]") for s_no, raw_site in enumerate(raw.get("sites", []))]
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict):
        raise ScenarioError("'settings' must be an object")
    faults = raw.get("faults") or []
    if not isinstance(faults, list):
        raise ScenarioError("'faults' must be a list")
    return Scenario(sites=tuple(sites), settings=dict(settings), faults=tuple(faults))


def _site(raw_site: dict, where: str) -> Site:
    vendor = str(_require(raw_site, "vendor", where)).upper()
    if vendor not in VENDORS:
        raise ScenarioError(f"{where}: vendor must be one of {', '.join(VENDORS)}, got {vendor!r}")
    license_number = str(_require(raw_site, "license_number", where))
    children = _children(raw_site, where)
    days = [
        _day(raw_day, d_no, children, f"{where}.days[{d_no}]") for d_no, raw_day in enumerate(raw_site.get("days", []))
    ]
    raw_records = raw_site.get("raw_records") or []
    raw_submissions = raw_site.get("raw_submissions") or []
    if not isinstance(raw_records, list) or not isinstance(raw_submissions, list):
        raise ScenarioError(f"{where}: 'raw_records' and 'raw_submissions' must be lists")
    submission = raw_site.get("submission")
    return Site(
        vendor=vendor,
        license_number=license_number,
        name=str(raw_site.get("name", f"Site {license_number}")),
        children=children,
        days=tuple(days),
        raw_records=tuple(raw_records),
        submission=None if submission is None else _submission(submission, f"{where}.submission"),
        submissions=_submissions(raw_site, where),
        raw_submissions=tuple(raw_submissions),
    )


def _children(raw_site: dict, where: str) -> dict[str, Child]:
    children: dict[str, Child] = {}
    for c_no, raw_child in enumerate(raw_site.get("children", [])):
        key = str(_require(raw_child, "vendor_child_key", f"{where}.children[{c_no}]"))
        state_id = raw_child.get("state_child_id", _MISSING)
        children[key] = Child(
            vendor_child_key=key,
            state_child_id=None if state_id is None else (state_id if state_id is _MISSING else str(state_id)),
            first_name=str(raw_child.get("first_name", "Test")),
            last_name=str(raw_child.get("last_name", "Child")),
            birth_date=raw_child.get("birth_date"),
        )
    return children


def _day(raw_day: dict, index: int, children: dict[str, Child], where: str) -> Day:
    key = str(_require(raw_day, "vendor_child_key", where))
    if key not in children:
        raise ScenarioError(f"{where}: unknown vendor_child_key {key!r}")
    status = str(_require(raw_day, "status", where)).lower()
    if status not in ("present", "absent"):
        raise ScenarioError(f"{where}: status must be 'present' or 'absent'")
    try:
        day = dt.date.fromisoformat(str(_require(raw_day, "date", where)))
        for stamp in ("check_in", "check_out"):
            if raw_day.get(stamp):
                dt.datetime.fromisoformat(raw_day[stamp])
    except ValueError as error:
        raise ScenarioError(f"{where}: {error}") from error
    return Day(
        index=index,
        vendor_child_key=key,
        date=day,
        status=status,
        check_in=raw_day.get("check_in") or None,
        check_out=raw_day.get("check_out") or None,
        reason=raw_day.get("reason"),
    )


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ScenarioError(f"cannot read scenario {path}: {error}") from error
    return parse_scenario(raw)


# --- time rendering helpers shared by the vendor apps -------------------------------------------


def moment(text: str) -> dt.datetime:
    """The instant a scenario timestamp denotes. Naive = facility wall clock, earlier reading (fold=0)."""
    value = dt.datetime.fromisoformat(text)
    if value.utcoffset() is None:
        value = value.replace(tzinfo=FACILITY_TIMEZONE)
    return value


def utc_z(text: str | dt.datetime) -> str:
    """``2026-03-08T12:45:00Z`` (of a scenario timestamp, or of an aware datetime)."""
    value = text if isinstance(text, dt.datetime) else moment(text)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_iso(text: str) -> str:
    """Facility-local ISO 8601 with its offset, e.g. ``2026-01-05T07:45:00-05:00``."""
    return moment(text).astimezone(FACILITY_TIMEZONE).isoformat(timespec="seconds")


def wall_clock(text: str) -> str:
    """Facility-local wall clock without offset: ``07:45`` (``07:45:30`` when seconds are set).

    A naive scenario timestamp is rendered exactly as written, so a keyed-in time that does not
    exist (spring forward) or is ambiguous (fall back) reaches the client unchanged.
    """
    value = dt.datetime.fromisoformat(text)
    if value.utcoffset() is not None:
        value = value.astimezone(FACILITY_TIMEZONE)
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def day_bounds_utc(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first, dt.time.min, tzinfo=FACILITY_TIMEZONE)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=FACILITY_TIMEZONE)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def marker_for(site: Site, first: dt.date, last: dt.date) -> Marker:
    """The site's marker for the requested period ``first..last``: its ``submissions`` entry for
    that period start, else its ``submission``, else submitted. A submitted period is submitted at
    the given time (default: two days after its end, 18:00 facility time) and complete through the
    given day (default: its end); a draft's statement is dated the day after the period, 09:00.
    """
    chosen = site.submissions.get(first) or site.submission or Submission(submitted=True)
    drafted = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(9), tzinfo=FACILITY_TIMEZONE)
    if not chosen.submitted:
        return Marker(False, None, chosen.data_through, drafted)
    submitted_at = (
        moment(chosen.submitted_at)
        if chosen.submitted_at
        else dt.datetime.combine(last + dt.timedelta(days=2), dt.time(18), tzinfo=FACILITY_TIMEZONE)
    )
    return Marker(True, submitted_at, chosen.data_through or last, submitted_at)


def requested_period(first: str | None, last: str | None) -> tuple[dt.date, dt.date] | None:
    """A marker request's ``YYYY-MM-DD`` period bounds (None when unreadable or reversed)."""
    try:
        bounds = dt.date.fromisoformat(first or ""), dt.date.fromisoformat(last or "")
    except ValueError:
        return None
    return bounds if bounds[0] <= bounds[1] else None


def marker_id(site: Site, first: dt.date, last: dt.date) -> str:
    """A stable id for a site-period's marker entry."""
    return hashlib.sha1(f"{site.license_number}|{first}|{last}|marker".encode()).hexdigest()[:12]
