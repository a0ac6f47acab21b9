"""Roles are scoped to one database (migration V010): a second migrated database on the same server
has roles of its own, and neither's logins can connect to (let alone write into) the other.

These tests create databases of their own and drop them with their roles (``drop_database``), so a
shared server does not collect roles; they judge only roles they created.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from ccms_attendance.warehouse.migrate import MIGRATIONS_DIR, apply_migrations
from ccms_attendance.warehouse.target import (
    LOADER_ROLE,
    REPORTING_ROLE,
    ROLE_KINDS,
    SYNC_ROLE,
    drop_database,
    role_name,
)

LOGINS = (LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE)


def _roles_of(admin: psycopg.Connection, dbname: str) -> list[str]:
    names = [role_name(dbname, kind) for kind in ROLE_KINDS]
    return [r[0] for r in admin.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (names,))]


@pytest.fixture
def second(pg_admin):
    """Another migrated database on the same server, dropped with its roles afterwards."""
    dbname = f"ccms_scope_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    target = pg_admin.with_database(dbname)
    try:
        apply_migrations(target.conninfo)
        yield target
    finally:
        drop_database(pg_admin.conninfo, dbname)


def test_a_second_databases_logins_cannot_connect_to_the_first(warehouse, second):
    for kind in LOGINS:
        # each login works in its own database ...
        with psycopg.connect(second.as_role(kind).conninfo):
            pass
        with psycopg.connect(warehouse.as_role(kind).conninfo):
            pass
        # ... and is refused by the other one, both ways
        for own, other in ((second, warehouse), (warehouse, second)):
            stranger = other.as_role(kind).with_database(own.dbname)  # other's role, own's database
            assert stranger.user == role_name(other.dbname, kind) != own.as_role(kind).user
            with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
                psycopg.connect(stranger.conninfo, connect_timeout=5)
    # V006's server-wide login connects to neither
    for target in (warehouse, second):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(dataclasses.replace(target, user="ccms_loader").conninfo, connect_timeout=5)


def test_a_second_databases_loader_holds_no_privilege_in_the_first(conn, second):
    """Even if it could connect: nothing in the first database is granted to the second's roles."""
    for kind in ROLE_KINDS:
        role = role_name(second.dbname, kind)
        assert not conn.execute("SELECT has_database_privilege(%s, current_database(), 'CONNECT')", (role,)).fetchone()[
            0
        ]
        granted = conn.execute(
            "SELECT count(*) FROM pg_tables t, unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p"
            " WHERE t.schemaname IN ('ref', 'portal', 'staging', 'reconciled', 'history', 'meta')"
            "   AND has_table_privilege(%s, format('%%I.%%I', t.schemaname, t.tablename), p)",
            (role,),
        ).fetchone()[0]
        assert granted == 0, role


def test_dropping_a_database_drops_its_roles(pg_admin):
    dbname = f"ccms_scope_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
        try:
            apply_migrations(pg_admin.with_database(dbname).conninfo)
            assert len(_roles_of(admin, dbname)) == len(ROLE_KINDS)
        finally:
            drop_database(pg_admin.conninfo, dbname)
        assert _roles_of(admin, dbname) == []
        assert admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (dbname,)).fetchone()[0] == 0


def test_a_role_of_the_derived_name_that_is_not_ours_is_refused(pg_admin):
    """A role that happens to have this database's loader name (an administrator's own) is not
    granted the database: the migration fails and grants nothing."""
    dbname = f"ccms_scope_{secrets.token_hex(4)}"
    squatter = role_name(dbname, LOADER_ROLE)
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
        admin.execute(f'CREATE ROLE "{squatter}" LOGIN')
        try:
            with pytest.raises(psycopg.errors.RaiseException, match="is not this database's loader"):
                apply_migrations(pg_admin.with_database(dbname).conninfo)
            with psycopg.connect(pg_admin.with_database(dbname).conninfo) as conn:
                assert conn.execute("SELECT max(version) FROM meta.schema_migration").fetchone()[0] == 9
            assert _roles_of(admin, dbname) == [squatter]  # V010 rolled back whole: no other role made
        finally:
            drop_database(pg_admin.conninfo, dbname)
            assert _roles_of(admin, dbname) == [squatter]  # not ours: drop_database leaves it alone
            admin.execute(f'DROP ROLE "{squatter}"')  # this test created it


def test_role_migrations_are_safe_in_several_databases_at_once(pg_admin, tmp_path):
    """V006's server-wide roles and V010's per-database ones, applied to fresh databases concurrently.

    A copy of the migrations with V006's role names unique to this test makes those roles really
    new, so the CREATE ROLE / GRANT race is exercised (the real names exist already on a shared
    server).
    """
    suffix = secrets.token_hex(3)
    legacy = ("ccms_writer", "ccms_reader", "ccms_loader", "ccms_reporter")
    copied = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copied)
    v006 = copied / "V006__roles.sql"
    text = v006.read_text()
    for name in legacy:
        text = text.replace(name, f"{name}_{suffix}")
    v006.write_text(text)
    databases = [f"ccms_roles_{suffix}_{n}" for n in range(3)]
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as admin:
        for db in databases:
            admin.execute(f'CREATE DATABASE "{db}"')
        try:
            with ThreadPoolExecutor(len(databases)) as pool:
                applied = list(
                    pool.map(lambda db: apply_migrations(pg_admin.with_database(db).conninfo, copied), databases)
                )
            assert all({6, 10} <= set(versions) for versions in applied), applied
            created = admin.execute(
                "SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", ([f"{n}_{suffix}" for n in legacy],)
            ).fetchone()[0]
            assert created == len(legacy)
            assert all(len(_roles_of(admin, db)) == len(ROLE_KINDS) for db in databases)
        finally:
            for db in databases:
                drop_database(pg_admin.conninfo, db)
            for name in legacy:
                admin.execute(f'DROP ROLE IF EXISTS "{name}_{suffix}"')
