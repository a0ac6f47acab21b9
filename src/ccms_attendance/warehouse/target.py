"""Which PostgreSQL the warehouse lives in, and how to hand it to Airflow and to psycopg.

Precedence: the Airflow connection ``ccms_warehouse`` given as ``AIRFLOW_CONN_CCMS_WAREHOUSE``
wins; otherwise an embedded PostgreSQL (the ``pgserver`` wheel) is started under the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ccms_attendance.paths import PROJECT_ROOT

WAREHOUSE_CONN_ID = "ccms_warehouse"
WAREHOUSE_CONN_ENV = "AIRFLOW_CONN_CCMS_WAREHOUSE"
EMBEDDED_PGDATA = PROJECT_ROOT / ".pgdata"
# Each warehouse database has roles of its own (migration V010), named by :func:`role_name`; these
# are their kinds. Which privileges each holds: V010 and docs/reliability.md, "Least privilege".
#: The DAG's login (``ccms_warehouse``): the pipeline's writes, history and audit append-only.
LOADER_ROLE = "loader"
#: The read-only reporting login: reads ref/reconciled/history, writes nothing.
REPORTING_ROLE = "reporter"
#: The reference/portal intake's login: INSERT and UPDATE on ref.* and portal.*, nothing else.
SYNC_ROLE = "sync"
#: Every role a migrated database has: the three logins and the NOLOGIN groups holding their rights.
ROLE_KINDS = ("writer", "reader", "intake", LOADER_ROLE, REPORTING_ROLE, SYNC_ROLE)
#: V006's server-wide roles: no database's own role may take one of these names.
LEGACY_ROLES = frozenset({"ccms_writer", "ccms_reader", "ccms_loader", "ccms_reporter"})
_NAME_BYTES = 63  # PostgreSQL's identifier limit (NAMEDATALEN - 1)


def role_name(dbname: str, kind: str) -> str:
    """Database ``dbname``'s role of ``kind``: ``<dbname>_<kind>``, the one rule (SQL: ``meta.ccms_role``).

    When that is longer than 63 bytes or is one of V006's server-wide names (a database called
    ``ccms``), the database name is cut (whole characters) and the first 8 hex digits of its
    SHA-256 added, so that two databases never share a role: ``<cut dbname>_<hash>_<kind>``.
    """
    if not re.fullmatch(r"[a-z]{1,16}", kind):
        raise ValueError(f"role kind must be 1 to 16 lower-case letters, got {kind!r}")
    wanted = f"{dbname}_{kind}"
    if len(wanted.encode()) <= _NAME_BYTES and wanted not in LEGACY_ROLES:
        return wanted
    tail = f"_{hashlib.sha256(dbname.encode()).hexdigest()[:8]}_{kind}"
    cut = dbname
    while len((cut + tail).encode()) > _NAME_BYTES:
        cut = cut[:-1]
    return cut + tail


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

    def as_role(self, kind: str, password: str | None = None) -> WarehouseTarget:
        """The same database as its own role of ``kind`` (:data:`LOADER_ROLE`, ...): migrations run as
        the owner, the DAG as this database's loader."""
        return replace(self, user=role_name(self.dbname, kind), password=password)

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


def drop_database(admin_conninfo: str, dbname: str) -> None:
    """Drop a migrated database and its own roles (V010), so that a server does not collect roles.

    ``admin_conninfo`` connects to another database of the server (its maintenance database) as a
    role allowed to drop both. The database goes first (WITH FORCE ends its sessions; its grants go
    with it); ``DROP OWNED BY`` then clears whatever the roles still hold in that database; a role
    that still holds something in a third database makes ``DROP ROLE`` fail, loudly. Only roles V010
    made for this database (their comment says so) are dropped, never another role of such a name.
    """
    ours = {role_name(dbname, kind): f"ccms-attendance: {kind} of database {dbname}" for kind in ROLE_KINDS}
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        rows = conn.execute(
            "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = ANY(%s)", (list(ours),)
        )
        present = [name for name, comment in rows if comment == ours[name]]
        if present:
            roles = sql.SQL(", ").join(map(sql.Identifier, present))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(roles))
            conn.execute(sql.SQL("DROP ROLE {}").format(roles))
