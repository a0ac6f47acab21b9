"""Absence limits (rules.absence_limits) recounted by the real SQL against a real warehouse.

Each case writes reconciled days straight into the warehouse, one letter per open weekday of a
two-week period (A = AB, P = PR, O = OD, C = PC, . = no row), then recounts and compares the
notices and tallies with the exact expected ones.
"""

from __future__ import annotations

import calendar
import datetime as dt

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.absence_days import (
    FIRST_PERIOD,
    Days,
    current_notices,
    day,
    eligibility,
    open_days,
    period_start,
    recount,
    tallies,
    write,
)
from support.period_steps import run_ppp_period
from support.portal_state import PortalState

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.absence_limits import children_changed_by_load
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.rules.absence_limits import (
    CONSECUTIVE_LIMIT,
    CONSECUTIVE_LOOKBACK_DAYS,
    NOTICE_THRESHOLDS,
    VOUCHER_END_ABSENCES,
)

YEAR = dt.date(2025, 9, 1)  # default eligibility start: every case below lies in one enrollment year


def notice(child: str, threshold: int, n: int, k: int) -> tuple:
    return (child, "absences_in_enrollment_year", threshold, day(n, k), period_start(n), "notice", None)


CASES = [
    pytest.param([Days("C1", 0, "AAAAAAAAA" + "P")], [], id="nine-absences-no-notice"),
    pytest.param([Days("C1", 0, "A" * 10)], [notice("C1", 10, 0, 10)], id="tenth-absence-notice"),
    pytest.param(
        [Days("C1", 0, "AAAAAAPPPP"), Days("C1", 1, "PPPAAAAPPP")],
        [notice("C1", 10, 1, 7)],
        id="ten-across-two-periods",
    ),
    pytest.param(
        [Days("C1", 0, "A" * 10), Days("C1", 1, "A" * 10)],
        [
            notice("C1", 10, 0, 10),
            notice("C1", 20, 1, 10),
            ("C1", "consecutive_absences", 20, day(1, 10), period_start(1), "removal", None),
        ],
        id="twenty-consecutive-removal",
    ),
    pytest.param(
        [Days("C1", n, "AAAAAAAAAP") for n in range(5)],
        [
            notice("C1", 10, 1, 1),
            notice("C1", 20, 2, 2),
            notice("C1", 30, 3, 3),
            notice("C1", 35, 3, 8),
            # The 40th absence ends the voucher on the Saturday of that week.
            (
                "C1",
                "absences_in_enrollment_year",
                40,
                day(4, 4),
                period_start(4),
                "voucher_ends",
                period_start(4) + dt.timedelta(days=6),
            ),
        ],
        id="notices-then-voucher-end",
    ),
    pytest.param(
        [Days("C1", n, "AOAOAOAOAO") for n in range(4)],
        [
            notice("C1", 10, 1, 9),
            notice("C1", 20, 3, 9),
            ("C1", "consecutive_absences", 20, day(3, 9), period_start(3), "removal", None),
        ],
        id="off-days-neither-count-nor-break-a-run",
    ),
    pytest.param(
        [Days("C1", 0, "AAAAACCAAA"), Days("C1", 1, "A" * 10), Days("C1", 2, "AAPPPPPPPP")],
        [
            notice("C1", 10, 1, 2),
            notice("C1", 20, 2, 2),
            ("C1", "consecutive_absences", 20, day(2, 2), period_start(2), "removal", None),
        ],
        id="closures-neither-count-nor-break-a-run",
    ),
    pytest.param(
        [Days("C1", 0, "A" * 10), Days("C1", 1, "", complete=False), Days("C1", 2, "A" * 10)],
        # P1 is incomplete: it adds nothing and breaks the run, so no 20-consecutive removal.
        [notice("C1", 10, 0, 10), notice("C1", 20, 2, 10)],
        id="incomplete-period-breaks-the-run",
    ),
    pytest.param(
        [Days("C1", 0, "AAAAAAAAAP"), Days("C1", 1, "AAAAA.....", complete=False)],
        # Nine complete absences; the incomplete period's recorded absences never push past ten.
        [],
        id="incomplete-period-never-pushes-over",
    ),
    pytest.param(
        [Days("C1", 0, "AAAAAAAAAP"), Days("C1", 1, "A" * 10, lifecycle="provisional")],
        # Complete but provisional (not submitted, deadline not passed): shown, never tallied or notified.
        [],
        id="provisional-period-is-never-counted",
    ),
    pytest.param(
        [Days("C1", 0, "A" * 10), Days("C1", 1, "A" * 10, lifecycle="provisional"), Days("C1", 2, "A" * 10)],
        # The provisional period breaks the run like an incomplete one.
        [notice("C1", 10, 0, 10), notice("C1", 20, 2, 10)],
        id="provisional-period-breaks-the-run",
    ),
    pytest.param(
        [Days("C1", 0, "A" * 10), Days("C1", 2, "A" * 10)],
        # Period 1 was never loaded: unknown, so the run breaks there.
        [notice("C1", 10, 0, 10), notice("C1", 20, 2, 10)],
        id="unloaded-period-breaks-the-run",
    ),
    pytest.param(
        [
            Days("C1", 0, "AAAAAPAAAA", site_id="S-1", source="PPP"),
            Days("C1", 0, "AAAAAAAAAA", site_id="S-2", source="BRIGHTWHEEL"),
        ],
        # Present at the PPP site on day 6: not absent that day, whatever the other site says.
        [],
        id="two-sites-present-at-either-is-present",
    ),
    pytest.param(
        [
            Days("C1", 0, "AAAAAAAAAA", site_id="S-1", source="PPP"),
            Days("C1", 0, "AAAAAAAAAA", site_id="S-2", source="ALLIANCE_CORE"),
        ],
        # Absent at both sites on the same ten days: ten absences, not twenty.
        [notice("C1", 10, 0, 10)],
        id="two-sites-one-absence-per-day",
    ),
    pytest.param(
        [
            Days("C1", 0, "AAAAA.....", site_id="S-1", source="PPP"),
            Days("C1", 0, ".....AAAAA", site_id="S-2", source="PLAYGROUND"),
        ],
        # Moved sites mid-period: the absences of both programs add up.
        [notice("C1", 10, 0, 10)],
        id="two-sites-absences-add-up",
    ),
]


@pytest.mark.parametrize(("days", "expected"), CASES)
def test_limits(conn, days, expected):
    eligibility(conn, "C1", YEAR)
    write(conn, *days)
    changes = recount(conn, max(d.period for d in days), ["C1"])
    assert current_notices(conn) == expected
    assert changes["notices_reported"] == len(expected)
    assert changes["notices_withdrawn"] == 0


def test_counted_through_stops_at_the_last_final_day(conn):
    # Period 1 is loaded but provisional: the tally stands as of period 0's last day, with the run of
    # absences that ended there (not reset by the provisional period after it).
    eligibility(conn, "C1", YEAR)
    write(conn, Days("C1", 0, "PPPPPPPAAA"), Days("C1", 1, "A" * 10, lifecycle="provisional"))
    recount(conn, 1, ["C1"])
    assert conn.execute(
        "SELECT absences, consecutive_absences, counted_through FROM reconciled.absence_tally"
    ).fetchall() == [(3, 3, day(0, 10))]
    assert current_notices(conn) == []
    # The final version of period 1 arrives: it counts now.
    write(conn, Days("C1", 1, "A" * 10))
    recount(conn, 1, ["C1"])
    assert conn.execute(
        "SELECT absences, consecutive_absences, counted_through FROM reconciled.absence_tally"
    ).fetchall() == [(13, 13, day(1, 10))]
    assert current_notices(conn) == [notice("C1", 10, 1, 7)]


def test_a_year_with_no_final_day_has_no_tally(conn):
    eligibility(conn, "C1", YEAR)
    write(conn, Days("C1", 0, "A" * 10, lifecycle="provisional"))
    recount(conn, 0, ["C1"])
    assert tallies(conn) == []
    assert current_notices(conn) == []


def test_enrollment_year_boundary_restarts_the_count(conn):
    # Eligibility began on the Monday of period 1's second week: that day starts a new year.
    anniversary = day(1, 6)
    eligibility(conn, "C1", anniversary.replace(year=anniversary.year - 1))
    write(conn, Days("C1", 0, "PPPPPPPPPP"), Days("C1", 1, "PAAAA" + "AAAAA"), Days("C1", 2, "AAAAAPPPPP"))
    for n in range(3):  # as the three loads would
        recount(conn, n, ["C1"])
    # 4 absences in the old year; the new year's run of 10 reaches ten on period 2's fifth day.
    assert current_notices(conn) == [notice("C1", 10, 2, 5)]
    assert tallies(conn) == [
        ("C1", anniversary.replace(year=anniversary.year - 1), 4, 4, 4),
        ("C1", anniversary, 10, 0, 14),
    ]


def test_a_run_from_the_previous_enrollment_year_counts_whole(conn):
    # The anniversary is period 2's first open day: the recount of period 2 starts there, and its
    # look-back finds the run of absences that began in the previous year.
    anniversary = day(2, 1)
    eligibility(conn, "C1", anniversary.replace(year=anniversary.year - 1))
    write(conn, Days("C1", 0, "PPPPPPPPPP"), Days("C1", 1, "PPPAAAAAAA"), Days("C1", 2, "A" * 10))
    recount(conn, 1, ["C1"])
    recount(conn, 2, ["C1"])
    # 7 + 10 = 17 in a row: no removal yet, and the new year counts only its own 10 absences.
    assert current_notices(conn) == [notice("C1", 10, 2, 10)]
    write(conn, Days("C1", 3, "AAAPPPPPPP"))
    recount(conn, 3, ["C1"])
    assert current_notices(conn) == [
        notice("C1", 10, 2, 10),
        ("C1", "consecutive_absences", 20, day(3, 3), period_start(3), "removal", None),
    ]
    assert tallies(conn) == [
        ("C1", anniversary.replace(year=anniversary.year - 1), 7, 7, 7),
        ("C1", anniversary, 13, 0, 20),
    ]


def test_a_29_february_eligibility_starts_its_years_on_28_february(conn):
    # Periods 3 and 4 are 2026-02-15..28 and 2026-03-01..14: the 2026 anniversary is 28 February.
    eligibility(conn, "C1", dt.date(2024, 2, 29))
    write(conn, Days("C1", 3, "A" * 10), Days("C1", 4, "AAAAAPPPPP"))
    recount(conn, 3, ["C1"])
    recount(conn, 4, ["C1"])
    assert current_notices(conn) == [notice("C1", 10, 3, 10)]
    assert tallies(conn) == [("C1", dt.date(2025, 2, 28), 10, 10, 10), ("C1", dt.date(2026, 2, 28), 5, 0, 15)]


def test_reloading_an_earlier_period_recounts_the_years_after_it(conn):
    # The anniversary falls inside period 2; periods 0-3 are loaded, then period 0 is corrected.
    anniversary = day(2, 6)
    eligibility(conn, "C1", anniversary.replace(year=anniversary.year - 1))
    write(
        conn, Days("C1", 0, "A" * 10), Days("C1", 1, "PPPPPPPPPP"), Days("C1", 2, "AAAAAAAAAA"), Days("C1", 3, "A" * 10)
    )
    for n in range(4):
        recount(conn, n, ["C1"])
    before = tallies(conn)
    assert before == [
        ("C1", anniversary.replace(year=anniversary.year - 1), 15, 5, 10),
        ("C1", anniversary, 15, 20, 20),
    ]
    write(conn, Days("C1", 0, "PA" * 5), run_id="run-2")
    recount(conn, 0, ["C1"], run_id="run-2")
    assert tallies(conn) == [
        ("C1", anniversary.replace(year=anniversary.year - 1), 10, 5, 5),
        ("C1", anniversary, 15, 20, 20),
    ]
    assert current_notices(conn) == [
        notice("C1", 10, 2, 5),
        notice("C1", 10, 3, 5),
        ("C1", "consecutive_absences", 20, day(3, 10), period_start(3), "removal", None),
    ]


def test_enrollment_year_defaults_to_the_first_voucher(conn):
    conn.execute("INSERT INTO ref.provider VALUES ('P', 'P')")
    conn.execute("INSERT INTO ref.site (site_id, provider_id, site_name, license_number) VALUES ('S-1', 'P', 'S', 'L')")
    conn.execute("INSERT INTO ref.child (child_id) VALUES ('C1')")
    conn.execute(
        "INSERT INTO ref.voucher (voucher_id, child_id, site_id, program, authorized_start)"
        " VALUES ('V', 'C1', 'S-1', 'CCDF', %s)",
        (day(1, 1).replace(year=2025),),
    )
    write(conn, Days("C1", 0, "AAAAAAAAAA"), Days("C1", 1, "AAAAAPPPPP"))
    recount(conn, 1, ["C1"])
    # The first voucher's anniversary (period 1, day 1) starts a new year: 10 then 5, never 15.
    assert tallies(conn)[-1] == ("C1", day(1, 1), 5, 0, 15)
    assert current_notices(conn) == [notice("C1", 10, 0, 10)]


def test_a_correction_withdraws_a_notice_and_keeps_what_was_reported(conn):
    eligibility(conn, "C1", YEAR)
    write(conn, Days("C1", 0, "A" * 10))
    recount(conn, 0, ["C1"], run_id="run-1")
    assert current_notices(conn) == [notice("C1", 10, 0, 10)]

    # The provider corrects one absence to present: the child is back under ten.
    write(conn, Days("C1", 0, "AAAPAAAAAA"), run_id="run-2")
    changes = recount(conn, 0, ["C1"], run_id="run-2")
    assert current_notices(conn) == []
    assert changes["notices_withdrawn"] == 1
    assert tallies(conn) == [("C1", YEAR, 9, 6, 6)]
    reported = conn.execute(
        "SELECT threshold, reported_by_run, withdrawn_by_run, withdrawn_at IS NOT NULL"
        "  FROM reconciled.absence_limit_notice ORDER BY notice_id"
    ).fetchall()
    assert reported == [(10, "run-1", "run-2", True)]

    # Corrected back: reported again as a new notice; the withdrawn one stays on record.
    write(conn, Days("C1", 0, "A" * 10), run_id="run-3")
    recount(conn, 0, ["C1"], run_id="run-3")
    assert current_notices(conn) == [notice("C1", 10, 0, 10)]
    assert conn.execute("SELECT count(*) FROM reconciled.absence_limit_notice").fetchone() == (2,)


def test_a_correction_moves_a_crossing_to_another_day(conn):
    eligibility(conn, "C1", YEAR)
    write(conn, Days("C1", 0, "A" * 10), Days("C1", 1, "AAPPPPPPPP"))
    recount(conn, 1, ["C1"])
    write(conn, Days("C1", 0, "AAAAAAAAAP"), run_id="run-2")
    recount(conn, 0, ["C1"], run_id="run-2")
    # The tenth absence is now period 1's first day.
    assert current_notices(conn) == [notice("C1", 10, 1, 1)]


def test_recounting_unchanged_data_changes_nothing(conn):
    eligibility(conn, "C1", YEAR)
    write(conn, Days("C1", 0, "A" * 10), Days("C1", 1, "A" * 10))
    recount(conn, 1, ["C1"])
    before = conn.execute("SELECT * FROM reconciled.absence_limit_notice ORDER BY notice_id").fetchall()
    changes = recount(conn, 1, ["C1"], run_id="run-again")
    assert conn.execute("SELECT * FROM reconciled.absence_limit_notice ORDER BY notice_id").fetchall() == before
    assert (changes["notices_reported"], changes["notices_withdrawn"]) == (0, 0)


def test_only_the_given_children_are_recounted(conn):
    eligibility(conn, "C1", YEAR)
    eligibility(conn, "C2", YEAR)
    write(conn, Days("C1", 0, "A" * 10), Days("C2", 0, "A" * 10))
    recount(conn, 0, ["C1"])
    assert [n[0] for n in current_notices(conn)] == ["C1"]


# --- through the real load step ----------------------------------------------------------------


def _run_period(conn: psycopg.Connection, run_id: str) -> dict:
    run = RunContext(run_id=run_id, dag_id="ccms_attendance_period", period=LOAD_PERIOD, triggered_by="test")
    return run_ppp_period(conn, run)


LOAD_PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))


def test_the_load_reports_a_crossing_and_a_corrected_reload_withdraws_it(conn, tmp_path, monkeypatch):
    monkeypatch.setenv("CCMS_DATA_DOCS_DIR", str(tmp_path / "data_docs"))
    state = PortalState(LOAD_PERIOD)
    state.site("S-A", "CC-1").submission("S-A", dt.date(2026, 10, 25)).submission("S-A", LOAD_PERIOD.start)
    state.voucher("1001", "S-A", eligibility_start=dt.date(2026, 3, 1)).voucher("1002", "S-A")
    weekdays = [d for d in LOAD_PERIOD.days if d.isoweekday() <= 5]
    for d in weekdays:
        state.absence("S-A", "1001", d)
    state.write(conn)

    first = _run_period(conn, "run-1")

    assert first["summary"]["absence_limits"] == {
        "children_recounted": 2,
        "children_from_state": 0,
        "notices_reported": 1,
        "notices_withdrawn": 0,
        "notices_current": 1,
    }
    assert current_notices(conn) == [
        ("1001", "absences_in_enrollment_year", 10, weekdays[-1], LOAD_PERIOD.start, "notice", None)
    ]
    audit = conn.execute("SELECT counts->'absence_limits' FROM reconciled.run_audit WHERE run_id = 'run-1'").fetchone()
    assert audit[0]["notices_reported"] == 1

    # A rerun on the same data changes nothing.
    assert _run_period(conn, "run-2")["summary"]["absence_limits"]["notices_reported"] == 0
    # The provider corrects one absence in the portal; the period is run again.
    conn.execute("DELETE FROM portal.manual_entry WHERE child_id = '1001' AND attendance_date = %s", (weekdays[3],))
    third = _run_period(conn, "run-3")

    assert third["summary"]["absence_limits"]["notices_withdrawn"] == 1
    assert current_notices(conn) == []
    assert conn.execute("SELECT reported_by_run, withdrawn_by_run FROM reconciled.absence_limit_notice").fetchall() == [
        ("run-1", "run-3")
    ]
    assert tallies(conn) == [("1001", dt.date(2026, 3, 1), 9, 6, 6), ("1002", dt.date(2026, 1, 1), 0, 0, 0)]
    # The children a load changed, read from the summaries: those of the days it loaded and replaced.
    day_children = conn.execute(
        "SELECT child_id FROM reconciled.daily_attendance WHERE run_id = 'run-3'"
        " UNION SELECT child_id FROM history.daily_attendance WHERE superseded_by_run = 'run-3' ORDER BY 1"
    ).fetchall()
    assert (
        children_changed_by_load(conn, "run-3", LOAD_PERIOD.start) == [c for (c,) in day_children] == ["1001", "1002"]
    )


# --- against a plain model of the rules, on generated histories --------------------------------


def _year_start(anchor: dt.date, d: dt.date) -> dt.date:
    def anniversary(year: int) -> dt.date:
        leap_day = (anchor.month, anchor.day) == (2, 29) and not calendar.isleap(year)
        return dt.date(year, 2, 28) if leap_day else anchor.replace(year=year)

    return anniversary(d.year) if anniversary(d.year) <= d else anniversary(d.year - 1)


def _model(anchor: dt.date, days: list[Days], recount_period: int) -> tuple[list[tuple], list[tuple]]:
    """The notices and tallies of one child recounted at `recount_period`, day by day in Python."""
    recount_from = _year_start(anchor, period_start(recount_period))
    counted = {
        n for n in {d.period for d in days} if period_start(n) >= recount_from - dt.timedelta(CONSECUTIVE_LOOKBACK_DAYS)
    }
    states: dict[dt.date, tuple[int, str]] = {}
    for n in sorted(counted):
        if not all(d.complete and d.lifecycle == "final" for d in days if d.period == n):
            states[period_start(n)] = (n, "unknown")
            continue
        for d in (d for d in days if d.period == n):
            for when, code in zip(open_days(n), d.codes, strict=False):
                if code in "AP":
                    present = code == "P" or states.get(when, (n, "absent"))[1] == "present"
                    states[when] = (n, "present" if present else "absent")
    notices, tally = [], {}
    in_year: dict[dt.date, int] = {}
    run, previous = 0, None
    for when in sorted(states):
        n, state = states[when]
        year = _year_start(anchor, when)
        adjacent = previous is not None and previous in (n, n - 1)
        run = run + 1 if state == "absent" and (adjacent or previous is None) else int(state == "absent")
        if state == "absent":
            in_year[year] = in_year.get(year, 0) + 1
        count = in_year.get(year, 0)
        if state == "absent" and year >= recount_from and count in (*NOTICE_THRESHOLDS, VOUCHER_END_ABSENCES):
            ends = when + dt.timedelta(days=(5 - when.weekday()) % 7) if count == VOUCHER_END_ABSENCES else None
            action = "voucher_ends" if ends else "notice"
            notices.append(("C1", "absences_in_enrollment_year", count, when, period_start(n), action, ends))
        if state == "absent" and when >= recount_from and run == CONSECUTIVE_LIMIT:
            notices.append(("C1", "consecutive_absences", run, when, period_start(n), "removal", None))
        if year >= recount_from and state != "unknown":  # a tally stands as of its last counted day
            longest = max(tally[year][4] if year in tally else 0, run)
            tally[year] = ("C1", year, count, run, longest)
        previous = n
    order = {"absences_in_enrollment_year": 0, "consecutive_absences": 1}
    notices.sort(key=lambda t: (t[3], order[t[1]], t[2]))
    return notices, [tally[y] for y in sorted(tally)]


PHASES = {True: "final", False: "provisional"}


@st.composite
def histories(draw: st.DrawFn) -> tuple[dt.date, list[Days], int]:
    anchor = FIRST_PERIOD + dt.timedelta(days=draw(st.integers(-420, 100)))
    if draw(st.booleans()):
        anchor = dt.date(2024, 2, 29)
    days = []
    for n in sorted(draw(st.sets(st.integers(0, 9), min_size=1, max_size=7))):
        for site in draw(st.sampled_from([["S-1"], ["S-1", "S-2"]])):
            codes = draw(st.text(alphabet="AAAAAAPO.C", min_size=10, max_size=10))
            complete, final = draw(st.integers(0, 9)) > 0, draw(st.integers(0, 9)) > 0
            days.append(Days("C1", n, codes, site_id=site, complete=complete, lifecycle=PHASES[final]))
    return anchor, days, draw(st.sampled_from(sorted({d.period for d in days})))


@settings(max_examples=80)
@given(history=histories())
def test_the_recount_agrees_with_a_day_by_day_model(conn, history):
    anchor, days, recount_period = history
    conn.execute(
        "TRUNCATE reconciled.daily_attendance, reconciled.absence_summary, reconciled.absence_limit_notice,"
        " reconciled.absence_tally, reconciled.absence_limit_state, ref.child CASCADE"
    )
    eligibility(conn, "C1", anchor)
    write(conn, *days)
    recount(conn, recount_period, ["C1"])
    notices, expected_tallies = _model(anchor, days, recount_period)
    assert current_notices(conn) == notices
    recount_from = _year_start(anchor, period_start(recount_period))
    assert [t for t in tallies(conn) if t[1] >= recount_from] == expected_tallies
