"""Applying a validated drop: every file in ONE transaction, recorded by its digest, applied once.

A drop that was applied already (same digest in ``ref.intake_drop``) changes nothing. Any error
rolls the whole drop back: no table keeps part of it. Each entity is written bitemporally by
``warehouse.reference_history.apply_entity_rows`` (docs/history.md): a changed row supersedes the
current one, nothing is updated in place or deleted, and every row of the drop is recorded at one
instant, the drop's ``applied_at`` (so ``as_known_at`` = that instant reads the warehouse as this
drop left it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ccms_attendance.intake.contract import ORDER, Entity, Mode
from ccms_attendance.intake.errors import IntakeError, Problem
from ccms_attendance.intake.read import DropFiles
from ccms_attendance.intake.validate import EntityFrame, parsed_value, records, validate_drop
from ccms_attendance.warehouse import reference_history
from ccms_attendance.warehouse.sql_files import fetch_one, run_file


@dataclass(frozen=True)
class ApplyResult:
    drop_name: str
    drop_hash: str
    applied: bool  # False: this digest was applied before; nothing changed
    entities: dict[str, dict[str, int]]  # entity -> {"inserted", "superseded", "unchanged"}
    applied_at: dt.datetime


def current_keys(conn: psycopg.Connection) -> Callable[[Entity, tuple[str, ...]], set[tuple[str, ...]]]:
    """The validator's view of the warehouse: distinct values of columns of an entity's current rows."""

    def keys(entity: Entity, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
        schema, table = entity.table.split(".")
        fields = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns)
        statement = sql.SQL("SELECT DISTINCT {} FROM {} WHERE superseded_at IS NULL").format(
            fields, sql.Identifier(schema, table)
        )
        return set(conn.execute(statement).fetchall())

    return keys


def history_entity(entity: Entity) -> reference_history.Entity:
    """The contract's entity as the history writer sees it (natural key, valid-time column, values)."""
    version_key = (*entity.natural_key, *((entity.version,) if entity.version else ()))
    values = tuple(c for c in entity.column_names if c not in version_key)
    return reference_history.Entity(entity.table, entity.natural_key, entity.version, values)


def typed_rows(entity_frame: EntityFrame, frame: Any) -> list[dict[str, Any]]:
    """The frame's rows with values as PostgreSQL takes them (dates, aware datetimes, int lists)."""
    columns = entity_frame.entity.columns
    return [
        {c.name: None if record[c.name] is None else parsed_value(c.type, record[c.name]) for c in columns}
        for _, record in records(frame, [c.name for c in columns])
    ]


def apply_drop(conn: psycopg.Connection, drop: DropFiles) -> ApplyResult:
    """Validate ``drop`` against the warehouse and apply it in one transaction (once per digest)."""
    with conn.transaction():
        run_file(conn, "intake_lock")
        seen = fetch_one(conn, "intake_drop_applied", {"drop_hash": drop.digest})
        if seen["drop_name"] is not None:
            return ApplyResult(drop.name, drop.digest, False, {}, seen["applied_at"])
        applied_at = fetch_one(conn, "intake_now")["now"]
        # Validated again here, under the lock: the files and the warehouse are what they are now.
        frames = validate_drop(drop, current_keys(conn))
        counts = {}
        for name in ORDER:
            if name in frames:
                counts[name] = _write(conn, frames[name], drop.manifest.mode, applied_at)
        run_file(
            conn,
            "intake_record_drop",
            {
                "drop_hash": drop.digest,
                "drop_name": drop.name,
                "mode": str(drop.manifest.mode),
                "exported_at": dt.datetime.fromisoformat(drop.manifest.exported_at),
                "source": drop.manifest.source,
                "entities": json.dumps(counts, sort_keys=True),
                "applied_at": applied_at,
            },
        )
    return ApplyResult(drop.name, drop.digest, True, counts, applied_at)


def _write(conn: psycopg.Connection, entity_frame: EntityFrame, mode: Mode, at: dt.datetime) -> dict[str, int]:
    entity = entity_frame.entity
    withdraw = [
        {c: parsed_value(entity.column(c).type, row[c]) for c in entity.natural_key}
        for _, row in records(entity_frame.deletes(), list(entity.natural_key))
    ]
    try:
        result = reference_history.apply_entity_rows(
            conn,
            history_entity(entity),
            typed_rows(entity_frame, entity_frame.upserts()),
            recorded_at=at,
            snapshot=mode is Mode.SNAPSHOT,
            withdraw=withdraw,
        )
    except (reference_history.HistoryWriteError, psycopg.errors.IntegrityError) as error:
        # Validation should have caught it; say which file, never the rows.
        raise IntakeError([Problem(entity_frame.label, None, None, str(error).splitlines()[0][:300])]) from None
    return {"inserted": result.inserted, "superseded": result.superseded, "unchanged": result.unchanged}
