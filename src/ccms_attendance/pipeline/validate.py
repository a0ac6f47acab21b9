"""Step 2b: validate every source's staged records with its Great Expectations suite, once the
extracts are done (one task, :func:`validate_run`).

Rows failing a critical row-level expectation are moved to the quarantine with their reason. A
critical failure of the suite as a whole (duplicate keys, or too many bad rows) is a **data
verdict**: the source is unusable for the run, its retrieved sites are marked
``failed_validation``, so reconciliation reports them incomplete and infers nothing from them; the
other sources go on. Every outcome is persisted per run.

A check that could not be made is no verdict: when GX cannot evaluate an expectation (it raised),
or the warehouse fails, nothing is written for any source and the task fails
(:class:`ValidationCrashError`); the run then refuses to reconcile the unvalidated records
(``pipeline.reconcile``), so nothing loads.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
import psycopg

from ccms_attendance.artifact_store import data_docs_root, write_text
from ccms_attendance.canonical import Source
from ccms_attendance.paths import KEPT_OUTCOMES_DIR, run_folder
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.validation.outcome import ValidationOutcome
from ccms_attendance.validation.persist import persist_outcome
from ccms_attendance.warehouse.bulk_read import read_bulk_frame, read_frame
from ccms_attendance.warehouse.sql_files import query, run_file

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

SUITE_BY_SOURCE = {
    Source.PPP: "ppp_entries",
    Source.ALLIANCE_CORE: "alliance_core_extract",
    Source.BRIGHTWHEEL: "brightwheel_extract",
    Source.PLAYGROUND: "playground_extract",
}


class SourceValidationError(RuntimeError):
    """A source's data failed a critical expectation; the message names suite, expectation and rows."""


class ValidationCrashError(RuntimeError):
    """GX could not evaluate the source's suite: no verdict on the data, nothing recorded (retry)."""


@dataclass(frozen=True)
class ValidationSummary:
    source: str
    suite: str
    rows: int
    quarantined: int
    warnings: int
    success: bool
    error: str | None = None
    outcome: ValidationOutcome | None = field(default=None, compare=False, repr=False)  # for the data docs
    quarantine: pd.DataFrame | None = field(default=None, compare=False, repr=False)  # record_no, reason
    seconds: float = field(default=0.0, compare=False)

    def as_xcom(self) -> dict[str, object]:
        return {
            "source": self.source,
            "suite": self.suite,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "warnings": self.warnings,
            "success": self.success,
            "seconds": round(self.seconds, 3),
        }


def read_staged(conn: psycopg.Connection, run: RunContext, source: Source) -> pd.DataFrame:
    """The source's staged records of the run, as its suite sees them."""
    return read_bulk_frame(conn, query("validation_frame"), {**run.period_params, "source": str(source)})


def evaluate_source(
    conn: psycopg.Connection, run: RunContext, source: Source, staged: Future[pd.DataFrame] | None = None
) -> ValidationSummary:
    """Judge the source's staged records (read here, or by ``staged``) with its suite; record nothing yet.

    Raises :class:`ValidationCrashError` when GX could not evaluate an expectation (no verdict).
    """
    started = time.monotonic()
    suite = SUITE_BY_SOURCE[source]
    frame = staged.result() if staged is not None else read_staged(conn, run, source)
    if frame.empty:
        return ValidationSummary(str(source), suite, 0, 0, 0, True, seconds=time.monotonic() - started)

    from ccms_attendance.validation import quarantine_and_filter, validate_frame

    frame = frame.set_index("record_no", drop=False)
    outcome = validate_frame(
        suite, frame, context_values={"period_start": run.period.start, "period_end": run.period.end}
    )
    if outcome.unevaluated:
        raise ValidationCrashError(
            f"{source}, {run.describe()}: GX could not evaluate {len(outcome.unevaluated)} expectation(s) of suite "
            f"{suite!r}: " + " | ".join(outcome.unevaluated)
        )
    _, quarantined = quarantine_and_filter(frame, outcome)
    return ValidationSummary(
        str(source),
        suite,
        len(frame),
        len(quarantined),
        len(outcome.warnings),
        outcome.success,
        None if outcome.success else outcome.error_message(),
        outcome,
        quarantined[["record_no", "reason"]],
        time.monotonic() - started,
    )


def record_verdicts(conn: psycopg.Connection, run: RunContext, summaries: list[ValidationSummary]) -> None:
    """Quarantine the bad rows, mark failed sources unusable, persist every outcome: one transaction."""
    with conn.transaction():
        for summary in summaries:
            if summary.outcome is None:
                continue  # nothing staged: nothing to judge
            bad = summary.quarantine
            if bad is not None and len(bad):
                run_file(
                    conn,
                    "quarantine_source_records",
                    {"record_nos": [int(n) for n in bad["record_no"]], "reasons": bad["reason"].astype(str).tolist()},
                )
            if summary.error:
                run_file(
                    conn,
                    "mark_source_unusable",
                    {
                        **run.period_params,
                        "source": summary.source,
                        "error": f"failed validation: {summary.error[:2000]}",
                    },
                )
            persist_outcome(conn, run_id=run.run_id, period_start=run.period.start, outcome=summary.outcome)
            run_file(conn, "record_source_judged", {"run_id": run.run_id, "source": summary.source})
    for summary in summaries:
        log.info("Validated %s with %s: %s", summary.source, summary.suite, summary.as_xcom())


def validate_source(conn: psycopg.Connection, run: RunContext, source: Source) -> ValidationSummary:
    """Judge one source and record its verdict (the run's task judges all of them: :func:`validate_run`)."""
    summary = evaluate_source(conn, run, source)
    record_verdicts(conn, run, [summary])
    return summary


def validate_run(conn: psycopg.Connection, run: RunContext) -> list[ValidationSummary]:
    """Judge every source's staged records, keep the outcomes for the data docs, then record the verdicts.

    One process validates the four sources in turn, once the extracts are done: Great Expectations
    is already imported there and the cores are free, where four tasks beside the extracts paid
    four task starts and waited for the cores (docs/performance.md); each source's records are read
    while the one before is judged. The verdicts are recorded in
    one transaction after every source was evaluated, so a try that could not evaluate one source
    records none and its retry judges the same rows again. A source judged and recorded before
    (:func:`judged_sources`) is not judged again unless it was staged again since: its verdict moved
    the bad rows to the quarantine, and judging what is left could not reproduce it. The outcomes
    are kept for the data docs before the commit, so a retry overwrites them rather than misses them.
    """
    judged = judged_sources(conn, run)
    pending = [source for source in SUITE_BY_SOURCE if str(source) not in judged]  # the others: judged before
    evaluated, crashes = [], []
    # The next source's records are read (the server writes them, pyarrow parses them) while GX judges
    # the current one; only the reader uses the connection until every source is judged.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="validate-read") as reader:
        staged = reader.submit(read_staged, conn, run, pending[0]) if pending else None
        for position, source in enumerate(pending):
            current = staged
            if position + 1 < len(pending):
                staged = reader.submit(read_staged, conn, run, pending[position + 1])
            try:
                evaluated.append(evaluate_source(conn, run, source, current))
            except ValidationCrashError as crash:
                crashes.append(str(crash))  # the other sources are still evaluated, so the log names every cause
    if crashes:
        raise ValidationCrashError(
            "nothing was recorded for any source (this is no verdict on the data): " + " || ".join(crashes)
        )
    for summary in evaluated:
        if summary.outcome is not None:
            keep_for_data_docs(run, [summary.outcome], summary.suite)  # rendered by the data_docs task
    record_verdicts(conn, run, evaluated)
    fresh = {summary.source: summary for summary in evaluated}
    return [fresh.get(str(source)) or judged[str(source)] for source in SUITE_BY_SOURCE]


def judged_sources(conn: psycopg.Connection, run: RunContext) -> dict[str, ValidationSummary]:
    """The run's sources judged and recorded before (V020), as the verdicts recorded then."""
    params = {
        "run_id": run.run_id,
        "sources": [str(s) for s in SUITE_BY_SOURCE],
        "suites": list(SUITE_BY_SOURCE.values()),
    }
    judged = {}
    for row in read_frame(conn, query("judged_sources"), params).itertuples(index=False):
        error = None if row.success else "failed validation when an earlier try judged it (its data docs say why)"
        judged[row.source] = ValidationSummary(
            row.source,
            row.suite_name,
            int(row.evaluated),
            int(row.quarantined_rows),
            int(row.failed_warning),
            bool(row.success),
            error,
        )
    return judged


def run_data_docs(run: RunContext) -> ObjectStoragePath:
    """The run's data docs folder: ``<data docs root>/<period start>/<run>/`` (one folder per site inside)."""
    return data_docs_root() / run.period.start.isoformat() / run_folder(run.run_id)


def keep_for_data_docs(run: RunContext, outcomes: list[ValidationOutcome], name: str) -> ObjectStoragePath:
    """Keep the outcomes for the run's ``data_docs`` task, which renders them as the site ``name``.

    Rendering takes 0.3-2 s a site; the task does it beside the load, off the path from the extracts
    to the load. Writing the outcomes takes milliseconds. The file goes once its site is built.
    """
    path = run_data_docs(run) / KEPT_OUTCOMES_DIR / f"{name}.json"
    write_text(path, json.dumps([outcome.to_json() for outcome in outcomes], default=str))
    return path


def publish_kept_data_docs(run: RunContext) -> dict[str, ObjectStoragePath]:
    """Render every site whose outcomes the run kept (:func:`keep_for_data_docs`); its index per name.

    Each kept file is removed once its site is published, so a retried task builds only what is left.
    """
    kept = run_data_docs(run) / KEPT_OUTCOMES_DIR
    files = sorted(kept.glob("*.json"), key=lambda path: path.name) if kept.is_dir() else []
    published = {}
    for path in files:
        outcomes = [ValidationOutcome.from_json(data) for data in json.loads(path.read_text(encoding="utf-8"))]
        published[path.stem] = publish_data_docs(run, outcomes, path.stem)
        path.unlink()
    if kept.is_dir() and not any(kept.iterdir()):
        kept.rmdir()
    return published


def publish_data_docs(run: RunContext, outcomes: list[ValidationOutcome], name: str) -> ObjectStoragePath:
    """Render the outcomes as HTML under ``<run's data docs folder>/<name>/index.html``."""
    from ccms_attendance.validation.data_docs import publish_data_docs as publish

    return publish(outcomes, run_data_docs(run) / name)
