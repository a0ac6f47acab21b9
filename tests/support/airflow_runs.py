"""Run the period DAG for real with ``airflow dags test`` against the test warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ccms_attendance.warehouse.target import LOADER_ROLE, WAREHOUSE_CONN_ENV, WarehouseTarget
from devtools.local_airflow import AirflowCommandError, airflow_env, dags_test, prepare_airflow_home

DAG_ID = "ccms_attendance_period"


@dataclass
class PeriodRunner:
    airflow_home: Path
    warehouse: WarehouseTarget
    extra_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0
    #: The DAG connects as the least-privileged loader role, as in production (migration V006).
    dag_role: str = LOADER_ROLE
    dag_password: str | None = None

    @property
    def dag_warehouse(self) -> WarehouseTarget:
        return self.warehouse.as_role(self.dag_role, self.dag_password)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return airflow_env(
            self.airflow_home,
            {
                WAREHOUSE_CONN_ENV: self.dag_warehouse.airflow_uri,
                # Tests must not wait out production retry delays.
                "CCMS_TASK_RETRIES": "0",
                # Keep the runs' data docs and reports out of the project's build/ folder.
                "CCMS_DATA_DOCS_DIR": str(self.airflow_home / "data_docs"),
                "CCMS_REPORTS_DIR": str(self.airflow_home / "reports"),
                **self.extra_env,
                **(extra or {}),
            },
        )

    def prepare(self) -> None:
        prepare_airflow_home(self.env())

    def run(
        self, day: dt.date, conf: Mapping[str, object] | None = None, *, fails: bool = False, **extra_env: str
    ) -> str:
        """Run the period of ``day``; its output. ``fails``: the run must end failed (the final
        ``check_period`` fails a run with a failed task or a site-period without usable data)."""
        self.runs += 1
        log_file = self.airflow_home / f"dags-test-{self.runs}.log"
        try:
            output = dags_test(self.env(extra_env), DAG_ID, day.isoformat(), conf=conf, log_file=log_file)
        except AirflowCommandError as error:
            if fails and "DagRun failed" in str(error):
                return log_file.read_text()
            raise
        assert not fails, f"the run of {day} was expected to fail, but it succeeded (log: {log_file})"
        return output
