"""One DAG run = one state service period of child attendance, reconciled and loaded; two DAGs, one per phase."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from airflow.sdk import Param, TaskGroup, dag, get_current_context, task

from ccms_attendance import airflow_tasks, assets
from ccms_attendance.alerts.advice import step_doc
from ccms_attendance.alerts.notifier import RunFailedNotifier
from ccms_attendance.canonical import Source
from ccms_attendance.periods import first_period_start
from ccms_attendance.timetables import Phase, ServicePeriodTimetable
from ccms_attendance.ui.links import PeriodReportLink

DOC_MD = """
### CCMS attendance — one service period

Each run covers exactly one **service period** (its data interval; periods and submission
deadlines come from `pipeline.toml`). **Lifecycle:** a period is *open* until it ends (a run of an
open period fails at `plan_period` and writes nothing), *provisional* until its submission deadline
(14 days after its end), *final* once the deadline passed or every site submitted. Each period is
run twice without anyone's help: `ccms_attendance_period` runs it when it closes (provisional) and
`ccms_attendance_period_final` when its deadline has passed. Only days up to a site's last final
day get day codes; the rest are `pending` (never absences), and absence limits count final,
complete site-periods only. A run:

1. **plan_period** — refuses an open period; reads the portal as it was at the period start (Data
   Entry Settings history, first portal submission, license linkage) and decides per site which
   source governs: PPP or one of the three CCMS. Sites are split into a bounded number of batches.
2. **ppp / alliance_core / brightwheel / playground** — one task group per source pulls that
   source's records and its submission state (portal submission, vendor submission marker) into the
   warehouse's `staging` schema (`extract_*`). Children without a CCDF or On My Way Pre-K voucher
   are dropped before anything is stored. A vendor that fails marks only its own sites incomplete
   (or keeps their previous complete version).
3. **validate** — once the extracts are done, checks each source's records with its Great
   Expectations suite: bad rows are quarantined; a source that breaks a critical expectation makes
   its sites incomplete and fails the task (the message names the source). A step that fails for
   infrastructure reasons stops the run at reconcile, and nothing loads.
4. **reconcile** — applies the provider-guide rules (`ccms_attendance/rules/`) and stages the daily
   attendance, the per-child absence summary and the exceptions.
5. **load** — swaps the period's rows in `reconciled.*` for the new ones in one transaction, records
   the period's lifecycle, and recounts the absence limits of the children it changed.
6. **report** — writes the period report (link on the task and tab on the run, at `/ccms/`).
   Beside the load and the report, **data_docs** renders the GX data docs of the run's validations.
7. **check_period** — fails the run when it needs attention (a failed task, no load, a site-period
   without usable data); the failure mails an alert (`docs/operations.md`).

**Rerun or correct** a period: clear its run, or trigger `ccms_attendance_period` from the UI with
a logical date inside the period (trigger form: *Logical date*, any day of a *past* period). Each
load makes a new version; the one it replaces is kept in `history.*`. **Backfill**: `airflow
backfill create --dag-id ccms_attendance_period --from-date 2026-01-04 --to-date 2026-03-01
--max-active-runs 1` (one period at a time: the CLI's default is 10; the UI's dialog says 1).
**Limit** a manual run with the Params `sites` / `sources`: only those sites' rows are replaced.
**Reproduce** an earlier load with the Param `as_known_at` (its `run_audit.as_known_at`): reference
and portal data are read as known then (docs/history.md).
"""

# What a load publishes: the period's tables and the absence-limit notices it recounted.
PERIOD_TABLES = assets.PERIOD_TABLES


def step(name: str, **task_kwargs: Any) -> Callable[[Callable[..., dict]], Any]:
    """``@task`` with Markdown docs: the dedented docstring plus what to do when the step fails.

    Set explicitly (``doc_md``) because Airflow keeps a docstring verbatim, indented (it renders as a
    code block), and a mapped task (``.expand()``) does not get it at all.
    """

    def decorate(function: Callable[..., dict]) -> Any:
        doc = f"{inspect.cleandoc(function.__doc__ or '')}\n\n**When it fails:** {step_doc(name)}"
        return task(task_id=name, doc_md=doc, **task_kwargs)(function)

    return decorate


# Each vendor's extract is mapped over these batch numbers (pipeline.toml, read at parse time: a
# small file); the plan is given their count, so a run's plan and its mapped tasks agree.
SITE_BATCHES = list(range(airflow_tasks.site_batch_count()))


@step("plan_period")
def plan_period(batch_count: int) -> dict:
    """Decide the governing source of every site for the period; stage the plan and its batches.

    Refuses an open period. Reads the portal as it was at the period start: Data Entry Settings
    history, first portal submission, license linkage.
    """
    return airflow_tasks.plan(get_current_context(), batch_count)


@step("extract_entries")
def extract_ppp_entries() -> dict:
    """Stage the portal's manual absence entries of the planned sites."""
    return airflow_tasks.extract_ppp(get_current_context())


@step("extract_batch", map_index_template="{{ source }} batch {{ batch_no }}")
def extract_ccms_batch(source: str, batch_no: int, plan: dict) -> dict:
    """Pull one batch of one vendor's sites over its API into staging (skipped: the plan gave the
    batch no site).

    Children without a CCDF/OMW voucher are dropped before anything is written. A site the vendor
    fails for is staged as failed and the batch goes on; the task fails at the end, after keeping
    everything retrieved. Only a transient failure (outage, HTTP 5xx/429, timeouts) is retried;
    credentials, an unknown license number, another HTTP 4xx or unusable data fail at once.
    """
    context = get_current_context()
    context.update({"source": source, "batch_no": batch_no})  # type: ignore[typeddict-item]  # map_index_template
    return airflow_tasks.extract_ccms(context, source, batch_no, plan)


@step("validate", trigger_rule="all_done")
def validate() -> dict:
    """Check every source's staged records with its GX suite; quarantine bad rows.

    Runs once the extracts are done, after partial failures too: the four suites in one process,
    where Great Expectations is already loaded. Fails naming each source that broke a critical
    expectation. Keeps the outcomes for the run's data docs (`data_docs`).
    """
    return airflow_tasks.validate(get_current_context())


@step("reconcile", trigger_rule="all_done")
def reconcile() -> dict:
    """Apply the reconciliation rules to everything staged; runs even when a vendor failed.

    Refuses a run whose extract or validate steps did not all complete (no verdict on the data).
    """
    return airflow_tasks.reconcile(get_current_context())


@step("load", outlets=PERIOD_TABLES)
def load() -> dict:
    """Replace the period's reconciled rows in one transaction (previous version kept in history)."""
    return airflow_tasks.load(get_current_context())


@step("data_docs", trigger_rule="all_done")
def data_docs() -> dict:
    """Render the GX data docs of the run's validations, beside the load (and after a failed one).

    One site per suite under `build/data_docs/<period>/<run>/` (`reconciled/` for the output);
    linked from the period report and served at `/ccms/data_docs/`.
    """
    return airflow_tasks.data_docs(get_current_context())


@step("report")
def period_report() -> dict:
    """Write the period report (HTML with plots) under `build/reports/<period>/<run>/`; linked in the UI."""
    return airflow_tasks.report(get_current_context())


@step("check_period", trigger_rule="all_done")
def check_period() -> dict:
    """The run's verdict, after everything that could be loaded is loaded and reported.

    Fails the run (and so sends the alert) when a task failed, the period was not loaded, or a
    site-period has no usable data (unlinked license, vendor failure, failed validation, a vendor
    that sent nothing). Pending days of a site that has not submitted yet are normal and pass.
    """
    return airflow_tasks.check_period(get_current_context())


def period_dag(dag_id: str, phase: Phase, description: str, **dag_kwargs: object) -> None:
    """One DAG over the period tasks, scheduled at one phase of each period's lifecycle."""

    @dag(
        dag_id=dag_id,
        description=description,
        schedule=ServicePeriodTimetable.from_config(phase),
        start_date=first_period_start(),
        catchup=False,
        max_active_runs=1,
        doc_md=DOC_MD,
        tags=["ccms", "attendance", str(phase)],
        default_args=airflow_tasks.default_task_args(),
        on_failure_callback=RunFailedNotifier(),
        params={
            "sites": Param([], type="array", items={"type": "string"}, description="Limit to these site ids"),
            "sources": Param(
                [],
                type="array",
                items={"type": "string", "enum": [str(s) for s in Source]},
                description="Limit to sites governed by these sources",
            ),
            "as_known_at": Param(
                None,
                type=["null", "string"],
                format="date-time",
                description="Read reference and portal data as known at this instant (an earlier run's "
                "run_audit.as_known_at reproduces it); empty: as known when the run plans",
            ),
        },
        **dag_kwargs,
    )
    def period_tasks() -> None:
        plan = plan_period(len(SITE_BATCHES))
        extracted = []
        with TaskGroup(group_id="ppp", tooltip="Manual absences typed in the provider portal") as ppp:
            extract_ppp_entries()
        extracted.append(ppp)
        for source in Source.ccms():
            with TaskGroup(group_id=source.lower(), tooltip=f"{source} API, one mapped task per site batch") as group:
                extract = extract_ccms_batch.override(pool=f"ccms_{source.lower()}")
                extract.partial(source=str(source), plan=plan).expand(batch_no=SITE_BATCHES)
            extracted.append(group)
        plan >> extracted
        reported = period_report()
        reported.operator.operator_extra_links = [PeriodReportLink()]
        reconciled, verdict = reconcile(), check_period()
        extracted >> validate() >> reconciled >> load() >> reported >> verdict
        reconciled >> data_docs() >> verdict  # beside the load and the report: they never wait for it

    period_tasks()


period_dag(
    "ccms_attendance_period",
    Phase.PROVISIONAL,
    "Each service period when it closes (provisional), plus every rerun, correction and backfill",
)
period_dag(
    "ccms_attendance_period_final",
    Phase.FINAL,
    "Each service period again when its submission deadline has passed (final); scheduled runs only",
    # Reruns, corrections and backfills go through ccms_attendance_period: this DAG only keeps the
    # deadline appointment, so its run ids never meet the other DAG's in the warehouse.
    allowed_run_types=["scheduled"],
)
