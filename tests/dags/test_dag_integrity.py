"""The period DAG parses cleanly, is wired as designed, and its timetable survives serialization."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ccms_attendance.canonical import Source
from ccms_attendance.paths import DAGS_DIR

DAG_ID = "ccms_attendance_period"
PERIOD_DAGS = (DAG_ID, "ccms_attendance_period_final")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR)


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags[DAG_ID]


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert DAG_ID in dagbag.dag_ids


# Each DAG file parsed alone in a fresh process, as the dag-processor parses it (again and again):
# what the task bodies need (pandas for data, GX for validation) is imported when a task runs.
_PARSE_ALONE = """
import runpy, sys
import airflow.sdk
runpy.run_path(sys.argv[1])
print("imported:", *(m for m in ("pandas", "great_expectations") if m in sys.modules))
"""


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS_DIR.glob("*.py")))
def test_parsing_a_dag_file_imports_neither_pandas_nor_gx(dag_file):
    completed = subprocess.run(
        [sys.executable, "-c", _PARSE_ALONE, str(DAGS_DIR / dag_file)], capture_output=True, text=True, check=True
    )
    imported = [line for line in completed.stdout.splitlines() if line.startswith("imported:")]
    assert imported == ["imported:"]


def test_one_task_group_per_source_and_the_spine(dag):
    task_ids = set(dag.task_ids)
    assert {"plan_period", "ppp.extract_entries", "validate", "reconcile", "load", "report"} <= task_ids
    for source in Source.ccms():
        assert f"{source.lower()}.extract_batch" in task_ids
    assert set(dag.task_group.children) >= {"ppp", "alliance_core", "brightwheel", "playground"}
    assert not [task_id for task_id in task_ids if task_id.endswith(".validate")]  # one validate, after them all


def test_validate_and_reconcile_run_after_every_source_even_if_one_failed(dag):
    validate = dag.get_task("validate")
    assert validate.trigger_rule == "all_done"
    extracts = {"ppp.extract_entries"} | {f"{s.lower()}.extract_batch" for s in Source.ccms()}
    assert {t.task_id for t in validate.upstream_list} == extracts
    reconcile = dag.get_task("reconcile")
    assert reconcile.trigger_rule == "all_done"
    assert [t.task_id for t in reconcile.upstream_list] == ["validate"]
    assert [t.task_id for t in dag.get_task("load").upstream_list] == ["reconcile"]


def test_no_cycles_plan_first_load_last(dag):
    dag.check_cycle()  # raises on a cycle
    order = [task.task_id for task in dag.topological_sort()]
    assert order[0] == "plan_period"
    assert order[-1] == "check_period"
    assert order.index("reconcile") < order.index("load") < order.index("report")


def test_data_docs_are_built_beside_the_load_and_the_report_never_waits_for_them(dag):
    docs = dag.get_task("data_docs")
    assert [t.task_id for t in docs.upstream_list] == ["reconcile"]
    assert [t.task_id for t in docs.downstream_list] == ["check_period"]
    assert docs.trigger_rule == "all_done"  # a failed validation or reconcile is when they matter most
    assert "data_docs" not in dag.get_task("report").upstream_task_ids
    assert dag.get_task("check_period").upstream_task_ids == {"report", "data_docs"}


def test_dag_and_steps_are_documented(dag):
    assert "rerun" in dag.doc_md.lower()
    assert "backfill" in dag.doc_md.lower()
    assert all(dag.get_task(t).doc_md or dag.get_task(t).doc for t in ("plan_period", "reconcile", "load"))


def test_every_task_of_every_dag_has_markdown_docs_mapped_ones_included(dagbag):
    """Docs render as Markdown only when dedented (indented lines are a code block); a mapped task
    gets no docstring from Airflow, so each one is set explicitly."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    mapped = 0
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            doc = task.doc_md
            assert doc, (dag.dag_id, task.task_id)
            assert doc.strip(), (dag.dag_id, task.task_id)
            assert not any(line.startswith((" ", "\t")) for line in doc.splitlines() if line.strip()), (
                dag.dag_id,
                task.task_id,
                doc,
            )
            if dag.dag_id in PERIOD_DAGS:
                assert "**When it fails:**" in doc, (dag.dag_id, task.task_id)
            mapped += isinstance(task, MappedOperator)
    assert mapped >= 2 * len(Source.ccms())  # the extract_batch tasks of both period DAGs were checked
    extract = dagbag.dags[DAG_ID].get_task("brightwheel.extract_batch")
    assert "credentials" in extract.doc_md  # its docs say what to do per kind of failure


def test_check_period_is_the_only_leaf_and_runs_whatever_happened_upstream(dagbag):
    for dag in (dagbag.dags[dag_id] for dag_id in PERIOD_DAGS):
        check = dag.get_task("check_period")
        assert [t.task_id for t in dag.leaves] == ["check_period"], dag.dag_id
        assert check.trigger_rule == "all_done"
        assert sorted(t.task_id for t in check.upstream_list) == ["data_docs", "report"]
        assert type(dag.on_failure_callback).__name__ == "RunFailedNotifier", dag.dag_id


def test_extract_is_mapped_over_batches_not_sites(dag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    for source in Source.ccms():
        assert isinstance(dag.get_task(f"{source.lower()}.extract_batch"), MappedOperator)


def test_load_publishes_reconciled_tables_as_assets(dag):
    outlets = {asset.name for asset in dag.get_task("load").outlets}
    assert {"ccms_reconciled_daily_attendance", "ccms_reconciled_absence_summary"} <= outlets


def test_timetable_is_registered_and_round_trips_through_serialization(dag):
    from airflow import plugins_manager
    from airflow.serialization.serialized_objects import DagSerialization

    from ccms_attendance.timetables import ServicePeriodTimetable

    assert "ccms_attendance.timetables.ServicePeriodTimetable" in plugins_manager.get_timetables_plugins()
    restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    assert isinstance(restored.timetable, ServicePeriodTimetable)
    assert restored.timetable == dag.timetable


def test_vendor_extracts_run_in_their_own_pools(dag):
    import json

    from devtools.local_airflow import POOLS_FILE

    pools = json.loads(POOLS_FILE.read_text())
    for source in Source.ccms():
        pool = dag.get_task(f"{source.lower()}.extract_batch").pool
        assert pool == f"ccms_{source.lower()}"
        assert pools[pool]["slots"] >= 1


def test_report_task_links_to_the_period_report(dag):
    report = dag.get_task("report")
    assert [t.task_id for t in report.upstream_list] == ["load"]
    assert "Period report" in {link.name for link in report.operator_extra_links}


def test_every_dag_starts_at_the_configured_first_period(dagbag):
    # A run dated before a DAG's start_date gets no tasks and succeeds: the date is configuration.
    from ccms_attendance.periods import first_period_start

    assert {dag.start_date for dag in dagbag.dags.values()} == {first_period_start()}
