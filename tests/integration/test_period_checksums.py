"""period_checksums.sql: any change to a period's rows changes its checksum; the same rows never do."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from ccms_attendance.warehouse.sql_files import fetch_one

PERIOD = dt.date(2026, 11, 8)
ROWS = [
    ("S-1", "C1", dt.date(2026, 11, 9), "present", "PR", "recorded", "R1"),
    ("S-1", "C1", dt.date(2026, 11, 10), "absent", "AB", "recorded", "R2"),
    ("S-1", "C2", dt.date(2026, 11, 9), "absent", "AB", "no_check_in", None),
    ("S-2", "C3", dt.date(2026, 11, 9), "present", "PR", "recorded", "R3"),
]


def _check_in(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(7, 45), tzinfo=dt.UTC)


def _load(conn: psycopg.Connection, rows: list[tuple], exceptions: int = 1) -> dict:
    conn.execute("TRUNCATE reconciled.daily_attendance, reconciled.exception")
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO reconciled.daily_attendance (period_start, site_id, child_id, attendance_date, voucher_id,"
            " program, status, day_code, basis, source, source_record_id, check_in, run_id)"
            " VALUES (%s, %s, %s, %s, 'V', 'CCDF', %s, %s, %s, 'BRIGHTWHEEL', %s,"
            " %s, 'run-1')",
            [
                (PERIOD, s, c, d, st, code, basis, rec, _check_in(d) if rec else None)
                for s, c, d, st, code, basis, rec in rows
            ],
        )
        cursor.executemany(
            "INSERT INTO reconciled.exception (period_start, run_id, kind, severity, site_id, detail)"
            " VALUES (%s, 'run-1', 'source_disagreement', 'info', 'S-1', 'same')",
            [(PERIOD,)] * exceptions,
        )
    return fetch_one(conn, "period_checksums", {"period_start": PERIOD})


def test_the_same_rows_give_the_same_checksums_in_any_order_and_time_zone(conn):
    first = _load(conn, ROWS)
    conn.execute("SET TimeZone = 'America/Indiana/Indianapolis'")
    assert _load(conn, list(reversed(ROWS))) == first
    assert first["daily_rows"] == 4
    assert first["absences"] == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda rows: rows[:-1], id="row-removed"),
        pytest.param(
            lambda rows: [*rows, ("S-2", "C3", dt.date(2026, 11, 10), "absent", "AB", "no_check_in", None)],
            id="row-added",
        ),
        pytest.param(lambda rows: [(*rows[0][:3], "absent", "AB", *rows[0][5:]), *rows[1:]], id="status-changed"),
        pytest.param(lambda rows: [(*rows[0][:6], "R2"), (*rows[1][:6], "R1"), *rows[2:]], id="values-swapped"),
        pytest.param(lambda rows: [(*rows[2][:6], ""), *rows[:2], rows[3]], id="null-to-empty"),
        pytest.param(lambda rows: [(*rows[0][:2], dt.date(2026, 11, 11), *rows[0][3:]), *rows[1:]], id="day-moved"),
    ],
)
def test_any_change_to_the_rows_changes_the_checksum(conn, change):
    before = _load(conn, ROWS)["daily_attendance"]
    assert _load(conn, change(list(ROWS)))["daily_attendance"] != before


def test_a_duplicated_exception_changes_the_checksum(conn):
    assert _load(conn, ROWS, exceptions=2)["exception"] != _load(conn, ROWS, exceptions=1)["exception"]
