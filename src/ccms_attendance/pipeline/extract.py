"""Step 2: pull each source's records for the period into staging, in the canonical shape.

Children without a CCDF/OMW voucher are dropped here, before anything is written, and only
counted. Records a source could not express canonically are quarantined with their reason when
they belong to a voucher child; otherwise (no or unknown Child ID) they are counted per site and
reason in an exception, so nothing about a non-voucher child is stored (one site's items:
:mod:`ccms_attendance.pipeline.site_items`). Each site's outcome (retrieved or failed, and why) is
staged too: reconciliation needs to know that data is missing, so that missing data never reads
as absence. Whatever goes wrong with one site's items fails that site alone, never its batch.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import psycopg

from ccms_attendance.canonical import ExtractedItem, Source
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.site_items import RECORD_COLUMNS, SiteRows, site_rows
from ccms_attendance.rules.exception_kinds import ExceptionKind
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS
from ccms_attendance.warehouse.bulk import copy_frame, copy_rows, read_frame
from ccms_attendance.warehouse.sql_files import query, run_file

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ["site_id", "license_number", "child_id", "attendance_date", "source_record_id", "reason"]
SITE_EXTRACT_COLUMNS = [
    "site_id", "outcome", "records", "dropped_non_voucher", "rejected", "error", "submitted", "submitted_at",
    "data_through", "duplicates_dropped", "duplicate_conflicts",
]  # fmt: skip
#: The extract's exceptions also say how many records each stands for (V014, ``record_count``).
EXTRACT_EXCEPTION_COLUMNS = [*EXCEPTION_COLUMNS, "record_count"]
PPP_BATCH = 0


@dataclass
class ExtractSummary:
    """Counts only: what an extract task returns through XCom."""

    source: str
    batch_no: int
    sites: int = 0
    sites_failed: int = 0
    records: int = 0
    dropped_non_voucher: int = 0
    quarantined: int = 0
    duplicates_dropped: int = 0
    duplicate_conflicts: int = 0
    failures: list[str] = field(default_factory=list)
    #: Failures that trying again later may fix (transport); data errors are not retried.
    retryable_failures: int = 0
    #: Failed sites by kind (``hooks.errors.FailureKind``): what the task advises.
    failure_kinds: Counter[str] = field(default_factory=Counter)

    def as_xcom(self) -> dict[str, object]:
        return {
            "source": self.source,
            "batch_no": self.batch_no,
            "sites": self.sites,
            "sites_failed": self.sites_failed,
            "records": self.records,
            "dropped_non_voucher": self.dropped_non_voucher,
            "quarantined": self.quarantined,
            "duplicates_dropped": self.duplicates_dropped,
            "duplicate_conflicts": self.duplicate_conflicts,
        }


def reported_children(conn: psycopg.Connection, run: RunContext) -> frozenset[str]:
    """Children with a CCDF/OMW voucher on a day of the period, as known at the run's as_known_at."""
    return frozenset(read_frame(conn, query("reported_children"), run.period_params)["child_id"].tolist())


def extract_ppp(conn: psycopg.Connection, run: RunContext) -> ExtractSummary:
    """Stage the portal's manual entries for every planned site (:mod:`ccms_attendance.pipeline.portal_entries`)."""
    from ccms_attendance.pipeline.portal_entries import extract_portal_entries

    return extract_portal_entries(conn, run)


SiteExtractor = Callable[[str], Iterable[ExtractedItem]]
"""Given a license number, the site's canonical items for the run's period, as a lazy iterable.

With one site in flight, :func:`extract_ccms_batch` calls it for every site of the batch first, in
site order, and only then consumes the iterables in that order: an extractor may start slow
vendor-side work for the later sites early (the Playground hook creates and polls several sites'
exports together). With ``n`` in flight, ``n`` threads each do the same for every ``n``-th site
(thread ``k``: sites ``k``, ``k + n`` ...), so the extractor must be thread-safe (the DAG gives each
thread its own hook, and so each thread its own look-ahead).
"""


def extract_ccms_batch(
    conn: psycopg.Connection,
    run: RunContext,
    source: Source,
    batch_no: int,
    site_extractor: SiteExtractor,
    failure_types: tuple[type[BaseException], ...],
    sites_in_flight: int = 1,
    progress_every: int = 0,
) -> ExtractSummary:
    """Pull one batch of one vendor's sites and stage the result.

    A site whose extraction raises one of ``failure_types`` is staged as failed with the error's
    message and the batch goes on; the summary lists the failures so the task can fail visibly
    after everything retrieved has been kept. ``sites_in_flight`` > 1 fetches that many sites at
    once (see :func:`_sites_items`); the result is the same, site for site. ``progress_every`` > 0
    logs one JSON progress line every that many sites (a long batch is not silent until its end).
    """
    params = {
        **run.period_params,
        "source": str(source),
        "batch_no": batch_no,
        "stage": extract_stage(source, batch_no),
    }
    sites = read_frame(conn, query("batch_sites"), params)
    reported = reported_children(conn, run)
    summary = ExtractSummary(source=str(source), batch_no=batch_no, sites=len(sites))
    site_items = _sites_items(sites["license_number"].tolist(), site_extractor, failure_types, sites_in_flight)
    # Staging rows are tuples in RECORD_COLUMNS / QUARANTINE_COLUMNS order (``site_items``).
    rejected: list[tuple] = []
    outcomes: list[dict] = []
    exceptions: list[dict] = []

    def staged_records() -> Iterator[tuple]:
        """Each site's records as soon as it is processed (its rejects, outcome, exception kept)."""
        for done, (site, items) in enumerate(zip(sites.itertuples(index=False), site_items, strict=True)):
            if progress_every > 0 and done and done % progress_every == 0:
                _log_progress(summary, done)
            site_id, license_number = site.site_id, site.license_number
            try:
                if isinstance(items, BaseException):
                    raise items
                rows = site_rows(site_id, license_number, items, reported)
            except failure_types as error:
                retryable = bool(getattr(error, "retryable", True))
                kind = str(getattr(error, "kind", "transient" if retryable else "data"))
                _site_failed(summary, outcomes, site_id, error, retryable=retryable, kind=kind)
                continue
            except Exception as error:  # anything else about one site's items: that site fails, the batch goes on
                message = (
                    f"{source} site {license_number} period {run.period}: "
                    f"its data could not be staged ({type(error).__name__})"
                )
                log.exception("%s", message)
                _site_failed(summary, outcomes, site_id, message, retryable=False, kind="data")
                continue
            rejected.extend(rows.rejected)
            if rows.unattributed:
                exceptions.append(_unattributed_exception(site_id, source, rows.unattributed))
            summary.records += len(rows.records)
            summary.dropped_non_voucher += rows.dropped_non_voucher
            summary.quarantined += len(rows.rejected)
            summary.duplicates_dropped += rows.duplicates_dropped
            summary.duplicate_conflicts += rows.duplicate_conflicts
            outcomes.append(_outcome(site_id, "retrieved", rows))
            yield from rows.records

    # One transaction, committed only once every site was processed: a retried task replaces its
    # batch, a failed one leaves nothing. The records are COPYed while the later sites are fetched
    # (the main thread would only wait for them); the rest, which needs every site, follows.
    with conn.transaction():
        run_file(conn, "clear_batch_extract", params)
        constants = {"run_id": run.run_id, "source": str(source), "batch_no": batch_no}
        copy_rows(conn, "staging.source_record", staged_records(), RECORD_COLUMNS, constants)
        copy_rows(conn, "staging.quarantine", rejected, QUARANTINE_COLUMNS, constants)
        copy_frame(
            conn,
            "staging.site_extract",
            pd.DataFrame(outcomes, columns=SITE_EXTRACT_COLUMNS),
            SITE_EXTRACT_COLUMNS,
            constants,
        )
        copy_frame(
            conn,
            "staging.exception",
            pd.DataFrame(exceptions, columns=EXTRACT_EXCEPTION_COLUMNS),
            EXTRACT_EXCEPTION_COLUMNS,
            {"run_id": run.run_id, "period_start": run.period.start, "stage": extract_stage(source, batch_no)},
        )
    return summary


def extract_stage(source: Source, batch_no: int) -> str:
    """The ``staging.exception.stage`` owned by one extract task (replaced when it is retried)."""
    return f"extract:{source}:{batch_no}"


def _unattributed_exception(site_id: str, source: Source, reasons: Counter[str]) -> dict:
    detail = "; ".join(f"{count} x {reason}" for reason, count in sorted(reasons.items()))
    return {
        "kind": ExceptionKind.UNATTRIBUTED_RECORDS_DROPPED.value,
        "severity": ExceptionKind.UNATTRIBUTED_RECORDS_DROPPED.severity.value,
        "site_id": site_id,
        "child_id": None,
        "attendance_date": None,
        "detail": f"{source} records not matching any voucher child were not kept ({detail}); "
        "if a voucher child is among them, check its Child ID in the CCMS",
        "record_count": sum(reasons.values()),  # what the provider feedback reports (docs/outputs.md)
    }


def _sites_items(
    license_numbers: list[str],
    site_extractor: SiteExtractor,
    failure_types: tuple[type[BaseException], ...],
    sites_in_flight: int,
) -> Iterator[Iterable[ExtractedItem] | BaseException]:
    """Each site's items (or the failure it raised), in site order.

    One site in flight: every extractor is called first (so it may look ahead), then consumed.
    More: see :func:`_threaded_sites_items`; a finished site waits for the ones before it, so
    staging is the same as one at a time.
    """
    if sites_in_flight <= 1:
        yield from [_announce(site_extractor, number, failure_types) for number in license_numbers]
        return
    yield from _threaded_sites_items(license_numbers, site_extractor, failure_types, sites_in_flight)


def _announce(
    site_extractor: SiteExtractor, license_number: str, failure_types: tuple[type[BaseException], ...]
) -> Iterable[ExtractedItem] | BaseException:
    """Call the extractor for one site (before any site is consumed, so it may look ahead); a
    failure of ``failure_types`` raised already there is that site's result."""
    try:
        return site_extractor(license_number)
    except failure_types as error:  # an extractor that fails before yielding anything
        return error


#: How many sites (per thread in flight) may be fetched ahead of the one being staged.
_SITES_AHEAD_PER_THREAD = 2


def _threaded_sites_items(
    license_numbers: list[str],
    site_extractor: SiteExtractor,
    failure_types: tuple[type[BaseException], ...],
    sites_in_flight: int,
) -> Iterator[Iterable[ExtractedItem] | BaseException]:
    """``sites_in_flight`` threads, each a one-worker :class:`~concurrent.futures.ThreadPoolExecutor`
    (its own thread, so its own hook); thread ``k`` owns sites ``k``, ``k + n``, ``k + 2n`` ... A
    worker runs its tasks in the order they were submitted: first the extractor call of every one of
    its sites (in site order, so that its hook may look ahead: Playground creates a window of
    exports), then each site's fetch, submitted only when the site is at most
    ``_SITES_AHEAD_PER_THREAD * sites_in_flight`` places ahead of the one being consumed, so only a
    window of sites is held in memory. Parsing one site thus overlaps the vendor preparing another.
    Results are taken in site order; a site's fetch is always submitted before it is waited for and
    waits only for its own worker's earlier sites, so nothing deadlocks. An unexpected error of a
    site is raised when its turn comes (the future re-raises it); when the consumer stops, the
    workers' queued tasks are cancelled and their threads joined.
    """
    count = len(license_numbers)
    window = _SITES_AHEAD_PER_THREAD * sites_in_flight
    workers = [
        ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"extract-site-{first}")
        for first in range(min(sites_in_flight, count))
    ]
    announced = {
        index: workers[index % sites_in_flight].submit(_announce, site_extractor, number, failure_types)
        for index, number in enumerate(license_numbers)
    }

    def fetch(index: int) -> list[ExtractedItem] | BaseException:
        items = announced.pop(index).result()  # done: the same worker announced it earlier
        if isinstance(items, BaseException):
            return items
        try:
            return list(items)
        except failure_types as error:
            return error

    fetched: dict[int, Future[list[ExtractedItem] | BaseException]] = {}
    submitted = 0

    def fetch_ahead(consumed: int) -> None:
        """Submit the fetches of every site less than ``window`` places past the sites consumed."""
        nonlocal submitted
        while submitted < min(consumed + window, count):
            fetched[submitted] = workers[submitted % sites_in_flight].submit(fetch, submitted)
            submitted += 1

    try:
        fetch_ahead(0)
        for index in range(count):
            result = fetched.pop(index).result()
            fetch_ahead(index + 1)
            yield result
    finally:
        for worker in workers:
            worker.shutdown(wait=True, cancel_futures=True)


def _log_progress(summary: ExtractSummary, done: int) -> None:
    progress = {"source": summary.source, "batch_no": summary.batch_no, "sites_done": done, "sites": summary.sites}
    progress |= {"sites_failed": summary.sites_failed, "records": summary.records}
    log.info("Batch progress: %s", json.dumps(progress, sort_keys=True))


def _site_failed(
    summary: ExtractSummary,
    outcomes: list[dict],
    site_id: str,
    error: BaseException | str,
    *,
    retryable: bool,
    kind: str,
) -> None:
    summary.sites_failed += 1
    summary.retryable_failures += retryable
    summary.failure_kinds[kind] += 1
    summary.failures.append(str(error))
    outcomes.append(_outcome(site_id, "failed", error=str(error)))
    log.warning("%s", error)


def _outcome(site_id: str, outcome: str, rows: SiteRows | None = None, error: str | None = None) -> dict:
    """A site's staged outcome; no submission marker means the vendor said nothing: not submitted."""
    rows = rows or SiteRows()
    submission = rows.submission
    return {
        "site_id": site_id,
        "outcome": outcome,
        "records": len(rows.records),
        "dropped_non_voucher": rows.dropped_non_voucher,
        "rejected": len(rows.rejected),
        "error": error,
        "submitted": bool(submission and submission.submitted),
        "submitted_at": submission.submitted_at if submission else None,
        "data_through": submission.data_through if submission else None,
        "duplicates_dropped": rows.duplicates_dropped,
        "duplicate_conflicts": rows.duplicate_conflicts,
    }
