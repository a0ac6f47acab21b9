"""The one shape every attendance source is turned into before anything else happens.

Vendor hooks (``src/ccms_attendance/hooks``) and the PPP extractor both produce these records; the
reconciliation rules only ever see this shape, so a vendor's quirks never leak past its module.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

#: The state's calendar: every "day" in the warehouse is a calendar day in this zone.
STATE_TIMEZONE = ZoneInfo("America/Indiana/Indianapolis")


class Source(StrEnum):
    """A data-entry method a site can select in the portal's Data Entry Settings."""

    PPP = "PPP"
    ALLIANCE_CORE = "ALLIANCE_CORE"
    BRIGHTWHEEL = "BRIGHTWHEEL"
    PLAYGROUND = "PLAYGROUND"

    @property
    def is_ccms(self) -> bool:
        return self is not Source.PPP

    @classmethod
    def ccms(cls) -> tuple[Source, ...]:
        return tuple(source for source in cls if source.is_ccms)


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"


#: Programs whose children the state collects attendance for; everyone else is dropped.
REPORTED_PROGRAMS = frozenset({"CCDF", "OMW"})


@dataclass(frozen=True, slots=True)
class AttendanceRecord:
    """One child-day as a source reported it.

    ``child_id`` is the state Child ID the provider keyed into the CCMS (or the portal). It may
    belong to a child without a state voucher; such records are dropped by the extract step before
    anything is persisted. No names or birth dates are carried: the canonical shape has no place
    for them, so they cannot be stored by accident.
    """

    source: Source
    license_number: str
    child_id: str
    attendance_date: dt.date
    status: AttendanceStatus
    source_record_id: str
    check_in: dt.datetime | None = None
    check_out: dt.datetime | None = None
    absence_reason: str | None = None

    def __post_init__(self) -> None:
        for stamp in (self.check_in, self.check_out):
            if stamp is not None and stamp.utcoffset() is None:
                raise ValueError(f"{self.source_record_id}: timestamps must be timezone-aware")


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A source record that could not be turned into an :class:`AttendanceRecord`.

    It is quarantined with its reason rather than dropped, so nothing is lost silently. It carries
    identifiers only, never the raw payload (which may hold a non-voucher child's personal data).
    """

    source: Source
    license_number: str
    source_record_id: str | None
    child_id: str | None
    attendance_date: dt.date | None
    reason: str


@dataclass(frozen=True, slots=True)
class SiteSubmission:
    """What a vendor says about how final its data for one site-period is.

    The CCMS integrations are provider-initiated submissions per period (brightwheel's Indiana
    I-LEAD report run, Playground's locked CCA attendance upload, Alliance CORE's period
    certification): before the provider submits, a missing record means "not yet known", not
    "absent". ``submitted`` says the provider submitted the period (its data is final);
    ``data_through`` is the last state calendar day the vendor says is complete when the period is
    not submitted yet (``None``: nothing is). A vendor that says nothing about the period gives
    ``submitted=False, data_through=None``. Each vendor hook yields exactly one per site-period,
    after the site's records.
    """

    source: Source
    license_number: str
    submitted: bool
    submitted_at: dt.datetime | None = None
    data_through: dt.date | None = None

    def __post_init__(self) -> None:
        if self.submitted_at is not None and self.submitted_at.utcoffset() is None:
            raise ValueError("submitted_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class RepeatedRecord:
    """A vendor record sent again under a record id the site-period already had.

    ``same_content``: the very same record again (e.g. repeated across pages); it was dropped and is
    only counted. Otherwise the vendor sent another version under that id: both versions were
    passed on and the child-day policy settles them (``ccms_attendance.rules.child_day``); it is
    counted as a conflict. Carries the id only, never the record.
    """

    source: Source
    license_number: str
    source_record_id: str
    same_content: bool


ExtractedItem = AttendanceRecord | RejectedRecord | RepeatedRecord | SiteSubmission

#: Text of ASCII digits and a decimal point followed by zeros only ("7100009.0").
_INTEGRAL_DECIMAL = re.compile(r"([0-9]+)\.0+")
#: Larger floats are not exact integers any more: such an id may already have lost digits.
_EXACT_FLOAT_LIMIT = 2**53


def normalize_child_id(value: object) -> str | None:
    """The state Child ID a source sent, as the text it is matched and stored as (``None``: no usable id).

    The one rule for every source (vendor records now; portal entries use it too):

    * text: surrounding whitespace is stripped; everything else is kept verbatim (inner spaces,
      punctuation, letters, and leading zeros: ``"0071"`` and ``"71"`` stay different ids); blank
      text is no id;
    * text that is ASCII digits, a decimal point and only zeros (``"7100009.0"``, as spreadsheets
      and some exports write whole numbers) is those digits (``"7100009"``, leading zeros kept);
    * a JSON integer is its decimal text (``7100009`` -> ``"7100009"``); a JSON number with an
      integral value below 2**53 likewise (``7100009.0`` -> ``"7100009"``);
    * anything else is no id: other numbers (``7100009.5``, ``1e300``, NaN), ``true``/``false``,
      ``null``, lists and objects.

    A number has no leading zeros to keep: a vendor that sends an id whose text starts with zeros as
    a JSON number has lost them, and the id will not match (reported as a Child ID mismatch).
    """
    if type(value) is str:  # the common case first: called for every record
        text = value.strip()
        if "." not in text:  # nearly every id: nothing to rewrite
            return text or None
        integral = _INTEGRAL_DECIMAL.fullmatch(text)
        return integral.group(1) if integral else text
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT:
        return str(int(value))
    if isinstance(value, str):  # a str subclass
        return normalize_child_id(str(value))
    return None


def local_day(moment: dt.datetime) -> dt.date:
    """The state calendar day an aware timestamp falls on (DST-correct)."""
    if moment.utcoffset() is None:
        raise ValueError("local_day needs a timezone-aware timestamp")
    return moment.astimezone(STATE_TIMEZONE).date()
