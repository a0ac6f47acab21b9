"""The state warehouse, reached through the Airflow connection ``ccms_warehouse``."""

from __future__ import annotations

import os
from typing import Any

import psycopg
from airflow.providers.postgres.hooks.postgres import PostgresHook

APPLICATION_NAME = "ccms-attendance"


class WarehouseHook(PostgresHook):
    """A :class:`PostgresHook` for the reconciled-attendance warehouse.

    Pipeline steps take a plain psycopg 3 connection; this hook is where it comes from, configured
    from the Airflow connection (``AIRFLOW_CONN_CCMS_WAREHOUSE`` works). Connections are in
    autocommit mode so that every step states its transactions explicitly with
    ``conn.transaction()`` — nothing is left half-committed by an implicit transaction.
    """

    default_conn_name = "ccms_warehouse"
    hook_name = "CCMS attendance warehouse"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("postgres_conn_id", self.default_conn_name)
        super().__init__(*args, **kwargs)

    def connect(self, application_name: str | None = None) -> psycopg.Connection:
        """An autocommit UTC session named ``ccms-attendance pid <N>`` in ``pg_stat_activity``.

        The task process's pid in the name lets an operator (and the fault tests) tell which task
        process holds a session, e.g. the one holding a period's load lock.
        """
        conn = self.get_conn()
        if not isinstance(conn, psycopg.Connection):
            raise TypeError("WarehouseHook needs psycopg 3 (install psycopg[binary] beside SQLAlchemy 2)")
        conn.autocommit = True
        name = application_name or f"{APPLICATION_NAME} pid {os.getpid()}"
        conn.execute("SELECT set_config('application_name', %s, false)", (name,))
        # Instants are compared and stored in UTC whatever the server's default zone. Spelled
        # 'UTC' (not e.g. 'Etc/UTC'): pandas converts the resulting datetimes on a fast path,
        # ~5x faster when reading a period's records.
        conn.execute("SELECT set_config('TimeZone', 'UTC', false)")
        return conn
