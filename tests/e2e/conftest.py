from __future__ import annotations

import pytest
from support.airflow_runs import PeriodRunner


@pytest.fixture(scope="session")
def period_runner(tmp_path_factory, warehouse) -> PeriodRunner:
    """One Airflow home (SQLite metadata, migrated once) for the whole e2e session."""
    runner = PeriodRunner(airflow_home=tmp_path_factory.mktemp("airflow_home"), warehouse=warehouse)
    runner.prepare()
    return runner
