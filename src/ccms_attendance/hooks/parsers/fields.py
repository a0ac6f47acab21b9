"""Reading fields of a raw vendor record: identifiers, nested fields, absence reasons, identity."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from ccms_attendance.canonical import RejectedRecord
from ccms_attendance.hooks.parsers.clock import parse_date
from ccms_attendance.hooks.parsers.records import day_problem
from ccms_attendance.hooks.site import SiteRequest

#: Canonical absence reason codes; vendor vocabularies are mapped onto these.
ABSENCE_REASONS = frozenset({"ILL", "VAC", "FAM", "OTH"})


def text(value: Any) -> str | None:
    """A non-empty identifier string, or None (integers are accepted and stringified)."""
    if type(value) is str:  # the common case first: called for every identifier of every record
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        value = str(value).strip()
        return value or None
    return None


def field_of(record: Any, *path: str) -> Any:
    node = record
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def absence_reason(code: Any, vocabulary: dict[str, str] | None = None) -> str | None:
    """Map a vendor's absence reason onto ILL/VAC/FAM/OTH (unknown -> OTH, none -> None)."""
    if code is None or (isinstance(code, str) and not code.strip()):
        return None
    key = str(code).strip()
    if vocabulary:
        key = vocabulary.get(key.lower(), key)
    key = key.upper()
    return key if key in ABSENCE_REASONS else "OTH"


def kind_of(value: Any) -> str:
    """What an unexpected enum value was, without the value itself (it may be anything, e.g. a name)."""
    if isinstance(value, str):
        return f"a text of {len(value)} characters" if value.strip() else "blank"
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


class RecordIdentity(NamedTuple):
    """Who and what a raw vendor record is about, once :func:`record_identity` has checked it."""

    record_id: str
    license_number: str
    child_id: str
    day: dt.date


def record_identity(
    site: SiteRequest,
    *,
    record_id: str | None,
    date: Any,
    license_number: str | None,
    child_id: str | None,
    missing_id: str = "missing record id",
) -> RecordIdentity | RejectedRecord:
    """Check a record's id, attendance date, license number, state child id and the date's place in
    the period, in that order.

    The first problem gives a :class:`RejectedRecord` with its reason; ``missing_id`` is the reason
    for a missing record id. ``child_id`` is already normalized (``canonical.normalize_child_id``).
    """
    if record_id is None:
        return site.reject(missing_id, child_id=child_id)
    if date is None:
        return site.reject("missing attendance date", record_id=record_id, child_id=child_id)
    try:
        day = parse_date(date)
    except ValueError:
        return site.reject("unparseable attendance date", record_id=record_id, child_id=child_id)
    if license_number is None:
        return site.reject("missing license number", record_id=record_id, child_id=child_id, day=day)
    if child_id is None:
        return site.reject("missing state child id", record_id=record_id, day=day)
    problem = day_problem(site, day)
    if problem:
        return site.reject(problem, record_id=record_id, child_id=child_id, day=day)
    return RecordIdentity(record_id, license_number, child_id, day)
