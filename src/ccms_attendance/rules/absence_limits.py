"""Absence limits the state acts on (issue 8; ``../shared/domain.md``, "Absence limits").

Counted per child across every site and program the child attends (CCDF and OMW together):

- **Absences per enrollment year.** Enrollment years run from the anniversaries of the child's
  eligibility start (``ref.child.eligibility_start``; without one, the start of the child's first
  voucher). Notices go out at 10, 20, 30 and 35 absences; the 40th ends the voucher at the end of
  that week (weeks run Sunday to Saturday).
- **Consecutive absences.** 20 in a row remove the child.

What counts as one absence: a calendar day on which the child was expected somewhere (AB) and
present nowhere, so a child absent at two sites on one day has one absence, and present at either
has none. OD days and closures (PC/NP) neither count nor break a run; a present day breaks it.

Only complete data counts, so an incomplete site-period can never push a child over a threshold:
a child-period with any incomplete site adds no absences and breaks any run through it, and so does
a gap between periods (a period not loaded yet, or not enrolled). Counts are therefore never higher
than the truth; when the missing data arrives, the recount adds what it shows.

Recounting happens inside every load, for the children whose days the load changed (the
computation is ``src/ccms_attendance/sql/queries/refresh_absence_limits.sql``), continuing from each
child's state at the end of its previous period where one fits (same results as recounting the
year). A crossing that a correction undoes is withdrawn, not deleted:
``reconciled.absence_limit_notice`` keeps what was reported.
"""

from __future__ import annotations

from typing import Any

#: Absences in one enrollment year at which the state sends a notice.
NOTICE_THRESHOLDS = (10, 20, 30, 35)
#: The absence that ends the voucher (at the end of that week).
VOUCHER_END_ABSENCES = 40
#: Consecutive absences that remove the child.
CONSECUTIVE_LIMIT = 20
#: How far before an enrollment year a recount looks for the start of a consecutive run. Twenty
#: expected days fit in about four weeks; three months leaves room for closures and off days.
CONSECUTIVE_LOOKBACK_DAYS = 92
#: Shown as "near a limit" (demo, report): this many absences short of the next threshold.
NEAR_LIMIT_MARGIN = 2


def limit_parameters() -> dict[str, Any]:
    """The thresholds as parameters of ``refresh_absence_limits.sql``."""
    return {
        "absence_thresholds": [*NOTICE_THRESHOLDS, VOUCHER_END_ABSENCES],
        "voucher_end_absences": VOUCHER_END_ABSENCES,
        "consecutive_limit": CONSECUTIVE_LIMIT,
        "lookback_days": CONSECUTIVE_LOOKBACK_DAYS,
    }


def next_threshold(absences: int) -> int | None:
    """The next absence count that triggers a notice or ends the voucher (None past the last)."""
    return next((t for t in (*NOTICE_THRESHOLDS, VOUCHER_END_ABSENCES) if t > absences), None)
