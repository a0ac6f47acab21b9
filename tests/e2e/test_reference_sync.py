"""Issue 16: the real ccms_reference_sync DAG loads a drop, and a period run uses what it loaded.

`airflow dags test ccms_reference_sync` applies a snapshot drop (written from a PortalState, the
way the demo writes its own); the period run codes the dropped absences. A later change set that
ends a voucher earlier is applied by the DAG too, and the rerun of the same past period drops the
child's days after the new end — the production path end to end.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.intake_drops import change_set, read_rows, run_sync
from support.portal_state import PortalState

from ccms_attendance.periods import ServicePeriod
from devtools.demo.drop import write_drop
from devtools.demo.state import GeneratedState

pytestmark = pytest.mark.e2e

PERIOD = ServicePeriod(dt.date(2026, 10, 11), dt.date(2026, 10, 24))  # final: its deadline has passed
D = {n: dt.date(2026, 10, n) for n in range(11, 25)}
WEEKDAYS = [D[n] for n in (12, 13, 14, 15, 16, 19, 20, 21, 22, 23)]


def _state() -> GeneratedState:
    state = PortalState(PERIOD)
    state.site("S-A", "CC-00001-1", provider_id="P-1").submission("S-A", dt.date(2026, 9, 27))
    state.submission("S-A", PERIOD.start)
    state.voucher("1001", "S-A", voucher_id="V-1001").voucher("1002", "S-A", voucher_id="V-1002", program="OMW")
    state.absence("S-A", "1001", D[13]).absence("S-A", "1002", D[20])
    return state.generated()


def _daily(conn, child_id: str) -> dict[dt.date, str]:
    rows = conn.execute(
        "SELECT attendance_date, status FROM reconciled.daily_attendance WHERE period_start = %s AND child_id = %s",
        (PERIOD.start, child_id),
    ).fetchall()
    return dict(rows)


def test_a_drop_loaded_by_the_sync_dag_is_what_the_period_run_uses(conn, period_runner, tmp_path):
    drops = tmp_path / "drops"
    first = write_drop(_state(), drops)
    run_sync(period_runner, drops, "2026-12-01")
    recorded = conn.execute("SELECT drop_name, mode FROM ref.intake_drop").fetchall()
    assert recorded == [(first.name, "snapshot")]
    assert conn.execute("SELECT count(*) FROM ref.voucher").fetchone()[0] == 2
    # The sync analyzed what it wrote (V019; never analyzed, reltuples would be -1).
    analyzed = "SELECT reltuples FROM pg_class WHERE oid = %s::regclass"
    assert conn.execute(analyzed, ("ref.voucher",)).fetchone() == (2,)

    period_runner.run(D[14])  # a day inside the period (its first day is UTC midnight, the day before locally)
    child = _daily(conn, "1001")
    assert sorted(child) == WEEKDAYS
    assert child[D[13]] == "absent"
    assert _daily(conn, "1002")[D[20]] == "absent"

    # A later change set ends 1001's voucher on the 16th; the sync applies it, the rerun uses it.
    voucher = next(v for v in read_rows(first, "vouchers") if v["voucher_id"] == "V-1001")
    change_set(drops, "20261202T120000Z-changes", {"vouchers": [{**voucher, "authorized_end": "2026-10-16"}]},
               "2026-12-02T07:00:00-05:00")  # fmt: skip
    run_sync(period_runner, drops, "2026-12-02")
    assert conn.execute("SELECT count(*) FROM ref.intake_drop").fetchone()[0] == 2
    period_runner.run(D[14])  # a day inside the period (its first day is UTC midnight, the day before locally)
    assert sorted(_daily(conn, "1001")) == [d for d in WEEKDAYS if d <= D[16]]
    assert _daily(conn, "1002")[D[20]] == "absent"  # the other child is untouched

    # Nothing new: the DAG finds no pending drop, skips validate/apply, changes nothing.
    before = conn.execute("SELECT count(*), max(applied_at) FROM ref.intake_drop").fetchone()
    run_sync(period_runner, drops, "2026-12-03")
    assert conn.execute("SELECT count(*), max(applied_at) FROM ref.intake_drop").fetchone() == before
