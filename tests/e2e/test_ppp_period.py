"""A PPP-only service period end to end through `airflow dags test`, with exact rows, and a rerun."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from support.portal_state import PortalState, at, record_change

from ccms_attendance.paths import EXPECTATIONS_DIR
from ccms_attendance.periods import ServicePeriod
from devtools.local_airflow import AirflowCommandError

pytestmark = pytest.mark.e2e

# Sun..Sat, twice; its submission deadline (2026-11-07) has passed, so the period is final.
PERIOD = ServicePeriod(dt.date(2026, 10, 11), dt.date(2026, 10, 24))
D = {n: dt.date(2026, 10, n) for n in range(11, 25)}
WEEKDAYS = [D[n] for n in (12, 13, 14, 15, 16, 19, 20, 21, 22, 23)]


def build_state() -> PortalState:
    state = PortalState(PERIOD)
    # S-A: PPP, submitted, closed on the 11th; child 1002's voucher ends on the 13th.
    state.site("S-A", "CC-00001-1", provider_id="P-1").submission("S-A", dt.date(2026, 9, 27))
    state.submission("S-A", PERIOD.start).closure("S-A", D[14])
    state.voucher("1001", "S-A").voucher("1002", "S-A", program="OMW", end=D[16])
    state.absence("S-A", "1001", D[13]).absence("S-A", "1001", D[20])
    state.absence("S-A", "1002", D[15])
    state.absence("S-A", "1002", D[21])  # after the voucher ended
    state.absence("S-A", "1001", D[17])  # a Saturday
    state.absence("S-A", "9999", D[12])  # a child with no voucher at all
    # S-B: PPP, same provider, has not submitted this period yet.
    state.site("S-B", "CC-00002-2", provider_id="P-1").submission("S-B", dt.date(2026, 9, 27))
    state.voucher("2001", "S-B").absence("S-B", "2001", D[12])
    # S-C: chose brightwheel before ever submitting a period in the portal -> PPP governs.
    state.site("S-C", "CC-00003-3", provider_id="P-2")
    state.selection("S-C", "BRIGHTWHEEL", dt.date(2026, 9, 27), chosen_at=at(dt.date(2026, 9, 3)))
    state.submission("S-C", PERIOD.start, submitted_at=at(dt.date(2026, 10, 26)))
    state.voucher("3001", "S-C")
    return state


def _rows(conn, sql):
    return [tuple(r) for r in conn.execute(sql, {"p": PERIOD.start}).fetchall()]


def _expected_daily():
    rows = []
    for day in WEEKDAYS:
        status = "closed" if day == D[14] else "absent" if day in (D[13], D[20]) else "present"
        rows.append(("S-A", "1001", day, status))
    for day in (D[12], D[13], D[14], D[15], D[16]):
        rows.append(("S-A", "1002", day, "closed" if day == D[14] else "absent" if day == D[15] else "present"))
    # S-B never submitted the period: every day pending, the typed absence included (not final).
    rows += [("S-B", "2001", day, "pending") for day in WEEKDAYS]
    rows += [("S-C", "3001", day, "present") for day in WEEKDAYS]
    return sorted(rows)


def test_ppp_period_loads_exact_rows_and_rerun_is_identical(conn, period_runner):
    build_state().write(conn)

    period_runner.run(D[13])

    daily = _rows(
        conn,
        "SELECT site_id, child_id, attendance_date, status FROM reconciled.daily_attendance"
        " WHERE period_start = %(p)s ORDER BY 1, 2, 3",
    )
    assert daily == _expected_daily()
    lineage = _rows(
        conn,
        "SELECT DISTINCT status, basis, source, source_record_id IS NOT NULL FROM reconciled.daily_attendance"
        " WHERE period_start = %(p)s ORDER BY 1, 2",
    )
    assert lineage == [
        ("absent", "recorded", "PPP", True),
        ("closed", "site_closure", "PPP", False),  # the closure on the 14th: PC for both children
        ("pending", "not_submitted", "PPP", False),
        ("pending", "not_submitted", "PPP", True),  # S-B's typed absence keeps its lineage
        ("present", "no_absence_entry", "PPP", False),
    ]
    summary = _rows(
        conn,
        "SELECT site_id, child_id, operating_days, enrolled_days, absent_days, absence_rate::float, source, complete"
        " FROM reconciled.absence_summary WHERE period_start = %(p)s ORDER BY 1, 2",
    )
    assert summary == [
        ("S-A", "1001", 9, 9, 2, 0.2222, "PPP", True),
        ("S-A", "1002", 9, 4, 1, 0.25, "PPP", True),
        ("S-B", "2001", 10, 10, 0, 0.0, "PPP", False),
        ("S-C", "3001", 10, 10, 0, 0.0, "PPP", True),
    ]
    site_period = _rows(
        conn,
        "SELECT site_id, governing_source, selected_method, complete, incomplete_reason"
        " FROM reconciled.site_period WHERE period_start = %(p)s ORDER BY 1",
    )
    assert site_period == [
        ("S-A", "PPP", "PPP", True, None),
        (
            "S-B",
            "PPP",
            "PPP",
            False,
            "period not submitted in the portal by the deadline 2026-11-07; its days are pending",
        ),
        ("S-C", "PPP", "BRIGHTWHEEL", True, None),
    ]
    exceptions = _rows(
        conn,
        "SELECT kind, severity, site_id, child_id, attendance_date FROM reconciled.exception"
        " WHERE period_start = %(p)s ORDER BY 1, 3",
    )
    assert exceptions == [
        ("absence_for_unenrolled_child", "warning", "S-A", "1002", D[21]),
        ("ccms_before_first_submission", "warning", "S-C", None, None),
        ("portal_entry_unknown_child", "warning", "S-A", None, D[12]),  # 9999: named by entry, not by id
        ("record_on_non_operating_day", "warning", "S-A", "1001", D[17]),
        ("site_period_incomplete", "warning", "S-B", None, None),
    ]
    # The child without a voucher left no trace anywhere the pipeline writes.
    for schema_table in ("staging.source_record", "reconciled.daily_attendance", "reconciled.exception",
                         "reconciled.quarantine", "reconciled.absence_summary"):  # fmt: skip
        assert conn.execute(f"SELECT count(*) FROM {schema_table} WHERE child_id = '9999'").fetchone()[0] == 0

    first = conn.execute(
        "SELECT run_id, checksum FROM reconciled.period_load WHERE period_start = %s", (PERIOD.start,)
    ).fetchone()

    # Rerun the same period (a manual trigger for another day inside it): identical results.
    period_runner.run(D[22])

    second = conn.execute(
        "SELECT run_id, checksum FROM reconciled.period_load WHERE period_start = %s", (PERIOD.start,)
    ).fetchone()
    assert second[0] != first[0]
    assert second[1] == first[1]
    assert (
        _rows(
            conn,
            "SELECT site_id, child_id, attendance_date, status FROM reconciled.daily_attendance"
            " WHERE period_start = %(p)s ORDER BY 1, 2, 3",
        )
        == _expected_daily()
    )
    audits = _rows(
        conn,
        "SELECT status, checksums->>'daily_attendance', checksums->>'exception', counts->>'daily_rows'"
        " FROM reconciled.run_audit WHERE period_start = %(p)s ORDER BY started_at",
    )
    assert len(audits) == 2
    # The first version is kept in history, superseded by the rerun.
    versions = _rows(
        conn,
        "SELECT run_id, superseded_by_run, loaded_by FROM history.period_version"
        " WHERE period_start = %(p)s ORDER BY loaded_at",
    )
    assert versions == [(first[0], second[0], "dag_test"), (second[0], None, "dag_test")]  # `dags test` user
    kept = conn.execute(
        "SELECT site_id, child_id, attendance_date, status FROM history.daily_attendance"
        " WHERE period_start = %s AND run_id = %s AND superseded_by_run = %s ORDER BY 1, 2, 3",
        (PERIOD.start, first[0], second[0]),
    ).fetchall()
    assert kept == _expected_daily()
    assert audits[0] == audits[1]
    assert audits[0][0] == "loaded"
    assert audits[0][3] == str(len(_expected_daily()))


def test_a_run_limited_by_params_replaces_only_its_sites(conn, period_runner):
    build_state().write(conn)
    period_runner.run(D[13])
    conn.execute("DELETE FROM portal.manual_entry WHERE site_id IN ('S-A', 'S-C')")  # corrections in the portal

    period_runner.run(D[13], conf={"sites": ["S-A"]})

    absences = _rows(
        conn,
        "SELECT site_id, count(*) FILTER (WHERE status = 'absent'), count(DISTINCT run_id)"
        " FROM reconciled.daily_attendance WHERE period_start = %(p)s GROUP BY 1 ORDER BY 1",
    )
    assert absences == [("S-A", 0, 1), ("S-B", 0, 1), ("S-C", 0, 1)]  # S-A rerun without absences
    loaded_by = dict(
        _rows(conn, "SELECT DISTINCT site_id, run_id FROM reconciled.daily_attendance WHERE period_start = %(p)s")
    )
    assert loaded_by["S-A"] != loaded_by["S-B"] == loaded_by["S-C"]  # only S-A was replaced
    scope = _rows(conn, "SELECT scope FROM reconciled.run_audit WHERE period_start = %(p)s ORDER BY started_at")
    assert scope[-1][0] == {"sites": ["S-A"], "sources": []}


def test_params_naming_an_unknown_site_fail_the_run_before_anything_loads(conn, period_runner):
    build_state().write(conn)
    with pytest.raises(AirflowCommandError, match="DagRun failed"):
        period_runner.run(D[13], conf={"sites": ["S-NOPE"]})
    log = (period_runner.airflow_home / f"dags-test-{period_runner.runs}.log").read_text()
    assert "Params 'sites' names unknown site ids: S-NOPE" in log
    assert "the plan_period task has not completed" in log  # reconcile refuses to work without a plan
    assert _rows(conn, "SELECT count(*) FROM reconciled.daily_attendance WHERE period_start = %(p)s") == [(0,)]


def test_the_as_known_at_param_reproduces_an_earlier_load_after_a_correction(conn, period_runner):
    state = build_state()
    state.write(conn)
    period_runner.run(D[13])
    first_checksum, first_known = conn.execute(
        "SELECT checksums->>'daily_attendance', as_known_at FROM reconciled.run_audit WHERE period_start = %s",
        (PERIOD.start,),
    ).fetchone()

    # Later, the state corrects child 1001's voucher: it ended on the 16th.
    voucher = state.rows_of("ref.voucher", child_id="1001")[0]
    record_change(conn, "voucher", [voucher | {"authorized_end": D[16]}])
    period_runner.run(D[13])
    period_runner.run(D[13], conf={"as_known_at": first_known.isoformat()})

    audits = _rows(
        conn,
        "SELECT checksums->>'daily_attendance', as_known_at FROM reconciled.run_audit"
        " WHERE period_start = %(p)s ORDER BY started_at",
    )
    assert [checksum for checksum, _ in audits] == [first_checksum, audits[1][0], first_checksum]
    assert audits[1][0] != first_checksum  # the correction changed the period
    assert audits[2][1] == first_known  # recorded: this run read the data as known then
    assert audits[1][1] > first_known


def test_a_source_that_breaks_its_suite_fails_validate_by_name_and_loads_no_absence(conn, period_runner, tmp_path):
    build_state().write(conn)
    folder = tmp_path / "expectations"  # the PPP suite with a critical table-level expectation that fails
    shutil.copytree(EXPECTATIONS_DIR, folder)
    suite = json.loads((folder / "ppp_entries.json").read_text())
    impossible = {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 0}, "meta": {}}
    suite["expectations"].append({**impossible, "severity": "critical"})
    (folder / "ppp_entries.json").write_text(json.dumps(suite))

    log = period_runner.run(D[13], fails=True, CCMS_EXPECTATIONS_DIR=str(folder))

    # The validate task failed, naming the source, its suite and the expectation; the run went on.
    failed = [line for line in log.splitlines() if "CCMS attendance step failed: validate" in line]
    assert len(failed) == 1
    assert "PPP: GX suite 'ppp_entries' failed 1 critical expectation(s)" in failed[0]
    assert "- expect_table_row_count_to_be_between(max_value=0) [critical]" in log
    # A data verdict: recorded, the sites incomplete, the run reconciled and loaded without an absence.
    verdicts = _rows(conn, "SELECT suite_name, success FROM reconciled.validation_result ORDER BY 1")
    assert verdicts[0] == ("ppp_entries", False)
    assert [suite for suite, _ in verdicts[1:]] == ["reconciled_absence_summary", "reconciled_daily_attendance"]
    reasons = dict(_rows(conn, "SELECT site_id, incomplete_reason FROM reconciled.site_period"))
    assert "failed validation" in reasons["S-A"]
    assert "failed validation" in reasons["S-C"]
    assert _rows(conn, "SELECT count(*) FROM reconciled.daily_attendance WHERE status = 'absent'") == [(0,)]
    assert _rows(conn, "SELECT status FROM reconciled.run_audit WHERE period_start = %(p)s") == [("loaded",)]
