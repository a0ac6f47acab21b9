"""The reference sync DAG parses, is wired find -> validate -> apply, and publishes the reference Asset."""

from __future__ import annotations

import pytest

from ccms_attendance.paths import DAGS_DIR

DAG_ID = "ccms_reference_sync"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR)
    assert dagbag.import_errors == {}
    return dagbag.dags[DAG_ID]


def test_find_validate_apply_in_that_order(dag):
    dag.check_cycle()
    assert [t.task_id for t in dag.topological_sort()] == ["find_drops", "validate_drops", "apply_drops"]
    assert {t.task_id for t in dag.get_task("apply_drops").upstream_list} == {"find_drops", "validate_drops"}


def test_manual_by_default_with_location_and_drop_params(dag):
    assert type(dag.timetable).__name__ == "NullTimetable"  # [intake] schedule = "" : manual runs only
    assert set(dag.params) == {"location", "drop"}
    assert dag.params["location"] == ""
    assert dag.params["drop"] == ""
    assert not dag.catchup
    assert dag.max_active_runs == 1


def test_apply_publishes_the_reference_asset(dag):
    outlets = dag.get_task("apply_drops").outlets
    assert [(a.name, a.uri) for a in outlets] == [("ccms_reference_data", "ccms://reference/")]


def test_dag_and_tasks_are_documented_in_markdown(dag):
    assert "docs/intake.md" in dag.doc_md
    for task_id in ("find_drops", "validate_drops", "apply_drops"):
        doc = dag.get_task(task_id).doc_md
        assert "**On failure**" in (doc or ""), task_id
