"""Property-based tests through real HTTP and the real extract step: hostile vendor payloads end up
staged, quarantined with a reason, counted, or as a clear error naming vendor, site and period.

Every example serves generated records (``support.hostile_payloads``) from the vendor's sandbox as
``raw_records`` of one site (small pages, so paging and cross-page de-duplication take part), runs
the hook exactly as the extract task does, through ``extract_ccms_batch`` into the real warehouse,
and checks:

* nothing but the recorded per-site outcome comes out: no exception escapes the step;
* a failed site carries an error that starts with "<VENDOR> site <license> period <period>";
* otherwise every item the hook yielded is accounted for in staging: voucher children's records
  staged with their source record id *verbatim* (versions of one record id on one child-day settled
  into one), their rejections (and records of another license, or with text PostgreSQL cannot
  store) quarantined with a non-empty reason, everything else counted as dropped, repeated record
  ids counted (records + settled + rejected + dropped + repeats = items);
* every raw record is accounted for by an item (see ``check_items``), and no name or birth date
  reaches the hook's output or any staged row.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.hostile_payloads import (
    CASES,
    CHILD_IDS,
    JANUARY,
    PERIODS,
    alliance_event,
    brightwheel_record,
    check_items,
    no_personal_data,
    playground_row,
    storable,
    unstorable,
    with_duplicates_and_junk,
)

from ccms_attendance.canonical import AttendanceRecord, RejectedRecord, RepeatedRecord, SiteSubmission, Source
from ccms_attendance.hooks import CcmsExtractionError
from ccms_attendance.pipeline.extract import extract_ccms_batch
from ccms_attendance.pipeline.run_context import RunContext

LICENSE = "CC-PROP-1"
SITE_ID = "S-PROP"
RECORDS = {
    Source.BRIGHTWHEEL: (brightwheel_record, "id"),
    Source.PLAYGROUND: (playground_row, "row_id"),
    Source.ALLIANCE_CORE: (alliance_event, "event_id"),
}
HTTP_EXAMPLES = settings(max_examples=40)


def run_for(source: Source, period) -> RunContext:
    return RunContext(run_id=f"prop-{source}-{period.start}", dag_id="properties", period=period)


@pytest.fixture
def planned(conn: psycopg.Connection) -> psycopg.Connection:
    """A site with voucher children, planned under every vendor for every period of the strategies."""
    conn.execute("INSERT INTO ref.provider VALUES ('P-PROP', 'Provider')")
    conn.execute(
        "INSERT INTO ref.site (site_id, provider_id, site_name, license_number) VALUES (%s, 'P-PROP', 'x', %s)",
        (SITE_ID, LICENSE),
    )
    for child_id in CHILD_IDS:
        conn.execute("INSERT INTO ref.child VALUES (%s)", (child_id,))
        conn.execute(
            "INSERT INTO ref.voucher (voucher_id, child_id, site_id, program, authorized_start)"
            " VALUES (%s, %s, %s, 'CCDF', '2025-01-01')",
            (f"V-{child_id}", child_id, SITE_ID),
        )
    for source in RECORDS:
        for period in PERIODS:
            conn.execute(
                "INSERT INTO staging.site_plan VALUES (%s, %s, %s, %s, %s, %s, NULL, 1)",
                (run_for(source, period).run_id, period.start, SITE_ID, LICENSE, str(source), str(source)),
            )
    return conn


def scenario(source: Source, raw: list) -> dict:
    return {
        "sites": [
            {
                "vendor": str(source),
                "license_number": LICENSE,
                "children": [{"vendor_child_key": "k-1", "state_child_id": CHILD_IDS[0], "first_name": "Zebediah"}],
                "days": [],
                "raw_records": raw,
            }
        ],
        "settings": {"page_size": 3, "playground_polls_before_complete": 0},
    }


def staged(conn: psycopg.Connection, table: str, run_id: str, columns: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(f"SELECT {columns} FROM staging.{table} WHERE run_id = %s", (run_id,))]


def check_example(conn, use_scenario, make_hook, source: Source, period, raw: list) -> None:
    use_scenario(scenario(source, raw))
    hook = make_hook(source, max_response_bytes=30_000, max_attempts=2, page_size=3)
    run = run_for(source, period)
    items: list = []

    def extractor(license_number: str):
        for item in hook.iter_site_period(license_number, period):  # observed, not altered
            items.append(item)
            yield item

    try:
        extract_ccms_batch(conn, run, source, 1, extractor, (CcmsExtractionError,))
    finally:
        hook.close()
    outcome, records, dropped, rejected, error, duplicates, conflicts = staged(
        conn,
        "site_extract",
        run.run_id,
        "outcome, records, dropped_non_voucher, rejected, error, duplicates_dropped, duplicate_conflicts",
    )[0]
    if outcome == "failed":
        assert error.startswith(f"{source} site {LICENSE} period {period}: "), error
        assert staged(conn, "source_record", run.run_id, "1") == []
        return
    assert [i for i in items if isinstance(i, SiteSubmission)] == [items[-1]]  # one marker, last
    assert items[-1].submitted  # the scenario says nothing about submission: submitted by default
    items = items[:-1]
    check_items(hook_site(source, period), raw, items, RECORDS[source][1])
    no_personal_data(raw, items)
    # What the extract step must make of the items: another license's record and text PostgreSQL
    # cannot store are rejections; voucher children's records are staged (versions of one record id
    # on one child-day settled into one row), their rejections quarantined; the rest is counted.
    voucher = set(CHILD_IDS)
    repeats = [i for i in items if isinstance(i, RepeatedRecord)]
    kept, quarantined = [], []
    for item in items:
        if isinstance(item, AttendanceRecord) and item.license_number == LICENSE and not unstorable_record(item):
            if item.child_id in voucher:
                kept.append(item)
        elif isinstance(item, AttendanceRecord | RejectedRecord) and storable(item.child_id) in voucher:
            quarantined.append(item)
    rows = {(i.child_id, i.attendance_date, i.source_record_id) for i in kept}
    assert sorted(r[0] for r in staged(conn, "source_record", run.run_id, "source_record_id")) == sorted(
        record_id for _, _, record_id in rows
    )  # verbatim, injection look-alikes and all
    reasons = staged(conn, "quarantine", run.run_id, "reason")
    assert len(reasons) == len(quarantined) == rejected
    assert all(r[0].strip() for r in reasons)
    assert records == len(rows)
    assert (duplicates, conflicts) == (sum(r.same_content for r in repeats), sum(not r.same_content for r in repeats))
    assert records + (len(kept) - len(rows)) + rejected + dropped + len(repeats) == len(items)
    stored = json.dumps(
        staged(conn, "source_record", run.run_id, "*")
        + staged(conn, "quarantine", run.run_id, "*")
        + staged(conn, "exception", run.run_id, "*"),
        default=str,
    )
    assert "Zebediah" not in stored


def unstorable_record(record: AttendanceRecord) -> bool:
    return any(
        unstorable(value)
        for value in (record.source_record_id, record.child_id, record.license_number, record.absence_reason)
    )


def hook_site(source: Source, period):
    from ccms_attendance.hooks.site import SiteRequest

    return SiteRequest(source, LICENSE, period)


def batches(source: Source):
    make_record = RECORDS[source][0]
    return st.sampled_from(PERIODS).flatmap(
        lambda period: st.tuples(st.just(period), with_duplicates_and_junk(make_record(LICENSE, period)))
    )


HOSTILE_IDS = [
    "nul\x00inside",
    "lone \ud800 surrogate",
    "Robert'); DROP TABLE reconciled.daily_attendance;--",
    "=cmd|' /C calc'!A0",
]


def _bw(record_id: str) -> dict:
    return {
        "id": record_id,
        "date": "2026-01-05",
        "status": "present",
        "check_in_time": "07:45",
        "school": {"license_number": LICENSE},
        "student": {"state_child_id": CHILD_IDS[0]},
    }


@HTTP_EXAMPLES
@example(case=(JANUARY, [_bw(i) for i in HOSTILE_IDS if "\ud800" not in i]))
@example(case=(JANUARY, [_bw(i) for i in HOSTILE_IDS]))
@given(case=batches(Source.BRIGHTWHEEL))
def test_brightwheel_payloads_over_http(planned, use_scenario, make_hook, case):
    CASES["http+warehouse: brightwheel"] += 1
    check_example(planned, use_scenario, make_hook, Source.BRIGHTWHEEL, *case)


@HTTP_EXAMPLES
@given(case=batches(Source.PLAYGROUND))
def test_playground_payloads_over_http(planned, use_scenario, make_hook, case):
    CASES["http+warehouse: Playground"] += 1
    check_example(planned, use_scenario, make_hook, Source.PLAYGROUND, *case)


@HTTP_EXAMPLES
@given(case=batches(Source.ALLIANCE_CORE))
def test_alliance_core_payloads_over_http(planned, use_scenario, make_hook, case):
    CASES["http+warehouse: Alliance CORE"] += 1
    check_example(planned, use_scenario, make_hook, Source.ALLIANCE_CORE, *case)
