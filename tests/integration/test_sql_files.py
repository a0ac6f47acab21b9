"""run_file and fetch_one send a whole SQL file in one execute: PostgreSQL parses it, nothing splits it."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from ccms_attendance.warehouse import sql_files
from ccms_attendance.warehouse.sql_files import fetch_one, run_file

DOLLAR_BODY_FILE = """\
-- A comment that ends like a statement;
CREATE TEMP TABLE sql_file_probe (note text, n integer);
CREATE OR REPLACE FUNCTION pg_temp.add_note(t text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    -- a ';' in a body used to cut the file here
    INSERT INTO sql_file_probe VALUES (t || '; done', 3);
    RETURN 1;
END;
$$;
INSERT INTO sql_file_probe VALUES ('a; b', %(n)s), (%(note)s, 2);
/* a block comment; with a semicolon */
SELECT pg_temp.add_note(%(note)s);
SELECT count(*) AS stored, string_agg(note, '|' ORDER BY n) AS notes FROM sql_file_probe
"""

HOSTILE = "it's\n; DROP TABLE ref.site; --$$ %(n)s \\"


@pytest.fixture
def sql_dir(tmp_path, monkeypatch):
    """A queries folder of the test's own files in place of the package's."""
    (tmp_path / "queries").mkdir()
    monkeypatch.setattr(sql_files, "SQL_DIR", tmp_path)
    sql_files.query.cache_clear()
    yield tmp_path / "queries"
    sql_files.query.cache_clear()


def test_a_file_with_a_dollar_quoted_body_and_semicolons_in_strings_runs_whole(conn, sql_dir):
    (sql_dir / "dollar_body.sql").write_text(DOLLAR_BODY_FILE)
    params = {"n": 1, "note": HOSTILE}
    # rows: 2 inserted + 1 returned by add_note (its own insert is inside) + 1 returned by the count
    assert run_file(conn, "dollar_body", params) == 4
    stored = conn.execute("SELECT note, n FROM sql_file_probe ORDER BY n").fetchall()
    assert stored == [("a; b", 1), (HOSTILE, 2), (HOSTILE + "; done", 3)]
    assert conn.execute("SELECT count(*) FROM ref.site").fetchone() == (0,)  # a value is never SQL

    conn.execute("DROP TABLE sql_file_probe")
    # fetch_one reads the last statement's result of a multi-statement file
    assert fetch_one(conn, "dollar_body", params) == {
        "stored": 3,
        "notes": "|".join(["a; b", HOSTILE, HOSTILE + "; done"]),
    }


def test_a_failing_statement_undoes_the_whole_file_on_an_autocommit_connection(conn, sql_dir):
    (sql_dir / "half_fails.sql").write_text(
        "CREATE TABLE IF NOT EXISTS public.sql_file_half (x integer);\n"
        "INSERT INTO public.sql_file_half VALUES (%(x)s);\n"
        "SELECT 1 / 0;\n"
    )
    with pytest.raises(psycopg.errors.DivisionByZero):
        run_file(conn, "half_fails", {"x": 1})
    assert conn.execute("SELECT to_regclass('public.sql_file_half')").fetchone() == (None,)


def test_fetch_one_of_a_single_statement_and_of_no_row(conn, sql_dir):
    (sql_dir / "one.sql").write_text("SELECT %(d)s::date AS day, %(t)s AS label WHERE %(keep)s\n")
    assert fetch_one(conn, "one", {"d": "2026-11-08", "t": "x", "keep": True}) == {
        "day": dt.date(2026, 11, 8),
        "label": "x",
    }
    assert fetch_one(conn, "one", {"d": "2026-11-08", "t": "x", "keep": False}) == {"day": None, "label": None}
