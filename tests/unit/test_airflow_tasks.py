"""Task-body helpers: the retry policy and the failure callback's message."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import pendulum
import pytest

from ccms_attendance import airflow_tasks


def _context(task_id: str, map_index: int = -1) -> dict:
    return {
        "ti": SimpleNamespace(task_id=task_id, map_index=map_index),
        "dag_run": SimpleNamespace(run_id="scheduled__2026-11-22", run_type="scheduled"),
        "dag": SimpleNamespace(dag_id="ccms_attendance_period"),
        "data_interval_start": pendulum.datetime(2026, 11, 8, 5, tz="UTC"),
        "params": {},
        "exception": RuntimeError("HTTP 503 after 5 attempts"),
    }


def test_failure_message_names_step_source_batch_period_and_advice(caplog):
    with caplog.at_level(logging.ERROR, logger=airflow_tasks.log.name):
        airflow_tasks.on_task_failure(_context("brightwheel.extract_batch", map_index=2))
    message = caplog.records[-1].getMessage()
    assert "brightwheel.extract_batch[2]" in message
    assert "source BRIGHTWHEEL" in message
    assert "period 2026-11-08..2026-11-21" in message
    assert "HTTP 503 after 5 attempts" in message
    assert "never absent" in message  # the advice for vendor failures


def test_failure_callback_never_raises_even_without_a_period(caplog):
    context = _context("load")
    context["data_interval_start"] = pendulum.datetime(2026, 11, 9, 5, tz="UTC")  # not a period start
    with caplog.at_level(logging.ERROR, logger=airflow_tasks.log.name):
        airflow_tasks.on_task_failure(context)
    assert "unknown period" in caplog.records[-1].getMessage()
    assert "previous version of the period is intact" in caplog.records[-1].getMessage()


def test_retry_policy_comes_from_config_and_env(monkeypatch):
    monkeypatch.delenv("CCMS_TASK_RETRIES", raising=False)
    monkeypatch.delenv("CCMS_TASK_RETRY_DELAY_SECONDS", raising=False)
    assert airflow_tasks.default_task_args()["retries"] == 2
    monkeypatch.setenv("CCMS_TASK_RETRIES", "0")
    monkeypatch.setenv("CCMS_TASK_RETRY_DELAY_SECONDS", "5")
    args = airflow_tasks.default_task_args()
    assert args["retries"] == 0
    assert args["retry_delay"] == dt.timedelta(seconds=5)
    assert args["on_failure_callback"] is airflow_tasks.on_task_failure


def test_the_as_known_at_param_is_an_aware_instant_or_none():
    assert airflow_tasks.as_known_at_param({"params": {}}) is None
    assert airflow_tasks.as_known_at_param({"params": {"as_known_at": None}}) is None
    given = airflow_tasks.as_known_at_param({"params": {"as_known_at": "2026-12-01T09:30:00.123456+00:00"}})
    assert given == dt.datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("bad", "message"), [("2026-12-01T09:30:00", "needs a time zone"), ("yesterday", "not an ISO 8601 instant")]
)
def test_an_as_known_at_param_that_is_no_instant_is_refused(bad, message):
    with pytest.raises(airflow_tasks.ParamsError, match=message):
        airflow_tasks.as_known_at_param({"params": {"as_known_at": bad}})


def test_an_empty_batch_is_skipped_without_a_failure_line(caplog):
    """The plan gave the batch no site: the task is skipped, with no "What to do" line and no retry."""
    from airflow.sdk.exceptions import AirflowSkipException

    context = _context("playground.extract_batch", map_index=1)
    plan = {"PLAYGROUND": [0], "BRIGHTWHEEL": [0, 1]}
    with caplog.at_level(logging.ERROR), pytest.raises(AirflowSkipException, match="PLAYGROUND batch 1"):
        airflow_tasks.extract_ccms(context, "PLAYGROUND", 1, plan)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
