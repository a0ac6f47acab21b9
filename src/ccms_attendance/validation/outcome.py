"""What a validation returns: plain, JSON-friendly values (no GX objects), cheap to import."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str  # e.g. "expect_column_values_to_not_be_null"
    column: str | None
    severity: str  # critical | warning | info
    description: str  # human readable, incl. kwargs
    unexpected_count: int
    sample_rows: list[dict]  # up to 5 offending rows (from the frame), JSON-safe

    def summary_line(self) -> str:
        counted = f": {self.unexpected_count} unexpected row(s)" if self.unexpected_count else ""
        return f"{self.description} [{self.severity}]{counted}"


@dataclass(frozen=True, eq=False)
class ValidationOutcome:
    suite_name: str
    evaluated_rows: int
    critical_failures: list[FailedExpectation]
    warnings: list[FailedExpectation]  # warning and info
    # Index = index labels of the offending input rows; one column "reason" ("; "-joined).
    quarantine: pd.DataFrame
    result: dict  # JSON-serializable summary of the GX result; no full row dumps
    # GX's own validation result (``ExpectationSuiteValidationResult.to_json_dict()``), to build GX's
    # Data Docs from this very validation; never in the warehouse (it may list every bad row): only in
    # the data docs store, until the run's data_docs task has built the pages (:meth:`to_json`).
    gx_result: dict | None = field(default=None, repr=False, compare=False)
    # Expectations GX could not evaluate (it raised): no verdict on the data, a failure of the check.
    unevaluated: tuple[str, ...] = ()

    @property
    def success(self) -> bool:
        """No critical failures (quarantined rows alone do not make a suite fail)."""
        return not self.critical_failures

    def to_json(self) -> dict[str, Any]:
        """Everything the data docs show, as JSON values: :meth:`from_json` gives an equal outcome back."""
        return {
            "suite_name": self.suite_name,
            "evaluated_rows": int(self.evaluated_rows),
            "critical_failures": [asdict(failure) for failure in self.critical_failures],
            "warnings": [asdict(failure) for failure in self.warnings],
            "quarantine": {
                "labels": json_safe(list(self.quarantine.index)),
                "reasons": json_safe(self.quarantine["reason"].tolist()),
            },
            "result": self.result,
            "gx_result": self.gx_result,
            "unevaluated": list(self.unevaluated),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ValidationOutcome:
        quarantine = data["quarantine"]
        return cls(
            suite_name=data["suite_name"],
            evaluated_rows=int(data["evaluated_rows"]),
            critical_failures=[FailedExpectation(**failure) for failure in data["critical_failures"]],
            warnings=[FailedExpectation(**failure) for failure in data["warnings"]],
            quarantine=pd.DataFrame({"reason": pd.Series(quarantine["reasons"], dtype=object)}).set_axis(
                pd.Index(quarantine["labels"])
            ),
            result=data["result"],
            gx_result=data["gx_result"],
            unevaluated=tuple(data["unevaluated"]),
        )

    def error_message(self) -> str:
        head = (
            f"{self.evaluated_rows} rows evaluated, {len(self.quarantine)} quarantined, {len(self.warnings)} warning(s)"
        )
        if self.success:
            return f"GX suite '{self.suite_name}' passed ({head})."
        lines = [f"GX suite '{self.suite_name}' failed {len(self.critical_failures)} critical expectation(s) ({head}):"]
        for failure in self.critical_failures:
            lines.append(f"  - {failure.summary_line()}")
            lines.extend(f"      bad row: {json.dumps(row, sort_keys=True)}" for row in failure.sample_rows)
        return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types: NaN/NaT -> None, timestamps -> ISO text, numpy -> Python."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index | pd.Series):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if value is pd.NaT or (not isinstance(value, dict | list) and _is_na(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return str(value)
    return str(value)


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def sample_rows(frame: pd.DataFrame, positions: np.ndarray | list[int], limit: int = SAMPLE_ROWS) -> list[dict]:
    """Up to ``limit`` rows of ``frame`` at ``positions``, JSON-safe (only a handful: a loop is fine)."""
    picked = frame.iloc[list(positions[:limit])]
    return [{str(k): json_safe(v) for k, v in row.items()} for row in picked.to_dict(orient="records")]
