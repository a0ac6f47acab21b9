"""Schema migrations: versioned, idempotent, and refusing edited history."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from ccms_attendance.warehouse.migrate import MIGRATIONS_DIR, MigrationError, apply_migrations, discover
from ccms_attendance.warehouse.target import drop_database


def _fresh_database(pg_admin, name):
    drop_database(pg_admin.conninfo, name)
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_admin.with_database(name)


@pytest.fixture
def empty_db(pg_admin, request):
    name = f"ccms_migrate_{abs(hash(request.node.name)) % 10**8}"
    target = _fresh_database(pg_admin, name)
    yield target
    drop_database(pg_admin.conninfo, name)  # and its roles (V010)


def test_applies_every_migration_once_then_nothing(empty_db):
    versions = [m.version for m in discover()]
    assert apply_migrations(empty_db.conninfo) == versions
    assert apply_migrations(empty_db.conninfo) == []
    with psycopg.connect(empty_db.conninfo) as conn:
        recorded = [r[0] for r in conn.execute("SELECT version FROM meta.schema_migration ORDER BY version")]
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
    assert recorded == versions
    assert {"ref", "portal", "staging", "reconciled", "meta"} <= schemas


def test_edited_migration_is_refused(empty_db, tmp_path):
    copied = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copied)
    apply_migrations(empty_db.conninfo, copied)
    first = sorted(copied.glob("V001__*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after release\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(empty_db.conninfo, copied)


def test_failed_migration_leaves_nothing_half_applied(empty_db, tmp_path):
    copied = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copied)
    (copied / "V900__broken.sql").write_text("CREATE TABLE ref.half_done (x int);\nSELECT * FROM no_such_table;\n")
    with pytest.raises(psycopg.errors.UndefinedTable):
        apply_migrations(empty_db.conninfo, copied)
    with psycopg.connect(empty_db.conninfo) as conn:
        assert conn.execute("SELECT to_regclass('ref.half_done')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM meta.schema_migration WHERE version = 900").fetchone()[0] == 0


def test_badly_named_file_is_refused(tmp_path):
    (tmp_path / "001_init.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="must be named"):
        discover(tmp_path)
