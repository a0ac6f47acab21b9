"""Applying a validated drop: every file in ONE transaction, recorded by its digest, applied once.

A drop that was applied already (same digest in ``ref.intake_drop``) changes nothing. Any error
rolls the whole drop back: no table keeps part of it. Entities are written in foreign-key order
(deletions in the reverse order), each through ``write_entity``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from ccms_attendance.intake.contract import BY_NAME, ORDER, ColumnType, Entity, Mode
from ccms_attendance.intake.errors import IntakeError, Problem
from ccms_attendance.intake.read import DropFiles
from ccms_attendance.intake.validate import EntityFrame, parsed_value, records, validate_drop
from ccms_attendance.warehouse.sql_files import fetch_one, run_file


@dataclass(frozen=True)
class ApplyResult:
    drop_name: str
    drop_hash: str
    applied: bool  # False: this digest was applied before; nothing changed
    entities: dict[str, dict[str, int]]  # entity -> {"upserted", "unchanged", "deleted"}
    applied_at: str


def current_keys(conn: psycopg.Connection) -> Callable[[Entity, tuple[str, ...]], set[tuple[str, ...]]]:
    """The validator's view of the warehouse: distinct values of columns of an entity's current rows."""

    def keys(entity: Entity, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
        schema, table = entity.table.split(".")
        fields = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns)
        statement = sql.SQL("SELECT DISTINCT {} FROM {}").format(fields, sql.Identifier(schema, table))
        return {tuple(_canonical_text(entity, columns, row)) for row in conn.execute(statement)}

    return keys


def _canonical_text(entity: Entity, columns: tuple[str, ...], row: tuple) -> list[str]:
    """Key values read back from PostgreSQL in the form a file states them (instants compared as instants)."""
    values = []
    for column, value in zip(columns, row, strict=True):
        if entity.column(column).type is ColumnType.TIMESTAMP and value is not None:
            value = _instant_key(dt.datetime.fromisoformat(value))
        values.append(value)
    return values


def _instant_key(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def typed_rows(entity_frame: EntityFrame, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows with values as PostgreSQL takes them (dates, aware datetimes, int lists)."""
    rows = []
    for _, record in records(frame, entity_frame.entity.column_names):
        rows.append(
            {
                c.name: parsed_value(c.type, value) if (value := record[c.name] or c.default) is not None else None
                for c in entity_frame.entity.columns
            }
        )
    return rows


def apply_drop(conn: psycopg.Connection, drop: DropFiles, now: dt.datetime | None = None) -> ApplyResult:
    """Validate ``drop`` against the warehouse and apply it in one transaction (once per digest)."""
    applied_at = now or dt.datetime.now(dt.UTC)
    with conn.transaction():
        run_file(conn, "intake_lock")
        seen = fetch_one(conn, "intake_drop_applied", {"drop_hash": drop.digest})
        if seen["drop_name"] is not None:
            return ApplyResult(drop.name, drop.digest, False, {}, seen["applied_at"].isoformat())
        # Validated again here, under the lock: the files and the warehouse are what they are now.
        frames = validate_drop(drop, current_keys(conn))
        counts: dict[str, dict[str, int]] = {name: {"upserted": 0, "unchanged": 0, "deleted": 0} for name in frames}
        mode = drop.manifest.mode
        for name in reversed(ORDER):
            if name in frames:
                counts[name]["deleted"] = _delete(conn, frames[name], mode)
        for name in ORDER:
            if name in frames:
                rows = typed_rows(frames[name], frames[name].upserts())
                counts[name]["upserted"] = write_entity(conn, BY_NAME[name], rows, applied_at)
                counts[name]["unchanged"] = len(rows) - counts[name]["upserted"]
        run_file(
            conn,
            "intake_record_drop",
            {
                "drop_hash": drop.digest,
                "drop_name": drop.name,
                "mode": str(mode),
                "exported_at": dt.datetime.fromisoformat(drop.manifest.exported_at),
                "source": drop.manifest.source,
                "entities": json.dumps(counts, sort_keys=True),
                "applied_at": applied_at,
            },
        )
    return ApplyResult(drop.name, drop.digest, True, counts, applied_at.isoformat())


def _delete(conn: psycopg.Connection, entity_frame: EntityFrame, mode: Mode) -> int:
    """Rows the drop removes: a snapshot's rows absent from its file; a change set's ``delete`` rows."""
    entity = entity_frame.entity
    schema, table = entity.table.split(".")
    target = sql.Identifier(schema, table)
    keys = sql.SQL(", ").join(map(sql.Identifier, entity.key))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE intake_keys ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(keys, target)
    )
    listed = entity_frame.frame if mode is Mode.SNAPSHOT else entity_frame.deletes()
    typed = [
        [parsed_value(entity.column(c).type, row[c]) for c in entity.key]
        for _, row in records(listed, list(entity.key))
    ]
    with conn.cursor().copy(sql.SQL("COPY intake_keys ({}) FROM STDIN").format(keys)) as copy:
        for values in typed:
            copy.write_row(values)
    match = sql.SQL(" AND ").join(sql.SQL("k.{0} = t.{0}").format(sql.Identifier(c)) for c in entity.key)
    exists = "NOT EXISTS" if mode is Mode.SNAPSHOT else "EXISTS"
    deleted = conn.execute(
        sql.SQL("DELETE FROM {} AS t WHERE {} (SELECT 1 FROM intake_keys AS k WHERE {})").format(
            target, sql.SQL(exists), match
        )
    ).rowcount
    conn.execute("DROP TABLE intake_keys")
    return deleted


#: Where a table's own unique key differs from the contract's key (before per-version history).
_CONFLICT_KEY = {"manual_entries": ("site_id", "child_id", "attendance_date")}


def write_entity(conn: psycopg.Connection, entity: Entity, rows: list[dict[str, Any]], applied_at: dt.datetime) -> int:
    """Insert new rows, update changed ones (by key); return how many rows changed. Unchanged rows are left alone."""
    if entity.name == "manual_entries":  # the latest entry of a child-day wins
        rows = sorted(rows, key=lambda r: r["entered_at"])
    schema, table = entity.table.split(".")
    conflict = _CONFLICT_KEY.get(entity.name, entity.key)
    columns = entity.column_names
    others = [c for c in columns if c not in conflict]
    statement = sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
        " WHERE ({current}) IS DISTINCT FROM ({incoming})"
    ).format(
        table=sql.Identifier(schema, table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
        conflict=sql.SQL(", ").join(map(sql.Identifier, conflict)),
        sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in others),
        current=sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(table), sql.Identifier(c)) for c in others),
        incoming=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in others),
    )
    changed = 0
    with conn.cursor() as cursor:
        for row in rows:
            cursor.execute(statement, row)
            changed += cursor.rowcount
    return changed


def refuse(drop_name: str, message: str) -> IntakeError:
    return IntakeError([Problem(drop_name, None, None, message)])
