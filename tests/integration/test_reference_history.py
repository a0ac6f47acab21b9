"""Reference and portal history through the real pipeline steps (docs/history.md).

Facts change after a period was loaded — a voucher's end date corrected, a schedule changed from a
later day, a provider's correction in the portal — and are written as the reference sync writes
them: the old version superseded, the new one recorded. Reruns read every table valid for the
period's days as known at their ``as_known_at``.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from support.period_steps import run_ppp_period
from support.portal_state import PortalState, at, record_change
from support.roles import acting_as

from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.reference_history import HistoryWriteError, apply_entity_rows
from ccms_attendance.warehouse.target import SYNC_ROLE

P1 = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
P2 = ServicePeriod(dt.date(2026, 11, 22), dt.date(2026, 12, 5))
MONDAY, TUESDAY = dt.date(2026, 11, 9), dt.date(2026, 11, 10)
CHECKSUMS = ("daily_attendance", "absence_summary", "exception")


def _run(run_id: str, period: ServicePeriod) -> RunContext:
    return RunContext(run_id=run_id, dag_id="ccms_attendance_period", period=period)


def _load(conn: psycopg.Connection, run_id: str, period: ServicePeriod, **kwargs) -> dict[str, str]:
    result = run_ppp_period(conn, _run(run_id, period), **kwargs)
    return {name: result[name] for name in CHECKSUMS}


def _state() -> PortalState:
    """One PPP site that submitted both periods; four voucher children."""
    state = PortalState(P1)
    state.site("S-P", "CC-P").submission("S-P", P1.start).submission("S-P", P2.start)
    state.voucher("401", "S-P", end=dt.date(2026, 11, 18))  # ends inside P1
    state.voucher("402", "S-P").voucher("403", "S-P").voucher("7100025", "S-P")
    state.absence("S-P", "401", MONDAY).absence("S-P", "402", MONDAY)
    state.absence("S-P", "402", dt.date(2026, 11, 23))
    return state


def _days(conn: psycopg.Connection, child_id: str, period: ServicePeriod) -> list[tuple]:
    return conn.execute(
        "SELECT attendance_date, day_code FROM reconciled.daily_attendance"
        " WHERE child_id = %s AND period_start = %s ORDER BY attendance_date",
        (child_id, period.start),
    ).fetchall()


def _as_known_at(conn: psycopg.Connection, run_id: str) -> dt.datetime:
    return conn.execute("SELECT as_known_at FROM reconciled.run_audit WHERE run_id = %s", (run_id,)).fetchone()[0]


def test_a_voucher_end_date_corrected_later_changes_the_affected_past_period_only(conn):
    state = _state()
    state.write(conn)
    p1, p2 = _load(conn, "p1-a", P1), _load(conn, "p2-a", P2)
    assert _days(conn, "401", P1)[-1] == (dt.date(2026, 11, 18), "PR")

    corrected = state.rows_of("ref.voucher", child_id="401")[0] | {"authorized_end": dt.date(2026, 11, 13)}
    assert record_change(conn, "voucher", [corrected]).superseded == 1

    assert _load(conn, "p1-b", P1) != p1
    assert _days(conn, "401", P1)[-1] == (dt.date(2026, 11, 13), "PR")
    assert _load(conn, "p2-b", P2) == p2
    # Nothing was overwritten: both versions of the voucher are there, the earlier one superseded.
    versions = conn.execute(
        "SELECT authorized_end, superseded_at IS NULL FROM ref.voucher WHERE child_id = '401' ORDER BY recorded_at"
    ).fetchall()
    assert versions == [(dt.date(2026, 11, 18), False), (dt.date(2026, 11, 13), True)]


def test_a_schedule_change_effective_next_month_leaves_earlier_periods_unchanged(conn):
    state = _state()
    state.write(conn)
    p1, p2 = _load(conn, "p1-a", P1), _load(conn, "p2-a", P2)
    assert {code for _, code in _days(conn, "403", P2)} == {"PR"}

    full_time = state.rows_of("ref.voucher", child_id="403")[0]
    december = dt.date(2026, 12, 1)
    record_change(
        conn,
        "voucher",
        [
            full_time | {"valid_until": december},
            full_time | {"valid_from": december, "schedule": "part_time", "scheduled_weekdays": [1, 3, 5]},
        ],
    )

    assert _load(conn, "p1-b", P1) == p1
    assert _load(conn, "p2-b", P2) != p2
    days = dict(_days(conn, "403", P2))
    assert days[dt.date(2026, 11, 24)] == "PR"  # a Tuesday before the change: still full time
    assert (days[dt.date(2026, 12, 1)], days[dt.date(2026, 12, 3)]) == ("OD", "OD")  # Tuesday, Thursday
    assert (days[dt.date(2026, 11, 30)], days[dt.date(2026, 12, 2)]) == ("PR", "PR")
    # The two pieces of one voucher never overlap.
    assert conn.execute("SELECT count(*) FROM reconciled.exception WHERE kind = 'overlapping_vouchers'").fetchone() == (
        0,
    )


def test_as_known_at_an_earlier_load_reproduces_its_checksums_and_a_portal_correction_keeps_both_versions(conn):
    state = _state()
    state.write(conn)
    first = _load(conn, "p1-a", P1)
    first_known = _as_known_at(conn, "p1-a")
    first_entry = conn.execute(
        "SELECT 'ppp-' || entry_id FROM portal.manual_entry WHERE child_id = '402' AND attendance_date = %s",
        (MONDAY,),
    ).fetchone()[0]

    # Later: the voucher's end is corrected, and the provider corrects the Monday entry (AB -> OD).
    record_change(conn, "voucher", [state.rows_of("ref.voucher", child_id="401")[0] | {"authorized_end": MONDAY}])
    entry = state.rows_of("portal.manual_entry", child_id="402", attendance_date=MONDAY)[0]
    record_change(conn, "manual_entry", [entry | {"day_code": "OD", "entered_at": at(dt.date(2026, 11, 25))}])

    corrected = _load(conn, "p1-b", P1)
    assert corrected != first
    latest = conn.execute(
        "SELECT source_record_id FROM reconciled.daily_attendance WHERE child_id = '402' AND attendance_date = %s",
        (MONDAY,),
    ).fetchone()[0]
    assert latest != first_entry
    assert conn.execute(
        "SELECT count(*) FROM reconciled.exception WHERE kind = 'off_day_for_full_time_voucher' AND child_id = '402'"
    ).fetchone() == (1,)
    # Both versions of the entry are kept; the earlier one was superseded when the correction arrived.
    assert conn.execute(
        "SELECT day_code, superseded_at IS NULL FROM portal.manual_entry"
        " WHERE child_id = '402' AND attendance_date = %s ORDER BY recorded_at",
        (MONDAY,),
    ).fetchall() == [("AB", False), ("OD", True)]

    # As known at the first load: exactly what it loaded, the original entry included.
    assert _load(conn, "p1-c", P1, as_known_at=first_known) == first
    assert _as_known_at(conn, "p1-c") == first_known
    assert conn.execute(
        "SELECT source_record_id FROM reconciled.daily_attendance WHERE child_id = '402' AND attendance_date = %s",
        (MONDAY,),
    ).fetchone() == (first_entry,)
    # And as known now again: the correction.
    assert _load(conn, "p1-d", P1) == corrected


def test_an_entry_typed_after_the_site_connected_a_ccms_is_ignored_for_an_earlier_ppp_period(conn):
    state = PortalState(P1)
    state.site("S-C", "CC-C").submission("S-C", dt.date(2026, 10, 25)).submission("S-C", P1.start)
    # Saved during P2, Brightwheel from the period starting 2026-12-06: connected at its local midnight.
    state.selection("S-C", "BRIGHTWHEEL", dt.date(2026, 12, 6), chosen_at=at(dt.date(2026, 11, 25)))
    state.voucher("501", "S-C")
    state.absence("S-C", "501", MONDAY, entered_at=at(dt.date(2026, 12, 5), 23, 59))  # before: used
    state.absence("S-C", "501", TUESDAY, entered_at=at(dt.date(2026, 12, 6), 0, 0))  # from then: ignored
    state.write(conn)

    _load(conn, "p1-a", P1)
    assert conn.execute("SELECT governing_source FROM reconciled.site_period").fetchone() == ("PPP",)
    days = dict(_days(conn, "501", P1))
    assert (days[MONDAY], days[TUESDAY]) == ("AB", "PR")
    exceptions = conn.execute(
        "SELECT site_id, child_id, attendance_date, detail FROM reconciled.exception"
        " WHERE kind = 'portal_entry_after_ccms_connection'"
    ).fetchall()
    assert [row[:3] for row in exceptions] == [("S-C", "501", TUESDAY)]
    assert "2026-12-06 05:00 UTC" in exceptions[0][3]  # local midnight (EST)


def test_portal_ids_are_compared_normalized_and_an_unknown_one_is_reported(conn):
    state = PortalState(P1)
    state.site("S-P", "CC-P").submission("S-P", P1.start).voucher("7100025", "S-P")
    state.absence("S-P", "7100025 ", MONDAY)  # a trailing space: the same child
    state.absence("S-P", "07100025", TUESDAY)  # a leading zero: another id, which nobody has
    state.write(conn)

    _load(conn, "p1-a", P1)
    days = dict(_days(conn, "7100025", P1))
    assert (days[MONDAY], days[TUESDAY]) == ("AB", "PR")
    unknown_entry = conn.execute("SELECT 'ppp-' || entry_id FROM portal.manual_entry WHERE child_id = '07100025'")
    reported = conn.execute(
        "SELECT site_id, child_id, attendance_date, severity, detail FROM reconciled.exception"
        " WHERE kind = 'portal_entry_unknown_child'"
    ).fetchall()
    assert [row[:4] for row in reported] == [("S-P", None, TUESDAY, "warning")]
    assert f"portal entry {unknown_entry.fetchone()[0]} names a Child ID" in reported[0][4]
    # The id matches no voucher child: like any such child's, it is stored nowhere the pipeline writes.
    for table in ("staging.source_record", "reconciled.daily_attendance", "reconciled.exception"):
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE child_id = '07100025'").fetchone() == (0,)


def test_applying_the_same_rows_twice_changes_nothing_and_recorded_time_only_moves_forward(conn):
    with acting_as(conn, SYNC_ROLE):  # the writer of the reference sync
        rows = [{"site_id": "S-1", "closure_date": MONDAY, "closure_kind": "PC", "reason": "storm"}]
        with conn.transaction():
            first = apply_entity_rows(conn, "site_closure", rows)
        with conn.transaction():
            again = apply_entity_rows(conn, "site_closure", rows)
        assert (first.inserted, again.inserted, again.superseded, again.unchanged) == (1, 0, 0, 1)
        recorded = conn.execute("SELECT recorded_at FROM ref.site_closure").fetchone()[0]
        with pytest.raises(HistoryWriteError, match="recorded time only moves forward"), conn.transaction():
            apply_entity_rows(conn, "site_closure", [], withdraw=rows, recorded_at=recorded - dt.timedelta(days=1))
        # Withdrawn: the row stays, superseded, and nothing is current.
        with conn.transaction():
            assert apply_entity_rows(conn, "site_closure", [], withdraw=rows).superseded == 1
        assert conn.execute("SELECT count(*), count(superseded_at) FROM ref.site_closure").fetchone() == (1, 1)
