"""Drops for tests: the demo's sample drop copied to a folder, then changed file by file."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import psycopg

from ccms_attendance.intake.contract import ENTITIES
from ccms_attendance.intake.read import open_drop, storage_path
from ccms_attendance.intake.tasks import LOCATION_ENV
from ccms_attendance.warehouse.target import SYNC_ROLE
from devtools.demo.drop import SAMPLE_DROP_ROOT
from devtools.local_airflow import dags_test

SAMPLE_DROP = next(p for p in sorted(SAMPLE_DROP_ROOT.iterdir()) if p.is_dir())


def copy_sample(root: Path, name: str | None = None) -> Path:
    target = root / (name or SAMPLE_DROP.name)
    shutil.copytree(SAMPLE_DROP, target)
    return target


def read_rows(folder: Path, entity: str) -> list[dict[str, str]]:
    with (folder / f"{entity}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(folder: Path, entity: str, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    header = header or list(rows[0])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    (folder / f"{entity}.csv").write_text(buffer.getvalue())


def change_set(root: Path, name: str, files: dict[str, list[dict[str, str]]], exported_at: str) -> Path:
    """A change-set drop holding ``files`` (entity -> rows)."""
    folder = root / name
    folder.mkdir(parents=True)
    for entity, rows in files.items():
        write_rows(folder, entity, rows)
    manifest = {"mode": "changes", "entities": list(files), "exported_at": exported_at}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def opened(folder: Path):
    return open_drop(storage_path(str(folder)))


def table_state(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Every row of every contract table and of ref.intake_drop, sorted: equal states compare equal."""
    state = {}
    for table in [e.table for e in ENTITIES] + ["ref.intake_drop"]:
        rows = conn.execute(f"SELECT * FROM {table}").fetchall()  # table names come from the contract
        state[table] = sorted(map(repr, rows))
    return state


def run_sync(period_runner, drops: Path, logical_date: str) -> str:
    """One real ``airflow dags test ccms_reference_sync`` over the drops under ``drops``; its output.

    ``logical_date`` names the run: each call of a session needs its own (the Airflow home is shared),
    after the DAG's start date (2026-01-04 05:00 UTC; before it the run "succeeds" without running a task).
    """
    env = period_runner.env(
        {
            LOCATION_ENV: str(drops),
            # The sync writes ref/portal as this database's <db>_sync role (docs/intake.md, "Connection").
            "AIRFLOW_CONN_CCMS_REFERENCE_SYNC": period_runner.warehouse.as_role(SYNC_ROLE).airflow_uri,
        }
    )
    log_file = period_runner.airflow_home / f"sync-{logical_date.replace(':', '')}.log"
    return dags_test(env, "ccms_reference_sync", logical_date, log_file=log_file)
