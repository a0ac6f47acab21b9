"""``python -m devtools.bench.recount_year``: the absence-limit recount alone over a year of periods.

No Airflow and no vendors: a scratch warehouse (``--database``, dropped and recreated, then
dropped) gets ``--children`` children with one eligibility start (so the ``--periods`` periods are
one enrollment year), and each period's days are written straight into the reconciled tables (ten
weekdays, a fixed pattern of absences), then recounted as a load recounts them — from the states
(``refresh_absence_limits``) and, rolled back, from scratch (the full recount). The medians of
``--reps`` show how each grows with the period's place in the year (docs/performance.md, "Year of
periods").
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import psycopg

from ccms_attendance.pipeline.absence_limits import refresh_absence_limits
from ccms_attendance.warehouse.migrate import apply_migrations
from ccms_attendance.warehouse.target import drop_database

ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"
FIRST_PERIOD = dt.date(2026, 8, 2)
ELIGIBILITY_START = dt.date(2026, 8, 1)  # 26 periods from FIRST_PERIOD stay in one enrollment year

WRITE_DAYS = """
INSERT INTO reconciled.daily_attendance (period_start, site_id, child_id, attendance_date, voucher_id, program,
       status, day_code, basis, source, run_id)
SELECT %(p)s, 'S-' || (i %% 30), 'C' || i, d::date, 'V-' || i, 'CCDF',
       CASE WHEN abs(hashtext(i || '/' || d)) %% 100 < %(absent_percent)s THEN 'absent' ELSE 'present' END,
       CASE WHEN abs(hashtext(i || '/' || d)) %% 100 < %(absent_percent)s THEN 'AB' ELSE 'PR' END,
       'no_absence_entry', 'PPP', %(run)s
  FROM generate_series(1, %(children)s) i, generate_series(%(p)s::date, %(p)s::date + 13, interval '1 day') d
 WHERE extract(isodow FROM d) <= 5
"""
WRITE_SUMMARIES = """
INSERT INTO reconciled.absence_summary (period_start, site_id, child_id, operating_days, enrolled_days,
       absent_days, source, complete, run_id, lifecycle)
SELECT %(p)s, 'S-' || (i %% 30), 'C' || i, 10, 10, 0, 'PPP', true, %(run)s, 'final'
  FROM generate_series(1, %(children)s) i
"""


def _timed(conn: psycopg.Connection, run_id: str, period: dt.date, children: list[str], **kwargs: bool) -> float:
    started = time.perf_counter()
    refresh_absence_limits(conn, run_id, period, children, **kwargs)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=600)
    parser.add_argument("--periods", type=int, default=26)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--absent-percent", type=int, default=8)
    parser.add_argument("--database", default="ccms_bench_recount_year")
    args = parser.parse_args()
    drop_database(ADMIN, args.database)
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{args.database}"')
    conninfo = f"host=127.0.0.1 user=postgres dbname={args.database}"
    apply_migrations(conninfo)
    children = [f"C{i}" for i in range(1, args.children + 1)]
    rows = []
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO ref.child (child_id, eligibility_start) SELECT unnest(%s::text[]), %s",
                (children, ELIGIBILITY_START),
            )
            for k in range(args.periods):
                period, run_id = FIRST_PERIOD + dt.timedelta(days=14 * k), f"r{k + 1}"
                values = {"p": period, "children": args.children, "run": run_id, "absent_percent": args.absent_percent}
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO ref.service_period VALUES (%s, %s, %s)",
                        (period, period + dt.timedelta(days=13), period + dt.timedelta(days=27)),
                    )
                    conn.execute(WRITE_DAYS, values)
                    conn.execute(WRITE_SUMMARIES, values)
                conn.execute("ANALYZE reconciled.daily_attendance, reconciled.absence_summary")
                with conn.transaction(force_rollback=True):
                    scratch = _timed(conn, run_id, period, children, from_scratch=True)
                states = []
                for rep in range(args.reps):  # the last one is kept: the next period counts on from it
                    with conn.transaction(force_rollback=rep < args.reps - 1):
                        states.append(_timed(conn, run_id, period, children))
                rows.append((statistics.median(states), scratch))
                print(
                    f"p{k + 1:02d} {period}: from the states {rows[-1][0]:.3f} s, from scratch {scratch:.3f} s",
                    flush=True,
                )
    finally:
        drop_database(ADMIN, args.database)
    first, last = rows[0], rows[-1]
    print(f"last / first period: from the states {last[0] / first[0]:.2f}, from scratch {last[1] / first[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
