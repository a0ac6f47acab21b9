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
from devtools.demo.drop import SAMPLE_DROP_ROOT

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
