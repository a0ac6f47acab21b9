"""The floor: what the same work costs with nothing but a bare HTTP client and a bare COPY.

The pipeline's figures mean little alone; the floor says what is physically necessary on this
machine for the same data in the same run:

* **fetch** — the same pages from the same sandboxes, sequentially (as ``airflow dags test`` runs the
  extract tasks), with one ``requests.Session`` per vendor: authenticate once, then for every site
  the plan called, read its submission marker and page through its records exactly as the contract
  says (same page size, same paging), JSON decode each page and count its items (marker entries
  are not items). No retries, no parsing into records, no staging.
* **copy** — the canonical rows the pipeline wrote (its staged source records and the reconciled
  period rows), taken from the warehouse as COPY text beforehand and COPYed back into empty tables
  of the same definition (``bench_floor.*``, indexes included), one statement per table.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import psycopg
import requests
from psycopg import sql

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.warehouse.sql_files import run_file


@dataclass
class FetchFloor:
    source: str
    sites: int = 0
    requests: int = 0
    items: int = 0
    bytes: int = 0
    seconds: float = 0.0
    by_route: dict[str, int] = field(default_factory=dict)
    #: Every timed pass of this vendor's fetch, in order; ``seconds`` is the fastest.
    pass_seconds: list[float] = field(default_factory=list)
    #: The vendor sandbox's CPU seconds during this pass (measured by the bench, None if not).
    sandbox_cpu_seconds: float | None = None
    #: This pass's start and end (epoch seconds): the bench reads the machine's CPU over it.
    window: tuple[float, float] | None = None

    def count(self, route: str, response: requests.Response) -> dict:
        response.raise_for_status()
        self.requests += 1
        self.bytes += len(response.content)
        self.by_route[route] = self.by_route.get(route, 0) + 1
        return response.json()


def _utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _alliance(base: str, creds: dict, licenses: Iterable[str], period: ServicePeriod, page: int, out: FetchFloor):
    session = requests.Session()
    token = out.count(
        "POST /oauth/token",
        session.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            },
        ),
    )["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    for license_number in licenses:
        facility = f"{base}/v1/facilities/{quote(license_number, safe='')}"
        marker = {"period_start": period.start.isoformat(), "period_end": period.end.isoformat(), "limit": page}
        out.count("GET attendance-certifications", session.get(f"{facility}/attendance-certifications", params=marker))
        params = {
            "occurred_from": _utc(period.start_instant()),
            "occurred_to": _utc(period.end_instant()),
            "limit": page,
        }
        url = f"{facility}/attendance-events"
        while True:
            body = out.count("GET attendance-events", session.get(url, params=params))
            out.items += len(body["data"])
            if not body.get("next_cursor"):
                break
            params = {**params, "cursor": body["next_cursor"]}


def _brightwheel(base: str, creds: dict, licenses: Iterable[str], period: ServicePeriod, page: int, out: FetchFloor):
    session = requests.Session()
    session.headers["X-Api-Key"] = creds["api_key"]
    for license_number in licenses:
        school = out.count(
            "GET /v1/schools", session.get(f"{base}/v1/schools", params={"license_number": license_number})
        )["schools"][0]["id"]
        school_url = f"{base}/v1/schools/{quote(school, safe='')}"
        params = {"start_date": period.start.isoformat(), "end_date": period.end.isoformat(), "per_page": page}
        reports = {"report_type": "indiana_ilead", **params}
        out.count("GET state_reports", session.get(f"{school_url}/state_reports", params=reports))
        response = session.get(f"{school_url}/attendance_records", params=params)
        while True:
            out.items += len(out.count("GET attendance_records", response)["attendance_records"])
            following = response.links.get("next", {}).get("url")
            if not following:
                break
            response = session.get(following)


def _playground(base: str, creds: dict, licenses: Iterable[str], period: ServicePeriod, page: int, out: FetchFloor):
    session = requests.Session()
    login = {"username": creds["username"], "password": creds["password"]}
    token = out.count("POST /api/login", session.post(f"{base}/api/login", json=login))["token"]
    session.headers["Authorization"] = f"Bearer {token}"
    for license_number in licenses:
        body = {
            "license_number": license_number,
            "start_date": period.start.isoformat(),
            "end_date": period.end.isoformat(),
        }
        marker = {"period_start": period.start.isoformat(), "period_end": period.end.isoformat(), "per_page": page}
        center = f"{base}/api/v2/centers/{quote(license_number, safe='')}"
        out.count("GET cca-attendance-submissions", session.get(f"{center}/cca-attendance-submissions", params=marker))
        job = out.count("POST /api/v2/exports", session.post(f"{base}/api/v2/exports", json=body))
        export = f"{base}/api/v2/exports/{quote(job['export_id'], safe='')}"
        status = job["status"]
        while status in ("queued", "processing"):  # no sleep: the floor only pays for the requests
            status = out.count("GET export status", session.get(export))["status"]
        number = 1
        while True:
            rows = out.count(
                "GET export rows", session.get(f"{export}/rows", params={"page": number, "per_page": page})
            )
            out.items += len(rows["rows"])
            if number >= rows["total_pages"] or not rows["rows"]:
                break
            number += 1


FETCHERS: dict[Source, Callable[..., None]] = {
    Source.ALLIANCE_CORE: _alliance,
    Source.BRIGHTWHEEL: _brightwheel,
    Source.PLAYGROUND: _playground,
}


def fetch_floor(
    source: Source, base_url: str, credentials: dict, licenses: list[str], period: ServicePeriod, page_size: int
) -> FetchFloor:
    """Fetch every page the pipeline fetched for ``licenses`` from ``source``'s sandbox; time it."""
    out = FetchFloor(source=str(source), sites=len(licenses))
    started = time.perf_counter()
    FETCHERS[source](base_url.rstrip("/"), credentials, licenses, period, page_size, out)
    out.seconds = time.perf_counter() - started
    return out


#: The bare fetch is timed this many times per vendor and the fastest pass is the floor: one pass
#: on a slow spell of the machine gave a floor slower than the pipeline's own extracts of the same
#: pages (session 16, docs/performance.md), and a slow floor flatters every ratio over it.
FETCH_PASSES = 2


def fastest_fetches(
    fetch: Callable[[Source, int], FetchFloor],
    passes: int = FETCH_PASSES,
    after_first_pass: Callable[[], None] | None = None,
) -> dict[str, FetchFloor]:
    """``fetch(source, round)`` for every CCMS vendor in turn, ``passes`` rounds (numbered from 1);
    each vendor's fastest pass, with every pass's seconds in ``pass_seconds``. Rounds, not repeats
    one after the other, so a vendor's passes lie a round apart (20-30 s statewide): a slow spell
    seldom covers both. ``after_first_pass`` runs once the first round is done (the bench reads the
    sandboxes' request counts there: one pass is exactly the pipeline's pages)."""
    best: dict[str, FetchFloor] = {}
    timings: dict[str, list[float]] = {}
    for round_no in range(1, passes + 1):
        for source in Source.ccms():
            fetched = fetch(source, round_no)
            timings.setdefault(str(source), []).append(round(fetched.seconds, 3))
            if str(source) not in best or fetched.seconds < best[str(source)].seconds:
                best[str(source)] = fetched
        if round_no == 1 and after_first_pass is not None:
            after_first_pass()
    for source, fetched in best.items():
        fetched.pass_seconds = timings[source]
    return best


#: The canonical rows the floor COPYs: (warehouse table, rows of the run/period, floor table).
COPY_TABLES = {
    "staging.source_record": "SELECT * FROM staging.source_record WHERE run_id = {run_id}",
    "reconciled.daily_attendance": "SELECT * FROM reconciled.daily_attendance WHERE period_start = {period_start}",
    "reconciled.absence_summary": "SELECT * FROM reconciled.absence_summary WHERE period_start = {period_start}",
    "reconciled.exception": "SELECT * FROM reconciled.exception WHERE period_start = {period_start}",
    "reconciled.site_period": "SELECT * FROM reconciled.site_period WHERE period_start = {period_start}",
}


@dataclass
class CopyFloor:
    table: str
    rows: int
    bytes: int
    seconds: float
    #: The timed COPY's start and end (epoch seconds).
    window: tuple[float, float] | None = None


def copy_floor(conninfo: str, run_id: str, period_start: dt.date) -> list[CopyFloor]:
    """COPY the run's canonical rows into empty look-alike tables; one timed COPY per table."""
    results = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        run_file(conn, "bench_floor_tables", {})
        for table, select in COPY_TABLES.items():
            schema, name = table.split(".")
            source_query = sql.SQL(select).format(run_id=sql.Literal(run_id), period_start=sql.Literal(period_start))
            payload = bytearray()
            with conn.cursor() as cursor:
                with cursor.copy(sql.SQL("COPY ({}) TO STDOUT").format(source_query)) as copy:
                    for chunk in copy:
                        payload += chunk
                rows = payload.count(b"\n")
                target = sql.Identifier("bench_floor", f"{schema}_{name}")
                started, began = time.perf_counter(), time.time()
                statement = sql.SQL("COPY {} FROM STDIN").format(target)
                with conn.transaction(), cursor.copy(statement) as copy:
                    view = memoryview(payload)
                    for offset in range(0, len(view), 8 << 20):
                        copy.write(view[offset : offset + (8 << 20)])
                seconds = time.perf_counter() - started
            window = (began, time.time())
            results.append(CopyFloor(table=table, rows=rows, bytes=len(payload), seconds=seconds, window=window))
    return results


def floor_summary(fetches: Mapping[str, FetchFloor], copies: list[CopyFloor]) -> dict[str, Any]:
    """The floor measured beside the scheduler run: its seconds, each vendor's passes, each COPY."""
    fetch_seconds = sum(f.seconds for f in fetches.values())
    copy_seconds = sum(c.seconds for c in copies)
    return {
        "seconds": round(fetch_seconds + copy_seconds, 3),
        "fetch_seconds": round(fetch_seconds, 3),
        "copy_seconds": round(copy_seconds, 3),
        "fetch": {
            source: {"seconds": round(f.seconds, 3), "pass_seconds": f.pass_seconds} for source, f in fetches.items()
        },
        "copy": {c.table: {"rows": c.rows, "seconds": round(c.seconds, 3)} for c in copies},
    }
