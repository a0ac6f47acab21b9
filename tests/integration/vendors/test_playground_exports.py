"""Playground exports of a batch are created ahead and polled together, over real HTTP.

The sandbox completes an export after ``playground_polls_before_complete`` status polls. A hook that
waited for each site's export in turn would sleep that many poll intervals per site; the hook
creates up to ``export_concurrency`` exports and polls them in the same rounds, so a batch sleeps
that many intervals per *window* of sites. The waits are counted (the hook module's ``time.sleep``
is observed, nothing is mocked on the HTTP path), so the assertions do not depend on timing.
Sites are still consumed in order with the same items, and a failed export fails only its site.
"""

from __future__ import annotations

import math
import threading
import time
from types import SimpleNamespace

import psycopg
import pytest
from support.batch_sites import BATCH_NO, plan_batch

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError, hook_for_source
from ccms_attendance.pipeline.extract import extract_ccms_batch
from ccms_attendance.pipeline.run_context import RunContext

SITES = [f"CC-3{n:04d}-{n}" for n in range(1, 8)]  # seven sites: windows of 3 leave a partial one
POLLS = 3
INTERVAL = 0.05
CHILD_ID = "1000001"  # a voucher child in the warehouse test below


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Every poll-interval wait of the Playground hook (it still really sleeps)."""
    import ccms_attendance.hooks.playground as playground

    seen: list[float] = []

    def sleep(seconds: float) -> None:
        seen.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(playground, "time", SimpleNamespace(sleep=sleep, monotonic=time.monotonic))
    return seen


@pytest.fixture
def batch_scenario(world, use_scenario):
    sites = [
        {"vendor": "PLAYGROUND", "license_number": number, "children": world.CHILDREN, "days": world.january_days()}
        for number in SITES
    ]
    use_scenario({"sites": sites, "settings": {"page_size": 20, "playground_polls_before_complete": POLLS}})


def _batch(hook, period) -> list:
    """What the extract step does: announce every site, then consume them in order."""
    streams = [hook.iter_site_period(number, period) for number in SITES]
    outcome = []
    for stream in streams:
        try:
            outcome.append(list(stream))
        except CcmsExtractionError as error:
            outcome.append(error)
    return outcome


def test_a_batch_waits_one_poll_interval_per_round_not_per_site(world, fleet, make_hook, batch_scenario, waits):
    one_at_a_time = make_hook(Source.PLAYGROUND, export_concurrency=1, export_poll_interval_seconds=INTERVAL)
    sequential = _batch(one_at_a_time, world.JANUARY)
    assert len(waits) == POLLS * len(SITES)  # one export at a time: the old cost
    waits.clear()
    fleet.reset_stats()

    hook = make_hook(Source.PLAYGROUND, export_concurrency=3, export_poll_interval_seconds=INTERVAL)
    together = _batch(hook, world.JANUARY)

    assert together == sequential  # same items, same order, site by site
    assert all(items and not isinstance(items, Exception) for items in together)
    assert len(waits) == POLLS * math.ceil(len(SITES) / 3)  # 9 waits instead of 21
    assert sum(waits) == pytest.approx(len(waits) * INTERVAL)
    counters = fleet.stats(Source.PLAYGROUND)["counters"]
    assert counters["exports_created"] == len(SITES)
    assert counters["GET /api/v2/exports/{export_id}"] == POLLS * len(SITES)  # no export polled needlessly
    assert hook.stats["export_polls"] == POLLS  # the last site's own polls


def test_exports_are_polled_before_the_first_rows_are_downloaded(world, fleet, make_hook, batch_scenario, waits):
    _batch(make_hook(Source.PLAYGROUND, export_concurrency=4), world.JANUARY)
    log = fleet.stats(Source.PLAYGROUND, log=True)["log"]
    routes = [f"{entry['method']} {entry['route']}" for entry in log if (entry["route"] or "").startswith("/api/v2")]
    first_rows = routes.index("GET /api/v2/exports/{export_id}/rows")
    assert routes[:first_rows].count("POST /api/v2/exports") == 4
    assert routes[:first_rows].count("GET /api/v2/exports/{export_id}") == 4 * POLLS


def test_a_failed_export_fails_only_its_site(world, fleet, make_hook, batch_scenario, waits):
    baseline = _batch(make_hook(Source.PLAYGROUND, export_concurrency=1), world.JANUARY)
    fleet.set_faults([{"kind": "export_failed", "times": None, "license_number": SITES[1]}], Source.PLAYGROUND)

    outcome = _batch(make_hook(Source.PLAYGROUND, export_concurrency=3), world.JANUARY)

    error = outcome[1]
    assert isinstance(error, CcmsExtractionError)
    assert str(error) == f"PLAYGROUND site {SITES[1]} period {world.JANUARY}: the export failed at the vendor 2 times"
    assert error.license_number == SITES[1]
    assert outcome[:1] + outcome[2:] == baseline[:1] + baseline[2:]


def test_an_export_that_never_completes_times_out_for_its_own_site(world, fleet, make_hook, use_scenario, waits):
    sites = [{"vendor": "PLAYGROUND", "license_number": n, "children": world.CHILDREN, "days": []} for n in SITES[:3]]
    use_scenario({"sites": sites, "settings": {"playground_polls_before_complete": 10_000}})
    hook = make_hook(Source.PLAYGROUND, export_concurrency=3, export_timeout_seconds=0.2)
    streams = [hook.iter_site_period(number, world.JANUARY) for number in SITES[:3]]
    for number, stream in zip(SITES[:3], streams, strict=True):
        with pytest.raises(CcmsExtractionError, match=r"did not complete within 0\.2 s") as caught:
            list(stream)
        assert caught.value.license_number == number
    assert len(waits) < 3 * 0.2 / 0.02  # the three timed out during the same rounds


def test_the_extract_step_announces_a_batch_before_consuming_it(
    world, fleet, make_hook, batch_scenario, waits, conn: psycopg.Connection
):
    run = RunContext(run_id="playground-exports", dag_id="tests", period=world.JANUARY)
    plan_batch(conn, run, Source.PLAYGROUND, SITES, CHILD_ID, tag="PG")
    fleet.set_faults([{"kind": "export_failed", "times": None, "license_number": SITES[2]}], Source.PLAYGROUND)
    hook = make_hook(Source.PLAYGROUND, export_concurrency=4, export_poll_interval_seconds=INTERVAL)

    summary = extract_ccms_batch(
        conn,
        run,
        Source.PLAYGROUND,
        BATCH_NO,
        lambda number: hook.iter_site_period(number, run.period),  # as airflow_tasks does
        (CcmsExtractionError,),
    )

    assert (summary.sites, summary.sites_failed) == (len(SITES), 1)
    assert len(waits) <= POLLS * 3  # two windows of four sites (the failed export is created again once)
    outcomes = conn.execute(
        "SELECT site_id, outcome, records, error FROM staging.site_extract WHERE run_id = %s ORDER BY site_id",
        (run.run_id,),
    ).fetchall()
    assert [row[1] for row in outcomes] == ["retrieved"] * 2 + ["failed"] + ["retrieved"] * 4
    assert outcomes[2][3].startswith(f"PLAYGROUND site {SITES[2]} period {run.period}: the export failed")
    assert all(row[2] > 0 for row in outcomes if row[1] == "retrieved")


def test_sites_in_flight_each_look_ahead_with_their_own_hook(
    world, fleet, make_hook, batch_scenario, waits, conn: psycopg.Connection
):
    """Two threads, a hook each (as ``airflow_tasks.extract_ccms`` builds them): thread 0 owns sites
    0, 2, 4, 6 and thread 1 sites 1, 3, 5, and each announces its sites before consuming them, so
    each polls a window of two exports together: 2 + 2 windows of POLLS waits, not one per site."""
    make_hook(Source.PLAYGROUND, export_concurrency=2, export_poll_interval_seconds=INTERVAL)
    per_thread = threading.local()
    hooks = []

    def site_items(number: str):
        if not hasattr(per_thread, "hook"):
            per_thread.hook = hook_for_source(Source.PLAYGROUND)
            hooks.append(per_thread.hook)
        return per_thread.hook.iter_site_period(number, world.JANUARY)

    staged = {}
    for in_flight in (1, 2):
        waits.clear()
        run = RunContext(run_id=f"playground-in-flight-{in_flight}", dag_id="tests", period=world.JANUARY)
        plan_batch(conn, run, Source.PLAYGROUND, SITES, CHILD_ID, tag="PGF")
        summary = extract_ccms_batch(
            conn, run, Source.PLAYGROUND, BATCH_NO, site_items, (CcmsExtractionError,), sites_in_flight=in_flight
        )
        assert (summary.sites, summary.sites_failed) == (len(SITES), 0)
        staged[in_flight] = conn.execute(
            "SELECT site_id, child_id, attendance_date, status, check_in, check_out, source_record_id"
            " FROM staging.source_record WHERE run_id = %s ORDER BY 1, 2, 3, 7",
            (run.run_id,),
        ).fetchall()
        if in_flight == 2:
            assert len(waits) == POLLS * (2 + 2)  # sites 0+2, 4+6 | 1+3, 5: 12 waits, not 21
            assert len(hooks) == 3  # the main thread's (one in flight), then one per thread

    assert staged[2] == staged[1]
    assert staged[1]
