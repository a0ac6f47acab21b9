"""Data docs retention: keep the data docs of the last N runs or of the last D days, no more.

Each run writes ``<data docs root>/<period start>/<run folder>/`` (one folder per suite inside). The
``report`` task calls :func:`prune_data_docs` once its report is written: a run's folder is deleted
when the run is neither one of the ``keep_runs`` newest runs nor started within ``keep_days`` days.
The runs that loaded a period's current version are always kept (that period's latest report links
to their data docs). Only runs this warehouse recorded (``reconciled.run_audit``) are considered:
folders of any other deployment sharing the directory are never touched. The root is the configured
one (:mod:`ccms_attendance.artifact_store`: a local folder or a bucket), read and deleted through
``ObjectStoragePath``. Settings: ``[data_docs]`` in ``config/pipeline.toml``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import dict_row

from ccms_attendance.artifact_store import as_store_path, data_docs_root, folder_bytes, remove_folder
from ccms_attendance.paths import run_folder
from ccms_attendance.periods import load_pipeline_config
from ccms_attendance.warehouse.sql_files import query

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    keep_runs: int  # the newest N runs' data docs are kept
    keep_days: int  # and those of every run started within D days


@dataclass
class Pruned:
    removed: list[ObjectStoragePath] = field(default_factory=list)
    kept: int = 0
    bytes_removed: int = 0
    bytes_kept: int = 0


def retention_policy() -> Retention:
    section = load_pipeline_config().get("data_docs", {})
    return Retention(keep_runs=int(section.get("keep_runs", 20)), keep_days=int(section.get("keep_days", 90)))


def prune_data_docs(
    conn: psycopg.Connection,
    root: ObjectStoragePath | Path | str | None = None,
    policy: Retention | None = None,
    now: dt.datetime | None = None,
) -> Pruned:
    """Delete the data docs folders the policy does not keep; what was removed and what is left."""
    store = as_store_path(root) if root is not None else data_docs_root()
    policy = policy or retention_policy()
    now = now or dt.datetime.now(dt.UTC)
    with conn.cursor(row_factory=dict_row) as cursor:
        runs = cursor.execute(query("data_docs_runs")).fetchall()
    result = Pruned()
    newest = 0
    for run in runs:
        folder = store / run["period_start"].isoformat() / run_folder(run["run_id"])
        if not folder.is_dir():
            continue
        newest += 1
        recent = run["started_at"] >= now - dt.timedelta(days=policy.keep_days)
        size = folder_bytes(folder)
        if newest <= policy.keep_runs or recent or run["is_current"]:
            result.kept += 1
            result.bytes_kept += size
            continue
        remove_folder(folder)  # and its period's folder, once empty
        result.removed.append(folder)
        result.bytes_removed += size
    log.info(
        "Data docs retention (keep %d runs or %d days, and every current version): removed %d run folder(s), "
        "%.1f MB; %d kept, %.1f MB",
        policy.keep_runs,
        policy.keep_days,
        len(result.removed),
        result.bytes_removed / 1e6,
        result.kept,
        result.bytes_kept / 1e6,
    )
    return result
