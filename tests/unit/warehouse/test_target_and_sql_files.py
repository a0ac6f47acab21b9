"""Warehouse targets parse every AIRFLOW_CONN_* form; SQL files are safe to run with client-side binding."""

from __future__ import annotations

import re

import pytest
import sqlparse

from ccms_attendance.warehouse.sql_files import query
from ccms_attendance.warehouse.target import LOADER_ROLE, SYNC_ROLE, WarehouseTarget, parse_airflow_conn, role_name


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


def test_no_placeholder_stands_in_a_comment_of_any_sql_file():
    """run_file quotes parameters into the text (client-side binding): a value with a line break
    quoted into a ``--`` comment would end the comment and run as SQL. Comments found by sqlparse's
    lexer, which knows string literals and ``$$`` bodies."""
    from ccms_attendance.paths import SQL_DIR

    placeholder = re.compile(r"%(\(\w+\))?[sbt]")
    for path in sorted((SQL_DIR / "queries").glob("*.sql")):
        comments = [
            token.value
            for statement in sqlparse.parse(path.read_text())
            for token in statement.flatten()
            if token.ttype in sqlparse.tokens.Comment
        ]
        assert comments or path.read_text().lstrip()[:2] != "--", path.name  # the lexer did find them
        bad = [comment.strip() for comment in comments if placeholder.search(comment)]
        assert not bad, f"{path.name}: placeholder in a comment: {bad}"


def test_missing_sql_file_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no SQL file"):
        query("no_such_query")


def test_role_names_are_derived_from_the_database():
    assert role_name("ccms_prod", LOADER_ROLE) == "ccms_prod_loader"
    assert WarehouseTarget(host="h", dbname="ccms_prod").as_role(SYNC_ROLE).user == "ccms_prod_sync"
    # V006's server-wide names are never a database's own: a database called "ccms" gets a hash
    assert role_name("ccms", LOADER_ROLE) != "ccms_loader"
    assert role_name("ccms", LOADER_ROLE).startswith("ccms_")
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    assert len(role_name(long_a, "reporter").encode()) == 63
    assert role_name(long_a, "reporter") != role_name(long_b, "reporter")
    assert len(role_name("é" * 31, "reporter").encode()) <= 63  # cut at whole characters
    with pytest.raises(ValueError, match="role kind"):
        role_name("db", "Loader; DROP")
