"""Issue 17.2: a failure of the machinery is no verdict on the data; the run fails, nothing loads.

Real steps against a real warehouse and real Great Expectations. (The same through real Airflow
with a session killed during validation: ``tests/e2e/test_faults_warehouse.py``.)
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from support.period_steps import AFTER_DEADLINES, run_ppp_period
from support.portal_state import PortalState

from ccms_attendance.canonical import Source
from ccms_attendance.paths import EXPECTATIONS_DIR
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.extract import extract_ppp
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import UnfinishedInputsError, reconcile_run
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import ValidationCrashError, validate_source
from ccms_attendance.warehouse.sql_files import fetch_one

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
MONDAY = dt.date(2026, 11, 9)


def _run(run_id: str) -> RunContext:
    return RunContext(run_id=run_id, dag_id="ccms_attendance_period", period=PERIOD)


@pytest.fixture
def crashing_suites(tmp_path, monkeypatch):
    """The suites, with one PPP expectation GX cannot evaluate (its column is not in the frame)."""
    folder = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, folder)
    suite = json.loads((folder / "ppp_entries.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "no_such_column"},
            "meta": {},
            "severity": "critical",
        }
    )
    (folder / "ppp_entries.json").write_text(json.dumps(suite))
    monkeypatch.setenv("CCMS_EXPECTATIONS_DIR", str(folder))


def test_an_expectation_gx_cannot_evaluate_is_no_verdict_and_stops_the_run(conn, crashing_suites):
    state = PortalState(PERIOD).site("S-1", "CC-1").submission("S-1", PERIOD.start)
    state.voucher("111", "S-1").absence("S-1", "111", MONDAY).write(conn)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CCMS_EXPECTATIONS_DIR")
        run_ppp_period(conn, _run("run-1"))  # a complete version of the period
    before = fetch_one(conn, "period_checksums", {"period_start": PERIOD.start})

    run = _run("run-2")
    plan_period(conn, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
    extract_ppp(conn, run)
    with pytest.raises(ValidationCrashError, match=r"could not evaluate 1 expectation.*no_such_column"):
        validate_source(conn, run, Source.PPP)
    # Nothing recorded: no result, no quarantine, the site not marked unusable.
    assert conn.execute("SELECT count(*) FROM reconciled.validation_result WHERE run_id = 'run-2'").fetchone()[0] == 0
    assert conn.execute("SELECT outcome FROM staging.site_extract WHERE run_id = 'run-2'").fetchall() == [
        ("retrieved",)
    ]
    with pytest.raises(UnfinishedInputsError, match="PPP: records were never validated"):
        reconcile_run(conn, run)
    assert fetch_one(conn, "period_checksums", {"period_start": PERIOD.start}) == before
    assert conn.execute("SELECT run_id FROM reconciled.period_load").fetchone()[0] == "run-1"
