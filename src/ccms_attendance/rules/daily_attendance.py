"""Reconciling one period's source records into daily attendance (provider guide, rules 4 and 6-8).

Pure pandas over plain frames, so every rule is unit-testable without a database:

6. Only children with a CCDF or On My Way Pre-K voucher authorized on a day count for that day
   (the extract step already dropped children with no voucher at all; here a record for a day the
   child was not enrolled at that site is reported, not used). Vouchers overlapping on a child-day
   are reported; where they disagree on the program or on whether the child is expected, the day
   is not coded (:mod:`ccms_attendance.rules.vouchers`).
7. Days are the site's operating days. PPP: an enrolled operating day without an absence entry is
   present. CCMS: no check-in on an operating day is absent. Both inferences, and every day code,
   need final data: only days up to the site-period's final-through day get codes (the period
   lifecycle, :mod:`ccms_attendance.rules.site_state`); later days, and every day of a site whose
   data is unavailable (vendor failure, unlinked license, failed validation), are ``pending``.
   Within final days, a CCMS site-day with no record for any enrolled child, a child-day whose
   governing record was quarantined, and a voucher child a CCMS sent nothing about (a Child ID
   mismatch) get no status either (:mod:`ccms_attendance.rules.missing_data`).
4./8. Only the governing source's records are used. A portal entry for a CCMS-governed site is
   reported (the portal is read-only), and any other source that disagrees with the governing one
   on a child-day is reported as information.

Every enrolled child-day then carries one of the state's day codes (PR/AB/OD/PC/NP); how each is
chosen is in :mod:`ccms_attendance.rules.day_codes`. Closure days (the site's register) are coded
at every site, complete or not: they do not depend on any vendor's data.

Frames and their columns (``attendance_date`` is ``datetime64`` at midnight, a state calendar day):
- ``plan``: site_id, license_number, governing_source, selected_method, incomplete_reason
- ``sites``: site_id, operating_weekdays (iterable of ISO weekdays)
- ``closures``: site_id, closure_date, closure_kind ('PC' | 'NP'), paid_closures_before (the site's
  PC days registered earlier in that calendar year)
- ``vouchers``: voucher_id, child_id, site_id, program, schedule ('full_time' | 'part_time'),
  scheduled_weekdays (ISO weekdays, part-time only), authorized_start, authorized_end (NaT = open)
- ``records``: source, site_id, child_id, attendance_date, status, day_code, check_in, check_out,
  source_record_id
- ``extracts``: source, site_id, outcome ('retrieved' | 'failed'), error, submitted, submitted_at,
  data_through (what the source said about how final its data is)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.rules.child_day import settle
from ccms_attendance.rules.day_codes import (
    CLOSURE_CODES,
    DayCode,
    code_closures,
    code_open_days,
    full_weeks_off,
)
from ccms_attendance.rules.exception_kinds import ExceptionKind
from ccms_attendance.rules.key_codes import CHILD_CODE, KeyCodes, merge_on_codes, with_match
from ccms_attendance.rules.lifecycle import Deadline
from ccms_attendance.rules.missing_data import (
    PENDING_STATUS,
    split_pending,
    withhold_blank_days,
    withhold_children_missing_from_ccms,
    withhold_quarantined,
)
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS
from ccms_attendance.rules.rule_exceptions import exceptions_frame as _exceptions
from ccms_attendance.rules.site_state import site_states
from ccms_attendance.rules.vouchers import enrolled_days as enrolled_days  # re-exported (it lived here)
from ccms_attendance.rules.vouchers import enrollment, overlap_exceptions

DAILY_COLUMNS = [
    "site_id", "child_id", "attendance_date", "voucher_id", "program", "status", "basis", "day_code",
    "source", "source_record_id", "check_in", "check_out",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "site_id", "child_id", "operating_days", "enrolled_days", "absent_days", "absence_rate", "source",
    "complete", "off_days", "paid_closure_days", "unpaid_closure_days", "pending_days", "lifecycle",
]  # fmt: skip
SITE_PERIOD_COLUMNS = [
    "site_id", "governing_source", "selected_method", "complete", "incomplete_reason", "lifecycle", "incomplete_kind",
    "submitted_at", "final_through", "pending_days",
]  # fmt: skip
#: What the load needs besides: why a site's data is unavailable (lifecycle.UnavailableCause).
STAGED_SITE_PERIOD_COLUMNS = [*SITE_PERIOD_COLUMNS, "unavailable_cause"]


@dataclass(frozen=True)
class ReconciledPeriod:
    daily: pd.DataFrame
    summary: pd.DataFrame
    site_period: pd.DataFrame
    exceptions: pd.DataFrame


def operating_days(period: ServicePeriod, sites: pd.DataFrame, closures: pd.DataFrame) -> pd.DataFrame:
    """One row per (site_id, attendance_date) the site is open during the period.

    Open means on one of the site's operating weekdays and not a registered closure.
    """
    days = pd.DataFrame({"attendance_date": pd.to_datetime(period.days)})
    days["weekday"] = days["attendance_date"].dt.isocalendar().day.astype(int)
    weekdays = sites[["site_id", "operating_weekdays"]].explode("operating_weekdays")
    weekdays = weekdays.rename(columns={"operating_weekdays": "weekday"}).dropna()
    weekdays["weekday"] = weekdays["weekday"].astype(int)
    open_days = weekdays.merge(days, on="weekday")[["site_id", "attendance_date"]]
    if len(closures):
        closed = closures.rename(columns={"closure_date": "attendance_date"})[["site_id", "attendance_date"]]
        closed = closed.assign(closed=True)
        open_days = open_days.merge(closed, on=["site_id", "attendance_date"], how="left")
        open_days = open_days[open_days["closed"].isna()].drop(columns="closed")
    return open_days.sort_values(["site_id", "attendance_date"]).reset_index(drop=True)


def closure_days(period: ServicePeriod, sites: pd.DataFrame, closures: pd.DataFrame) -> pd.DataFrame:
    """Registered closures that fall on a day the site normally operates (others change nothing)."""
    normally_open = operating_days(period, sites, closures.iloc[0:0])
    registered = closures.rename(columns={"closure_date": "attendance_date"})
    return registered.merge(normally_open, on=["site_id", "attendance_date"]).reset_index(drop=True)


def _collapse(records: pd.DataFrame, several: pd.Series) -> pd.DataFrame:
    """One governing record per child-day, by the child-day policy (:mod:`ccms_attendance.rules.child_day`:
    present wins; the lineage joins every record's id; check-in earliest, check-out latest).

    ``several`` marks the records that share their child-day with another. Almost every child-day
    has a single record, which is its own result, so only the few shared child-days are settled.
    """
    key = ["site_id", "child_id", "attendance_date"]
    carried = [CHILD_CODE] if CHILD_CODE in records else []
    columns = [*key, "status", "day_code", "source", "source_record_id", "check_in", "check_out", *carried]
    if not several.any():  # concatenating an empty frame would loosen the column dtypes
        return records[columns]
    merged = settle(records.loc[several, columns], key)
    return pd.concat([records.loc[~several, columns], merged], ignore_index=True)


def reconcile(
    period: ServicePeriod,
    plan: pd.DataFrame,
    sites: pd.DataFrame,
    closures: pd.DataFrame,
    vouchers: pd.DataFrame,
    records: pd.DataFrame,
    extracts: pd.DataFrame,
    deadline: Deadline,
    quarantined: pd.DataFrame | None = None,
) -> ReconciledPeriod:
    key = ["site_id", "child_id", "attendance_date"]
    planned_sites = sites[sites["site_id"].isin(plan["site_id"])]
    planned_vouchers = vouchers[vouchers["site_id"].isin(plan["site_id"])]
    open_days = operating_days(period, planned_sites, closures)
    closed = closure_days(period, planned_sites, closures)
    # Every frame below is made of these frames' rows: their keys' codes stand in for the strings.
    quarantine = [quarantined] if quarantined is not None else []
    keys = KeyCodes.of(
        sites=[plan, vouchers, records, open_days, closed, *quarantine],
        children=[vouchers, records, *quarantine],
        days=[open_days, closed, records, *quarantine],
    )
    enrollment_on_open_days = enrollment(open_days, planned_vouchers, keys)
    enrolled = enrollment_on_open_days.days
    # Child-days whose overlapping vouchers disagree on the program or on whether the child is
    # expected cannot be coded (rules.vouchers): they get no row.
    undecided = enrollment_on_open_days.disagreeing(schedule_matters=True)
    exceptions: list[pd.DataFrame] = [overlap_exceptions(enrollment_on_open_days.overlaps, undecided)]

    governed_by = plan[["site_id", "governing_source"]]
    records = merge_on_codes(keys.with_child_code(records), governed_by, ["site_id"], "inner", keys)
    is_governing = records["source"] == records["governing_source"]
    governing_all, others = records[is_governing], records[~is_governing]

    # Rule 6/7: governing records must fall on an enrolled operating day to be used.
    site_day = ["site_id", "attendance_date"]
    located = with_match(governing_all, enrolled, key, "_enrolled", keys)
    located = with_match(located, open_days, site_day, "_open", keys)
    # A portal PC/NP entry on a registered closure day agrees with the register: nothing to report.
    on_closure = with_match(located[[*site_day, CHILD_CODE]], closed, site_day, "_closure", keys)["_closure"]
    agrees_with_closure = on_closure.to_numpy() & located["day_code"].isin(CLOSURE_CODES).to_numpy()
    closed_day = located[~located["_open"] & ~agrees_with_closure]
    exceptions.append(
        _exceptions(
            closed_day,
            ExceptionKind.RECORD_ON_NON_OPERATING_DAY,
            closed_day["source"] + " record " + closed_day["source_record_id"] + " is for a day the site is not open",
        )
    )
    not_enrolled = located[located["_open"] & ~located["_enrolled"]]
    unenrolled_absence = not_enrolled["status"] == "absent"
    for rows, kind, what in (
        (not_enrolled[unenrolled_absence], ExceptionKind.ABSENCE_FOR_UNENROLLED_CHILD, " records an absence on"),
        (not_enrolled[~unenrolled_absence], ExceptionKind.RECORD_OUTSIDE_ENROLLMENT, " is for"),
    ):
        exceptions.append(
            _exceptions(
                rows,
                kind,
                rows["source"]
                + " record "
                + rows["source_record_id"]
                + what
                + " a day the child has no CCDF/OMW voucher authorized at this site",
            )
        )
    usable = located[located["_open"] & located["_enrolled"]]
    several = pd.Series(keys.child_day(usable), index=usable.index).duplicated(keep=False)
    governing = _collapse(usable, several)
    duplicates = usable[several].groupby(key, as_index=False).size()
    exceptions.append(
        _exceptions(
            duplicates,
            ExceptionKind.DUPLICATE_CHILD_DAY,
            duplicates["size"].astype(str) + " governing records for one child-day; merged (present wins)",
        )
    )

    states = site_states(period, deadline, plan, extracts, governing["site_id"], enrolled["site_id"])
    site_state = plan[["site_id", "governing_source", "selected_method"]].merge(states, on="site_id")

    # Every enrolled open day gets a row: codes up to the site's final-through day, pending after it.
    per_site = site_state[["site_id", "governing_source", "final_through", "incomplete_kind"]]
    daily = merge_on_codes(_without(enrolled, undecided, keys), per_site, ["site_id"], "inner", keys)
    daily = merge_on_codes(daily, governing, key, "left", keys)
    daily, pending = split_pending(daily)
    for withhold in (
        lambda rows: withhold_blank_days(rows, quarantined, keys),
        lambda rows: withhold_quarantined(rows, quarantined, plan, keys),
        lambda rows: withhold_children_missing_from_ccms(rows, keys),
    ):
        daily, withheld = withhold(daily)
        exceptions.append(withheld)
    daily, code_exceptions = code_open_days(daily, _exceptions)
    exceptions += code_exceptions
    closure_rows, closure_exceptions = _closure_rows(closed, planned_vouchers, site_state, daily, keys)
    exceptions += closure_exceptions
    extra_rows = [frame for frame in (keys.with_child_code(closure_rows), pending) if len(frame)]
    if extra_rows:
        daily = pd.concat([daily, *extra_rows], ignore_index=True)
    daily["source"] = daily["governing_source"]
    # Sorted by site_id, child_id and attendance_date; the steps below still use the codes.
    coded = daily.take(np.argsort(keys.child_day(daily), kind="stable")).reset_index(drop=True)
    daily = coded[DAILY_COLUMNS]
    exceptions.append(full_weeks_off(coded, open_days, _exceptions, keys.child(coded)))

    # Rules 4 and 8: other sources are reported, never used.
    portal_while_ccms = others[(others["source"] == Source.PPP.value)]
    exceptions.append(
        _exceptions(
            portal_while_ccms,
            ExceptionKind.PORTAL_ENTRY_WHILE_CCMS,
            "portal entry "
            + portal_while_ccms["source_record_id"]
            + " ignored: the portal is read-only while "
            + portal_while_ccms["governing_source"]
            + " governs this site",
        )
    )
    attended = coded[[*key, "status", "source", CHILD_CODE]]
    attended = attended[attended["status"].isin(["present", "absent"])]
    compared = merge_on_codes(others, attended, key, "inner", keys, suffixes=("", "_governing"))
    disagree = compared[compared["status"] != compared["status_governing"]]
    exceptions.append(
        _exceptions(
            disagree,
            ExceptionKind.SOURCE_DISAGREEMENT,
            disagree["source"]
            + " says "
            + disagree["status"]
            + " but governing "
            + disagree["source_governing"]
            + " says "
            + disagree["status_governing"],
        )
    )

    incomplete = site_state[~site_state["complete"]]
    exceptions.append(_exceptions(incomplete, ExceptionKind.SITE_PERIOD_INCOMPLETE, incomplete["incomplete_reason"]))

    summary = _summarize(open_days, enrolled, coded, site_state)
    pending_per_site = coded.loc[coded["status"] == PENDING_STATUS, "site_id"].value_counts()
    site_state["pending_days"] = site_state["site_id"].map(pending_per_site).fillna(0).astype(int)
    all_exceptions = pd.concat([e for e in exceptions if len(e)] or [pd.DataFrame(columns=EXCEPTION_COLUMNS)])
    all_exceptions = all_exceptions.sort_values(["kind", "site_id", "child_id", "attendance_date", "detail"])
    return ReconciledPeriod(
        daily=daily,
        summary=summary,
        site_period=site_state[STAGED_SITE_PERIOD_COLUMNS].sort_values("site_id").reset_index(drop=True),
        exceptions=all_exceptions.reset_index(drop=True),
    )


def _closure_rows(
    closed: pd.DataFrame, vouchers: pd.DataFrame, site_state: pd.DataFrame, daily: pd.DataFrame, keys: KeyCodes
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """PC/NP rows for every child enrolled on a registered closure day, at complete and incomplete sites.

    Closures come from the state's register, not from a vendor, so a site's missing CCMS data does
    not make them unknown.
    """
    coded, exceptions = code_closures(closed, _exceptions)
    on_closures = enrollment(closed[["site_id", "attendance_date"]], vouchers, keys)
    undecided = on_closures.disagreeing(schedule_matters=False)  # a closure's code does not depend on it
    exceptions.append(overlap_exceptions(on_closures.overlaps, undecided))
    enrolled = _without(on_closures.days, undecided, keys)
    rows = enrolled.merge(coded[["site_id", "attendance_date", "day_code"]], on=["site_id", "attendance_date"])
    rows = rows.merge(site_state[["site_id", "governing_source"]], on="site_id")
    rows["status"] = "closed"
    rows["basis"] = "site_closure"
    rows["source_record_id"] = None
    for column in ("check_in", "check_out"):
        rows[column] = pd.Series(pd.NaT, index=rows.index, dtype=daily[column].dtype)
    return rows, exceptions


def _without(days: pd.DataFrame, child_days: pd.DataFrame, keys: KeyCodes) -> pd.DataFrame:
    """``days`` without these child-days (site_id, child_id, attendance_date)."""
    if child_days.empty:
        return days
    return days[~np.isin(keys.child_day(days), keys.child_day(child_days))]


def _summarize(
    open_days: pd.DataFrame, enrolled: pd.DataFrame, daily: pd.DataFrame, site_state: pd.DataFrame
) -> pd.DataFrame:
    """One row per child and site: its days by code, its absence rate and whether its period is complete."""
    key = ["site_id", "child_id"]
    per_child = enrolled.groupby(key, as_index=False).size()
    per_child = per_child.rename(columns={"size": "enrolled_days"})
    # Children enrolled only on closure days still get a row (with no open enrolled days).
    per_child = per_child.merge(daily[key].drop_duplicates(), how="outer")
    per_child["enrolled_days"] = per_child["enrolled_days"].fillna(0).astype(int)
    counted = {
        "absent_days": [DayCode.ABSENT],
        "off_days": [DayCode.OFF_DAY],
        "paid_closure_days": [DayCode.PAID_CLOSURE],
        "unpaid_closure_days": [DayCode.UNPAID_CLOSURE],
        # Open days that got a status: every code but the closures.
        "statused": [DayCode.PRESENT, DayCode.ABSENT, DayCode.OFF_DAY],
    }
    selected = {column: daily["day_code"].isin([str(c) for c in codes]) for column, codes in counted.items()}
    selected["pending_days"] = daily["status"] == PENDING_STATUS
    for column, rows in selected.items():
        days = daily[rows].groupby(key).size().rename(column)
        per_child = per_child.merge(days, left_on=key, right_index=True, how="left")
        per_child[column] = per_child[column].fillna(0).astype(int)
    operating = open_days.groupby("site_id", as_index=False).size().rename(columns={"size": "operating_days"})
    per_child = per_child.merge(operating, on="site_id", how="left")
    per_child["operating_days"] = per_child["operating_days"].fillna(0).astype(int)
    per_child = per_child.merge(site_state[["site_id", "governing_source", "complete", "lifecycle"]], on="site_id")
    # A child's period is complete when its site's is and every enrolled open day got a status.
    per_child["complete"] = per_child["complete"] & (per_child["statused"] == per_child["enrolled_days"])
    per_child["source"] = per_child["governing_source"]
    rate = per_child["absent_days"] / per_child["enrolled_days"].where(per_child["enrolled_days"] > 0)
    per_child["absence_rate"] = rate.round(4)
    return per_child[SUMMARY_COLUMNS].sort_values(key).reset_index(drop=True)
