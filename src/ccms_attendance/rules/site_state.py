"""Per site-period: how much of its data is final, whether it is complete, and its lifecycle.

Rule 7 (provider guide) and the period lifecycle (:mod:`ccms_attendance.rules.lifecycle`) decided
in one place for every source:

* The governing source's data must be usable: not an unlinked license (plan), retrieved (a CCMS
  call that failed, or a PPP extract that failed validation, is not), and for a CCMS not empty
  for a site with enrolled children. Otherwise the site's data is unavailable, and
  ``unavailable_cause`` says why (:class:`~ccms_attendance.rules.lifecycle.UnavailableCause`: only
  the plan's and a failed validation are data verdicts).
* Of usable data, only days up to the site's **final-through** day get day codes (the whole period
  once the site submitted; a CCMS's data-through day before that; none otherwise). Later days are
  ``pending``.
* A site-period is **complete** when its data is usable and final through the period's last day,
  and **final** (its lifecycle) once the site submitted or the deadline passed.

Frames: ``plan`` (site_id, governing_source, incomplete_reason), ``extracts`` (source, site_id,
outcome ('retrieved', 'failed' or 'failed_validation'), error, submitted, submitted_at,
data_through: one row per source and site that was extracted), ``recorded_sites`` /
``enrolled_sites`` (the sites with usable governing records / with enrolled children).
"""

from __future__ import annotations

import pandas as pd

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.rules.lifecycle import (
    Deadline,
    PendingBasis,
    UnavailableCause,
    final_through,
    pending_reason,
    site_lifecycle,
)

SITE_STATE_COLUMNS = [
    "site_id", "complete", "incomplete_reason", "incomplete_kind", "lifecycle", "submitted_at", "final_through",
    "unavailable_cause",
]  # fmt: skip
EXTRACT_COLUMNS = ["source", "site_id", "outcome", "error", "submitted", "submitted_at", "data_through"]


def site_states(
    period: ServicePeriod,
    deadline: Deadline,
    plan: pd.DataFrame,
    extracts: pd.DataFrame,
    recorded_sites: pd.Series,
    enrolled_sites: pd.Series,
) -> pd.DataFrame:
    """One row per planned site: SITE_STATE_COLUMNS (``final_through`` a datetime64 day, NaT = none)."""
    outcome = extracts.reindex(columns=EXTRACT_COLUMNS).rename(columns={"source": "governing_source"})
    sites = plan[["site_id", "governing_source", "incomplete_reason"]].merge(
        outcome, on=["governing_source", "site_id"], how="left"
    )
    is_ccms = (sites["governing_source"] != Source.PPP.value).to_numpy()
    reason = sites["incomplete_reason"].astype(object).where(sites["incomplete_reason"].notna(), None)
    kind = pd.Series(None, index=sites.index, dtype=object)
    cause = pd.Series(None, index=sites.index, dtype=object)
    cause[reason.notna()] = str(UnavailableCause.PLAN)

    failed = reason.isna() & (sites["outcome"] != "retrieved")
    cause = cause.mask(failed, sites["outcome"].map(_CAUSE_OF_OUTCOME).fillna(str(UnavailableCause.NOT_EXTRACTED)))
    reason[failed] = (
        sites.loc[failed, "governing_source"]
        + " data unavailable: "
        + sites.loc[failed, "error"].fillna("no extraction result")
    )
    usable = reason.isna()
    submitted = usable & sites["submitted"].fillna(False).astype(bool)
    through = pd.Series(
        [
            final_through(
                period,
                submitted=bool(is_submitted),
                data_through=None if pd.isna(data_through) else pd.Timestamp(data_through).date(),
                is_ccms=bool(ccms),
            )
            if ok
            else None
            for ok, is_submitted, data_through, ccms in zip(
                usable, submitted, sites["data_through"], is_ccms, strict=True
            )
        ],
        index=sites.index,
        dtype=object,
    )
    # De-duplicated first: isin on Arrow-backed strings turns every value it is given into a Python
    # object, and these are one per record and per enrolled child-day (3.9 s statewide, not 0.01).
    empty = (
        is_ccms
        & usable
        & through.notna()
        & ~sites["site_id"].isin(recorded_sites.unique())
        & sites["site_id"].isin(enrolled_sites.unique())
    )
    reason[empty] = sites.loc[empty, "governing_source"] + " returned no records for a site with enrolled children"
    through[empty] = None
    cause[empty] = str(UnavailableCause.NO_RECORDS)
    kind[reason.notna()] = str(PendingBasis.DATA_UNAVAILABLE)

    awaiting = reason.isna() & (through.isna() | (through != period.end))
    for row in sites.index[awaiting]:
        through_day = through[row]
        kind[row] = str(PendingBasis.NOT_SUBMITTED if through_day is None else PendingBasis.AFTER_DATA_THROUGH)
        reason[row] = pending_reason(
            sites.at[row, "governing_source"],
            is_ccms=bool(is_ccms[row]),
            through=through_day,
            deadline=deadline.day,
            deadline_passed=deadline.passed,
        )
    lifecycles = [str(site_lifecycle(submitted=bool(done), deadline_passed=deadline.passed)) for done in submitted]
    return pd.DataFrame(
        {
            "site_id": sites["site_id"],
            "complete": reason.isna(),
            "incomplete_reason": reason,
            "incomplete_kind": kind,
            "lifecycle": pd.Series(lifecycles, index=sites.index, dtype=object),
            "submitted_at": pd.to_datetime(sites["submitted_at"].where(submitted), utc=True),
            "final_through": pd.to_datetime(through),
            "unavailable_cause": cause.astype(object).where(cause.notna(), None),
        }
    )[SITE_STATE_COLUMNS]


#: A staged extraction outcome that is not ``retrieved``, as the cause of the site's unavailable data.
_CAUSE_OF_OUTCOME = {
    "failed": str(UnavailableCause.SOURCE_FAILED),
    "failed_validation": str(UnavailableCause.FAILED_VALIDATION),
}
