"""The bench reads Airflow's own start and end from the timestamps of a dags test log."""

from __future__ import annotations

import datetime as dt

from devtools.bench.measure import airflow_phases

LOG = """\
2026-11-29T15:04:14.000000Z [info     ] DAG bundles loaded: dags-folder [airflow...]
Run `pip install graphviz` to attempt to install it.
2026-11-29T15:04:16.500000Z [info     ] [DAG TEST] starting task_id=plan_period map_index=-1
2026-11-29T15:04:16.500000Z [info     ] [DAG TEST] running task <TaskInstance: x.plan_period ...>
2026-11-29T15:04:23.000000Z [info     ] Task started                   [airflow.api_fastapi...]
2026-11-29T15:04:24.000000Z [info     ] [DAG TEST] end task task_id=plan_period map_index=-1
2026-11-29T15:04:24.100000Z [info     ] [DAG TEST] running task <TaskInstance: x.report ...>
2026-11-29T15:04:24.200000Z [info     ] Task started                   [airflow.api_fastapi...]
2026-11-29T15:04:30.000000Z [info     ] [DAG TEST] end task task_id=report map_index=-1
"""


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def test_phases_are_spans_between_the_first_log_line_the_first_task_and_the_last_task(tmp_path):
    log = tmp_path / "dags-test.log"
    log.write_text(LOG)
    phases = airflow_phases(log, _epoch("2026-11-29T15:04:09"), _epoch("2026-11-29T15:04:31.5"))
    assert phases == {
        "start_to_first_log": 5.0,
        "first_log_to_first_task": 2.5,
        "first_task_start": 6.5,  # the first task's "Task started", not a later one
        "after_last_task": 1.5,
    }


def test_a_phase_whose_line_is_missing_is_none_not_a_guess(tmp_path):
    log = tmp_path / "dags-test.log"
    log.write_text("\n".join(line for line in LOG.splitlines() if "Task started" not in line))
    phases = airflow_phases(log, _epoch("2026-11-29T15:04:09"), _epoch("2026-11-29T15:04:31.5"))
    assert phases["first_task_start"] is None
    assert phases["start_to_first_log"] == 5.0
