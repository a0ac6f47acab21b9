"""Rule 6: the child-days a voucher covers, one voucher each, and what happens where vouchers overlap.

Only children with a CCDF or On My Way Pre-K voucher authorized on a day count for that day. A
child-day two (or more) of the child's vouchers at the site cover is an error in the state's
authorizations, and it is reported (``overlapping_vouchers``, naming child, site, days and both
voucher ids); the choice stays deterministic:

* Where the vouchers agree on everything the child-day's row and code depend on (the program; on
  an open day also whether the child is expected that day, which decides AB or OD), the voucher
  with the lowest ``voucher_id`` is used and the day is coded as usual (``info``).
* Where they disagree, the child-day cannot be coded without guessing which authorization is
  right (the program the day is reported under, or whether a missed day is an absence or an off
  day): it gets no row, no status and no code, so its child-period is incomplete and the absence
  limits do not count it, until the authorizations are corrected (``warning``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccms_attendance.canonical import REPORTED_PROGRAMS
from ccms_attendance.rules.day_codes import is_scheduled, weekday_masks
from ccms_attendance.rules.exception_kinds import ExceptionKind, Severity
from ccms_attendance.rules.key_codes import CHILD_CODE, Codes, KeyCodes, first_of_runs, merge_on_codes
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS

ENROLLED_COLUMNS = ["site_id", "child_id", "attendance_date", "voucher_id", "program", "schedule", "scheduled"]
#: One row per other voucher covering a child-day besides the one used (``voucher_id``).
OVERLAP_COLUMNS = [
    "site_id", "child_id", "attendance_date", "voucher_id", "program", "schedule", "scheduled",
    "other_voucher_id", "other_program", "other_schedule", "other_scheduled",
]  # fmt: skip


@dataclass(frozen=True)
class Enrollment:
    days: pd.DataFrame  # ENROLLED_COLUMNS + CHILD_CODE: one row per covered child-day
    overlaps: pd.DataFrame  # OVERLAP_COLUMNS

    def disagreeing(self, schedule_matters: bool) -> pd.DataFrame:
        """The child-days whose vouchers disagree on what their row or code depends on (site, child, day)."""
        differ = self.overlaps["program"].to_numpy() != self.overlaps["other_program"].to_numpy()
        if schedule_matters:
            differ |= self.overlaps["scheduled"].to_numpy() != self.overlaps["other_scheduled"].to_numpy()
        return self.overlaps.loc[differ, ["site_id", "child_id", "attendance_date"]].drop_duplicates()


def enrolled_days(open_days: pd.DataFrame, vouchers: pd.DataFrame) -> pd.DataFrame:
    """Child-days with a reported-program voucher authorized that day, one voucher each.

    Where several vouchers cover a child-day, the one with the lowest voucher_id is kept.
    ``scheduled`` says whether the voucher expects the child that day (see day_codes.is_scheduled).
    """
    reported = vouchers[vouchers["program"].isin(REPORTED_PROGRAMS)]
    keys = KeyCodes.of(sites=[open_days, reported], children=[reported], days=[open_days])
    return enrollment(open_days, vouchers, keys).days.drop(columns=CHILD_CODE)


def enrollment(open_days: pd.DataFrame, vouchers: pd.DataFrame, keys: KeyCodes) -> Enrollment:
    """``enrolled_days`` (its rows carrying their site-child codes, ``CHILD_CODE``) and the overlaps."""
    reported = vouchers[vouchers["program"].isin(REPORTED_PROGRAMS)]
    # Every open day of the site times every voucher there (~600k rows statewide): joined on codes.
    left = open_days.assign(_day=keys.days(open_days["attendance_date"]))
    joined = merge_on_codes(left, reported.assign(_voucher_row=np.arange(len(reported))), ["site_id"], "inner", keys)
    end = joined["authorized_end"].fillna(pd.Timestamp.max.normalize())
    authorized = (joined["authorized_start"] <= joined["attendance_date"]) & (joined["attendance_date"] <= end)
    covered = np.flatnonzero(authorized.to_numpy())
    # Only the vouchers covering an open day are coded (on closure days, a handful of them).
    row = joined["_voucher_row"].to_numpy()[covered]
    used_rows = np.flatnonzero(np.bincount(row, minlength=len(reported)))
    used = reported.iloc[used_rows]
    by_row = np.zeros((3, len(reported)), dtype=np.int64)
    by_row[:, used_rows] = [keys.child(used), Codes(used["voucher_id"])(used["voucher_id"]), weekday_masks(used)]
    child, voucher, weekdays = by_row[:, row]  # child: the site-child code
    day = joined["_day"].to_numpy()[covered]
    # Sorted by site, child, day and voucher_id; then the first row of each child-day wins.
    order = np.lexsort((voucher, day, child))
    first = first_of_runs((child * keys.days.size + day)[order])
    kept = order[first]
    overlaps = _overlaps(joined, covered, weekdays, order, first)
    joined, child, weekdays = joined.take(covered[kept]), child[kept], weekdays[kept]
    joined["scheduled"] = is_scheduled(joined, weekdays)
    days = joined[ENROLLED_COLUMNS].assign(**{CHILD_CODE: child}).reset_index(drop=True)
    return Enrollment(days, overlaps)


def _overlaps(
    joined: pd.DataFrame, covered: np.ndarray, weekdays: np.ndarray, order: np.ndarray, first: np.ndarray
) -> pd.DataFrame:
    """Each voucher that covers a child-day besides the first (lowest id), beside that first one."""
    others = np.flatnonzero(~first)
    if not len(others):
        return pd.DataFrame(columns=OVERLAP_COLUMNS)
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))
    used, other = order[run_start[others]], order[others]  # positions among the covered rows
    pairs = []
    for position in (used, other):
        frame = joined.take(covered[position]).reset_index(drop=True)
        frame["scheduled"] = is_scheduled(frame, weekdays[position])
        pairs.append(frame)
    result = pairs[0][ENROLLED_COLUMNS]
    for column in ("voucher_id", "program", "schedule", "scheduled"):
        result[f"other_{column}"] = pairs[1][column].to_numpy()
    return result[OVERLAP_COLUMNS]


def overlap_exceptions(overlaps: pd.DataFrame, disagreeing: pd.DataFrame) -> pd.DataFrame:
    """One ``overlapping_vouchers`` exception per child, site and pair of vouchers, naming the days."""
    if overlaps.empty:
        return pd.DataFrame(columns=EXCEPTION_COLUMNS)
    key = ["site_id", "child_id", "attendance_date"]
    flagged = overlaps.merge(disagreeing.assign(_uncoded=True), on=key, how="left")
    flagged["_uncoded"] = flagged["_uncoded"].fillna(False).astype(bool)
    rows = []
    pair = ["site_id", "child_id", "voucher_id", "other_voucher_id"]
    for (site_id, child_id, used, other), group in flagged.sort_values(key).groupby(pair, sort=True):
        first = group.iloc[0]
        days = ", ".join(f"{d:%Y-%m-%d}" for d in group["attendance_date"])
        detail = (
            f"vouchers {used} ({first['program']}, {first['schedule']}) and {other} ({first['other_program']}, "
            f"{first['other_schedule']}) both cover this child at this site on {len(group)} day(s): {days}; "
        )
        uncoded = group[group["_uncoded"]]
        if uncoded.empty:
            detail += f"voucher {used} (the lowest id) is used"
        else:
            what = (
                "the program"
                if (uncoded["program"] != uncoded["other_program"]).any()
                else "whether the child is expected"
            )
            detail += (
                f"they disagree on {what} on {', '.join(f'{d:%Y-%m-%d}' for d in uncoded['attendance_date'])}: "
                "those child-days get no status and no code until the authorizations are corrected"
            )
            if len(uncoded) < len(group):
                detail += f"; on the other days voucher {used} (the lowest id) is used"
        rows.append(
            {
                "site_id": site_id,
                "child_id": child_id,
                "attendance_date": first["attendance_date"],
                "detail": detail,
                # A day left uncoded needs the state to act; a pair that agrees is information only.
                "severity": (Severity.WARNING if len(uncoded) else Severity.INFO).value,
            }
        )
    return pd.DataFrame(rows).assign(kind=ExceptionKind.OVERLAPPING_VOUCHERS.value)[EXCEPTION_COLUMNS]
