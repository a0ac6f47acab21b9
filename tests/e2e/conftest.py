from __future__ import annotations

import json

import pytest
from support.airflow_runs import PeriodRunner

from devtools.vendor_sandboxes import launch


@pytest.fixture(scope="session")
def sandbox_fleet(tmp_path_factory):
    """The three vendor sandboxes as real processes, for the whole e2e session (tests load scenarios)."""
    folder = tmp_path_factory.mktemp("sandboxes")
    empty = folder / "empty-scenario.json"
    empty.write_text(json.dumps({"sites": []}))
    with launch(empty, state_dir=folder) as fleet:
        yield fleet


@pytest.fixture(scope="session")
def period_runner(tmp_path_factory, warehouse, sandbox_fleet) -> PeriodRunner:
    """One Airflow home (SQLite metadata, migrated once) whose vendor connections point at the sandboxes."""
    vendor_env = sandbox_fleet.airflow_conn_env({"max_attempts": 2, "backoff_base_seconds": 0.1})
    runner = PeriodRunner(
        airflow_home=tmp_path_factory.mktemp("airflow_home"), warehouse=warehouse, extra_env=vendor_env
    )
    runner.prepare()
    return runner
