"""The outputs DAG: scheduled on exactly what a load publishes, told its period by the Asset events."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from ccms_attendance import airflow_tasks
from ccms_attendance.assets import PERIOD_TABLES
from ccms_attendance.outputs.airflow_task import triggering_periods
from ccms_attendance.paths import DAGS_DIR


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR)


def test_the_outputs_dag_is_scheduled_on_the_loads_assets(dagbag):
    assert dagbag.import_errors == {}
    outputs = dagbag.dags["ccms_period_outputs"]
    load = dagbag.dags["ccms_attendance_period"].get_task("load")
    condition = outputs.timetable.asset_condition
    assert type(condition).__name__ == "AssetAll"  # every load publishes all four together: one run per load
    scheduled_on = {asset.name for asset in condition.objects}
    assert scheduled_on == {asset.name for asset in load.outlets} == {a.name for a in PERIOD_TABLES}
    assert outputs.params["period_start"] is None
    assert outputs.task_ids == ["deliver_outputs"]


def test_each_load_names_its_period_and_lifecycle_on_every_asset_event():
    events = {asset: SimpleNamespace(extra={}) for asset in PERIOD_TABLES}
    airflow_tasks._tag_asset_events({"outlet_events": events}, dt.date(2026, 11, 8), "final")
    assert {tuple(e.extra.items()) for e in events.values()} == {
        (("period_start", "2026-11-08"), ("lifecycle", "final"))
    }


def event(period_start: str | None) -> SimpleNamespace:
    return SimpleNamespace(extra={"period_start": period_start} if period_start else {})


def test_the_periods_come_from_the_triggering_events_then_the_param():
    asset_a, asset_b = PERIOD_TABLES[:2]
    context = {
        "triggering_asset_events": {
            asset_a: [event("2026-11-08"), event("2026-10-25")],
            asset_b: [event("2026-11-08")],
        },
        "params": {"period_start": "2026-01-04"},
    }
    assert triggering_periods(context) == [dt.date(2026, 10, 25), dt.date(2026, 11, 8)]
    manual = {"triggering_asset_events": {asset_a: [event(None)]}, "params": {"period_start": "2026-01-04"}}
    assert triggering_periods(manual) == [dt.date(2026, 1, 4)]
    with pytest.raises(ValueError, match="no period to deliver"):
        triggering_periods({"triggering_asset_events": {}, "params": {"period_start": None}})
