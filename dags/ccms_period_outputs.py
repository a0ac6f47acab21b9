"""What the state sends onward once a service period is final: absence notices, referrals, feedback."""

from __future__ import annotations

import inspect

from airflow.sdk import Param, dag, get_current_context, task

from ccms_attendance import airflow_tasks
from ccms_attendance.assets import PERIOD_TABLES
from ccms_attendance.periods import first_period_start

DOC_MD = """
### CCMS attendance — what a final period sends onward

Runs whenever a period load publishes the reconciled tables (each load names its period on its
Asset events), or by hand with the Param `period_start`. A **provisional** period produces nothing
(one log line says so). For a **final** period it delivers, per provider, the absence-limit notices
newly crossed and the withdrawals of notices a correction undid (CSV and printable letters in
English and Spanish, to the outputs folder and by e-mail where the provider has an address), the
roster and data-quality feedback, and the state's eligibility referral list. A ledger
(`reconciled.notice_delivery`) makes reruns send nothing twice. Details: `docs/outputs.md`.
"""


@task
def deliver_outputs() -> dict:
    """Write and send the outputs of the triggering final period(s); record every letter sent.

    **On failure**: letters recorded in the ledger are not sent again; fix the cause (SMTP or folder
    connection) and clear this task.
    """
    from ccms_attendance.outputs.airflow_task import deliver

    return deliver(get_current_context())


# Markdown docs: Airflow keeps a docstring verbatim, and indented it renders as a code block.
deliver_outputs = deliver_outputs.override(doc_md=inspect.cleandoc(deliver_outputs.function.__doc__ or ""))


@dag(
    dag_id="ccms_period_outputs",
    description="Notices, referrals and provider feedback of each final service period",
    schedule=PERIOD_TABLES,
    start_date=first_period_start(),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC_MD,
    tags=["ccms", "outputs"],
    # Retries (pipeline.toml [tasks]) resend only what the ledger has not recorded.
    default_args=airflow_tasks.default_task_args(),
    params={
        "period_start": Param(
            None, type=["null", "string"], format="date", description="Manual runs: the period's first day"
        ),
    },
)
def ccms_period_outputs() -> None:
    deliver_outputs()


ccms_period_outputs()
