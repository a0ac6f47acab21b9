"""Shared fixtures: a real PostgreSQL database of its own for every test run.

Which server: ``CCMS_TEST_PG_URL`` (an Airflow-style postgres URI) if set; in CI the machine's
server at 127.0.0.1:5432 (user postgres, trust); locally that same server when it answers, else an
embedded PostgreSQL (``pgserver``) under ``.pgdata-test/``. Each run creates ``ccms_test_<random>``,
applies the migrations, and drops it at the end, so runs never see each other's data.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

_PROJECT = Path(__file__).resolve().parent.parent
# Airflow reads its configuration when first imported: point it at this project (and a throwaway
# home) before any test imports it.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="ccms-airflow-test-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_PROJECT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(_PROJECT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["GX_ANALYTICS_ENABLED"] = "false"

import psycopg
import pytest
from hypothesis import HealthCheck, settings

# Property-based tests are deterministic (derandomized: the same examples every run, in CI too),
# bounded, and keep no example database in the work tree.
settings.register_profile(
    "ccms",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(os.environ.get("CCMS_HYPOTHESIS_EXAMPLES", "150")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("ccms")

from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.warehouse.migrate import apply_migrations
from ccms_attendance.warehouse.target import (
    MACHINE_SERVER,
    WarehouseTarget,
    answers,
    drop_database,
    parse_airflow_conn,
    start_embedded,
)

DATA_SCHEMAS = ("ref", "portal", "staging", "reconciled", "history")


def _admin_target() -> WarehouseTarget:
    if url := os.environ.get("CCMS_TEST_PG_URL"):
        return parse_airflow_conn(url)
    if os.environ.get("CI") == "true" or answers(MACHINE_SERVER):
        return MACHINE_SERVER
    return start_embedded(PROJECT_ROOT / ".pgdata-test", dbname="postgres")


@pytest.fixture(scope="session")
def pg_admin() -> WarehouseTarget:
    target = _admin_target()
    if not answers(target):
        pytest.fail(f"no PostgreSQL answers at {target}; see README 'The two commands'")
    return target


@pytest.fixture(scope="session")
def warehouse(pg_admin: WarehouseTarget) -> Iterator[WarehouseTarget]:
    """A migrated warehouse database private to this test run."""
    dbname = f"ccms_test_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    target = pg_admin.with_database(dbname)
    apply_migrations(target.conninfo)
    yield target
    drop_database(pg_admin.conninfo, dbname)  # and its roles: the server is shared


def truncate_data(conn: psycopg.Connection) -> None:
    tables = conn.execute(
        "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s)",
        (list(DATA_SCHEMAS),),
    ).fetchall()
    if tables:
        conn.execute(f"TRUNCATE {', '.join(t[0] for t in tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
def conn(warehouse: WarehouseTarget) -> Iterator[psycopg.Connection]:
    """An autocommit connection to an emptied warehouse (schema kept, data gone)."""
    with psycopg.connect(warehouse.conninfo, autocommit=True) as connection:
        truncate_data(connection)
        yield connection


_SLOW_FOLDERS = {"integration", "e2e"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration and tests/e2e ``integration`` by its folder, so that
    nobody has to remember it; ``-m "not integration"`` (`make test-fast`) is then unit + dags."""
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        if item.path.resolve().relative_to(tests_dir).parts[0] in _SLOW_FOLDERS:
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter) -> None:
    """Say how many generated cases the property-based tests tried (docs/reliability.md)."""
    from support.hostile_payloads import CASES

    if CASES:
        terminalreporter.write_sep("-", f"hypothesis: {CASES.total()} generated cases tried")
        for name, count in sorted(CASES.items()):
            terminalreporter.write_line(f"  {count:5d}  {name}")
