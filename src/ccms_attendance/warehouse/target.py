"""Which PostgreSQL the warehouse lives in, and how to hand it to Airflow and to psycopg.

Precedence: the Airflow connection ``ccms_warehouse`` given as ``AIRFLOW_CONN_CCMS_WAREHOUSE``
wins; otherwise an embedded PostgreSQL (the ``pgserver`` wheel) is started under the project.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg.conninfo import make_conninfo

from ccms_attendance.paths import PROJECT_ROOT

WAREHOUSE_CONN_ID = "ccms_warehouse"
WAREHOUSE_CONN_ENV = "AIRFLOW_CONN_CCMS_WAREHOUSE"
EMBEDDED_PGDATA = PROJECT_ROOT / ".pgdata"
#: The role the DAG connects as (migration V006): writes staging/reconciled/history, reads ref/portal.
LOADER_ROLE = "ccms_loader"
#: The read-only reporting role (migration V006): reads ref/reconciled/history, writes nothing.
REPORTING_ROLE = "ccms_reporter"


@dataclass(frozen=True)
class WarehouseTarget:
    host: str  # a host name, or an absolute socket directory
    dbname: str
    user: str = "postgres"
    password: str | None = None
    port: int | None = None

    @property
    def conninfo(self) -> str:
        """A libpq connection string for psycopg."""
        return make_conninfo(host=self.host, port=self.port, dbname=self.dbname, user=self.user, password=self.password)

    @property
    def airflow_uri(self) -> str:
        """The same target as an Airflow connection URI (socket directories percent-encoded)."""
        credentials = quote(self.user, safe="")
        if self.password:
            credentials += ":" + quote(self.password, safe="")
        port = f":{self.port}" if self.port else ""
        return f"postgresql://{credentials}@{quote(self.host, safe='')}{port}/{quote(self.dbname, safe='')}"

    def with_database(self, dbname: str) -> WarehouseTarget:
        return replace(self, dbname=dbname)

    def as_role(self, user: str, password: str | None = None) -> WarehouseTarget:
        """The same database as another role: migrations run as the owner, the DAG as the loader."""
        return replace(self, user=user, password=password)

    def __str__(self) -> str:  # never print the password
        return f"postgresql://{self.user}@{self.host}{f':{self.port}' if self.port else ''}/{self.dbname}"


#: The machine's own server (CI and the development VM: user postgres, trust authentication).
MACHINE_SERVER = WarehouseTarget(host="127.0.0.1", port=5432, dbname="postgres", user="postgres")


def parse_airflow_conn(value: str) -> WarehouseTarget:
    """Read an ``AIRFLOW_CONN_*`` value in URI or JSON form."""
    value = value.strip()
    if value.startswith("{"):
        data = json.loads(value)
        return WarehouseTarget(
            host=data.get("host") or "localhost",
            dbname=data.get("schema") or "postgres",
            user=data.get("login") or "postgres",
            password=data.get("password"),
            port=int(data["port"]) if data.get("port") else None,
        )
    parts = urlsplit(value)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"{WAREHOUSE_CONN_ENV} must be a postgres connection, got scheme {parts.scheme!r}")
    # urlsplit lower-cases and mangles percent-encoded socket paths in .hostname; decode netloc ourselves.
    netloc = parts.netloc.rsplit("@", 1)
    userinfo, hostport = (netloc[0], netloc[1]) if len(netloc) == 2 else ("", netloc[0])
    user, _, password = userinfo.partition(":")
    host, _, port = hostport.rpartition(":")
    if not port.isdigit():
        host, port = hostport, ""
    return WarehouseTarget(
        host=unquote(host) or "localhost",
        dbname=unquote(parts.path.lstrip("/")) or "postgres",
        user=unquote(user) or "postgres",
        password=unquote(password) or None,
        port=int(port) if port else None,
    )


def answers(target: WarehouseTarget) -> bool:
    """Whether a PostgreSQL accepts a connection at ``target`` (within 3 s)."""
    try:
        with psycopg.connect(target.conninfo, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def configured_target() -> WarehouseTarget | None:
    value = os.environ.get(WAREHOUSE_CONN_ENV)
    return parse_airflow_conn(value) if value else None


def start_embedded(pgdata: Path = EMBEDDED_PGDATA, dbname: str = "ccms_warehouse") -> WarehouseTarget:
    """Start (or reuse) the embedded PostgreSQL under ``pgdata`` and make sure ``dbname`` exists.

    The server is left running after this process exits so Airflow's task processes can use it;
    ``pgserver`` reuses it on the next call.
    """
    import pgserver
    import psycopg

    server = pgserver.get_server(pgdata, cleanup_mode=None)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    admin = WarehouseTarget(host=socket_dir, dbname="postgres")
    with psycopg.connect(admin.conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    return admin.with_database(dbname)
