"""Reconciled days written straight into a warehouse, for the absence-limit tests.

One letter per open weekday of a two-week period (A = AB, P = PR, O = OD, C = PC, . = no row); the
recount is the real SQL (``pipeline.absence_limits``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg

from ccms_attendance.pipeline.absence_limits import refresh_absence_limits

FIRST_PERIOD = dt.date(2026, 1, 4)  # a Sunday; periods are 14 days
CODES = {"A": ("absent", "AB"), "P": ("present", "PR"), "O": ("off_day", "OD"), "C": ("closed", "PC")}


def period_start(n: int) -> dt.date:
    return FIRST_PERIOD + dt.timedelta(days=14 * n)


def open_days(n: int) -> list[dt.date]:
    start = period_start(n)
    return [start + dt.timedelta(days=d) for d in range(14) if (start + dt.timedelta(days=d)).isoweekday() <= 5]


def day(n: int, k: int) -> dt.date:
    """The k-th (1-based) open day of period n."""
    return open_days(n)[k - 1]


@dataclass(frozen=True)
class Days:
    """One child's reconciled days at one site in one period."""

    child_id: str
    period: int
    codes: str
    site_id: str = "S-1"
    source: str = "PPP"
    complete: bool = True
    lifecycle: str = "final"


def write(conn: psycopg.Connection, *days: Days, run_id: str = "run-1") -> None:
    for n in sorted({d.period for d in days}):
        conn.execute(
            "INSERT INTO ref.service_period VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (period_start(n), period_start(n) + dt.timedelta(days=13), period_start(n) + dt.timedelta(days=27)),
        )
    for d in days:
        conn.execute(
            "DELETE FROM reconciled.daily_attendance WHERE child_id = %s AND site_id = %s AND period_start = %s",
            (d.child_id, d.site_id, period_start(d.period)),
        )
        conn.execute(
            "DELETE FROM reconciled.absence_summary WHERE child_id = %s AND site_id = %s AND period_start = %s",
            (d.child_id, d.site_id, period_start(d.period)),
        )
        rows = [
            (period_start(d.period), d.site_id, d.child_id, day_, f"V-{d.child_id}-{d.site_id}", "CCDF",
             *CODES[code], d.source, run_id)
            for day_, code in zip(open_days(d.period), d.codes, strict=False)
            if code != "."
        ]  # fmt: skip
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO reconciled.daily_attendance (period_start, site_id, child_id, attendance_date, voucher_id,"
                " program, status, day_code, basis, source, run_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
                " CASE WHEN %s = 'PPP' THEN 'no_absence_entry' ELSE 'no_check_in' END, %s, %s)",
                [(*row[:8], row[8], row[8], row[9]) for row in rows],
            )
        conn.execute(
            "INSERT INTO reconciled.absence_summary (period_start, site_id, child_id, operating_days, enrolled_days,"
            " absent_days, source, complete, run_id, lifecycle) VALUES (%s, %s, %s, 10, 10, %s, %s, %s, %s, %s)",
            (
                period_start(d.period),
                d.site_id,
                d.child_id,
                d.codes.count("A"),
                d.source,
                d.complete,
                run_id,
                d.lifecycle,
            ),
        )


def recount(
    conn: psycopg.Connection, period: int, children: list[str], run_id: str = "run-1", *, from_scratch: bool = False
) -> dict:
    return refresh_absence_limits(conn, run_id, period_start(period), children, from_scratch=from_scratch)


def current_notices(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT child_id, limit_kind, threshold, crossed_on, period_start, action, voucher_ends_on"
        "  FROM reconciled.absence_limit_notice WHERE withdrawn_at IS NULL"
        " ORDER BY child_id, crossed_on, limit_kind, threshold"
    ).fetchall()


def tallies(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT child_id, enrollment_year_start, absences, consecutive_absences, longest_consecutive"
        "  FROM reconciled.absence_tally ORDER BY child_id, enrollment_year_start"
    ).fetchall()


def eligibility(conn: psycopg.Connection, child_id: str, start: dt.date) -> None:
    conn.execute("INSERT INTO ref.child (child_id, eligibility_start) VALUES (%s, %s)", (child_id, start))
