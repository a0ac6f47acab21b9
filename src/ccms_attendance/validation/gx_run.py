"""Running a suite over a frame with GX Core 1.x: GX's import, an ephemeral context, a batch of the
frame, and the two passes of :func:`validate_batch`.

GX is imported lazily (about 3 s): DAG files import this package. Every call builds its own
ephemeral Data Context and its own suite object, so concurrent calls share nothing. Turning GX's
result into a ``ValidationOutcome`` is :mod:`.engine`'s.
"""

from __future__ import annotations

import copy
import logging
import os
from typing import Any

import pandas as pd

#: Meta key added to each expectation: maps a GX result back to its entry in the suite's JSON.
POSITION = "ccms_position"
#: Every expectation's counts (element, missing, unexpected) and a few unexpected values.
COUNTS_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 5}
#: COMPLETE is what carries unexpected_index_list for every failing row.
ROWS_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 5, "return_unexpected_index_query": False}


def import_gx() -> Any:
    """``great_expectations``, imported quietly, with the batch fingerprint off (below)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # GX's import logs ~200 "Skipping registering function ..." lines at INFO (its public-API
    # docs registry), which Airflow's task log would show; nothing in them concerns the data.
    logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
    import great_expectations
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch under 1 GB by hashing all of its values, twice per
    # validation (~40 % of validating a period's 590k reconciled rows). The fingerprint only names
    # the batch in Data Docs, which then tell batches apart by suite and run; every row is still validated.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return great_expectations


def ephemeral_context() -> Any:
    """An in-memory GX context: no files, no progress bars, no analytics (a fresh one per use: GX
    contexts are not shared across threads)."""
    gx = import_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def frame_batch(source: Any, asset: str, frame: pd.DataFrame, definition: str = "whole_frame") -> Any:
    """A GX batch of the whole ``frame``, as asset ``asset`` of the pandas data source ``source``."""
    return (
        source.add_dataframe_asset(asset)
        .add_batch_definition_whole_dataframe(definition)
        .get_batch(batch_parameters={"dataframe": frame})
    )


def gx_suite(gx: Any, suite: dict[str, Any], positions: list[int] | None = None) -> Any:
    """The suite as a GX object, each expectation marked with its position in ``suite`` (GX reports
    in its own order); only the expectations at ``positions`` when given."""
    definition = copy.deepcopy(suite)
    marked = [
        {**expectation, "meta": {**(expectation.get("meta") or {}), POSITION: position}}
        for position, expectation in enumerate(definition["expectations"])
    ]
    definition["expectations"] = marked if positions is None else [marked[p] for p in positions]
    return gx.ExpectationSuite(**definition)


def position_of(item: Any) -> int:
    """The position in its suite's JSON of the expectation a GX result is about."""
    return int(item.expectation_config.meta[POSITION])


def exception_message(info: Any) -> str | None:
    """Why GX could not evaluate an expectation (its result's ``exception_info``), else ``None``."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception")
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message") or "exception")
    return None


def run_gx(suite: dict[str, Any], data: pd.DataFrame, params: dict[str, Any]) -> Any:
    """GX's result of ``suite`` on ``data``, in a context of its own (:func:`validate_batch`)."""
    gx = import_gx()
    batch = frame_batch(ephemeral_context().data_sources.add_pandas("ccms_validation"), suite["name"], data)
    return validate_batch(gx, batch, suite, params)


def validate_batch(gx: Any, batch: Any, suite: dict[str, Any], params: dict[str, Any] | None = None) -> Any:
    """GX's result of ``suite`` on ``batch``: every expectation's counts, and for each one that failed
    the index of every failing row.

    Two passes, with the verdicts of one: every expectation in GX's BASIC format, then only those
    that failed (and were evaluated) again in COMPLETE, whose results replace theirs. COMPLETE
    computes each expectation's list of unexpected row indexes and values even when it passes:
    20-30 % of validating a statewide batch in which nothing fails (docs/performance-history.md,
    session 22). The same rows give the same counts in either format, so success, statistics and
    counts do not change.
    """
    options = {} if params is None else {"expectation_parameters": params}
    result = batch.validate(gx_suite(gx, suite), result_format=COUNTS_FORMAT, **options)
    failed = sorted(
        position_of(item)
        for item in result.results
        if not item.success and exception_message(item.exception_info) is None
    )
    if not failed:
        return result
    detailed = batch.validate(gx_suite(gx, suite, failed), result_format=ROWS_FORMAT, **options)
    by_position = {position_of(item): item for item in detailed.results}
    result.results = [by_position.get(position_of(item), item) for item in result.results]
    return result
