"""Warehouse targets parse every AIRFLOW_CONN_* form; SQL files split into statements correctly."""

from __future__ import annotations

import pytest

from ccms_attendance.warehouse.sql_files import query, split_statements, statements
from ccms_attendance.warehouse.target import WarehouseTarget, parse_airflow_conn


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/ccms", WarehouseTarget("127.0.0.1", "ccms", port=5432)),
        ("postgres://loader:s%40cret@db.internal/wh", WarehouseTarget("db.internal", "wh", "loader", "s@cret")),
        ("postgresql://postgres@%2Ftmp%2Fpg%20sock/ccms", WarehouseTarget("/tmp/pg sock", "ccms")),
        ('{"conn_type": "postgres", "host": "h", "port": 6432, "schema": "w", "login": "u", "password": "p"}',
         WarehouseTarget("h", "w", "u", "p", 6432)),
    ],
    ids=["uri", "password-escaped", "socket-dir", "json"],
)  # fmt: skip
def test_parse_airflow_conn(value, expected):
    assert parse_airflow_conn(value) == expected
    assert parse_airflow_conn(expected.airflow_uri) == expected  # round trip


def test_non_postgres_connection_is_refused():
    with pytest.raises(ValueError, match="must be a postgres connection"):
        parse_airflow_conn("mysql://root@localhost/db")


def test_printing_a_target_never_shows_the_password():
    target = WarehouseTarget("h", "w", "u", "top-secret")
    assert "top-secret" not in str(target)
    assert "top-secret" in target.conninfo


def test_multi_statement_files_split_into_statements():
    parts = statements("clear_run_staging")
    assert len(parts) == query("clear_run_staging").count(";")
    assert all(part.strip().upper().startswith("DELETE") for part in parts)


def test_a_comment_ending_in_a_semicolon_does_not_cut_a_statement():
    text = (
        "-- Leading comment;\n"
        "SELECT 1\n"
        "  -- a note in the middle that ends like a statement;\n"
        "  FROM t;\n"
        "-- trailing comment between statements;\n"
        "DELETE FROM u\n"
        " WHERE x = %(x)s;\n"
        "-- a comment after the last statement;\n"
    )
    assert split_statements(text) == (
        "SELECT 1\n  -- a note in the middle that ends like a statement;\n  FROM t;",
        "DELETE FROM u\n WHERE x = %(x)s;",
    )


def test_a_last_statement_without_a_semicolon_is_kept():
    assert split_statements("SELECT 1;\nSELECT 2\n") == ("SELECT 1;", "SELECT 2")


def test_every_query_file_splits_into_statements_that_are_not_only_comments():
    from ccms_attendance.paths import SQL_DIR

    for path in sorted((SQL_DIR / "queries").glob("*.sql")):
        for part in statements(path.stem):
            code = [line for line in part.splitlines() if line.strip() and not line.lstrip().startswith("--")]
            assert code, f"{path.name}: a statement with no SQL in it"


def test_missing_sql_file_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no SQL file"):
        query("no_such_query")
