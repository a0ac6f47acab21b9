"""brightwheel daily records -> canonical records (pure: no I/O, no state).

One record per student per day with a ``status``; check-in/out times are school-local wall-clock
times without an offset (``"07:45"``), read in America/Indiana/Indianapolis with the DST policy of
:func:`ccms_attendance.hooks.parsers.clock.local_wall_clock`. A time *with* an offset
(``"08:00+05"``) is not what the contract promises and cannot be told apart from a slip of the
vendor's time zone handling: the record is rejected ("check-in time has a UTC offset").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ccms_attendance.canonical import ExtractedItem, RejectedRecord, normalize_child_id
from ccms_attendance.hooks.parsers.clock import local_wall_clock, parse_clock
from ccms_attendance.hooks.parsers.fields import absence_reason, field_of, kind_of, record_identity, text
from ccms_attendance.hooks.parsers.records import absent, guarded, present
from ccms_attendance.hooks.site import SiteRequest

#: brightwheel's absence vocabulary -> canonical reason codes.
REASONS = {"sick": "ILL", "illness": "ILL", "vacation": "VAC", "family": "FAM", "other": "OTH"}
#: A clock time followed by a UTC offset or ``Z``.
_WITH_OFFSET = re.compile(r"\s*[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)\s*", re.I)


def record_id(record: Any) -> str | None:
    return text(record.get("id")) if isinstance(record, dict) else None


def daily_records(site: SiteRequest, records: Iterable[Any]) -> Iterator[ExtractedItem]:
    """Every record's items; a record the parser cannot handle is rejected alone."""
    for record in records:
        yield from guarded(site, record, daily_record_items, record_id)


def daily_record_items(site: SiteRequest, record: Any) -> Iterator[ExtractedItem]:
    """One brightwheel daily record -> one canonical record (or a rejection with its reason)."""
    if not isinstance(record, dict):
        yield site.reject("record is not an object")
        return
    identity = record_identity(
        site,
        record_id=text(record.get("id")),
        date=record.get("date"),
        license_number=text(field_of(record, "school", "license_number")),
        child_id=normalize_child_id(field_of(record, "student", "state_child_id")),
    )
    if isinstance(identity, RejectedRecord):
        yield identity
        return
    record_id, license_number, child_id, day = identity
    status = record.get("status")
    if status == "absent":
        reason = absence_reason(record.get("absence_reason"), REASONS)
        yield absent(
            site, license_number=license_number, child_id=child_id, day=day, record_id=record_id, reason=reason
        )
        return
    if status != "present":
        yield site.reject(f"unknown status ({kind_of(status)})", record_id=record_id, child_id=child_id, day=day)
        return
    check_in = check_out = None
    for name in ("check_in_time", "check_out_time"):
        value = record.get(name)
        if value is None:
            continue
        try:
            moment = local_wall_clock(day, parse_clock(value), not_before=check_in)
        except ValueError:
            label = "check-in" if name == "check_in_time" else "check-out"
            problem = "has a UTC offset" if isinstance(value, str) and _WITH_OFFSET.fullmatch(value) else "unparseable"
            reason = f"{label} time {problem}" if problem != "unparseable" else f"unparseable {label} time"
            yield site.reject(reason, record_id=record_id, child_id=child_id, day=day)
            return
        if name == "check_in_time":
            check_in = moment
        else:
            check_out = moment
    if check_in is not None and check_out is not None and check_out < check_in:
        yield site.reject("check-out before check-in", record_id=record_id, child_id=child_id, day=day)
        check_out = None
    yield present(
        site,
        license_number=license_number,
        child_id=child_id,
        day=day,
        record_id=record_id,
        check_in=check_in,
        check_out=check_out,
    )
