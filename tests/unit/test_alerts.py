"""Advice by kind of failure, the run outcome's summary, and the failure notifier over real SMTP."""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
from types import SimpleNamespace

import pendulum

from ccms_attendance.alerts.advice import extract_advice
from ccms_attendance.alerts.notifier import RunFailedNotifier
from ccms_attendance.alerts.outcome import MAX_SITES_LISTED, RunOutcome, SiteProblem
from ccms_attendance.hooks.errors import CcmsExtractionError, FailureKind
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from devtools.smtp_sink import SmtpSink

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
RUN = RunContext("scheduled__2026-11-22", "ccms_attendance_period", PERIOD)


def test_only_transient_failures_are_retryable_and_the_kind_survives_pickling():
    assert CcmsExtractionError("x", retryable=True).kind is FailureKind.TRANSIENT
    assert CcmsExtractionError("x").kind is FailureKind.DATA
    error = CcmsExtractionError("x", kind=FailureKind.UNKNOWN_LICENSE)
    assert not error.retryable
    assert pickle.loads(pickle.dumps(error)).kind is FailureKind.UNKNOWN_LICENSE
    assert [k for k in FailureKind if k.retryable] == [FailureKind.TRANSIENT]


def test_extract_advice_fits_the_failure_and_puts_what_to_fix_first():
    assert "when the vendor is back" in extract_advice("BRIGHTWHEEL", ["transient"])
    unknown = extract_advice("BRIGHTWHEEL", ["unknown_license"])
    assert "license number" in unknown
    assert "vendor is back" not in unknown
    both = extract_advice("BRIGHTWHEEL", ["transient", "connection"])
    assert both.index("ccms_brightwheel") < both.index("vendor is back")


def _site(n: int, cause: str = "source_failed") -> SiteProblem:
    reason = "BRIGHTWHEEL data unavailable: HTTP 503"
    return SiteProblem(f"S-{n:03d}", f"CC-{n:03d}", "BRIGHTWHEEL", cause, reason, kept=False)


def test_a_loaded_run_without_problems_needs_no_attention():
    assert not RunOutcome(RUN, "loaded", None).needs_attention
    assert RunOutcome(RUN, "failed", "reconcile failed").needs_attention
    assert RunOutcome(RUN, None, None).needs_attention  # never planned
    assert RunOutcome(RUN, "loaded", None, failed_tasks=("report",)).needs_attention


def test_the_summary_names_period_sites_and_what_to_do_and_stays_short():
    sites = (*[_site(n) for n in range(MAX_SITES_LISTED + 5)], _site(99, "plan"))
    outcome = RunOutcome(RUN, "loaded", None, sites, ("brightwheel.extract_batch[0]",))
    lines = outcome.lines()
    assert lines[0].startswith("Service period 2026-11-08..2026-11-21 (run scheduled__2026-11-22): loaded;")
    assert "16 site(s) without usable data (BRIGHTWHEEL)" in lines[0]
    assert lines[1] == "Failed tasks: brightwheel.extract_batch[0]"
    assert sum(line.startswith("- site ") for line in lines) == MAX_SITES_LISTED
    assert "- and 6 more sites (reconciled.site_period)" in lines
    assert lines[-1].startswith("What to do: ")
    assert json.loads(outcome.json_line())["sites_without_usable_data"][0] == {
        "cause": "source_failed",
        "kept": False,
        "site_id": "S-000",
        "source": "BRIGHTWHEEL",
    }


def _failed_context() -> dict:
    return {
        "dag": SimpleNamespace(dag_id="ccms_attendance_period"),
        "dag_run": SimpleNamespace(run_id="manual__x", run_type="manual"),
        "data_interval_start": pendulum.datetime(2026, 11, 9, 5, tz="UTC"),  # not a period start
        "params": {},
        "reason": "task_failure",
    }


def test_without_the_alert_connection_the_notifier_logs_one_line(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_CCMS_ALERTS_SMTP", raising=False)
    with caplog.at_level(logging.WARNING, logger="ccms_attendance.alerts.notifier"):
        RunFailedNotifier()(_failed_context())
    assert [r.getMessage() for r in caplog.records] == [
        "CCMS alert for failed run manual__x not sent: Airflow connection 'ccms_alerts_smtp' is not defined "
        "(see docs/operations.md to have failed runs mailed)"
    ]


def test_the_notifier_mails_through_a_real_smtp_server_even_when_the_period_is_unknown(monkeypatch):
    with SmtpSink() as sink:
        monkeypatch.setenv("AIRFLOW_CONN_CCMS_ALERTS_SMTP", json.dumps(sink.connection()))
        monkeypatch.setenv("CCMS_ALERT_RECIPIENTS", "a@example.test, b@example.test")
        RunFailedNotifier()(_failed_context())
        [message] = sink.wait_for(1, timeout=20)
    assert message.recipients == ("a@example.test", "b@example.test")
    assert message.subject == "CCMS attendance: run manual__x of ccms_attendance_period FAILED"
    assert "What to do:" in message.text()
