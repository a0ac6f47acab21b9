"""Several sites of a batch fetched at once (``sites_in_flight``), over real HTTP into staging.

Each thread gets its own hook, as ``airflow_tasks.extract_ccms`` does; sites are consumed in order,
so what is staged (records, quarantine, per-site outcomes, exceptions) is exactly what one site at
a time stages, and a site the vendor fails on fails alone.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from support.batch_sites import BATCH_NO, plan_batch
from support.markers import without_marker

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError, hook_for_source
from ccms_attendance.pipeline.extract import extract_ccms_batch
from ccms_attendance.pipeline.run_context import RunContext

SITES = [f"CC-4{n:04d}-{n}" for n in range(1, 8)]  # seven sites: windows of 3 leave a partial one
CHILD_ID = "1000001"  # the voucher child of every site; the scenario's other children are not
FAILING = SITES[4]

STAGED = {
    "staging.source_record": "site_id, child_id, attendance_date, status, check_in, check_out, source_record_id",
    "staging.quarantine": "site_id, child_id, attendance_date, source_record_id, reason",
    "staging.site_extract": "site_id, outcome, records, dropped_non_voucher, rejected, error",
    "staging.exception": "kind, site_id, child_id, detail",
}


def _hook_per_thread(source: Source, period, threads: set[str]):
    """The site extractor ``airflow_tasks.extract_ccms`` builds: one hook per fetching thread."""
    per_thread = threading.local()

    def site_items(number: str):
        threads.add(threading.current_thread().name)
        if not hasattr(per_thread, "hook"):
            per_thread.hook = hook_for_source(source)
        return without_marker(per_thread.hook.iter_site_period(number, period))

    return site_items


def _staged(conn: psycopg.Connection, run: RunContext) -> dict[str, list[tuple]]:
    return {
        table: conn.execute(
            f"SELECT {columns} FROM {table} WHERE run_id = %s ORDER BY {columns}", (run.run_id,)
        ).fetchall()
        for table, columns in STAGED.items()
    }


@pytest.mark.parametrize("source", [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND])
def test_sites_in_flight_stage_exactly_what_one_at_a_time_stages(
    world, fleet, make_hook, use_scenario, conn: psycopg.Connection, source
):
    sites = [{"vendor": str(source), "license_number": n, "children": world.CHILDREN, "days": world.january_days()}
             for n in SITES]  # fmt: skip
    use_scenario({"sites": sites, "settings": {"page_size": 20}})  # several pages per site
    fleet.set_faults([{"kind": "http_5xx", "times": None, "license_number": FAILING}], source)
    make_hook(source, max_attempts=2)  # the connection every thread's hook is built from
    staged: dict[int, dict[str, list[tuple]]] = {}
    threads: set[str] = set()

    for in_flight in (1, 2, 3):
        run = RunContext(run_id=f"in-flight-{source.lower()}-{in_flight}", dag_id="tests", period=world.JANUARY)
        plan_batch(conn, run, source, SITES, CHILD_ID, tag="IF")

        summary = extract_ccms_batch(
            conn,
            run,
            source,
            BATCH_NO,
            _hook_per_thread(source, world.JANUARY, threads),
            (CcmsExtractionError,),
            sites_in_flight=in_flight,
        )

        assert (summary.sites, summary.sites_failed) == (len(SITES), 1)
        assert FAILING in summary.failures[0]
        staged[in_flight] = _staged(conn, run)

    assert staged[2] == staged[1]
    assert staged[3] == staged[1]
    outcomes = staged[1]["staging.site_extract"]
    assert [row[1] for row in outcomes] == ["retrieved"] * 4 + ["failed"] + ["retrieved"] * 2
    assert all(row[2] > 0 for row in outcomes if row[1] == "retrieved")
    assert sum(name.startswith("extract-site") for name in threads) >= 2  # really fetched in threads
