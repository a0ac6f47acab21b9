"""Versioned, idempotent schema migrations.

Files ``src/ccms_attendance/sql/migrations/V<NNN>__<name>.sql`` are applied in version order, each in its own
transaction, and recorded with a checksum. Re-running applies nothing new; a file edited after it
was applied is refused, because the warehouse would no longer match what the file says.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ccms_attendance.paths import SQL_DIR

MIGRATIONS_DIR = SQL_DIR / "migrations"
_FILE_PATTERN = re.compile(r"^V(?P<version>\d{3})__(?P<name>[a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every process migrating this warehouse.
_MIGRATION_LOCK_KEY = 0x43434D53


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files must be named V<NNN>__<snake_name>.sql")
        migrations.append(Migration(int(match["version"]), match["name"], path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return migrations


def apply_migrations(conninfo: str, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Bring the warehouse at ``conninfo`` up to date; return the versions applied now."""
    applied_now: list[int] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS meta")
            conn.execute(
                """
                CREATE TABLE IF NOT EXISTS meta.schema_migration (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            recorded: dict[int, str] = dict(
                conn.execute("SELECT version, checksum FROM meta.schema_migration").fetchall()
            )
            for migration in discover(directory):
                if migration.version in recorded:
                    if recorded[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"{migration.path.name} changed after it was applied; add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "INSERT INTO meta.schema_migration (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))
    return applied_now
