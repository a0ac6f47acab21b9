"""One site's extracted items -> its staging rows and counts (the extract step's per-site handling).

For every item of a site, in order:

* a record for another license than the site's is rejected ("record is for another site's license
  number") — the one place that check is made;
* a record or rejection whose texts PostgreSQL cannot store (NUL, unpaired surrogates; valid JSON
  though) is made storable: a record becomes a rejection, a rejection's texts are cleaned (U+FFFD).
  Without this, one such record makes the COPY of the whole batch fail;
* records of children without a CCDF/OMW voucher are dropped and counted; rejections are
  quarantined for voucher children and counted by reason for everyone else (nothing kept);
* ``RepeatedRecord`` notices are counted: exact repeats the hook dropped, and conflicts (another
  version under a known id);
* versions of one record id that land on one child-day are settled into one staged record by the
  child-day policy (``ccms_attendance.rules.child_day``): staging holds one row per id and day.

Rejection reasons are fixed text (the hooks' and these), never values a vendor sent, so the counts
by reason carry nothing about a non-voucher child.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import overload

import pandas as pd

from ccms_attendance.canonical import AttendanceRecord, ExtractedItem, RejectedRecord, RepeatedRecord, SiteSubmission
from ccms_attendance.rules.child_day import settle

#: Columns of a staged record (``staging.source_record``), in order.
RECORD_COLUMNS = [
    "site_id",
    "license_number",
    "child_id",
    "attendance_date",
    "status",
    "day_code",
    "check_in",
    "check_out",
    "absence_reason",
    "source_record_id",
]
#: What makes a staged record a record: one per site, child, day and source record id.
_RECORD_KEY = ["site_id", "child_id", "attendance_date", "source_record_id"]

#: Text PostgreSQL cannot store: NUL, and unpaired UTF-16 surrogates (JSON's "\\u0000" / "\\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass
class SiteRows:
    """What one site's items come to (rows as tuples: hundreds of thousands per batch, no dicts)."""

    records: list[tuple] = field(default_factory=list)
    rejected: list[tuple] = field(default_factory=list)
    unattributed: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    duplicates_dropped: int = 0
    duplicate_conflicts: int = 0
    submission: SiteSubmission | None = None

    @property
    def dropped_non_voucher(self) -> int:
        return self.dropped + self.unattributed.total()


@overload
def _clean(value: str) -> str: ...
@overload
def _clean(value: str | None) -> str | None: ...
def _clean(value: str | None) -> str | None:
    return None if value is None else _UNSTORABLE.sub("\ufffd", value)


def _record_texts(record: AttendanceRecord) -> str:
    """A record's identifier texts in one string: one regex scan instead of four (the pattern
    matches single characters, so a hit here is a hit in one of the fields)."""
    return f"{record.source_record_id}{record.child_id}{record.license_number}{record.absence_reason or ''}"


def storable(item: AttendanceRecord | RejectedRecord) -> AttendanceRecord | RejectedRecord:
    """``item`` as the warehouse can store it: a record with unstorable text becomes a rejection
    naming the fields, a rejection's texts are cleaned (U+FFFD)."""
    if isinstance(item, AttendanceRecord):
        if not _UNSTORABLE.search(_record_texts(item)):  # the common case: one scan, not four
            return item
        names = ("source_record_id", "child_id", "license_number", "absence_reason")
        bad = [name for name in names if _UNSTORABLE.search(getattr(item, name) or "")]
        return RejectedRecord(
            item.source,
            _clean(item.license_number),
            _clean(item.source_record_id),
            _clean(item.child_id),
            item.attendance_date,
            f"unstorable character (NUL or unpaired surrogate) in {', '.join(bad)}",
        )
    texts = ("source_record_id", "child_id", "license_number", "reason")
    if any(_UNSTORABLE.search(getattr(item, name) or "") for name in texts):
        return dataclasses.replace(
            item,
            source_record_id=_clean(item.source_record_id),
            child_id=_clean(item.child_id),
            license_number=_clean(item.license_number),
            reason=_clean(item.reason),
        )
    return item


def site_rows(site_id: str, license_number: str, items: Iterable[ExtractedItem], reported: frozenset[str]) -> SiteRows:
    """Consume one site's items (see the module docstring)."""
    rows = SiteRows()
    for item in items:
        if isinstance(item, SiteSubmission):
            rows.submission = item  # the vendor's word on how final the site-period's data is
            continue
        if isinstance(item, RepeatedRecord):
            if item.same_content:
                rows.duplicates_dropped += 1
            else:
                rows.duplicate_conflicts += 1
            continue
        if isinstance(item, AttendanceRecord) and item.license_number != license_number:
            item = _rejected(item, "record is for another site's license number")
        item = storable(item)
        if isinstance(item, AttendanceRecord):
            if item.child_id in reported:
                rows.records.append(_record_row(site_id, item))
            else:
                rows.dropped += 1  # not a CCDF/OMW child: counted, never stored
        elif item.child_id in reported:
            rows.rejected.append(_quarantine_row(site_id, license_number, item))
        else:
            rows.unattributed[item.reason] += 1  # maybe a non-voucher child: count, keep nothing
    if rows.duplicate_conflicts:
        rows.records = _settled(rows.records)
    return rows


def _settled(records: list[tuple]) -> list[tuple]:
    """Records sharing site, child, day and record id (versions of one record) settled into one."""
    keys = Counter((row[0], row[2], row[3], row[9]) for row in records)
    if all(count == 1 for count in keys.values()):
        return records
    shared = [row for row in records if keys[(row[0], row[2], row[3], row[9])] > 1]
    frame = pd.DataFrame(shared, columns=RECORD_COLUMNS)
    for column in ("check_in", "check_out"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    merged = settle(frame, _RECORD_KEY)
    for column in ("check_in", "check_out"):
        merged[column] = merged[column].astype(object).where(merged[column].notna(), None)
        merged[column] = [None if value is None else value.to_pydatetime() for value in merged[column]]
    single = [row for row in records if keys[(row[0], row[2], row[3], row[9])] == 1]
    # Back to Python values: the frame's missing texts are NaN, and a binary COPY takes None only.
    return single + [
        tuple(None if value is not None and pd.isna(value) else value for value in row)
        for row in merged.itertuples(index=False, name=None)
    ]


def _rejected(record: AttendanceRecord, reason: str) -> RejectedRecord:
    return RejectedRecord(
        record.source, record.license_number, record.source_record_id, record.child_id, record.attendance_date, reason
    )


def _record_row(site_id: str, item: AttendanceRecord) -> tuple:
    """A staged record in RECORD_COLUMNS order; its day code is set by reconciliation."""
    return (
        site_id,
        item.license_number,
        item.child_id,
        item.attendance_date,
        str(item.status),
        None,
        item.check_in,
        item.check_out,
        item.absence_reason,
        item.source_record_id,
    )


def _quarantine_row(site_id: str, license_number: str, item: RejectedRecord) -> tuple:
    """Quarantine rows exist only for voucher children: anyone else leaves no trace but a count."""
    return (site_id, license_number, item.child_id, item.attendance_date, item.source_record_id, item.reason)
