"""ServicePeriodTimetable's final phase: a second run of each period at its submission deadline,
and the run ids of both phases.
"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction
from support.timetable_cases import (
    CALENDAR,
    GRACE,
    D,
    interval,
    local,
    period_interval,
    utc,
    walk,
)

from ccms_attendance.periods import PeriodCalendar
from ccms_attendance.timetables import Phase, ServicePeriodTimetable

# --- the final phase: a second run at each submission deadline ---------------------------------


def test_final_phase_runs_each_period_after_its_submission_deadline():
    final = ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=Phase.FINAL)
    infos = walk(final, TimeRestriction(earliest=utc("2026-11-08T05:00"), latest=utc("2026-11-22T05:00"), catchup=True))
    assert [(i.data_interval, i.run_after) for i in infos] == [
        # 2026-11-08..21 is due on 12-05 (14 days after its end), submissions close at 12-06 00:00 local.
        (interval("2026-11-08T05:00", "2026-11-22T05:00"), local("2026-12-06T00:00") + GRACE),
        (interval("2026-11-22T05:00", "2026-12-06T05:00"), local("2026-12-20T00:00") + GRACE),
    ]


def test_final_phase_honours_a_deadline_override():
    calendar = PeriodCalendar(CALENDAR.anchor, 14, deadlines=((D("2026-11-08"), D("2026-12-12")),))
    final = ServicePeriodTimetable(calendar, phase=Phase.FINAL)
    info = final.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc("2026-11-08T05:00"), None, catchup=True)
    )
    assert info is not None
    assert info.run_after == local("2026-12-13T00:00")


def latest_final_interval(calendar: PeriodCalendar, grace: dt.timedelta) -> DataInterval:
    now = dt.datetime.now(tz=dt.UTC)
    period = calendar.period_containing(D("2024-01-01"))
    due = None
    while calendar.deadline_instant(period) + grace <= now:
        due = period
        period = calendar.next_period(period)
    assert due is not None
    return period_interval(due)


def test_final_phase_without_catchup_runs_the_latest_period_past_its_deadline():
    final = ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=Phase.FINAL)
    restriction = TimeRestriction(earliest=utc("2024-01-07T05:00"), latest=None, catchup=False)
    before = latest_final_interval(CALENDAR, GRACE)
    info = final.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    after = latest_final_interval(CALENDAR, GRACE)
    assert info is not None
    assert info.data_interval in {before, after}
    assert info.run_after <= pendulum.now("UTC")
    # The provisional phase has already run the period after it (it closed two weeks later).
    provisional = ServicePeriodTimetable(CALENDAR, grace=GRACE).next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction
    )
    assert provisional is not None
    assert provisional.data_interval.start >= info.data_interval.end


@pytest.mark.parametrize(
    ("phase", "run_type", "expected"),
    [
        (Phase.PROVISIONAL, "scheduled", "provisional__2026-11-08"),
        (Phase.FINAL, "scheduled", "final__2026-11-08"),
        (Phase.PROVISIONAL, "manual", "manual__2026-11-08__"),
        (Phase.PROVISIONAL, "backfill", "backfill__2026-11-08__"),
    ],
)
def test_run_ids_name_the_period(phase, run_type, expected):
    from airflow.utils.types import DagRunType

    timetable = ServicePeriodTimetable(CALENDAR, grace=GRACE, phase=phase)
    run_id = timetable.generate_run_id(
        run_type=DagRunType(run_type),
        run_after=utc("2026-12-07T05:00"),
        data_interval=interval("2026-11-08T05:00", "2026-11-22T05:00"),
    )
    assert run_id.startswith(expected)
    if run_type != "scheduled":  # unique per creation: a backfill may rerun a period beside its old run
        second = timetable.generate_run_id(
            run_type=DagRunType(run_type),
            run_after=utc("2026-12-07T05:00"),
            data_interval=interval("2026-11-08T05:00", "2026-11-22T05:00"),
        )
        assert second != run_id
    else:
        assert run_id == expected
