"""Every `<table>_current` view shows every column of its table.

A view's column list is fixed when it is created: a column added to the table later is missing from
the view until a migration recreates it (V018 did so for ref.provider.email).
"""

from __future__ import annotations

import psycopg

COLUMNS = """
SELECT attname FROM pg_attribute
 WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
"""


def test_every_current_view_shows_every_column_of_its_table(conn: psycopg.Connection) -> None:
    views = conn.execute(
        "SELECT schemaname, viewname FROM pg_views"
        " WHERE viewname LIKE '%%\\_current' AND schemaname IN ('ref', 'portal')"
    ).fetchall()
    assert len(views) >= 5  # sites, vouchers, children, providers, licenses at least
    for schema, view in views:
        table = f"{schema}.{view.removesuffix('_current')}"
        table_columns = {name for (name,) in conn.execute(COLUMNS, (table,))}
        view_columns = {name for (name,) in conn.execute(COLUMNS, (f"{schema}.{view}",))}
        assert table_columns <= view_columns, f"{schema}.{view} lacks {sorted(table_columns - view_columns)}"


def test_the_current_provider_view_gives_the_address(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO ref.provider (provider_id, provider_name, email) VALUES ('P-1', 'Sunrise', 'office@example.org')"
    )
    row = conn.execute("SELECT email FROM ref.provider_current WHERE provider_id = 'P-1'").fetchone()
    assert row == ("office@example.org",)
