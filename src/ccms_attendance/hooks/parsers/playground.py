"""Playground export rows -> canonical records (pure: no I/O, no state).

Rows of type ``sign_in_out`` give present records: the sign-in/out rows of one child-day are the
sessions of one attendance day and merge into one record (first sign-in, last sign-out, row ids
joined with ``+``), as Alliance CORE's events do. A sign-in must fall on the row's attendance date
and a sign-out on it or the day after (state calendar); a row whose times do not ("dated 2099") is
rejected. Rows of type ``absence`` give absent records with the reason code (ILL/VAC/FAM/OTH;
unknown -> OTH). Every row is yielded: an absence on a day with a sign-in, or two absences, are
settled by the rules' child-day policy (``ccms_attendance.rules.child_day``), not here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from ccms_attendance.canonical import ExtractedItem, RejectedRecord, normalize_child_id
from ccms_attendance.hooks.parsers.clock import local_wall_clock, parse_instant_and_day
from ccms_attendance.hooks.parsers.fields import absence_reason, field_of, kind_of, record_identity, text
from ccms_attendance.hooks.parsers.records import absent, present, safe_id, unreadable
from ccms_attendance.hooks.site import SiteRequest

_ONE_DAY = dt.timedelta(days=1)


def row_id(row: Any) -> str | None:
    return text(row.get("row_id")) if isinstance(row, dict) else None


def _stamp(value: Any) -> tuple[dt.datetime, dt.date] | None:
    """Sign-in/out time and its state calendar day: ISO 8601 with offset; a bare local time is read
    as facility wall clock. ``ValueError`` when unreadable."""
    if value is None:
        return None
    try:
        return parse_instant_and_day(value)
    except ValueError:
        naive = dt.datetime.fromisoformat(str(value))  # ValueError propagates: unparseable
        if naive.utcoffset() is not None:
            raise
        return local_wall_clock(naive.date(), naive.time()), naive.date()


def _read_row(site: SiteRequest, row: Any) -> tuple | RejectedRecord:
    """A row's child-day key and what it says (present with times, or absent with a reason); or its rejection."""
    if not isinstance(row, dict):
        return site.reject("row is not an object")
    identity = record_identity(
        site,
        record_id=text(row.get("row_id")),
        date=row.get("attendance_date"),
        license_number=text(row.get("center_license")),
        child_id=normalize_child_id(field_of(row, "child", "state_child_id")),
        missing_id="missing row id",
    )
    if isinstance(identity, RejectedRecord):
        return identity
    identifier, license_number, child_id, day = identity
    key = (license_number, child_id, day)
    kind = row.get("type")
    if kind == "absence":
        return key, "absent", (identifier, absence_reason(row.get("reason_code")))
    if kind != "sign_in_out":
        return site.reject(f"unknown row type ({kind_of(kind)})", record_id=identifier, child_id=child_id, day=day)
    try:
        sign_in, sign_out = _stamp(row.get("sign_in")), _stamp(row.get("sign_out"))
    except ValueError:
        return site.reject("unparseable sign-in or sign-out time", record_id=identifier, child_id=child_id, day=day)
    problem = None
    if sign_in is not None and sign_in[1] != day:
        problem = "sign-in is not on the attendance date"
    elif sign_out is not None and not day <= sign_out[1] <= day + _ONE_DAY:
        problem = "sign-out is not on the attendance date or the day after"
    elif any(stamp is not None and stamp[0] > site.now for stamp in (sign_in, sign_out)):
        problem = "sign-in or sign-out is in the future"
    if problem:
        return site.reject(problem, record_id=identifier, child_id=child_id, day=day)
    return key, "present", (identifier, sign_in and sign_in[0], sign_out and sign_out[0])


def export_rows_items(site: SiteRequest, rows: Iterable[Any]) -> Iterator[ExtractedItem]:
    """Playground export rows -> canonical records: one present record per child-day with a sign-in
    row, one absent record per absence row."""
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: {"present": [], "absent": []})
    for row in rows:
        try:
            read = _read_row(site, row)
        except Exception as error:  # this row's problem alone
            read = unreadable(site, error, safe_id(row, row_id))
        if isinstance(read, RejectedRecord):
            yield read
            continue
        key, kind, what = read
        groups[key][kind].append(what)

    for (license_number, child_id, day), group in sorted(groups.items(), key=lambda item: (item[0][2], item[0][1])):
        common = {"license_number": license_number, "child_id": child_id, "day": day}
        if group["present"]:
            ins = [sign_in for _, sign_in, _ in group["present"] if sign_in is not None]
            outs = [sign_out for _, _, sign_out in group["present"] if sign_out is not None]
            record_id = "+".join(dict.fromkeys(identifier for identifier, _, _ in group["present"]))
            check_in, check_out = (min(ins) if ins else None), (max(outs) if outs else None)
            if check_in is not None and check_out is not None and check_out < check_in:
                yield site.reject("check-out before check-in", record_id=record_id, child_id=child_id, day=day)
                check_out = None
            yield present(site, record_id=record_id, check_in=check_in, check_out=check_out, **common)
        for identifier, reason in group["absent"]:
            yield absent(site, record_id=identifier, reason=reason, **common)
