"""The rules' exceptions as rows: what was found, how serious, where (site, child, day) and the detail."""

from __future__ import annotations

import pandas as pd

from ccms_attendance.rules.exception_kinds import ExceptionKind, Severity

EXCEPTION_COLUMNS = ["kind", "severity", "site_id", "child_id", "attendance_date", "detail"]


def exceptions_frame(
    frame: pd.DataFrame, kind: ExceptionKind, detail: pd.Series | str, *, severity: Severity | None = None
) -> pd.DataFrame:
    """One exception per row of ``frame`` (its site_id, child_id, attendance_date where it has them).

    The severity is the kind's, from the catalogue (``rules/exception_kinds.py``); a rule overrides it
    only where the catalogue says the kind's severity depends on the case.
    """
    kind = ExceptionKind(kind)  # an uncatalogued kind is a bug: it fails here, not in a report
    out = pd.DataFrame(
        {
            "kind": kind.value,
            "severity": (severity or kind.severity).value,
            "site_id": frame["site_id"].to_numpy() if "site_id" in frame else None,
            "child_id": frame["child_id"].to_numpy() if "child_id" in frame else None,
            "attendance_date": frame["attendance_date"].to_numpy() if "attendance_date" in frame else pd.NaT,
            "detail": detail.to_numpy() if isinstance(detail, pd.Series) else detail,
        },
        index=range(len(frame)),
    )
    return out[EXCEPTION_COLUMNS]
