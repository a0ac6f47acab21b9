"""Vendor outages during a period, then recovery; and what a run leaves behind: no secret, no PII.

One period, six sites: PPP, Alliance CORE, two brightwheel and two Playground sites. In the first
run (real ``airflow dags test``, real sandboxes over HTTP, real PostgreSQL, the DAG as the loader
role) three outages happen at once:

* Alliance CORE is down: its connection points at a port where nothing listens (connection refused);
* brightwheel answers 503 to everything about one site (a 5xx storm);
* Playground hangs on one site's export request past the read timeout.

The other sites complete; the affected ones are incomplete with a reason naming vendor, site and
period, and have no inferred absences. A rerun after recovery completes them. A third run during
the same outages keeps the affected sites' complete versions and says why (issue 17.2: an outage
is no verdict on the data).

Then everything the two runs left is scanned: task logs, XCom values (Airflow's metadata DB), the
period reports and data docs, and every table of the warehouse — for every sandbox secret and issued
token and the warehouse password (none may appear), and for the children's names, dates of birth
and non-voucher children's ids (none may be persisted).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from support.portal_state import PortalState, at
from support.vendor_scenario import VendorScenario

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV
from devtools.vendor_sandboxes import CONN_IDS

pytestmark = pytest.mark.e2e

PERIOD = ServicePeriod(dt.date(2026, 7, 5), dt.date(2026, 7, 18))
EARLIER = dt.date(2026, 6, 7)  # a period the CCMS sites submitted in the portal (so a CCMS may govern)
WEEKDAYS = [d for d in PERIOD.days if d.isoweekday() <= 5]
SITES = {
    # site: (license, governing source, child ids with a voucher)
    "S-PPP": ("CC-O-PP", Source.PPP, ("2001", "2002")),
    "S-AC": ("CC-O-AC", Source.ALLIANCE_CORE, ("2101", "2102")),
    "S-BW1": ("CC-O-BW1", Source.BRIGHTWHEEL, ("2201",)),
    "S-BW2": ("CC-O-BW2", Source.BRIGHTWHEEL, ("2301",)),
    "S-PG1": ("CC-O-PG1", Source.PLAYGROUND, ("2401",)),
    "S-PG2": ("CC-O-PG2", Source.PLAYGROUND, ("2501",)),
}
AFFECTED = {"S-AC": Source.ALLIANCE_CORE, "S-BW1": Source.BRIGHTWHEEL, "S-PG1": Source.PLAYGROUND}
#: Personal data the vendors send along; none of it may be persisted anywhere.
NAMES = ("Quillondra", "Vexmoorian", "Ysoldethe", "Brannagrove")
BIRTH_DATES = ("2019-03-17", "2020-11-29")
NON_VOUCHER_IDS = ("NV-9300017", "NV-9300018")


def build(folder: Path) -> tuple[PortalState, Path]:
    portal = PortalState(PERIOD)
    vendors = VendorScenario()
    for site_id, (license_number, source, children) in SITES.items():
        portal.site(site_id, license_number)
        for child_id in children:
            portal.voucher(child_id, site_id)
        if source is Source.PPP:
            portal.submission(site_id, PERIOD.start)
            portal.absence(site_id, children[0], WEEKDAYS[2])
            continue
        portal.submission(site_id, EARLIER, submitted_at=at(dt.date(2026, 6, 23)))
        portal.selection(site_id, str(source), PERIOD.start, chosen_at=at(dt.date(2026, 6, 22)))
        vendors.site(str(source), license_number)
        extra = [(NON_VOUCHER_IDS[0], "k-nv1"), (NON_VOUCHER_IDS[1], "k-nv2"), (None, "k-private")]
        for child_id, key in [(c, f"k-{c}") for c in children] + extra:
            vendors.child(license_number, child_id, key=key)
        for n, child in enumerate(vendors.sites[license_number]["children"]):
            child["first_name"], child["last_name"] = NAMES[n % 2], NAMES[2 + n % 2]
            child["birth_date"] = BIRTH_DATES[n % 2]
        for child_id, key in [(c, f"k-{c}") for c in children] + extra:
            for day in WEEKDAYS:
                if (child_id, day) == (children[0], WEEKDAYS[3]):
                    if source is not Source.ALLIANCE_CORE:
                        vendors.absent(license_number, children[0], day)
                    continue  # Alliance CORE: no check-in that day
                vendors.present(license_number, child_id or "private", day, key=key)
    return portal, vendors.write(folder / "scenario.json")


def dead_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_period(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT site_id, governing_source, complete, incomplete_reason FROM reconciled.site_period"
        " WHERE period_start = %s",
        (PERIOD.start,),
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def daily(conn, site_id: str) -> list[tuple]:
    rows = conn.execute(
        "SELECT child_id, attendance_date, status, basis FROM reconciled.daily_attendance"
        " WHERE period_start = %s AND site_id = %s ORDER BY 1, 2",
        (PERIOD.start, site_id),
    ).fetchall()
    return [tuple(r) for r in rows]


def current_rows(conn, site_id: str) -> list[tuple]:
    """The site's current daily rows and site-period row, run ids included."""
    rows = conn.execute(
        "SELECT d.child_id, d.attendance_date, d.status, d.basis, d.day_code, d.source_record_id, d.check_in,"
        " d.check_out, d.run_id, p.complete, p.run_id FROM reconciled.daily_attendance d"
        " JOIN reconciled.site_period p USING (period_start, site_id)"
        " WHERE d.period_start = %s AND d.site_id = %s ORDER BY d.child_id, d.attendance_date",
        (PERIOD.start, site_id),
    ).fetchall()
    return [tuple(r) for r in rows]


def expected_daily(site_id: str) -> list[tuple]:
    _license, source, children = SITES[site_id]
    rows = []
    for child_id in children:
        for day in WEEKDAYS:
            if (child_id, day) == (children[0], WEEKDAYS[2] if source is Source.PPP else WEEKDAYS[3]):
                basis = "no_check_in" if source is Source.ALLIANCE_CORE else "recorded"
                rows.append((child_id, day, "absent", basis))
            else:
                basis = {Source.PPP: "no_absence_entry"}.get(source, "recorded")
                rows.append((child_id, day, "present", basis))
    return rows


@dataclass
class Runs:
    outage: dict[str, tuple]  # site_period after the outage run
    outage_daily: dict[str, list[tuple]]
    recovered: dict[str, tuple]
    recovered_rows: dict[str, list[tuple]]  # every current row of each site after the recovery
    again: dict[str, tuple]  # site_period after the same outages again
    again_rows: dict[str, list[tuple]]
    kept: dict[str, str]  # site_period_kept exceptions after it: site -> detail
    warehouse_password: str
    secrets: dict[str, str]


@pytest.fixture(scope="module")
def runs(warehouse, sandbox_fleet, period_runner, tmp_path_factory) -> Runs:
    folder = tmp_path_factory.mktemp("faults_vendors")
    portal, scenario = build(folder)
    with psycopg.connect(warehouse.conninfo, autocommit=True) as conn:
        from conftest import truncate_data

        truncate_data(conn)
        portal.write(conn)
        sandbox_fleet.reload_scenario(scenario)
        # The loader's password travels in the Airflow connection (the server trusts loopback and
        # ignores it): it must be masked everywhere like a production password.
        password = "wh-" + secrets.token_urlsafe(18)
        base = {WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE, password).airflow_uri}
        down = sandbox_fleet.connection(Source.ALLIANCE_CORE, {"max_attempts": 2}) | {"port": dead_port()}
        slow = sandbox_fleet.connection(Source.PLAYGROUND, {"read_timeout": 1, "max_attempts": 2})
        outage_env = {
            **base,
            f"AIRFLOW_CONN_{CONN_IDS[Source.ALLIANCE_CORE].upper()}": json.dumps(down),
            f"AIRFLOW_CONN_{CONN_IDS[Source.PLAYGROUND].upper()}": json.dumps(slow),
        }

        def outages() -> None:
            sandbox_fleet.set_faults(
                [{"kind": "http_5xx", "status": 503, "times": None, "license_number": "CC-O-BW1"}], Source.BRIGHTWHEEL
            )
            sandbox_fleet.set_faults(
                [{"kind": "slow", "delay_seconds": 4, "times": None, "license_number": "CC-O-PG1"}], Source.PLAYGROUND
            )

        outages()
        try:
            period_runner.run(WEEKDAYS[0], fails=True, **outage_env)  # check_period fails it
        finally:
            sandbox_fleet.clear_faults()
        outage = site_period(conn)
        outage_daily = {site_id: daily(conn, site_id) for site_id in SITES}
        period_runner.run(WEEKDAYS[1], **base)  # the vendors recovered: rerun the period
        recovered = site_period(conn)
        recovered_rows = {site_id: current_rows(conn, site_id) for site_id in SITES}
        outages()  # the same outages again: the recovered versions of the affected sites are kept
        try:
            period_runner.run(WEEKDAYS[2], fails=True, **outage_env)
        finally:
            sandbox_fleet.clear_faults()
        kept = conn.execute(
            "SELECT site_id, detail FROM reconciled.exception WHERE period_start = %s AND kind = 'site_period_kept'",
            (PERIOD.start,),
        ).fetchall()
        return Runs(
            outage,
            outage_daily,
            recovered,
            recovered_rows,
            site_period(conn),
            {site_id: current_rows(conn, site_id) for site_id in SITES},
            dict(kept),
            password,
            sandbox_fleet.secrets(),
        )


def test_outage_other_vendors_complete_affected_sites_incomplete_no_fabricated_absences(runs):
    for site_id, (license_number, source, children) in SITES.items():
        governing, complete, reason = runs.outage[site_id]
        assert governing == str(source)
        if site_id in AFFECTED:
            assert not complete, site_id
            assert reason.startswith(f"{source} data unavailable: {source} site {license_number} period {PERIOD}: ")
            # Missing data never reads as absence: every enrolled day is pending, nothing inferred or coded.
            assert runs.outage_daily[site_id] == [
                (child_id, day, "pending", "data_unavailable") for child_id in children for day in WEEKDAYS
            ], site_id
        else:
            assert complete, (site_id, reason)
            assert runs.outage_daily[site_id] == expected_daily(site_id), site_id
    reasons = {site_id: runs.outage[site_id][2] for site_id in AFFECTED}
    assert "connection failed" in reasons["S-AC"]
    assert "HTTP 503" in reasons["S-BW1"]
    assert "timed out" in reasons["S-PG1"]


def test_rerun_after_recovery_completes_the_affected_sites(runs, warehouse):
    assert all(complete for _source, complete, _reason in runs.recovered.values()), runs.recovered
    with psycopg.connect(warehouse.conninfo) as conn:
        for site_id in SITES:
            assert daily(conn, site_id) == expected_daily(site_id), site_id
        for site_id in set(SITES) - set(AFFECTED):
            assert daily(conn, site_id) == runs.outage_daily[site_id]  # unchanged by the rerun


NO_VERDICT = "this run could not use the site's data, which is no verdict on it"


def test_the_same_outage_after_recovery_keeps_the_complete_versions_and_says_why(runs, warehouse):
    assert set(runs.kept) == set(AFFECTED)
    for site_id in AFFECTED:
        # Identical rows, still current, still the recovery run's: no absence lost, none fabricated.
        assert runs.again_rows[site_id] == runs.recovered_rows[site_id], site_id
        assert runs.again[site_id] == runs.recovered[site_id]
        detail = runs.kept[site_id]
        assert detail.startswith("kept previous version: loaded by run "), detail
        assert detail.endswith(f"complete, final; {NO_VERDICT}: {runs.outage[site_id][2]}"), detail
    for site_id in set(SITES) - set(AFFECTED):  # replaced by the third run, with the same content
        again, recovered = runs.again_rows[site_id], runs.recovered_rows[site_id]
        assert [r[:-3] for r in again] == [r[:-3] for r in recovered], site_id
        assert {r[-1] for r in again}.isdisjoint({r[-1] for r in recovered}), site_id
    with psycopg.connect(warehouse.conninfo) as conn:
        (kept_sites,) = conn.execute(
            "SELECT kept_sites FROM history.period_version WHERE period_start = %s AND superseded_at IS NULL",
            (PERIOD.start,),
        ).fetchone()
    assert {k["site_id"]: k["reason"] for k in kept_sites} == runs.kept


# --- what the runs left behind -----------------------------------------------------------------


#: What a run writes that could carry text: logs, reports, data docs pages and results, the metadata DB.
TEXT_SUFFIXES = frozenset({".log", ".html", ".json", ".txt", ".db", ".md"})


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES]


def _warehouse_text(conn: psycopg.Connection) -> dict[str, str]:
    """Every row of every table of every schema, as text, by table."""
    tables = conn.execute(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    ).fetchall()
    return {
        table: conn.execute(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t").fetchone()[0]
        for (table,) in tables
    }


def test_no_secret_in_logs_xcom_exceptions_reports_data_docs_or_warehouse(runs, period_runner, warehouse):
    needles = {**runs.secrets, "warehouse password": runs.warehouse_password}
    assert any(" token " in name for name in needles), "the runs should have used bearer tokens"
    home = period_runner.airflow_home
    files = _files(home)
    logs = [p for p in files if p.suffix == ".log"]
    reports = [p for p in files if p.suffix == ".html" and "reports" in p.parts]
    docs = [p for p in files if "data_docs" in p.parts]
    assert logs, "no task logs to scan"
    assert reports, "no period reports to scan"
    assert docs, "no data docs to scan"
    # The outage's exceptions are in the logs (the failure callback prints them).
    outage_log = "\n".join(p.read_text(errors="replace") for p in logs)
    assert "CCMS attendance step failed" in outage_log
    assert "HTTP 503" in outage_log
    leaks = []
    for path in files:
        data = path.read_bytes()
        leaks += [(name, str(path)) for name, value in needles.items() if value.encode() in data]
    assert not leaks, leaks
    with sqlite3.connect(home / "airflow.db") as meta:
        xcoms = [str(v) for (v,) in meta.execute("SELECT value FROM xcom")]
    assert xcoms, "no XCom values to scan"
    assert not [name for name, value in needles.items() for x in xcoms if value in x]
    with psycopg.connect(warehouse.conninfo) as conn:
        tables = _warehouse_text(conn)
    assert not [(name, t) for t, text in tables.items() for name, value in needles.items() if value in text]


def test_no_names_birth_dates_or_non_voucher_children_persisted(runs, period_runner, warehouse):
    with psycopg.connect(warehouse.conninfo) as conn:
        tables = _warehouse_text(conn)
        # Sanity: the scan sees the period's data (the voucher children are there).
        assert "2101" in tables["reconciled.daily_attendance"]
    needles = [*NAMES, *BIRTH_DATES, *NON_VOUCHER_IDS, "k-private", "k-nv1"]
    found = [(needle, table) for table, text in tables.items() for needle in needles if needle.lower() in text.lower()]
    assert not found, found
    # Nor do they reach the task logs, XCom or the reports: the hooks never log payloads.
    texts = [p.read_text(errors="replace") for p in _files(period_runner.airflow_home) if p.suffix in (".log", ".html")]
    assert not [n for n in (*NAMES, *NON_VOUCHER_IDS) for text in texts if n in text]
