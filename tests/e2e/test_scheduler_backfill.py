"""Backfill and rerun through a real scheduler: api-server, dag-processor, scheduler, LocalExecutor.

`airflow backfill create` over three past periods while the portal state is today's: every run must
read the portal as it was at its own period start. Between the periods a site's Data Entry Settings
switch it from PPP to brightwheel (saved during period 2, in force from period 3), a child's voucher
starts in the middle of period 2, and a site's license is linked to the program only during period 2
(so its Alliance CORE data counts from period 3). Then one backfilled run is cleared while the stack
runs: the scheduler reruns it, the period's content is unchanged and the replaced version is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from support.airflow_runs import DAG_ID
from support.portal_state import PortalState, at
from support.vendor_scenario import VendorScenario

from ccms_attendance.airflow_tasks import site_batch_count
from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV
from devtools.stack.airflow_stack import AirflowStack, airflow_stack

pytestmark = pytest.mark.e2e

P_2 = ServicePeriod(dt.date(2026, 8, 2), dt.date(2026, 8, 15))
P0 = ServicePeriod(dt.date(2026, 8, 16), dt.date(2026, 8, 29))
P1 = ServicePeriod(dt.date(2026, 8, 30), dt.date(2026, 9, 12))
P2 = ServicePeriod(dt.date(2026, 9, 13), dt.date(2026, 9, 26))
P3 = ServicePeriod(dt.date(2026, 9, 27), dt.date(2026, 10, 10))
BACKFILLED = (P1, P2, P3)
VOUCHER_602_START = dt.date(2026, 9, 16)  # a Wednesday in P2
LICENSE_LINKED_FROM = dt.date(2026, 9, 20)  # during P2: not linked at P2's start, linked at P3's


def weekdays(period: ServicePeriod, since: dt.date | None = None) -> list[dt.date]:
    return [d for d in period.days if d.isoweekday() <= 5 and (since is None or d >= since)]


def day(month: int, dom: int) -> dt.date:
    return dt.date(2026, month, dom)


def build_state() -> tuple[PortalState, VendorScenario]:
    portal = PortalState(P3)
    vendors = VendorScenario()

    def submitted(site_id: str, *periods: ServicePeriod) -> None:
        for period in periods:
            portal.submission(site_id, period.start, submitted_at=at(period.end + dt.timedelta(days=2)))

    # S-SW: PPP in P1 and P2; brightwheel from P3, a selection saved during P2. Today it is brightwheel.
    portal.site("S-SW", "CC-SW", provider_id="P-1").voucher("501", "S-SW")
    submitted("S-SW", P_2, P0, P1, P2, P3)
    portal.selection("S-SW", "BRIGHTWHEEL", P3.start, chosen_at=at(day(9, 15)))
    portal.absence("S-SW", "501", day(9, 2)).absence("S-SW", "501", day(9, 16))
    portal.absence("S-SW", "501", day(9, 29))  # typed while brightwheel governs: reported, not used
    vendors.site("BRIGHTWHEEL", "CC-SW").child("CC-SW", "501")
    for d in weekdays(P2) + weekdays(P3):  # P2 data exists at the vendor but brightwheel did not govern P2
        if d == day(10, 6):
            vendors.absent("CC-SW", "501", d)
        else:
            vendors.present("CC-SW", "501", d)

    # S-V: PPP throughout; child 602's voucher starts on Wednesday 2026-09-16, in the middle of P2.
    portal.site("S-V", "CC-V", provider_id="P-1").voucher("601", "S-V")
    portal.voucher("602", "S-V", start=VOUCHER_602_START)
    submitted("S-V", P_2, P0, P1, P2, P3)
    portal.absence("S-V", "602", day(9, 22)).absence("S-V", "601", day(10, 1))

    # S-LIC: Alliance CORE chosen for P1 onwards, but its license is linked only from 2026-09-20.
    portal.site("S-LIC", "CC-LIC", provider_id="P-2", linked=False).voucher("701", "S-LIC")
    portal.rows["ref.license_link"].append(
        {"license_number": "CC-LIC", "linked_from": at(LICENSE_LINKED_FROM), "linked_until": None}
    )
    submitted("S-LIC", P_2, P0)
    portal.selection("S-LIC", "ALLIANCE_CORE", P1.start, chosen_at=at(day(8, 20)))
    portal.voucher("702", "S-LIC")  # 701's classmate, there every day: the site reports every day
    vendors.site("ALLIANCE_CORE", "CC-LIC").child("CC-LIC", "701").child("CC-LIC", "702")
    for d in weekdays(P1) + weekdays(P2) + weekdays(P3):
        vendors.present("CC-LIC", "702", d)
        if d != day(10, 8):  # no check-in on 2026-10-08: absent, once the site counts
            vendors.present("CC-LIC", "701", d)
    return portal, vendors


def expected_daily(period: ServicePeriod) -> list[tuple]:
    """(site, child, date, status, basis, source) of the period, as the portal was at its start."""
    rows: list[tuple] = []

    def ppp(site: str, child: str, absent: set[dt.date], since: dt.date | None = None) -> None:
        for d in weekdays(period, since):
            rows.append(
                (site, child, d, "absent", "recorded", "PPP")
                if d in absent
                else (site, child, d, "present", "no_absence_entry", "PPP")
            )

    if period in (P1, P2):
        ppp("S-SW", "501", {day(9, 2), day(9, 16)})
        # The unlinked license: its data cannot be matched, so every day is pending (never absent).
        rows += [
            ("S-LIC", child, d, "pending", "data_unavailable", "ALLIANCE_CORE")
            for child in ("701", "702")
            for d in weekdays(period)
        ]
    else:
        rows += [
            ("S-SW", "501", d, "absent" if d == day(10, 6) else "present", "recorded", "BRIGHTWHEEL")
            for d in weekdays(P3)
        ]
        rows += [
            ("S-LIC", "701", d, "absent", "no_check_in", "ALLIANCE_CORE")
            if d == day(10, 8)
            else ("S-LIC", "701", d, "present", "recorded", "ALLIANCE_CORE")
            for d in weekdays(P3)
        ]
        rows += [("S-LIC", "702", d, "present", "recorded", "ALLIANCE_CORE") for d in weekdays(P3)]
    ppp("S-V", "601", {day(10, 1)})
    if period is not P1:
        ppp("S-V", "602", {day(9, 22)}, since=VOUCHER_602_START)
    return sorted(rows)


EXPECTED_SITE_PERIOD = {
    # (site, selected_method, governing_source, complete)
    P1: [
        ("S-LIC", "ALLIANCE_CORE", "ALLIANCE_CORE", False),  # license not linked yet
        ("S-SW", "PPP", "PPP", True),
        ("S-V", "PPP", "PPP", True),
    ],
    P2: [
        ("S-LIC", "ALLIANCE_CORE", "ALLIANCE_CORE", False),  # linked on 09-20, after P2 started
        ("S-SW", "PPP", "PPP", True),  # brightwheel saved on 09-15: after P2 started, not seen
        ("S-V", "PPP", "PPP", True),
    ],
    P3: [
        ("S-LIC", "ALLIANCE_CORE", "ALLIANCE_CORE", True),
        ("S-SW", "BRIGHTWHEEL", "BRIGHTWHEEL", True),
        ("S-V", "PPP", "PPP", True),
    ],
}
EXPECTED_SUMMARY = {
    # (site, child, enrolled_days, absent_days, source, complete)
    P1: [
        ("S-LIC", "701", 10, 0, "ALLIANCE_CORE", False),
        ("S-LIC", "702", 10, 0, "ALLIANCE_CORE", False),
        ("S-SW", "501", 10, 1, "PPP", True),
        ("S-V", "601", 10, 0, "PPP", True),
    ],
    P2: [
        ("S-LIC", "701", 10, 0, "ALLIANCE_CORE", False),
        ("S-LIC", "702", 10, 0, "ALLIANCE_CORE", False),
        ("S-SW", "501", 10, 1, "PPP", True),
        ("S-V", "601", 10, 0, "PPP", True),
        ("S-V", "602", 8, 1, "PPP", True),  # enrolled from Wednesday 09-16 only
    ],
    P3: [
        ("S-LIC", "701", 10, 1, "ALLIANCE_CORE", True),
        ("S-LIC", "702", 10, 0, "ALLIANCE_CORE", True),
        ("S-SW", "501", 10, 1, "BRIGHTWHEEL", True),
        ("S-V", "601", 10, 1, "PPP", True),
        ("S-V", "602", 10, 0, "PPP", True),
    ],
}


def rows(conn: psycopg.Connection, sql: str, period: ServicePeriod) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sql, {"p": period.start}).fetchall()]


def site_period(conn, period):
    return rows(
        conn,
        "SELECT site_id, selected_method, governing_source, complete FROM reconciled.site_period"
        " WHERE period_start = %(p)s ORDER BY 1",
        period,
    )


def summary(conn, period):
    return rows(
        conn,
        "SELECT site_id, child_id, enrolled_days, absent_days, source, complete FROM reconciled.absence_summary"
        " WHERE period_start = %(p)s ORDER BY 1, 2",
        period,
    )


def daily(conn, period):
    return rows(
        conn,
        "SELECT site_id, child_id, attendance_date, status, basis, source FROM reconciled.daily_attendance"
        " WHERE period_start = %(p)s ORDER BY 1, 2, 3",
        period,
    )


def empty_warehouse(conn: psycopg.Connection) -> None:
    tables = conn.execute(
        "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s)",
        (["ref", "portal", "staging", "reconciled", "history"],),
    ).fetchall()
    conn.execute(f"TRUNCATE {', '.join(t[0] for t in tables)} RESTART IDENTITY CASCADE")


@dataclass
class Backfilled:
    stack: AirflowStack
    wh: psycopg.Connection
    runs: dict[ServicePeriod, dict]  # the backfill run of each period


@pytest.fixture(scope="module")
def backfilled(pg_admin, warehouse, sandbox_fleet, tmp_path_factory) -> Iterator[Backfilled]:
    """One stack for the module: the state written, the three periods backfilled and finished."""
    folder = tmp_path_factory.mktemp("scheduler_backfill")
    portal, vendors = build_state()
    with psycopg.connect(warehouse.conninfo, autocommit=True) as wh:
        empty_warehouse(wh)
        portal.write(wh)
        sandbox_fleet.reload_scenario(vendors.write(folder / "scenario.json"))
        env = {
            WAREHOUSE_CONN_ENV: warehouse.as_role(LOADER_ROLE).airflow_uri,
            "CCMS_TASK_RETRIES": "0",
            **sandbox_fleet.airflow_conn_env({"max_attempts": 2, "backoff_base_seconds": 0.1}),
        }
        with airflow_stack(folder / "airflow_home", pg_admin, env, executor="LocalExecutor") as stack:
            stack.wait_for_dag(DAG_ID)
            # Unpausing also lets the scheduler queue the latest closed period (catchup=False): that
            # scheduled run is left alone; the assertions are about the backfilled periods only.
            stack.unpause(DAG_ID)
            # The window is of logical dates (period starts, 00:00 state time = 04:00 UTC): up to P3's end.
            stack.backfill(DAG_ID, P1.start.isoformat(), P3.end.isoformat())
            # ~2 min here on a quiet machine; the bound is for a CI machine running another stack beside it.
            finished = stack.wait_for_runs(DAG_ID, run_type="backfill", count=3, timeout=480)
            by_start = {run["data_interval_start"]: run for run in finished}
            runs = {}
            for period in BACKFILLED:
                start = period.start_instant().astimezone(dt.UTC)
                assert start in by_start, f"no backfill run for {period}: {[r['run_id'] for r in finished]}"
                runs[period] = by_start[start]
            # P1 and P2 load and report, then check_period fails them: S-LIC's license is not linked
            # (a site-period without usable data needs attention). Nothing else fails; P3 succeeds.
            states = {period: runs[period]["state"] for period in BACKFILLED}
            problems = {
                r["run_id"]: tasks
                for r in finished
                if (tasks := not_succeeded(stack.task_states(DAG_ID, r["run_id"])))
                != (["check_period"] if r["data_interval_start"] != P3.start_instant().astimezone(dt.UTC) else [])
            }
            assert not problems, f"unexpected task states: {problems}\n{stack.diagnostics()}"
            assert states == {P1: "failed", P2: "failed", P3: "success"}, states
            yield Backfilled(stack=stack, wh=wh, runs=runs)


def not_succeeded(states: dict[str, str | None]) -> list[str]:
    return sorted(task for task, state in states.items() if state not in ("success", "skipped"))


def test_backfill_reads_the_portal_as_it_was_at_each_period_start(backfilled):
    wh = backfilled.wh
    assert [r["run_type"] for r in backfilled.runs.values()] == ["backfill"] * 3
    for period in BACKFILLED:
        assert site_period(wh, period) == EXPECTED_SITE_PERIOD[period], period
        assert summary(wh, period) == EXPECTED_SUMMARY[period], period
        assert daily(wh, period) == expected_daily(period), period

    # The unlinked license is reported (and its vendor not called) exactly while it was not linked.
    not_linked = wh.execute(
        "SELECT period_start FROM reconciled.exception WHERE kind = 'license_not_linked' AND site_id = 'S-LIC'"
        " ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in not_linked] == [P1.start, P2.start]

    # One loaded run per period, and it is the backfill run (the run id Airflow gave it).
    audit = wh.execute(
        "SELECT period_start, run_id, status FROM reconciled.run_audit WHERE period_start = ANY(%s) ORDER BY 1",
        ([p.start for p in BACKFILLED],),
    ).fetchall()
    assert [tuple(r) for r in audit] == [(p.start, backfilled.runs[p]["run_id"], "loaded") for p in BACKFILLED]
    assert all(r[1].startswith("backfill__") for r in audit)
    current = wh.execute(
        "SELECT period_start, run_id FROM reconciled.period_load WHERE period_start = ANY(%s) ORDER BY 1",
        ([p.start for p in BACKFILLED],),
    ).fetchall()
    assert [tuple(r) for r in current] == [(p.start, backfilled.runs[p]["run_id"]) for p in BACKFILLED]


def test_each_vendor_extract_runs_once_per_planned_batch_and_skips_the_empty_ones(backfilled):
    """The extracts are mapped over the configured batch numbers; a batch the plan left without a site
    (this state has fewer sites per vendor than batches) is skipped, never failed or run empty."""
    run_id = backfilled.runs[P3]["run_id"]
    planned = dict(
        backfilled.wh.execute(
            "SELECT governing_source, array_agg(DISTINCT batch_no) FROM staging.site_plan"
            " WHERE run_id = %s AND batch_no >= 0 GROUP BY 1",
            (run_id,),
        ).fetchall()
    )
    states = backfilled.stack.task_states(DAG_ID, run_id)
    for source in Source.ccms():
        extract = {k: v for k, v in states.items() if k.startswith(f"{source.lower()}.extract_batch[")}
        expected = {
            f"{source.lower()}.extract_batch[{n}]": "success" if n in planned.get(str(source), []) else "skipped"
            for n in range(site_batch_count())
        }
        assert extract == expected, (source, planned)
    assert len(planned) == 3  # every vendor planned a batch ...
    assert "skipped" in states.values()  # ... and left one empty: both outcomes are met


@dataclass
class Cleared:
    run_id: str
    before: tuple  # reconciled.period_load (run_id, checksum, loaded_at) before the clear
    daily: list[tuple]
    summary: list[tuple]
    rerun: dict


@pytest.fixture(scope="module")
def cleared_p2(backfilled) -> Cleared:
    """P2's backfill run cleared (all tasks) while the stack runs, and rerun by the scheduler."""
    stack, wh = backfilled.stack, backfilled.wh
    run = backfilled.runs[P2]
    before = tuple(
        wh.execute(
            "SELECT run_id, checksum, loaded_at FROM reconciled.period_load WHERE period_start = %s", (P2.start,)
        ).fetchone()
    )
    daily_before, summary_before = daily(wh, P2), summary(wh, P2)
    cleared_from = stack.clear_run(DAG_ID, run["logical_date"])
    rerun = stack.wait_for_runs(
        DAG_ID, run_ids=[run["run_id"]], count=1, min_clear_number=cleared_from + 1, timeout=180
    )[0]
    return Cleared(run["run_id"], before, daily_before, summary_before, rerun)


def test_clearing_a_backfilled_run_reruns_it_with_identical_content(backfilled, cleared_p2):
    stack, wh = backfilled.stack, backfilled.wh
    assert cleared_p2.before[0] == cleared_p2.run_id
    # Loaded again, and failed again by check_period only (S-LIC's license is still not linked in P2).
    assert cleared_p2.rerun["state"] == "failed", stack.task_states(DAG_ID, cleared_p2.run_id)
    assert not_succeeded(stack.task_states(DAG_ID, cleared_p2.run_id)) == ["check_period"]

    after = wh.execute(
        "SELECT run_id, checksum, loaded_at FROM reconciled.period_load WHERE period_start = %s", (P2.start,)
    ).fetchone()
    assert after[0] == cleared_p2.run_id
    assert after[2] > cleared_p2.before[2], "the period was not loaded again"
    assert after[1] == cleared_p2.before[1], "identical inputs must give an identical period"
    assert daily(wh, P2) == cleared_p2.daily == expected_daily(P2)
    assert summary(wh, P2) == cleared_p2.summary
    audit = wh.execute("SELECT run_id, status FROM reconciled.run_audit WHERE period_start = %s", (P2.start,))
    assert [tuple(r) for r in audit] == [(cleared_p2.run_id, "loaded")]
    # The replaced rows were copied to history, marked with the run that replaced them.
    kept = wh.execute(
        "SELECT count(*) FROM history.daily_attendance WHERE period_start = %s AND superseded_by_run = %s",
        (P2.start, cleared_p2.run_id),
    ).fetchone()[0]
    assert kept == len(cleared_p2.daily)
    # The other periods were not touched.
    for period in (P1, P3):
        assert daily(wh, period) == expected_daily(period)


def test_cleared_rerun_keeps_the_replaced_version_in_period_history(backfilled, cleared_p2):
    versions = backfilled.wh.execute(
        "SELECT run_id, checksum, superseded_at IS NOT NULL, superseded_by_run FROM history.period_version"
        " WHERE period_start = %s ORDER BY loaded_at",
        (P2.start,),
    ).fetchall()
    checksum = cleared_p2.before[1]
    assert [tuple(v) for v in versions] == [
        (cleared_p2.run_id, checksum, True, cleared_p2.run_id),  # the version the rerun replaced
        (cleared_p2.run_id, checksum, False, None),  # the rerun's, current
    ]
