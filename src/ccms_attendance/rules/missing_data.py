"""Missing data is never an absence: the child-days that get no status, and why.

* **Pending** days (:func:`split_pending`): enrolled open days after a site-period's final-through
  day (see :mod:`ccms_attendance.rules.site_state`). They are kept as rows with status ``pending``,
  no day code and the reason as their ``basis``, with the lineage of any record already received,
  so the final run can replace them with their codes.
* **Withheld** days get no row and an exception (each child-period with one is incomplete):
  - a CCMS site-day on which no enrolled child has any record (:func:`withhold_blank_days`): an
    unregistered closure, or a vendor that has not synced yet, not a day everyone was absent;
  - a child-day whose governing record was quarantined (:func:`withhold_quarantined`);
  - a voucher child the vendor sent nothing about (:func:`withhold_children_missing_from_ccms`).

Each function takes the final days' rows (one per enrolled child-day, with the governing record's
``status`` where there is one) and returns what stays plus the exceptions it raised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ccms_attendance.canonical import Source
from ccms_attendance.rules.exception_kinds import ExceptionKind
from ccms_attendance.rules.key_codes import KeyCodes, merge_on_codes
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS, exceptions_frame

PENDING_STATUS = "pending"


def split_pending(daily: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows on or before their site's ``final_through`` day, and the pending rows after it.

    ``daily`` carries ``final_through`` (NaT: no day is final) and ``incomplete_kind`` per row's
    site. Pending rows get status ``pending``, no day code and ``incomplete_kind`` as basis.
    """
    final = (daily["attendance_date"] <= daily["final_through"]).to_numpy()  # NaT compares False
    pending = daily[~final].copy()
    pending["status"] = PENDING_STATUS
    pending["day_code"] = None
    pending["basis"] = pending["incomplete_kind"]
    return daily[final], pending


def withhold_blank_days(
    daily: pd.DataFrame, quarantined: pd.DataFrame | None, keys: KeyCodes
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """No record for any enrolled child on a CCMS site-day: no status for that day, one exception.

    A record the vendor sent for the day but that was quarantined counts as a record: the vendor
    did report that day.
    """
    is_ccms = (daily["governing_source"] != Source.PPP.value).to_numpy()
    if not is_ccms.any():
        return daily, pd.DataFrame(columns=EXCEPTION_COLUMNS)
    site_day = keys.site_day(daily)
    recorded = daily["status"].notna().to_numpy()
    if quarantined is not None and len(quarantined):
        dated = quarantined[quarantined["attendance_date"].notna() & quarantined["site_id"].notna()]
        recorded = recorded | np.isin(site_day, keys.site_day(dated))
    reported_days = np.unique(site_day[recorded])
    blank = is_ccms & ~np.isin(site_day, reported_days)
    if not blank.any():
        return daily, pd.DataFrame(columns=EXCEPTION_COLUMNS)
    rows = daily[blank]
    days = rows.groupby(["site_id", "attendance_date"], as_index=False).agg(
        governing_source=("governing_source", "first"), children=("child_id", "size")
    )
    exceptions = exceptions_frame(
        days,
        ExceptionKind.NO_ATTENDANCE_FOR_DAY,
        days["governing_source"]
        + " sent no record for any of the "
        + days["children"].astype(str)
        + " enrolled children on this open day (a closure missing from the register, or data not synced?);"
        + " no absences inferred",
    )
    return daily[~blank], exceptions


def withhold_quarantined(
    daily: pd.DataFrame, quarantined: pd.DataFrame | None, plan: pd.DataFrame, keys: KeyCodes
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Never infer a status where the governing source sent a record we could not use.

    A quarantined record with a child and a day blocks inference for that child-day; with a child
    but no usable day, for that child's whole period at the site (we cannot tell which day it was).
    """
    if quarantined is None or quarantined.empty:
        return daily, pd.DataFrame(columns=EXCEPTION_COLUMNS)
    governing = quarantined.merge(plan[["site_id", "governing_source"]], on="site_id")
    governing = governing[(governing["source"] == governing["governing_source"]) & governing["child_id"].notna()]
    undated = governing[governing["attendance_date"].isna()][["site_id", "child_id"]].drop_duplicates()
    dated = governing[governing["attendance_date"].notna()][["site_id", "child_id", "attendance_date"]]
    dated = dated.drop_duplicates()
    flagged = merge_on_codes(daily, dated.assign(_day=True), ["site_id", "child_id", "attendance_date"], "left", keys)
    flagged = merge_on_codes(flagged, undated.assign(_child=True), ["site_id", "child_id"], "left", keys)
    blocked = flagged["status"].isna() & (flagged["_day"].notna() | flagged["_child"].notna())
    withheld = flagged[blocked]
    exceptions = exceptions_frame(
        withheld,
        ExceptionKind.STATUS_WITHHELD_QUARANTINED_RECORD,
        withheld["governing_source"] + " sent a record for this child-day that was quarantined; no status inferred",
    )
    return flagged[~blocked].drop(columns=["_day", "_child"]), exceptions


def withhold_children_missing_from_ccms(daily: pd.DataFrame, keys: KeyCodes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A voucher child the vendor sent nothing about (on any final day) is a roster mismatch, not absences.

    CCMS records carry the Child ID the provider keyed in; a missing or wrong one leaves the child
    without records. Inferring ten absences from that would fabricate them, so the child's days are
    withheld and the mismatch is reported once per child.
    """
    is_ccms = daily["governing_source"] != Source.PPP.value
    recorded = daily["status"].notna()
    child = pd.Series(keys.child(daily), index=daily.index)
    if keys.any_missing(child.to_numpy()):  # grouping leaves those rows out: keep its outcome
        has_record = recorded.groupby([daily["site_id"], daily["child_id"]]).transform("any")
    else:
        has_record = child.isin(child[recorded])
    silent = is_ccms & ~has_record
    children = daily[silent].drop_duplicates(["site_id", "child_id"])
    exceptions = exceptions_frame(
        children.assign(attendance_date=pd.NaT),
        ExceptionKind.CHILD_MISSING_FROM_CCMS,
        children["governing_source"]
        + " sent no record for this voucher child all period (is the Child ID keyed in the CCMS?);"
        + " no absences inferred",
    )
    return (daily[~silent] if silent.any() else daily), exceptions
