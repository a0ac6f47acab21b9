"""A suite over a frame: the suite's JSON, the run's parameters, the frame prepared for GX, and GX's
result (run by :mod:`.gx_run`) turned into a ValidationOutcome."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.paths import EXPECTATIONS_DIR
from ccms_attendance.validation.gx_run import exception_message, position_of, run_gx
from ccms_attendance.validation.outcome import FailedExpectation, ValidationOutcome, json_safe, sample_rows

log = logging.getLogger(__name__)

DEFAULT_MAX_QUARANTINE_FRACTION = 0.05
_ROW_LEVEL_BASES = ("ColumnMapExpectation", "ColumnPairMapExpectation")


def expectations_dir() -> Path:
    return Path(os.environ.get("CCMS_EXPECTATIONS_DIR", EXPECTATIONS_DIR))


@cache
def _suite_text(path: Path) -> str:
    return path.read_text()


def load_suite_dict(suite_name: str) -> dict[str, Any]:
    """The suite's JSON (GX's own suite format) as a fresh dict the caller may change."""
    path = expectations_dir() / f"{suite_name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in expectations_dir().glob("*.json"))
        raise KeyError(f"no GX suite {suite_name!r} in {path.parent} (known: {', '.join(known)})")
    data = json.loads(_suite_text(path))
    if data.get("name") != suite_name:
        raise ValueError(f"{path.name} holds suite {data.get('name')!r}, expected {suite_name!r}")
    return data


def suite_parameters(suite: dict[str, Any]) -> set[str]:
    """Names of the ``{"$PARAMETER": name}`` values the suite's kwargs refer to."""
    names: set[str] = set()
    for expectation in suite["expectations"]:
        for value in expectation["kwargs"].values():
            if isinstance(value, dict) and "$PARAMETER" in value:
                names.add(value["$PARAMETER"])
    return names


def _as_timestamp(value: Any) -> Any:
    if isinstance(value, dt.datetime | pd.Timestamp):
        return pd.Timestamp(value)
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    return value


def expectation_parameters(context_values: dict | None) -> dict[str, Any]:
    """Run values as GX suite parameters: dates become Timestamps comparable to the normalized columns.

    From ``period_start``/``period_end`` (state calendar days) it derives ``period_start_instant``
    and ``period_end_instant``: the period's first midnight and the midnight after its last day in
    the state time zone, as UTC timestamps comparable to ``check_in``/``check_out``.
    """
    params = {key: _as_timestamp(value) for key, value in (context_values or {}).items()}
    if "period_start" in params and "period_start_instant" not in params:
        params["period_start_instant"] = _local_midnight_utc(params["period_start"])
    if "period_end" in params and "period_end_instant" not in params:
        params["period_end_instant"] = _local_midnight_utc(params["period_end"] + pd.Timedelta(days=1))
    return params


def _local_midnight_utc(day: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day.date()).tz_localize(STATE_TIMEZONE).tz_convert("UTC")


def prepare_frame(frame: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """A copy GX can compare vectorized: positional index, datetime64[ns] days, UTC timestamps, floats.

    Values that cannot be parsed become null, which the suites' not-null expectations catch; sample
    rows are always taken from the caller's frame, so the raw value is what the log shows.
    """
    data = frame.reset_index(drop=True)
    for column in meta.get("date_columns", []):
        if column in data:
            values = pd.to_datetime(data[column], errors="coerce")
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                values = values.dt.tz_convert(STATE_TIMEZONE).dt.tz_localize(None)
            data[column] = values.astype("datetime64[ns]")
    for column in meta.get("timestamp_columns", []):
        if column in data:
            data[column] = pd.to_datetime(data[column], errors="coerce", utc=True).astype("datetime64[ns, UTC]")
    for column in meta.get("numeric_columns", []):
        if column in data:
            data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64")
    return data


@cache
def _is_row_level(expectation_type: str) -> bool:
    from great_expectations.expectations.registry import get_expectation_impl

    bases = {cls.__name__ for cls in get_expectation_impl(expectation_type).__mro__}
    return any(name in bases for name in _ROW_LEVEL_BASES)


def _render_value(value: Any) -> str:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return f"${value['$PARAMETER']}"
    if isinstance(value, dict) and value.get("type") == "comparison":
        return f"{value['column']['name']} {value['operator']} {value['parameter']!r}"
    return repr(value)


def describe(expectation: dict[str, Any], resolved: dict[str, Any] | None = None) -> str:
    """``type(kwarg=value, ...)``; a suite parameter shows as ``$name=value``."""
    parts = []
    for key, value in expectation["kwargs"].items():
        text = _render_value(value)
        if isinstance(value, dict) and "$PARAMETER" in value and resolved and key in resolved:
            text += f"={json_safe(resolved[key])}"
        parts.append(f"{key}={text}")
    text = f"{expectation['type']}({', '.join(parts)})"
    if expectation.get("description"):
        text += f" - {expectation['description']}"
    return text


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


def _quarantine(frame: pd.DataFrame, pieces: list[tuple[np.ndarray, str]]) -> tuple[pd.DataFrame, np.ndarray]:
    """Reasons per offending row, indexed by the caller's labels; also the sorted positions."""
    if not pieces:
        return pd.DataFrame({"reason": pd.Series(dtype="object")}, index=frame.index[:0]), np.array([], dtype=int)
    positions = np.concatenate([p for p, _ in pieces])
    reasons = np.concatenate([np.full(len(p), reason, dtype=object) for p, reason in pieces])
    table = pd.DataFrame({"position": positions, "reason": reasons})
    if len(pieces) > 1:
        table = table.drop_duplicates()
        table = table.groupby("position", sort=True, as_index=False)["reason"].agg("; ".join)
    else:
        table = table.sort_values("position")
    ordered = table["position"].to_numpy(dtype=int)
    quarantine = pd.DataFrame({"reason": table["reason"].astype("object").to_numpy()}, index=frame.index[ordered])
    return quarantine, ordered


def build_outcome(
    suite: dict[str, Any], frame: pd.DataFrame, gx_result: Any, params: dict[str, Any]
) -> ValidationOutcome:
    name = suite["name"]
    max_fraction = float(suite.get("meta", {}).get("max_quarantine_fraction", DEFAULT_MAX_QUARANTINE_FRACTION))
    critical: list[FailedExpectation] = []
    warnings: list[FailedExpectation] = []
    row_failures: list[FailedExpectation] = []
    pieces: list[tuple[np.ndarray, str]] = []
    unevaluated: list[str] = []
    summaries = []
    # GX evaluates in its own order; report in the suite's order.
    for item in sorted(gx_result.results, key=position_of):
        config = item.expectation_config
        definition = suite["expectations"][position_of(item)]
        severity = str(getattr(config.severity, "value", config.severity))
        kwargs = definition["kwargs"]
        result = item.result or {}
        error = exception_message(item.exception_info)
        # Row-level = a column (pair) map expectation; a suite may override with meta {"quarantine": bool}.
        row_level = bool(definition.get("meta", {}).get("quarantine", _is_row_level(definition["type"])))
        row_level = row_level and error is None
        positions = np.asarray(result.get("unexpected_index_list") or [], dtype=int)
        unexpected = int(result.get("unexpected_count") or 0)
        action = "passed"
        if not item.success:
            description = describe(definition, config.kwargs)
            if error:
                description += f" could not be evaluated: {error}"
                unevaluated.append(description)
            failure = FailedExpectation(
                expectation_type=definition["type"],
                column=_column_of(kwargs),
                severity=severity,
                description=description,
                unexpected_count=unexpected,
                sample_rows=sample_rows(frame, positions),
            )
            if severity == "critical" and row_level:
                action = "quarantined"
                row_failures.append(failure)
                pieces.append((positions, f"{name}: {definition['type']}({_column_of(kwargs)})"))
            elif severity == "critical":
                action = "failed"
                critical.append(failure)
            else:
                action = "noted"
                warnings.append(failure)
        summaries.append(
            {
                "expectation_type": definition["type"],
                "column": _column_of(kwargs),
                "kwargs": kwargs,
                "severity": severity,
                "row_level": row_level,
                "success": bool(item.success),
                "action": action,
                "element_count": json_safe(result.get("element_count")),
                "unexpected_count": unexpected,
                "unexpected_percent": json_safe(result.get("unexpected_percent")),
                "missing_count": json_safe(result.get("missing_count")),
                "observed_value": json_safe(result.get("observed_value")) if "observed_value" in result else None,
                "exception": error,
            }
        )

    quarantine, positions = _quarantine(frame, pieces)
    rows = len(frame)
    fraction = len(quarantine) / rows if rows else 0.0
    if fraction > max_fraction:
        failed_names = ", ".join(f.description for f in row_failures)
        critical.insert(
            0,
            FailedExpectation(
                expectation_type="max_quarantine_fraction",
                column=None,
                severity="critical",
                description=(
                    f"{len(quarantine)} of {rows} rows ({fraction:.1%}) failed critical row-level expectations, "
                    f"more than the suite's max_quarantine_fraction {max_fraction:.1%} (systemic problem): "
                    f"{failed_names}"
                ),
                unexpected_count=len(quarantine),
                sample_rows=sample_rows(frame, positions),
            ),
        )
        critical.extend(row_failures)
    statistics = {k: json_safe(v) for k, v in dict(gx_result.statistics).items()}
    summary = {
        "suite_name": name,
        "success": not critical,
        "gx_success": bool(gx_result.success),
        "evaluated_rows": rows,
        "quarantined_rows": len(quarantine),
        "quarantine_fraction": fraction,
        "max_quarantine_fraction": max_fraction,
        "failed_critical": len(critical),
        "failed_warning": len(warnings),
        "parameters": {k: json_safe(v) for k, v in sorted(params.items())},
        "statistics": statistics,
        "expectations": summaries,
    }
    return ValidationOutcome(
        suite_name=name,
        evaluated_rows=rows,
        critical_failures=critical,
        warnings=warnings,
        quarantine=quarantine,
        result=summary,
        gx_result=_gx_result_dict(gx_result),
        unevaluated=tuple(unevaluated),
    )


def _gx_result_dict(gx_result: Any) -> dict | None:
    """GX's result as JSON-ready dict, for GX's Data Docs; None (logged) if it cannot be serialized."""
    try:
        return gx_result.to_json_dict()
    except Exception:  # Data Docs are a by-product: never fail a validation over them
        log.warning(
            "Could not serialize the GX result of suite %r for Data Docs",
            getattr(gx_result, "suite_name", None),
            exc_info=True,
        )
        return None


def validate_frame(suite_name: str, frame: pd.DataFrame, *, context_values: dict | None = None) -> ValidationOutcome:
    suite = load_suite_dict(suite_name)
    params = expectation_parameters(context_values)
    missing = suite_parameters(suite) - params.keys()
    if missing:
        raise ValueError(f"GX suite {suite_name!r} needs context_values {sorted(missing)} (e.g. the period bounds)")
    data = prepare_frame(frame, suite.get("meta", {}))
    gx_result = run_gx(suite, data, params)
    return build_outcome(suite, frame, gx_result, params)


def quarantine_and_filter(frame: pd.DataFrame, outcome: ValidationOutcome) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows that proceed, quarantined rows with a ``reason`` column), split by index label."""
    reasons = outcome.quarantine["reason"]
    reasons = reasons[~reasons.index.duplicated()]
    bad = frame.index.isin(reasons.index)
    quarantined = frame[bad].copy()
    quarantined["reason"] = reasons.reindex(quarantined.index).to_numpy()
    return frame[~bad], quarantined
