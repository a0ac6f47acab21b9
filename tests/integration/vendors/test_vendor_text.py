"""Vendor-chosen text is bounded and scrubbed before it is stored, reported or logged.

Issue 17, item 5. A vendor answering 403 with its caller's client secret in the body put that
secret into ``reconciled.site_period.incomplete_reason``, the report and the task log; up to 40
characters of a non-voucher child's fields (a name and birth date sent as a ``status``) reached
``reconciled.exception``. Each case runs a whole period in-process (plan, extraction over real
HTTP from the sandbox, validation, reconciliation, load) and reads what it left behind.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from support.ccms_period import ccms_sites, run_ccms_period

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.reporting import read_period, render_report

PERIOD = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
MONDAY = dt.date(2026, 1, 5)
VOUCHER_CHILD, OTHER_CHILD = "1000001", "9000009"
LICENSE, SITE_ID = "CC-TEXT-1", "S-TEXT"
DATA_PATH = {
    Source.ALLIANCE_CORE: "/v1/facilities/*/attendance-events",
    Source.BRIGHTWHEEL: "/v1/schools/*/attendance_records",
    Source.PLAYGROUND: "/api/v2/exports/*/rows",
}
CHILDREN = [
    {"vendor_child_key": "k-ava", "state_child_id": VOUCHER_CHILD, "first_name": "Avaline"},
    {"vendor_child_key": "k-nov", "state_child_id": OTHER_CHILD, "first_name": "Ottoline"},
]
#: A non-voucher child's name and birth date, as a vendor might send them in an enum field.
PERSONAL = "Ottoline Vandermeer 2021-03-12"


def _scenario(source: Source, raw: list) -> dict:
    days = [{"vendor_child_key": "k-ava", "date": MONDAY.isoformat(), "status": "present",
             "check_in": "2026-01-05T07:45:00-05:00"}]  # fmt: skip
    site = {"vendor": str(source), "license_number": LICENSE, "children": CHILDREN, "days": days, "raw_records": raw}
    return {"sites": [site], "settings": {"playground_polls_before_complete": 0}}


def _stored_text(conn) -> str:
    """Every text of every reconciled and staging table, as one string."""
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema IN ('reconciled', 'staging', 'history') AND table_type = 'BASE TABLE'"
    ).fetchall()
    rows = [conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall() for schema, table in tables]
    return json.dumps(rows, default=str)


@pytest.mark.parametrize("source", [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL])
def test_a_vendor_echoing_the_callers_secret_in_an_error_never_gets_it_stored_reported_or_logged(
    conn, warehouse, fleet, use_scenario, make_hook, caplog, source
):
    ccms_sites(PERIOD, {SITE_ID: (LICENSE, source, [VOUCHER_CHILD])}).write(conn)
    use_scenario(_scenario(source, []))
    secret = fleet.connection(source)["password"]  # the client secret / API key this hook sends
    body = {"error": secret, "message": f"Bearer {secret} refused; client_secret={secret}"}
    fleet.set_faults(
        [{"kind": "raw_body", "status": 403, "body": json.dumps(body), "path": DATA_PATH[source], "times": None}],
        source,
    )
    run = RunContext(run_id=f"secret-{source}", dag_id="ccms_attendance_period", period=PERIOD)
    with caplog.at_level(logging.INFO):
        run_ccms_period(warehouse, run, make_hook, [source])

    (reason,) = conn.execute(
        "SELECT incomplete_reason FROM reconciled.site_period WHERE site_id = %s", (SITE_ID,)
    ).fetchone()
    assert reason.startswith(f"{source} data unavailable: {source} site {LICENSE} period {PERIOD}: HTTP 403 Forbidden")
    assert secret not in reason
    assert "***" in reason  # the vendor's error code is there, masked
    assert secret not in _stored_text(conn)
    assert secret not in render_report(read_period(conn, PERIOD.start, run.run_id))
    assert secret not in caplog.text
    assert f"{source} site {LICENSE} period {PERIOD}: HTTP 403" in caplog.text


UNKNOWN_ENUM = {
    # vendor: (record, the field holding the unexpected value, the fixed reason that replaces it)
    Source.BRIGHTWHEEL: (
        lambda child, record_id, value: {
            "id": record_id,
            "date": MONDAY.isoformat(),
            "status": value,
            "school": {"license_number": LICENSE},
            "student": {"state_child_id": child},
        },
        "unknown status (a text of 30 characters)",
    ),
    Source.ALLIANCE_CORE: (
        lambda child, record_id, value: {
            "event_id": record_id,
            "event_type": value,
            "occurred_at": "2026-01-06T13:00:00Z",
            "facility_license_number": LICENSE,
            "child_key": "k",
            "state_child_id": child,
        },
        "unknown event type (a text of 30 characters)",
    ),
    Source.PLAYGROUND: (
        lambda child, record_id, value: {
            "row_id": record_id,
            "type": value,
            "center_license": LICENSE,
            "attendance_date": MONDAY.isoformat(),
            "child": {"state_child_id": child},
        },
        "unknown row type (a text of 30 characters)",
    ),
}


@pytest.mark.parametrize("source", list(UNKNOWN_ENUM))
def test_an_unknown_enum_value_is_reported_without_the_value(conn, warehouse, use_scenario, make_hook, source):
    record, reason = UNKNOWN_ENUM[source]
    ccms_sites(PERIOD, {SITE_ID: (LICENSE, source, [VOUCHER_CHILD])}).write(conn)
    use_scenario(
        _scenario(source, [record(OTHER_CHILD, "r-other", PERSONAL), record(VOUCHER_CHILD, "r-own", PERSONAL)])
    )
    run = RunContext(run_id=f"enum-{source}", dag_id="ccms_attendance_period", period=PERIOD)
    run_ccms_period(warehouse, run, make_hook, [source])

    stored = _stored_text(conn)
    for fragment in ("Ottoline", "Vandermeer", "2021-03-12"):
        assert fragment not in stored
    # The non-voucher child's record is only counted, by its fixed reason.
    details = conn.execute(
        "SELECT detail, record_count FROM reconciled.exception WHERE kind = 'unattributed_records_dropped'"
    ).fetchall()
    assert details == [
        (
            f"{source} records not matching any voucher child were not kept (1 x {reason}); "
            "if a voucher child is among them, check its Child ID in the CCMS",
            1,
        )
    ]
    # The voucher child's record is quarantined with the same fixed reason: never the value either.
    assert conn.execute("SELECT source_record_id, reason FROM reconciled.quarantine").fetchall() == [("r-own", reason)]
