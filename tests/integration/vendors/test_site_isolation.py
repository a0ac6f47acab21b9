"""One bad record, one bad page, one bad error body: it stays with its record or its site.

Issue 17, item 1. A timestamp near year 9999 or year 1 (``OverflowError``), a ``next_cursor`` that
is an object or a list (``TypeError``) and deeply nested JSON, also in a 4xx error body
(``RecursionError``), used to escape the hooks and fail every site of the extract batch with an
error naming no site. Each case here is served by the vendor's sandbox over real HTTP to the real
hook inside the real extract step, for a batch of two sites of which only the first is hostile:

* a record-level problem -> that record is rejected (quarantined, with its reason), the site's
  other records are staged;
* anything else -> that site fails with a ``CcmsExtractionError`` naming vendor, site, period and
  the error; the other site is retrieved whole;
* a data error is not retried, neither by the hook (one request) nor by the Airflow task
  (``AirflowFailException``); a transport error still is.
"""

from __future__ import annotations

from types import SimpleNamespace

import pendulum
import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException
from support.batch_sites import BATCH_NO, plan_batch

from ccms_attendance import airflow_tasks
from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError, hook_for_source
from ccms_attendance.pipeline.extract import extract_ccms_batch
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.target import WAREHOUSE_CONN_ENV

CHILD_ID = "1000001"  # the voucher child of both sites (k-ava in the base scenario's children)
HOSTILE, QUIET = "CC-71111-1", "CC-72222-2"
DATA_PATH = {
    Source.ALLIANCE_CORE: "/v1/facilities/*/attendance-events",
    Source.BRIGHTWHEEL: "/v1/schools/*/attendance_records",
    Source.PLAYGROUND: "/api/v2/exports/*/rows",
}
FIVE_THOUSAND_BRACKETS = "[" * 5000


def _batch(world, fleet, use_scenario, conn, source: Source, *, raw=(), faults=(), tag: str):
    """Extract a batch of the hostile and the quiet site; return the summary and what was staged."""
    sites = [
        {
            "vendor": str(source),
            "license_number": number,
            "children": world.CHILDREN,
            "days": world.january_days(),
            "raw_records": list(raw) if number == HOSTILE else [],
        }
        for number in (HOSTILE, QUIET)
    ]
    use_scenario({"sites": sites, "settings": {"page_size": 50, "playground_polls_before_complete": 0}})
    fleet.set_faults([dict(fault, license_number=HOSTILE) for fault in faults], source)
    run = RunContext(run_id=f"isolation-{tag}", dag_id="ccms_attendance_period", period=world.JANUARY)
    hostile_id, quiet_id = plan_batch(conn, run, source, [HOSTILE, QUIET], CHILD_ID, tag)
    hook = hook_for_source(source)
    try:
        summary = extract_ccms_batch(
            conn,
            run,
            source,
            BATCH_NO,
            lambda number: hook.iter_site_period(number, world.JANUARY),
            (CcmsExtractionError,),
        )
    finally:
        hook.close()
    outcomes = {
        site_id: (outcome, records, error)
        for site_id, outcome, records, error in conn.execute(
            "SELECT site_id, outcome, records, error FROM staging.site_extract WHERE run_id = %s", (run.run_id,)
        )
    }
    quarantine = conn.execute(
        "SELECT site_id, source_record_id, reason FROM staging.quarantine WHERE run_id = %s", (run.run_id,)
    ).fetchall()
    return SimpleNamespace(
        summary=summary,
        hostile=outcomes[hostile_id],
        quiet=outcomes[quiet_id],
        quarantine={(site, record_id): reason for site, record_id, reason in quarantine if site == hostile_id},
    )


def _requests_for(fleet, source: Source, route: str, license_number: str) -> int:
    log = fleet.stats(source, log=True)["log"]
    return sum(1 for entry in log if entry.get("route") == route and license_number in (entry.get("path") or ""))


def _bw(record_id: str, date: str, check_in: str) -> dict:
    return {
        "id": record_id,
        "date": date,
        "status": "present",
        "check_in_time": check_in,
        "school": {"license_number": HOSTILE},
        "student": {"state_child_id": CHILD_ID, "first_name": "Avaline"},
    }


def _event(event_id: str, occurred_at: str) -> dict:
    return {
        "event_id": event_id,
        "event_type": "check_in",
        "occurred_at": occurred_at,
        "facility_license_number": HOSTILE,
        "child_key": "k-ava",
        "state_child_id": CHILD_ID,
    }


def _assert_quiet_site_whole(result) -> None:
    outcome, records, error = result.quiet
    assert (outcome, error) == ("retrieved", None)
    assert records > 0


@pytest.mark.parametrize(
    ("source", "raw", "reason"),
    [
        (Source.BRIGHTWHEEL, _bw("bw-far", "9999-12-31", "23:30"), "outside period"),
        (Source.BRIGHTWHEEL, _bw("bw-early", "0001-01-01", "00:30"), "outside period"),
        (Source.ALLIANCE_CORE, _event("evt-far", "9999-12-31T23:00:00-05:00"), "unparseable event timestamp"),
        (Source.ALLIANCE_CORE, _event("evt-early", "0001-01-01T00:30:00+05:00"), "unparseable event timestamp"),
    ],
)
def test_a_timestamp_at_the_edge_of_the_calendar_rejects_its_record_only(
    world, fleet, use_scenario, conn: psycopg.Connection, source, raw, reason
):
    result = _batch(world, fleet, use_scenario, conn, source, raw=[raw], tag=f"edge-{source}-{raw.get('id', '')}")
    assert result.summary.sites_failed == 0
    outcome, records, error = result.hostile
    assert (outcome, error) == ("retrieved", None)
    assert records > 0  # the site's other records are staged
    record_id = raw.get("id") or raw["event_id"]
    assert [reason_ for (_, rid), reason_ in result.quarantine.items() if rid == record_id] == [reason]
    _assert_quiet_site_whole(result)


@pytest.mark.parametrize("cursor", [{"o": 50, "w": "x"}, ["page", 2]], ids=["object", "list"])
def test_a_next_cursor_that_is_not_a_string_fails_its_site_only(
    world, fleet, use_scenario, conn: psycopg.Connection, cursor
):
    fault = {"kind": "page_fields", "fields": {"next_cursor": cursor, "has_more": True}, "times": None}
    fault["path"] = DATA_PATH[Source.ALLIANCE_CORE]
    result = _batch(
        world, fleet, use_scenario, conn, Source.ALLIANCE_CORE, faults=[fault], tag=f"cursor-{type(cursor).__name__}"
    )
    outcome, _, error = result.hostile
    assert outcome == "failed"
    assert error == (
        f"ALLIANCE_CORE site {HOSTILE} period 2026-01-04..2026-01-17: unexpected response shape: "
        "'next_cursor' is not a string (/v1/facilities/CC-71111-1/attendance-events)"
    )
    _assert_quiet_site_whole(result)
    # A data error: the page was asked for once, not retried.
    route = "/v1/facilities/{license_number}/attendance-events"
    assert _requests_for(fleet, Source.ALLIANCE_CORE, route, HOSTILE) == 1


@pytest.mark.parametrize(
    ("source", "status", "expected"),
    [
        (Source.BRIGHTWHEEL, 200, "response is nested too deeply to read (GET /v1/schools/"),
        (Source.ALLIANCE_CORE, 200, "response is nested too deeply to read (GET /v1/facilities/CC-71111-1/"),
        (Source.PLAYGROUND, 403, "HTTP 403 Forbidden (GET /api/v2/exports/"),
        (Source.BRIGHTWHEEL, 404, "HTTP 404 Not Found (GET /v1/schools/"),
    ],
)
def test_deeply_nested_json_fails_its_site_only_and_is_not_retried(
    world, fleet, use_scenario, conn: psycopg.Connection, source, status, expected
):
    fault = {"kind": "raw_body", "status": status, "body": FIVE_THOUSAND_BRACKETS, "times": None}
    fault["path"] = DATA_PATH[source]
    result = _batch(world, fleet, use_scenario, conn, source, faults=[fault], tag=f"nested-{source}-{status}")
    outcome, _, error = result.hostile
    assert outcome == "failed"
    assert error.startswith(f"{source} site {HOSTILE} period 2026-01-04..2026-01-17: {expected}"), error
    _assert_quiet_site_whole(result)
    assert fleet.stats(source)["counters"]["fault:raw_body"] == 1  # one request: not retried


def _task_context(world, run_id: str) -> dict:
    return {
        "dag_run": SimpleNamespace(run_id=run_id, run_type="manual"),
        "dag": SimpleNamespace(dag_id="ccms_attendance_period"),
        "data_interval_start": pendulum.instance(world.JANUARY.start_instant()).in_timezone("UTC"),
        "params": {},
    }


@pytest.mark.parametrize(
    ("fault", "retried_by_airflow"),
    [
        ({"kind": "raw_body", "status": 200, "body": FIVE_THOUSAND_BRACKETS}, False),
        ({"kind": "http_5xx", "status": 503}, True),
    ],
    ids=["data-error", "transport-error"],
)
def test_the_extract_task_retries_transport_errors_only(
    world, fleet, use_scenario, conn, warehouse, monkeypatch, fault, retried_by_airflow
):
    """The task fails visibly either way (after staging what it got); only a transport failure is
    worth Airflow's retry. A batch whose failures are all data errors fails without retrying."""
    monkeypatch.setenv(WAREHOUSE_CONN_ENV, warehouse.airflow_uri)
    source = Source.BRIGHTWHEEL
    sites = [
        {"vendor": str(source), "license_number": n, "children": world.CHILDREN, "days": []} for n in (HOSTILE, QUIET)
    ]
    use_scenario({"sites": sites})
    fleet.set_faults([{**fault, "times": None, "license_number": HOSTILE, "path": DATA_PATH[source]}], source)
    run = RunContext(f"task-retry-{retried_by_airflow}", "ccms_attendance_period", world.JANUARY)
    plan_batch(conn, run, source, [HOSTILE, QUIET], CHILD_ID, f"task-{retried_by_airflow}")
    planned = {str(source): [BATCH_NO]}  # what the plan task returns for this run: the batch has sites
    with pytest.raises((CcmsExtractionError, AirflowFailException)) as caught:
        airflow_tasks.extract_ccms(_task_context(world, run.run_id), str(source), BATCH_NO, planned)
    assert isinstance(caught.value, AirflowFailException) is not retried_by_airflow
    assert str(caught.value).startswith(f"{source} batch {BATCH_NO}, period 2026-01-04..2026-01-17")
    assert f"1 of 2 sites failed: {source} site {HOSTILE} period 2026-01-04..2026-01-17: " in str(caught.value)
    outcomes = dict(
        conn.execute(
            "SELECT outcome, count(*) FROM staging.site_extract WHERE run_id = %s GROUP BY 1", (run.run_id,)
        ).fetchall()
    )
    assert outcomes == {"failed": 1, "retrieved": 1}
