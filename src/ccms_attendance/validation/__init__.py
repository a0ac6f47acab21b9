"""Data quality: Great Expectations (GX Core 1.x) suites over staged and reconciled frames.

Suites live in ``expectations/<suite>.json`` in GX's own suite format (written from
:mod:`ccms_attendance.validation.suite_definitions`): ``ppp_entries``, ``alliance_core_extract``,
``brightwheel_extract``, ``playground_extract`` (the canonical staged records of each source),
``reconciled_daily_attendance`` and ``reconciled_absence_summary`` (the reconciled output).

Policy
------
- Every expectation carries GX's native ``severity``: ``critical``, ``warning`` or ``info``.
- Row-level (column map / column pair map) critical expectations: the rows failing them go to
  ``outcome.quarantine`` with a reason naming suite and expectation (several joined with "; ");
  they are removed from what proceeds (:func:`quarantine_and_filter`), not the whole run. A few bad
  rows are not a suite failure. But if the quarantined share of rows exceeds the suite's
  ``meta["max_quarantine_fraction"]`` (default 0.05), that is a critical failure of the suite: a
  systemic problem, reported with every row-level expectation involved.
- Table-level critical expectations (compound-key uniqueness, column set, ...) failing, or any
  critical expectation that cannot be evaluated (e.g. a missing column), is a critical failure:
  ``outcome.success`` is False and the caller fails that part of the run with
  ``outcome.error_message()`` (suite, each failed expectation, sample bad rows).
- Warning/info expectations failing are recorded in ``outcome.warnings``; rows are kept.
- Run values are GX suite parameters (``{"$PARAMETER": "period_start"}`` in kwargs), passed as
  ``context_values`` (e.g. ``{"period_start": date, "period_end": date}``); ``period_start_instant``
  and ``period_end_instant`` (state-time midnights as UTC) are derived from them. A suite whose
  parameters are not supplied raises ``ValueError`` before validating.
- Column types are normalized before GX sees a copy of the frame (per suite ``meta``):
  ``date_columns`` to ``datetime64[ns]`` (python dates or datetime64 of any unit), ``timestamp_columns``
  to ``datetime64[ns, UTC]`` (aware python datetimes or datetime64), ``numeric_columns`` to float.
  Unparseable values become null (and fail not-null expectations); samples show the raw values.
- Each call uses its own ephemeral GX context (thread-safe); GX is imported only on first use.
"""

from __future__ import annotations

from ccms_attendance.validation.data_docs import build_data_docs
from ccms_attendance.validation.engine import quarantine_and_filter, validate_frame
from ccms_attendance.validation.outcome import FailedExpectation, ValidationOutcome
from ccms_attendance.validation.persist import persist_outcome

__all__ = [
    "FailedExpectation",
    "ValidationOutcome",
    "build_data_docs",
    "persist_outcome",
    "quarantine_and_filter",
    "validate_frame",
]
