"""The recount counted on from each child's state (``reconciled.absence_limit_state``, issue 20)
gives exactly what the full recount of the enrollment year gives.

Two children get the same days through the same sequence of loads: ``I`` is recounted as a load
recounts it (from its state at the end of its previous period, where one fits), ``O`` with
``from_scratch=True`` (the full recount, as before the states existed; its semantics are pinned by
tests/integration/test_absence_limits.py). After every load, their notices (reported and
withdrawn, and by which load), their tallies and what each recount reports must be identical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st
from support.absence_days import FIRST_PERIOD, Days, day, eligibility, period_start, recount, write

INC, REF = "I", "O"  # counted on from states / recounted from scratch


@dataclass(frozen=True)
class Load:
    """A load of ``period`` whose version has these sites: (site, codes, complete, final)."""

    period: int
    sites: tuple[tuple[str, str, bool, bool], ...]


@dataclass(frozen=True)
class Reanchor:
    """The child's eligibility start is corrected (its enrollment years move)."""

    eligibility_start: dt.date


Step = Load | Reanchor


def replace_period(conn: psycopg.Connection, load: Load, run_id: str) -> None:
    """The load's version of the period for both children: earlier sites' rows go, as a load swaps them."""
    for child in (INC, REF):
        for table in ("daily_attendance", "absence_summary"):
            conn.execute(
                f"DELETE FROM reconciled.{table} WHERE child_id = %s AND period_start = %s",
                (child, period_start(load.period)),
            )
        days = [
            Days(
                child,
                load.period,
                codes,
                site_id=site,
                complete=complete,
                lifecycle="final" if final else "provisional",
            )
            for site, codes, complete, final in load.sites
        ]
        if days:
            write(conn, *days, run_id=run_id)


def notices_of(conn: psycopg.Connection, child: str) -> list[tuple]:
    return conn.execute(
        "SELECT enrollment_year_start, limit_kind, threshold, crossed_on, period_start, action, voucher_ends_on,"
        "       split_part(reported_by_run, '/', 1), split_part(withdrawn_by_run, '/', 1)"
        "  FROM reconciled.absence_limit_notice WHERE child_id = %s ORDER BY notice_id",
        (child,),
    ).fetchall()


def tallies_of(conn: psycopg.Connection, child: str) -> list[tuple]:
    return conn.execute(
        "SELECT enrollment_year_start, absences, consecutive_absences, longest_consecutive, counted_through"
        "  FROM reconciled.absence_tally WHERE child_id = %s ORDER BY enrollment_year_start",
        (child,),
    ).fetchall()


def play(conn: psycopg.Connection, anchor: dt.date, steps: list[Step]) -> list[int]:
    """Run ``steps`` for both children, comparing after each load; return ``I``'s children_from_state."""
    for child in (INC, REF):
        eligibility(conn, child, anchor)
    from_state = []
    for n, step in enumerate(steps):
        if isinstance(step, Reanchor):
            conn.execute("UPDATE ref.child SET eligibility_start = %s", (step.eligibility_start,))
            continue
        replace_period(conn, step, run_id=f"s{n}")
        counted = recount(conn, step.period, [INC], run_id=f"s{n}/{INC}")
        reference = recount(conn, step.period, [REF], run_id=f"s{n}/{REF}", from_scratch=True)
        assert reference["children_from_state"] == 0
        from_state.append(counted["children_from_state"])
        where = f"after step {n} ({step})"
        assert notices_of(conn, INC) == notices_of(conn, REF), where
        assert tallies_of(conn, INC) == tallies_of(conn, REF), where
        assert (counted["notices_reported"], counted["notices_withdrawn"]) == (
            reference["notices_reported"],
            reference["notices_withdrawn"],
        ), where
    return from_state


def site_days(codes: str, *, complete: bool = True, final: bool = True, site: str = "S-1") -> tuple:
    return ((site, codes, complete, final),)


# --- generated sequences of loads ---------------------------------------------------------------

CODES = st.one_of(st.just("A" * 10), st.text(alphabet="AAAAAAAPO.C", min_size=10, max_size=10))


@st.composite
def site_versions(draw: st.DrawFn) -> tuple[tuple[str, str, bool, bool], ...]:
    sites = draw(st.sampled_from([["S-1"], ["S-1"], ["S-1", "S-2"], []]))
    return tuple((site, draw(CODES), draw(st.integers(0, 7)) > 0, draw(st.integers(0, 5)) > 0) for site in sites)


@st.composite
def sequences(draw: st.DrawFn) -> tuple[dt.date, list[Step]]:
    # Anniversaries anywhere in the periods' span (mid-period most often), or a 29 February one.
    anchor = draw(
        st.one_of(
            st.just(dt.date(2024, 2, 29)), st.integers(-400, 300).map(lambda d: FIRST_PERIOD + dt.timedelta(days=d))
        )
    )
    steps: list[Step] = []
    newest = -1
    for _ in range(draw(st.integers(2, 14))):
        move = draw(st.sampled_from(["next", "next", "next", "gap", "reload", "rerun", "reanchor"]))
        if move == "reanchor":
            steps.append(Reanchor(anchor + dt.timedelta(days=draw(st.integers(-200, 200)))))
            continue
        if newest < 0 or move == "next":
            period = newest + 1
        elif move == "gap":
            period = newest + draw(st.integers(2, 9))
        else:  # reload (a correction, or provisional becoming final) or rerun the newest
            period = draw(st.integers(max(0, newest - 8), newest)) if move == "reload" else newest
        previous = next((s for s in reversed(steps) if isinstance(s, Load) and s.period == period), None)
        if move == "rerun" and previous is not None:
            steps.append(previous)  # the same data again
        else:
            steps.append(Load(period, draw(site_versions())))
        newest = max(newest, period)
    return anchor, steps


@settings(max_examples=60, deadline=None)
@given(sequence=sequences())
def test_counting_on_from_states_agrees_with_the_full_recount(conn, sequence):
    anchor, steps = sequence
    conn.execute(
        "TRUNCATE reconciled.daily_attendance, reconciled.absence_summary, reconciled.absence_limit_notice,"
        " reconciled.absence_tally, reconciled.absence_limit_state, ref.child CASCADE"
    )
    play(conn, anchor, steps)


# --- the cases by name --------------------------------------------------------------------------

YEAR = dt.date(2025, 9, 1)  # every period below in one enrollment year


def test_each_newest_period_is_counted_on_from_the_state(conn):
    steps: list[Step] = [Load(n, site_days("AAAAAAAPPA")) for n in range(6)]
    # The first period has nothing before it; every later one continues from the state.
    assert play(conn, YEAR, steps) == [0, 1, 1, 1, 1, 1]
    assert tallies_of(conn, INC) == [(YEAR, 48, 1, 8, day(5, 10))]
    states = conn.execute(
        "SELECT period_start, absences_in_year, consecutive, counted_through FROM reconciled.absence_limit_state"
        " WHERE child_id = %s ORDER BY period_start",
        (INC,),
    ).fetchall()
    assert states == [(period_start(n), 8 * (n + 1), 1, day(n, 10)) for n in range(6)]


def test_a_reloaded_earlier_period_recounts_the_periods_after_it(conn):
    steps: list[Step] = [Load(n, site_days("AAAAAPPPPP")) for n in range(5)]
    # Period 1 corrected to ten absences, then period 4: 5 + 10 + 5 + 5 + 10.
    steps += [Load(1, site_days("A" * 10)), Load(4, site_days("A" * 10))]
    assert play(conn, YEAR, steps) == [0, 1, 1, 1, 1, 1, 1]
    current = [n for n in notices_of(conn, INC) if n[8] is None]
    assert [(n[2], n[3]) for n in current] == [(10, day(1, 5)), (20, day(2, 5)), (30, day(4, 5)), (35, day(4, 10))]


def test_provisional_then_final_and_an_incomplete_period(conn):
    steps: list[Step] = [
        Load(0, site_days("A" * 10)),
        Load(1, site_days("A" * 10, final=False)),  # shown, never counted: breaks the run
        Load(2, site_days("A" * 10)),
        Load(1, site_days("A" * 10)),  # final now: 30 in a row
        Load(3, site_days("A" * 10, complete=False)),
        Load(4, site_days("A" * 10)),
    ]
    assert play(conn, YEAR, steps) == [0, 1, 1, 1, 1, 1]
    removal = [n for n in notices_of(conn, INC) if n[1] == "consecutive_absences" and n[8] is None]
    assert [n[3] for n in removal] == [day(1, 10)]
    assert tallies_of(conn, INC) == [(YEAR, 40, 10, 30, day(4, 10))]


def test_a_new_enrollment_year_is_recounted_from_its_start_then_counted_on(conn):
    # The anniversary is period 3's sixth open day: period 3 is in the old year, period 4 starts a
    # recount of the new one (with its look-back), period 5 continues from period 4's state.
    anniversary = day(3, 6)
    steps: list[Step] = [Load(n, site_days("PPAAAAAAAA")) for n in range(6)]
    assert play(conn, anniversary.replace(year=anniversary.year - 1), steps) == [0, 1, 1, 1, 0, 1]
    # 8 absences a period; period 3's are 3 in the old year and 5 in the new.
    assert [t[:2] for t in tallies_of(conn, INC)] == [
        (anniversary.replace(year=anniversary.year - 1), 27),
        (anniversary, 21),
    ]


def test_a_run_longer_than_the_look_back_is_counted_as_the_full_recount_counts_it(conn):
    # Absent every day for eleven periods across the anniversary (period 8's start): the full
    # recount of the new year counts the run from its look-back (92 days before the year: periods
    # 2-7), not from its real start in period 0, and the states must agree.
    anniversary = period_start(8)
    steps: list[Step] = [Load(n, site_days("A" * 10)) for n in range(11)]
    assert play(conn, anniversary.replace(year=anniversary.year - 1), steps)[8] == 0
    assert tallies_of(conn, INC)[-1] == (anniversary, 30, 90, 90, day(10, 10))


def test_a_corrected_eligibility_start_is_recounted_in_full(conn):
    steps: list[Step] = [Load(0, site_days("A" * 10)), Load(1, site_days("A" * 10))]
    steps += [Reanchor(day(1, 1)), Load(2, site_days("A" * 10)), Load(3, site_days("A" * 10))]
    assert play(conn, YEAR, steps) == [0, 1, 0, 1]


def test_a_period_that_loses_the_child_and_a_gap(conn):
    steps: list[Step] = [
        Load(0, site_days("A" * 10)),
        Load(1, site_days("A" * 10)),
        Load(2, site_days("AAAAAPPPPP")),
        Load(1, ()),  # the child's rows of period 1 are gone: a gap
        Load(5, site_days("A" * 10)),  # after a gap of two periods
        Load(6, site_days("OOOOOOOOOO")),  # complete, but no day counted or passed over
        Load(7, site_days("A" * 10)),
    ]
    play(conn, YEAR, steps)
    assert tallies_of(conn, INC) == [(YEAR, 35, 10, 10, day(7, 10))]
