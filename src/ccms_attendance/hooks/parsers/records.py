"""Canonical records out of the vendor parsers, and the checks every one of them gets.

A record is rejected (with its reason) when it is dated outside the requested period, on a day
after ``now`` (the moment the hook reads the vendor's data), or when its check-in or check-out is
later than ``now``: a vendor cannot have observed it yet (a sign-in dated 2099 is a vendor error,
never attendance). Which site a record belongs to is checked once, by the extract step.

:func:`guarded` keeps one record's surprise (an exception the parser did not foresee) with that
record: it becomes a rejection naming the exception's type, and the other records go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from ccms_attendance.canonical import AttendanceRecord, AttendanceStatus, ExtractedItem, RejectedRecord
from ccms_attendance.hooks.site import SiteRequest


def day_problem(site: SiteRequest, day: dt.date) -> str | None:
    """Why a record's attendance date cannot be used (``None``: it can)."""
    if site.period.start <= day <= site.last_day:  # the common case, in two comparisons
        return None
    if not site.period.contains(day):
        return "outside period"
    if day > site.today:
        return "attendance date is in the future"
    return None


def present(
    site: SiteRequest,
    *,
    license_number: str,
    child_id: str,
    day: dt.date,
    record_id: str,
    check_in: dt.datetime | None,
    check_out: dt.datetime | None,
) -> AttendanceRecord | RejectedRecord:
    problem = day_problem(site, day)
    if problem is None and check_in is not None and check_in > site.now:
        problem = "check-in is in the future"
    if problem is None and check_out is not None and check_out > site.now:
        problem = "check-out is in the future"
    if problem:
        return site.reject(problem, record_id=record_id, child_id=child_id, day=day, license_number=license_number)
    return AttendanceRecord(
        source=site.source,
        license_number=license_number,
        child_id=child_id,
        attendance_date=day,
        status=AttendanceStatus.PRESENT,
        source_record_id=record_id,
        check_in=check_in,
        check_out=check_out,
    )


def absent(
    site: SiteRequest, *, license_number: str, child_id: str, day: dt.date, record_id: str, reason: str | None
) -> AttendanceRecord | RejectedRecord:
    problem = day_problem(site, day)
    if problem:
        return site.reject(problem, record_id=record_id, child_id=child_id, day=day, license_number=license_number)
    return AttendanceRecord(
        source=site.source,
        license_number=license_number,
        child_id=child_id,
        attendance_date=day,
        status=AttendanceStatus.ABSENT,
        source_record_id=record_id,
        absence_reason=reason,
    )


def unreadable(site: SiteRequest, error: BaseException, record_id: str | None) -> RejectedRecord:
    """The rejection of a record whose parsing raised ``error`` (named by type only)."""
    return site.reject(f"record could not be read ({type(error).__name__})", record_id=record_id)


def guarded(
    site: SiteRequest,
    record: Any,
    parse: Callable[[SiteRequest, Any], Iterator[ExtractedItem]],
    record_id: Callable[[Any], str | None],
) -> list[ExtractedItem]:
    """``parse(site, record)``'s items, or one rejection when parsing that record raises."""
    try:
        return list(parse(site, record))
    except Exception as error:  # this record's problem: rejected, never the site's or the batch's
        return [unreadable(site, error, safe_id(record, record_id))]


def safe_id(record: Any, record_id: Callable[[Any], str | None]) -> str | None:
    """``record_id(record)``, or ``None`` when even that fails."""
    try:
        return record_id(record)
    except Exception:
        return None
