"""The state's day codes on reconciled child-days (issue 8; ``../shared/domain.md``).

Every enrolled child-day of a period gets exactly one code:

- **PR** present. Not a state code (the state only reports the other four); kept so that every
  enrolled day carries one.
- **AB** absent while the program is open and the child was expected.
- **OD** off day: only a part-time voucher's unscheduled day. A full-time voucher's missed day is
  AB, never OD, and a full week of OD is reported.
- **PC** paid closure / **NP** non-paid closure: the site is closed on a day it normally operates
  (from its closure register, fed by the portal or a CCMS). A site has 16 PC days per calendar
  year; a 17th is counted as NP, and NP while PC days remain is reported (PC comes before NP).

How a code is chosen on an open day, from what the governing source recorded:

=================  ==========================  ==============================================
record             scheduled day               unscheduled day (part-time voucher)
=================  ==========================  ==============================================
present            PR                          PR
absent (AB/CCMS)   AB                          OD, reported as info
portal OD          AB, reported as warning     OD
portal PC/NP       no status; reported (the site has no closure registered that day)
none, PPP          PR (no absence entry)       OD
none, CCMS         AB (no check-in)            OD
=================  ==========================  ==============================================
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import numpy as np
import pandas as pd

from ccms_attendance.rules.exception_kinds import ExceptionKind

PAID_CLOSURE_DAYS_PER_YEAR = 16


class DayCode(StrEnum):
    PRESENT = "PR"
    ABSENT = "AB"
    OFF_DAY = "OD"
    PAID_CLOSURE = "PC"
    UNPAID_CLOSURE = "NP"


#: ``reconciled.daily_attendance.status`` for each code (the table checks they agree).
STATUS_BY_CODE = {
    DayCode.PRESENT: "present",
    DayCode.ABSENT: "absent",
    DayCode.OFF_DAY: "off_day",
    DayCode.PAID_CLOSURE: "closed",
    DayCode.UNPAID_CLOSURE: "closed",
}
CLOSURE_CODES = (str(DayCode.PAID_CLOSURE), str(DayCode.UNPAID_CLOSURE))

#: Makes one exception frame out of rows, a kind and a detail (``rule_exceptions.exceptions_frame``).
ExceptionMaker = Callable[[pd.DataFrame, ExceptionKind, "pd.Series | str"], pd.DataFrame]


_EVERY_DAY = sum(1 << d for d in range(1, 8))
_UNKNOWN = -1
_REREADABLE = (list, tuple, set, frozenset, str, np.ndarray)


def weekday_masks(vouchers: pd.DataFrame) -> np.ndarray:
    """Per row, the weekdays a voucher expects the child as bits (bit ``d`` for ISO weekday ``d``).

    Full-time: every day. Part-time: its ``scheduled_weekdays`` (none if it has no list). Computed
    once per voucher, so that its ~10 enrolled days are then checked without Python loops. A list
    that cannot be read in advance (a one-pass iterable, or one whose values are not weekdays) is
    ``-1``: ``is_scheduled`` reads it on each day, as ever, failing there if it fails.
    """
    part_time = (vouchers["schedule"] == "part_time").to_numpy()
    masks = np.where(part_time, 0, _EVERY_DAY).astype(np.int64)
    lists = vouchers["scheduled_weekdays"].to_numpy()
    for row in np.flatnonzero(part_time):
        days = lists[row]
        if not hasattr(days, "__iter__"):
            continue  # no list: never expected
        if not isinstance(days, _REREADABLE):
            masks[row] = _UNKNOWN
            continue
        try:
            weekdays = {int(d) for d in days}
        except (TypeError, ValueError, OverflowError):
            masks[row] = _UNKNOWN
            continue
        masks[row] = sum(1 << d for d in range(1, 8) if d in weekdays)
    return masks


def is_scheduled(enrolled: pd.DataFrame, masks: np.ndarray | None = None) -> pd.Series:
    """Whether the child is expected on each enrolled day: always for full-time vouchers.

    ``enrolled`` has ``attendance_date``, ``schedule`` and ``scheduled_weekdays`` (ISO weekdays of
    a part-time voucher); ``masks`` are its rows' ``weekday_masks`` if already known.
    """
    weekday = enrolled["attendance_date"].dt.isocalendar().day.astype(int).to_numpy()
    masks = weekday_masks(enrolled) if masks is None else masks
    on_schedule = ((masks >> weekday) & 1) == 1
    lists = enrolled["scheduled_weekdays"].to_numpy()
    for row in np.flatnonzero(masks == _UNKNOWN):
        days = lists[row]
        on_schedule[row] = hasattr(days, "__iter__") and int(weekday[row]) in {int(d) for d in days}
    return pd.Series(on_schedule, index=enrolled.index, dtype=bool)


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """``(column == value).to_numpy()``; a ``str`` column's Python strings are compared directly (twice as fast)."""
    return column.to_numpy() == value if column.dtype == "str" else (column == value).to_numpy()


def code_open_days(daily: pd.DataFrame, make_exceptions: ExceptionMaker) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Give each open child-day its code, status and basis (see the table in the module docstring).

    ``daily`` has one row per child-day with the governing record's ``status`` and ``day_code``
    (both missing when nothing was recorded), ``governing_source`` and ``scheduled``. Rows whose
    portal entry claims a closure the site never registered are dropped: their status is unknown.
    """
    # Boolean numpy arrays, one per row (``scheduled`` is a bool column from enrolled_days).
    status, entry_code, scheduled = daily["status"], daily["day_code"], daily["scheduled"].to_numpy()
    recorded = status.notna().to_numpy()
    is_ppp = _equals(daily["governing_source"], "PPP")
    absent = _equals(status, "absent")
    closure_entry = absent & entry_code.isin(CLOSURE_CODES).to_numpy()
    off_day_entry = absent & _equals(entry_code, DayCode.OFF_DAY.value)
    plain_absence = absent & ~closure_entry & ~off_day_entry

    # The cases below never overlap, so each row gets at most one code (none: a closure entry).
    code = np.empty(len(daily), dtype=object)  # all None
    code[_equals(status, "present")] = DayCode.PRESENT.value
    code[plain_absence & scheduled] = DayCode.ABSENT.value
    code[plain_absence & ~scheduled] = DayCode.OFF_DAY.value
    code[off_day_entry & ~scheduled] = DayCode.OFF_DAY.value
    code[off_day_entry & scheduled] = DayCode.ABSENT.value
    code[~recorded & scheduled & is_ppp] = DayCode.PRESENT.value
    code[~recorded & scheduled & ~is_ppp] = DayCode.ABSENT.value
    code[~recorded & ~scheduled] = DayCode.OFF_DAY.value

    basis = np.array(["recorded"], dtype=object).repeat(len(daily))  # (np.full is slow for objects)
    basis[~recorded & scheduled & is_ppp] = "no_absence_entry"
    basis[~recorded & scheduled & ~is_ppp] = "no_check_in"
    basis[~recorded & ~scheduled] = "unscheduled_day"

    exceptions = []
    scheduled_entries = daily[off_day_entry & scheduled]
    full_time_od = scheduled_entries[scheduled_entries["schedule"] == "full_time"]
    exceptions.append(
        make_exceptions(
            full_time_od,
            ExceptionKind.OFF_DAY_FOR_FULL_TIME_VOUCHER,
            "portal entry OD on a full-time voucher: a full-time child's missed day is AB, counted as AB",
        )
    )
    scheduled_od = scheduled_entries[scheduled_entries["schedule"] != "full_time"]
    exceptions.append(
        make_exceptions(
            scheduled_od,
            ExceptionKind.OFF_DAY_ON_SCHEDULED_DAY,
            "portal entry OD on a day the part-time voucher schedules the child; counted as AB",
        )
    )
    unscheduled_absence = daily[plain_absence & ~scheduled]
    exceptions.append(
        make_exceptions(
            unscheduled_absence,
            ExceptionKind.ABSENCE_ON_UNSCHEDULED_DAY,
            "absence recorded on a day the part-time voucher does not schedule the child; counted as OD",
        )
    )
    unregistered = daily[closure_entry]
    exceptions.append(
        make_exceptions(
            unregistered,
            ExceptionKind.CLOSURE_ENTRY_WITHOUT_SITE_CLOSURE,
            "portal entry " + unregistered["day_code"].astype(str) + " but the site has no closure registered for "
            "this day; no status inferred (register the closure or correct the entry)",
        )
    )
    coded = daily.assign(
        day_code=pd.Series(code, index=daily.index, dtype="object"),
        basis=pd.Series(basis, index=daily.index, dtype="object"),
    )
    coded["status"] = coded["day_code"].map({str(k): v for k, v in STATUS_BY_CODE.items()})
    return (coded[~closure_entry] if closure_entry.any() else coded), exceptions


def code_closures(closures: pd.DataFrame, make_exceptions: ExceptionMaker) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Code each registered closure PC or NP, applying the 16-PC-days-a-year allowance.

    ``closures`` has ``site_id``, ``attendance_date``, ``closure_kind`` and ``paid_closures_before``
    (the site's PC days registered earlier in the same calendar year).
    """
    before = closures["paid_closures_before"].astype(int)
    year = closures["attendance_date"].dt.year.astype(str)
    paid = closures["closure_kind"] == DayCode.PAID_CLOSURE
    over_allowance = paid & (before >= PAID_CLOSURE_DAYS_PER_YEAR)
    unpaid_early = (closures["closure_kind"] == DayCode.UNPAID_CLOSURE) & (before < PAID_CLOSURE_DAYS_PER_YEAR)
    coded = closures.assign(day_code=closures["closure_kind"].where(~over_allowance, str(DayCode.UNPAID_CLOSURE)))

    over = closures[over_allowance]
    unpaid = closures[unpaid_early]
    exceptions = [
        make_exceptions(
            over,
            ExceptionKind.PAID_CLOSURE_OVER_ANNUAL_LIMIT,
            "PC day "
            + (before[over_allowance] + 1).astype(str)
            + " of "
            + year[over_allowance]
            + f" for this site: only {PAID_CLOSURE_DAYS_PER_YEAR} paid closure days a year; counted as NP",
        ),
        make_exceptions(
            unpaid,
            ExceptionKind.UNPAID_CLOSURE_WHILE_PAID_REMAINING,
            "NP closure while "
            + (PAID_CLOSURE_DAYS_PER_YEAR - before[unpaid_early]).astype(str)
            + f" of {PAID_CLOSURE_DAYS_PER_YEAR} PC days of "
            + year[unpaid_early]
            + " remain (PC comes before NP)",
        ),
    ]
    return coded, exceptions


def full_weeks_off(
    daily: pd.DataFrame,
    open_days: pd.DataFrame,
    make_exceptions: ExceptionMaker,
    child_codes: np.ndarray | None = None,
) -> pd.DataFrame:
    """Report each child-week (Sunday to Saturday) coded OD on every day the site was open.

    Only weeks in which the child has a code on all of the site's open days count: a child
    enrolled mid-week, or with a withheld day, is not flagged on partial evidence.
    ``child_codes`` are integer codes of daily's (site_id, child_id) pairs, if the caller has them.
    """
    key = ["site_id", "child_id", "attendance_date"]
    open_rows = daily["day_code"].isin([str(c) for c in DayCode if str(c) not in CLOSURE_CODES]).to_numpy()
    # Grouping drops rows with a missing key.
    keyed = open_rows & daily[key].notna().all(axis=1).to_numpy()
    if not keyed.any():
        return make_exceptions(daily.iloc[0:0], ExceptionKind.FULL_WEEK_OFF_DAY, "")
    if child_codes is None:
        child_codes = daily.groupby(["site_id", "child_id"], sort=False).ngroup().to_numpy()
    rows = daily[[*key, "day_code"]][keyed]
    week = _week_start(rows["attendance_date"])
    # Child-weeks, grouped on integer codes (grouping ~600k rows on the strings is slow).
    week_code, weeks = pd.factorize(week)
    child_week = child_codes[keyed] * len(weeks) + week_code
    _, first, group = np.unique(child_week, return_index=True, return_inverse=True)
    days = np.bincount(group)
    off_days = np.bincount(group, weights=(rows["day_code"] == DayCode.OFF_DAY).to_numpy()).astype(np.int64)
    all_off = off_days == days
    per_week = (
        rows[["site_id", "child_id"]]
        .iloc[first[all_off]]
        .assign(week=week.iloc[first[all_off]].to_numpy(), days=days[all_off])
    )
    site_week = open_days.assign(week=_week_start(open_days["attendance_date"]))
    site_week = site_week.groupby(["site_id", "week"], as_index=False).size().rename(columns={"size": "open_days"})
    per_week = per_week.merge(site_week, on=["site_id", "week"])
    flagged = per_week[per_week["days"] == per_week["open_days"]]
    flagged = flagged.rename(columns={"week": "attendance_date"})
    return make_exceptions(
        flagged,
        ExceptionKind.FULL_WEEK_OFF_DAY,
        "OD on all " + flagged["days"].astype(str) + " open days of the week: a full week of OD is not allowed "
        "(check the part-time voucher's scheduled days)",
    )


def _week_start(dates: pd.Series) -> pd.Series:
    """The Sunday that starts each date's week (state weeks run Sunday to Saturday)."""
    return dates - pd.to_timedelta(dates.dt.dayofweek.add(1).mod(7), unit="D")
