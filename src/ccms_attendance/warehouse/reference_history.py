"""Write reference and portal facts bitemporally: close superseded versions, insert new ones.

The one way anything writes ``ref.*``/``portal.*`` (migration V011, docs/history.md): rows are never
updated in place nor deleted. For one entity (table), the caller gives, per natural key it
mentions, every valid-time version that is now current; :func:`apply_entity_rows` compares them with
the current rows and, at one instant ``recorded_at``:

* keeps a current row whose version is given with the same values (so applying the same rows twice
  changes nothing);
* supersedes (``superseded_at = recorded_at``) a current row whose version is given with other
  values, and inserts the given one;
* supersedes a current row of a mentioned key whose version is not given any more, of a key in
  ``withdraw``, and, for a full ``snapshot``, of every key not mentioned at all;
* inserts versions not there yet.

Runs inside the caller's transaction (a drop applies whole or not at all) and locks the table
against other writers, not readers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Entity:
    """A reference/portal table as a writer sees it."""

    table: str  # schema.table
    key: tuple[str, ...]  # the natural key: what the entity is
    version: str | None  # the valid-time column telling versions of one key apart (None: one version)
    values: tuple[str, ...]  # every other column a writer gives

    @property
    def version_key(self) -> tuple[str, ...]:
        return self.key + ((self.version,) if self.version else ())

    @property
    def columns(self) -> tuple[str, ...]:
        return self.version_key + self.values


ENTITIES: dict[str, Entity] = {
    e.table.split(".")[1]: e
    for e in (
        Entity("ref.provider", ("provider_id",), None, ("provider_name",)),
        Entity(
            "ref.site",
            ("site_id",),
            "valid_from",
            ("valid_until", "provider_id", "site_name", "license_number", "operating_weekdays"),
        ),
        Entity("ref.license_link", ("license_number",), "linked_from", ("linked_until",)),
        Entity("ref.site_closure", ("site_id", "closure_date"), None, ("closure_kind", "reason", "reported_via")),
        Entity("ref.child", ("child_id",), None, ("eligibility_start",)),
        Entity(
            "ref.voucher",
            ("voucher_id",),
            "valid_from",
            (
                "valid_until",
                "child_id",
                "site_id",
                "program",
                "schedule",
                "scheduled_weekdays",
                "authorized_start",
                "authorized_end",
            ),
        ),
        Entity(
            "portal.data_entry_selection", ("site_id", "chosen_at"), None, ("method", "effective_start", "chosen_by")
        ),
        Entity("portal.period_submission", ("site_id", "period_start"), None, ("submitted_at", "submitted_by")),
        Entity(
            "portal.manual_entry",
            ("site_id", "child_id", "attendance_date"),
            None,
            ("day_code", "entered_at", "entered_by"),
        ),
    )
}

#: Valid from "always": the default of ``valid_from`` (V011).
ALWAYS = dt.date(1970, 1, 1)
#: Defaults a writer may leave out (the column defaults of V001/V005/V011).
OPTIONAL_DEFAULTS: dict[str, Any] = {
    "valid_from": ALWAYS,
    "valid_until": None,
    "reason": None,
    "reported_via": "PPP",
    "eligibility_start": None,
    "scheduled_weekdays": None,
    "authorized_end": None,
    "schedule": "full_time",
    "closure_kind": "NP",
    "operating_weekdays": (1, 2, 3, 4, 5),
    "linked_until": None,
    "day_code": "AB",
}


@dataclass(frozen=True)
class ApplyResult:
    inserted: int
    superseded: int
    unchanged: int


class HistoryWriteError(ValueError):
    """The rows cannot be applied as given (nothing of them was written)."""


def apply_entity_rows(
    conn: psycopg.Connection,
    entity: str | Entity,
    rows: Iterable[Mapping[str, Any]],
    *,
    recorded_at: dt.datetime | None = None,
    snapshot: bool = False,
    withdraw: Iterable[Mapping[str, Any]] = (),
) -> ApplyResult:
    """Apply ``rows`` of one entity at ``recorded_at`` (default: the transaction's ``now()``).

    ``rows``: mappings with the entity's columns (``OPTIONAL_DEFAULTS`` may be left out); for each
    natural key they mention, all of its current valid-time versions. ``snapshot``: the rows are
    the whole entity, so every other current key is withdrawn. ``withdraw``: natural keys (mappings
    with the key columns) whose current versions end without a successor.
    """
    spec = ENTITIES[entity] if isinstance(entity, str) else entity
    types = _column_types(conn, spec)
    given = _given_versions(spec, rows, types)
    withdrawn = {tuple(_coerce(k[c], types[c], c) for c in spec.key) for k in withdraw}
    with conn.transaction():
        table = sql.SQL(spec.table)
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(table))
        at = recorded_at or _value(conn, sql.SQL("SELECT now()"))
        latest = _value(conn, sql.SQL("SELECT max(recorded_at) FROM {}").format(table))
        if latest is not None and at < latest:
            raise HistoryWriteError(
                f"{spec.table}: recorded_at {at.isoformat()} is earlier than rows already recorded at "
                f"{latest.isoformat()}; recorded time only moves forward"
            )
        mentioned = {v[: len(spec.key)] for v in given} | withdrawn
        current = _current_rows(conn, spec, None if snapshot else mentioned)
        supersede: list[str] = []
        unchanged = 0
        for ctid, version, values in current:
            if version in given and given[version] == values:
                unchanged += 1
                del given[version]
            elif version in given or snapshot or version[: len(spec.key)] in mentioned:
                supersede.append(ctid)
        if supersede:
            conn.execute(
                sql.SQL("UPDATE {} SET superseded_at = %s WHERE ctid = ANY (%s::tid[])").format(table), (at, supersede)
            )
        if given:
            columns = sql.SQL(", ").join(map(sql.Identifier, (*spec.columns, "recorded_at")))
            marks = sql.SQL(", ").join(sql.Placeholder() * (len(spec.columns) + 1))
            with conn.cursor() as cur:
                cur.executemany(
                    sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(table, columns, marks),
                    [(*version, *(_db_value(v) for v in values), at) for version, values in given.items()],
                )
    return ApplyResult(inserted=len(given), superseded=len(supersede), unchanged=unchanged)


def _value(conn: psycopg.Connection, statement: sql.SQL | sql.Composed) -> Any:
    row = conn.execute(statement).fetchone()
    return None if row is None else row[0]


def _column_types(conn: psycopg.Connection, spec: Entity) -> dict[str, str]:
    schema, name = spec.table.split(".")
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (schema, name),
    ).fetchall()
    return dict(rows)


def _given_versions(spec: Entity, rows: Iterable[Mapping[str, Any]], types: dict[str, str]) -> dict[tuple, tuple]:
    given: dict[tuple, tuple] = {}
    for number, row in enumerate(rows, start=1):
        missing = [c for c in spec.columns if c not in row and c not in OPTIONAL_DEFAULTS]
        if missing:
            raise HistoryWriteError(f"{spec.table}: row {number} has no {', '.join(missing)}")
        full = {c: row.get(c, OPTIONAL_DEFAULTS.get(c)) for c in spec.columns}
        version = tuple(_coerce(full[c], types[c], c) for c in spec.version_key)
        if any(v is None for v in version):
            raise HistoryWriteError(f"{spec.table}: row {number} has an empty key ({', '.join(spec.version_key)})")
        if version in given:
            raise HistoryWriteError(f"{spec.table}: row {number} repeats the key {version}")
        given[version] = tuple(_coerce(full[c], types[c], c) for c in spec.values)
    return given


def _current_rows(conn: psycopg.Connection, spec: Entity, keys: set[tuple] | None) -> list[tuple[str, tuple, tuple]]:
    """(ctid, version key, values) of the current rows, of ``keys`` only unless None."""
    table = sql.SQL(spec.table)
    columns = sql.SQL(", ").join(map(sql.Identifier, spec.columns))
    if keys is None:
        found = conn.execute(
            sql.SQL("SELECT ctid::text, {} FROM {} WHERE superseded_at IS NULL").format(columns, table)
        ).fetchall()
    else:
        if not keys:
            return []
        key_columns = sql.SQL(", ").join(map(sql.Identifier, spec.key))
        conn.execute("DROP TABLE IF EXISTS pg_temp.history_keys")
        conn.execute(
            sql.SQL("CREATE TEMP TABLE history_keys ON COMMIT DROP AS SELECT {} FROM {} LIMIT 0").format(
                key_columns, table
            )
        )
        with conn.cursor().copy(sql.SQL("COPY history_keys ({}) FROM STDIN").format(key_columns)) as copy:
            for key in keys:
                copy.write_row(key)
        join = sql.SQL(" AND ").join(sql.SQL("t.{0} = k.{0}").format(sql.Identifier(c)) for c in spec.key)
        found = conn.execute(
            sql.SQL("SELECT t.ctid::text, {} FROM {} t JOIN history_keys k ON {} WHERE t.superseded_at IS NULL").format(
                sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in spec.columns), table, join
            )
        ).fetchall()
    width = len(spec.version_key)
    types = dict.fromkeys(spec.columns)
    return [
        (
            row[0],
            tuple(_coerce(v, types[c], c) for c, v in zip(spec.version_key, row[1 : 1 + width], strict=True)),
            tuple(_coerce(v, types[c], c) for c, v in zip(spec.values, row[1 + width :], strict=True)),
        )
        for row in found
    ]


def _coerce(value: Any, data_type: str | None, column: str) -> Any:
    """A value as comparable Python: None for any missing marker, dates as dates, instants in UTC,
    arrays as tuples of ints. ``data_type`` None: a value read from the table (already typed)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in {"NaTType", "NAType"}:
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if getattr(value, "ndim", None) == 0:  # numpy scalar
        value = value.item()
    if data_type == "date" and isinstance(value, dt.datetime):
        return value.date()
    if data_type == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if data_type == "timestamp with time zone" and isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise HistoryWriteError(f"{column}: instant {value} has no time zone")
        return value.astimezone(dt.UTC)
    if data_type == "ARRAY" and isinstance(value, str):  # "{1,2,3}" or "1,2,3" (a file's text)
        value = [v for v in value.strip("{}[] ").replace(" ", ",").split(",") if v]
    if data_type == "ARRAY" or isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return tuple(int(v) for v in items)
    return value


def _db_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
