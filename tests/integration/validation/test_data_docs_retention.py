"""Data docs retention against a real warehouse: which run folders the report step deletes."""

from __future__ import annotations

import datetime as dt

from ccms_attendance.paths import run_folder
from ccms_attendance.validation.retention import Retention, prune_data_docs

NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
P1, P2 = dt.date(2026, 10, 25), dt.date(2026, 11, 8)


def _run(conn, root, run_id: str, period: dt.date, days_ago: float) -> None:
    conn.execute(
        "INSERT INTO ref.service_period (period_start, period_end, submission_deadline) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (period, period + dt.timedelta(days=13), period + dt.timedelta(days=27)),
    )
    conn.execute(
        "INSERT INTO reconciled.run_audit (run_id, dag_id, period_start, status, started_at)"
        " VALUES (%s, 'ccms_attendance_period', %s, 'loaded', %s)",
        (run_id, period, NOW - dt.timedelta(days=days_ago)),
    )
    suite = root / period.isoformat() / run_folder(run_id) / "reconciled" / "gx"
    suite.mkdir(parents=True, exist_ok=True)
    (suite / "index.html").write_text("x" * 1000)


def test_keeps_the_newest_runs_the_recent_days_and_current_versions_only(conn, tmp_path):
    root = tmp_path / "data_docs"
    for n, days_ago in enumerate([40, 30, 20, 10, 2, 1]):
        _run(conn, root, f"manual__r{n}", P1 if n < 3 else P2, days_ago)
    # r0 loaded P1's current version: its report links to it, so it stays whatever its age.
    conn.execute(
        "INSERT INTO reconciled.period_load (period_start, run_id, loaded_at, checksum, lifecycle)"
        " VALUES (%s, 'manual__r0', %s, 'c', 'final')",
        (P1, NOW),
    )
    # Another deployment's folder in the same directory: not a run of this warehouse, never touched.
    foreign = root / P2.isoformat() / "scheduled__other_instance" / "ppp_entries"
    foreign.mkdir(parents=True)

    pruned = prune_data_docs(conn, root, Retention(keep_runs=2, keep_days=15), now=NOW)

    left = sorted(p.name for p in root.glob("*/*"))
    # r5, r4: the 2 newest; r3: 10 days old (within 15); r0: current version. r1, r2: removed.
    assert left == ["manual__r0", "manual__r3", "manual__r4", "manual__r5", "scheduled__other_instance"]
    assert sorted(p.name for p in pruned.removed) == ["manual__r1", "manual__r2"]
    assert pruned.kept == 4
    assert pruned.bytes_removed == 2000
    assert pruned.bytes_kept == 4000

    # Nothing more to remove: a second pass changes nothing.
    assert prune_data_docs(conn, root, Retention(keep_runs=2, keep_days=15), now=NOW).removed == []


def test_an_emptied_period_folder_goes_too(conn, tmp_path):
    root = tmp_path / "data_docs"
    _run(conn, root, "manual__old", P1, 100)
    _run(conn, root, "manual__new", P2, 1)

    prune_data_docs(conn, root, Retention(keep_runs=1, keep_days=30), now=NOW)

    assert sorted(p.name for p in root.iterdir()) == [P2.isoformat()]


def test_retention_on_an_object_store_root(conn, tmp_path):
    """The same policy on a bucket (fsspec's memory:// file system through ObjectStoragePath)."""
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    attach("memory", fs=MemoryFileSystem())
    root = ObjectStoragePath(f"memory://ccms-retention-{tmp_path.name}/data_docs")
    _run(conn, root, "manual__old", P1, 100)
    _run(conn, root, "manual__new", P2, 1)

    pruned = prune_data_docs(conn, root, Retention(keep_runs=1, keep_days=30), now=NOW)

    assert [p.name for p in pruned.removed] == ["manual__old"]
    assert (pruned.bytes_removed, pruned.bytes_kept) == (1000, 1000)
    assert [p.name for p in root.glob("*/*")] == ["manual__new"]
