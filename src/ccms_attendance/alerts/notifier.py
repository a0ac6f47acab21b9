"""The alert for a failed run: an e-mail through the SMTP provider's notifier.

The DAGs' ``on_failure_callback``. It says which period, what failed (the run's outcome as the
warehouse records it, and the failed tasks) and what to do. Where it goes is configuration: the
Airflow connection ``[alerts] smtp_conn_id`` (an SMTP server) and ``[alerts] recipients`` in
``pipeline.toml`` (``CCMS_ALERT_RECIPIENTS``, comma-separated, overrides it). Without that
connection the alert is one log line and nothing fails: a callback must never crash.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)


def alert_settings() -> dict[str, Any]:
    from ccms_attendance.periods import load_pipeline_config

    section = load_pipeline_config().get("alerts", {})
    recipients = os.environ.get("CCMS_ALERT_RECIPIENTS")
    return {
        "smtp_conn_id": str(section.get("smtp_conn_id", "ccms_alerts_smtp")),
        "recipients": [r.strip() for r in recipients.split(",") if r.strip()]
        if recipients
        else list(section.get("recipients", [])),
        "from_email": str(section.get("from_email", "ccms-attendance@localhost")),
    }


class RunFailedNotifier(BaseNotifier):
    """Mail the run's failure (period, what failed, what to do) to ``[alerts] recipients``."""

    template_fields = ()  # the message quotes stored reasons: never rendered as a template

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render; and under ``dags test`` the context's DAG has no template env at all."""

    def notify(self, context: Mapping[str, Any]) -> None:
        try:
            self._notify(context)
        except Exception as error:  # the alert must never take the callback down with it
            log.error("CCMS alert for run %s NOT sent: %s: %s", context.get("run_id"), type(error).__name__, error)

    def _notify(self, context: Mapping[str, Any]) -> None:
        from airflow.sdk import BaseHook

        settings = alert_settings()
        run_id = _run_id(context)
        conn_id = settings["smtp_conn_id"]
        try:
            BaseHook.get_connection(conn_id)
        except Exception:
            log.warning(
                "CCMS alert for failed run %s not sent: Airflow connection %r is not defined "
                "(see docs/operations.md to have failed runs mailed)",
                run_id,
                conn_id,
            )
            return
        if not settings["recipients"]:
            log.warning("CCMS alert for failed run %s not sent: [alerts] recipients is empty", run_id)
            return
        subject, lines = failure_message(context)
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        body = "<br>\n".join(html.escape(line) for line in lines)
        mailer = SmtpNotifier(
            to=settings["recipients"],
            from_email=settings["from_email"],
            subject=subject,
            html_content=f"<html><body><p>{body}</p></body></html>",
            smtp_conn_id=conn_id,
        )
        # Not mailer(context): that would render the stored reasons as Jinja templates.
        mailer.notify(context)  # type: ignore[arg-type]
        log.info("CCMS alert for failed run %s sent to %s", run_id, ", ".join(settings["recipients"]))


def failure_message(context: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The subject and the lines of the alert; as much as can be known, never raising."""
    from ccms_attendance import airflow_tasks

    run_id = _run_id(context)
    dag_id = getattr(context.get("dag"), "dag_id", "ccms_attendance_period")
    try:
        run = airflow_tasks.run_context(context)
    except Exception:
        return (
            f"CCMS attendance: run {run_id} of {dag_id} FAILED",
            [
                f"Run {run_id} of {dag_id} failed ({context.get('reason')}); its period could not be read.",
                "What to do: open the run in the Airflow grid; the failed task's log ends with what to do.",
            ],
        )
    failed = _failed_tasks(context)
    try:
        from ccms_attendance.alerts.outcome import read_run_outcome

        with airflow_tasks.warehouse() as conn:
            lines = read_run_outcome(conn, run, failed).lines()
    except Exception as error:
        lines = [
            f"Service period {run.period} (run {run_id}): the run failed; its outcome could not be read from "
            f"the warehouse ({type(error).__name__}).",
            *([f"Failed tasks: {', '.join(failed)}"] if failed else []),
            "What to do: open the run in the Airflow grid; the failed task's log ends with what to do.",
        ]
    subject = f"CCMS attendance: period {run.period} needs attention (run {run_id} of {dag_id} failed)"
    return subject, [f"DAG {dag_id}, run {run_id}.", *lines]


def _failed_tasks(context: Mapping[str, Any]) -> list[str]:
    """The run's failed tasks: through the execution API where the callback has it (the DAG
    processor), else from the metadata database (``airflow dags test`` runs callbacks in its own
    process); none if neither answers."""
    from ccms_attendance import airflow_tasks

    try:
        return airflow_tasks.failed_tasks(context)
    except Exception:
        pass
    try:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            rows = session.execute(
                select(TaskInstance.task_id, TaskInstance.map_index).where(
                    TaskInstance.dag_id == context["dag"].dag_id,
                    TaskInstance.run_id == _run_id(context),
                    TaskInstance.state == "failed",
                )
            ).all()
        return sorted(task if index < 0 else f"{task}[{index}]" for task, index in rows)
    except Exception:
        return []


def _run_id(context: Mapping[str, Any]) -> str:
    dag_run = context.get("dag_run")
    return str(getattr(dag_run, "run_id", None) or context.get("run_id") or "unknown")
