"""Submission markers: what a vendor says about how final its data for one site-period is.

Each vendor hook reads its own marker endpoint (brightwheel's Indiana I-LEAD report runs,
Playground's CCA attendance uploads, Alliance CORE's attendance certifications) and turns every
entry about the requested site-period into a :class:`MarkerEntry` with the helpers below;
:func:`read_marker` then applies the rules all vendors share (``docs/vendors.md``):

* any submitted entry: ``submitted=True``, ``submitted_at`` = the latest submitted entry's,
  ``data_through`` = the period end (a submitted period is final whole);
* otherwise the latest entry (by when it was issued; on a tie the earlier through-date) gives
  ``data_through``: after the period end it is clamped to the period end, before the period start
  it means no day is complete (``None``);
* no entry: ``submitted=False, data_through=None`` (not yet known, never "absent").

An entry that cannot be read (not an object, a wrong type, an unparseable date, a timestamp
without a UTC offset, a submitted entry without its submission time ...) makes the marker
unusable: the site fails with :class:`CcmsExtractionError` naming the entry and the field. Garbage
is never read as submitted, nor silently as "not submitted".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ccms_attendance.canonical import SiteSubmission
from ccms_attendance.hooks.parsers.clock import parse_date, parse_instant
from ccms_attendance.hooks.site import SiteRequest
from ccms_attendance.periods import ServicePeriod


class UnusableMarker(ValueError):
    """One marker entry cannot be read; the message says which field and what is wrong with it."""

    def __init__(self, problem: str, field: str | None = None) -> None:
        super().__init__(f".{field} {problem}" if field else f" {problem}")


@dataclass(frozen=True, slots=True)
class MarkerEntry:
    """One vendor statement about the requested site-period, read by the vendor module."""

    submitted: bool
    submitted_at: dt.datetime | None = None  # required when submitted
    data_through: dt.date | None = None  # read only when not submitted
    issued_at: dt.datetime | None = None  # when the statement was made; orders the unsubmitted ones

    def __post_init__(self) -> None:
        if self.submitted and self.submitted_at is None:
            raise ValueError("a submitted entry needs its submission time")


def flag(entry: dict, name: str) -> bool:
    """A JSON ``true``/``false`` (nothing else: not ``"true"``, not ``1``)."""
    value = entry.get(name)
    if type(value) is not bool:
        raise UnusableMarker("is not true or false", name)
    return value


def day(entry: dict, name: str, *, required: bool = False) -> dt.date | None:
    """A ``YYYY-MM-DD`` date, or ``None`` when the field is null/absent and not ``required``."""
    value = entry.get(name)
    if value is None and not required:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise UnusableMarker("is not a YYYY-MM-DD date", name) from None


def instant(entry: dict, name: str) -> dt.datetime:
    """An ISO 8601 timestamp with a UTC offset (``Z`` accepted), as UTC."""
    try:
        return parse_instant(entry.get(name))
    except (ValueError, OverflowError):  # far-off years overflow when converted to UTC
        raise UnusableMarker("is not an ISO 8601 timestamp with a UTC offset", name) from None


def covers(entry: dict, period: ServicePeriod, start_key: str, end_key: str) -> bool:
    """Whether the entry is about exactly ``period`` (its dates must be readable to tell)."""
    return (day(entry, start_key, required=True), day(entry, end_key, required=True)) == (period.start, period.end)


def about_site(entry: dict, key: str, license_number: str) -> bool:
    """Whether the entry is this site's: its license field, when present, must be the site's."""
    return entry.get(key, license_number) == license_number


def clamp_through(period: ServicePeriod, through: dt.date | None) -> dt.date | None:
    """A through-date within the period: after its end -> the end; before its start -> ``None``."""
    if through is None or through < period.start:
        return None
    return min(through, period.end)


def site_submission(site: SiteRequest, entries: Iterable[MarkerEntry]) -> SiteSubmission:
    """The one :class:`SiteSubmission` the usable entries about ``site`` amount to (rules above)."""
    entries = list(entries)
    submitted = [entry.submitted_at for entry in entries if entry.submitted_at and entry.submitted]
    if submitted:
        return SiteSubmission(
            site.source, site.license_number, submitted=True, submitted_at=max(submitted), data_through=site.period.end
        )
    if not entries:
        return SiteSubmission(site.source, site.license_number, submitted=False)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)

    def recency(entry: MarkerEntry) -> tuple:
        through = entry.data_through.toordinal() if entry.data_through else 0
        return (entry.issued_at or epoch, -through)

    latest = max(entries, key=recency)
    return SiteSubmission(
        site.source, site.license_number, submitted=False, data_through=clamp_through(site.period, latest.data_through)
    )


def read_marker(
    site: SiteRequest,
    what: str,
    key: str,
    entries: list[Any],
    read: Callable[[SiteRequest, dict], MarkerEntry | None],
) -> SiteSubmission:
    """Read every entry of a marker response with the vendor's ``read`` (``None``: not about this
    site-period) and combine them; an unusable entry fails the site. ``what`` is the request
    (``"GET /path"``) and ``key`` the response's list, both named in the error."""
    usable: list[MarkerEntry] = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict):
                raise UnusableMarker("is not an object")
            found = read(site, entry)
        except UnusableMarker as problem:
            raise site.fail(f"unusable submission marker: {key}[{index}]{problem} ({what})") from None
        if found is not None:
            usable.append(found)
    return site_submission(site, usable)
