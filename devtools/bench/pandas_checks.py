"""The validate stage's floor: the GX suites' checks written in plain pandas, on the same rows.

Issue 20 asks that validation cost at most 2x "the same checks in plain pandas on the same rows".
This module is that baseline. It reads each suite's JSON (``validation/expectations/*.json``, the
files GX runs) and evaluates **every** expectation in it with vectorized pandas, with GX's
semantics (a column map expectation ignores nulls unless it is about nulls; a pair expectation
skips rows per its ``ignore_row_if``; a compound key flags every row of a duplicated key; a
``row_condition`` filters the rows first; ``$PARAMETER`` values come from the run). It returns the
unexpected row positions of each expectation, as GX's ``COMPLETE`` result format does. An
expectation type it does not know raises: no expectation is dropped silently
(``tests/unit/bench/test_pandas_checks.py`` checks the counts against GX's on the same frame).

The bench (:func:`time_pandas_validation`) reads the rows the validate task read (the same
``validation_frame`` query, from staging), normalizes them as ``validate_frame`` does
(``engine.prepare_frame``), runs the checks and times both parts. No GX import here.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from ccms_attendance.canonical import Source
from ccms_attendance.validation.engine import expectation_parameters, load_suite_dict, prepare_frame
from ccms_attendance.validation.suite_definitions import SUITE_BY_SOURCE
from ccms_attendance.warehouse.bulk_read import read_bulk_frame
from ccms_attendance.warehouse.sql_files import query

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _value(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return params[value["$PARAMETER"]]
    return value


def _condition(data: pd.DataFrame, condition: Any) -> np.ndarray:
    """Rows a GX ``row_condition`` (its serialized comparison) keeps; all rows when there is none."""
    if not condition:
        return np.ones(len(data), dtype=bool)
    if not (isinstance(condition, dict) and condition.get("type") == "comparison"):
        raise NotImplementedError(f"row_condition {condition!r}")
    column = data[condition["column"]["name"]]
    return np.asarray(_OPERATORS[condition["operator"]](column, condition["parameter"]).fillna(False), dtype=bool)


def _between(column: pd.Series, kwargs: dict[str, Any], params: dict[str, Any]) -> pd.Series:
    low, high = _value(kwargs.get("min_value"), params), _value(kwargs.get("max_value"), params)
    inside = pd.Series(True, index=column.index)
    if low is not None:
        inside &= column > low if kwargs.get("strict_min") else column >= low
    if high is not None:
        inside &= column < high if kwargs.get("strict_max") else column <= high
    return ~inside


def _pair_skip(a: pd.Series, b: pd.Series, rule: str) -> pd.Series:
    if rule == "both_values_are_missing":
        return a.isna() & b.isna()
    if rule == "either_value_is_missing":
        return a.isna() | b.isna()
    if rule == "neither":
        return pd.Series(False, index=a.index)
    raise NotImplementedError(f"ignore_row_if {rule!r}")


def unexpected_rows(data: pd.DataFrame, expectation: dict[str, Any], params: dict[str, Any]) -> tuple[bool, np.ndarray]:
    """(success, positions of the rows that fail) for one expectation of a suite, as GX judges it."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    if kind == "expect_table_columns_to_match_set":
        wanted = set(kwargs["column_set"])
        present = set(data.columns)
        ok = wanted == present if kwargs.get("exact_match", True) else wanted <= present
        return ok, np.array([], dtype=int)
    keep = _condition(data, kwargs.get("row_condition"))
    if kind == "expect_compound_columns_to_be_unique":
        key = data[kwargs["column_list"]]
        skip = key.isna().all(axis=1).to_numpy()  # GX's default ignore_row_if: all_values_are_missing
        considered = keep & ~skip
        bad = np.zeros(len(data), dtype=bool)
        bad[considered] = key[considered].duplicated(keep=False).to_numpy()
    elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = data[kwargs["column_A"]], data[kwargs["column_B"]]
        skip = _pair_skip(a, b, kwargs.get("ignore_row_if", "both_values_are_missing")).to_numpy()
        greater = (a >= b) if kwargs.get("or_equal") else (a > b)
        bad = keep & ~skip & ~greater.fillna(False).to_numpy(dtype=bool)
    else:
        column = data[kwargs["column"]]
        null = column.isna().to_numpy()
        if kind == "expect_column_values_to_not_be_null":
            bad = keep & null
        elif kind == "expect_column_values_to_be_null":
            bad = keep & ~null
        elif kind == "expect_column_values_to_be_in_set":
            bad = keep & ~null & ~column.isin(kwargs["value_set"]).to_numpy()
        elif kind == "expect_column_values_to_be_between":
            bad = keep & ~null & _between(column, kwargs, params).to_numpy(dtype=bool)
        else:
            raise NotImplementedError(f"no plain-pandas check for {kind}: the comparison would drop it")
    positions = np.flatnonzero(bad)
    considered_rows = int(keep.sum())
    mostly = float(kwargs.get("mostly", 1.0))
    ok = len(positions) == 0 or (considered_rows > 0 and 1 - len(positions) / considered_rows >= mostly)
    return ok, positions


def check_suite(suite_name: str, frame: pd.DataFrame, context_values: dict[str, Any]) -> list[tuple[bool, int]]:
    """Every expectation of ``suite_name`` on ``frame``: (success, unexpected rows), in the suite's order."""
    suite = load_suite_dict(suite_name)
    params = expectation_parameters(context_values)
    data = prepare_frame(frame, suite.get("meta", {}))
    results = []
    for expectation in suite["expectations"]:
        ok, positions = unexpected_rows(data, expectation, params)
        results.append((ok, len(positions)))
    return results


@dataclass(frozen=True)
class PandasValidation:
    """One source's rows read from staging and checked in plain pandas (seconds)."""

    source: str
    suite: str
    rows: int
    expectations: int
    failed_expectations: int
    read_seconds: float
    check_seconds: float
    #: The CPU seconds of the reading and checking thread (read + checks; the server's not included).
    cpu_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.check_seconds


def time_pandas_validation(conninfo: str, run_params: dict[str, Any]) -> list[PandasValidation]:
    """Per source: read the run's staged rows as the validate task does, run the suite's checks in pandas."""
    context = {"period_start": run_params["period_start"], "period_end": run_params["period_end"]}
    results = []
    with psycopg.connect(conninfo) as conn:
        for source in Source:
            suite = SUITE_BY_SOURCE[source]
            # The process's CPU, not this thread's: pyarrow parses the read in its own threads (the
            # task's CPU counts them too). The bench's samplers are stopped by now.
            started, cpu_started = time.perf_counter(), time.process_time()
            frame = read_bulk_frame(conn, query("validation_frame"), {**run_params, "source": str(source)})
            frame = frame.set_index("record_no", drop=False)
            read = time.perf_counter() - started
            started = time.perf_counter()
            checked = check_suite(suite, frame, context) if len(frame) else []
            check, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            results.append(
                PandasValidation(
                    source=str(source),
                    suite=suite,
                    rows=len(frame),
                    expectations=len(checked),
                    failed_expectations=sum(1 for ok, _ in checked if not ok),
                    read_seconds=read,
                    check_seconds=check,
                    cpu_seconds=cpu,
                )
            )
    return results
