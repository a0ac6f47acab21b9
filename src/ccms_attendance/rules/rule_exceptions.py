"""The rules' exceptions as rows: what was found, how serious, where (site, child, day) and the detail."""

from __future__ import annotations

import pandas as pd

EXCEPTION_COLUMNS = ["kind", "severity", "site_id", "child_id", "attendance_date", "detail"]


def exceptions_frame(frame: pd.DataFrame, kind: str, severity: str, detail: pd.Series | str) -> pd.DataFrame:
    """One exception per row of ``frame`` (its site_id, child_id, attendance_date where it has them)."""
    out = pd.DataFrame(
        {
            "kind": kind,
            "severity": severity,
            "site_id": frame["site_id"].to_numpy() if "site_id" in frame else None,
            "child_id": frame["child_id"].to_numpy() if "child_id" in frame else None,
            "attendance_date": frame["attendance_date"].to_numpy() if "attendance_date" in frame else pd.NaT,
            "detail": detail.to_numpy() if isinstance(detail, pd.Series) else detail,
        },
        index=range(len(frame)),
    )
    return out[EXCEPTION_COLUMNS]
