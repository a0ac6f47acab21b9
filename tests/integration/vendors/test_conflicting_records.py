"""Conflicting records for one child-day: one policy, in the rules, the same for every vendor.

Issue 17, item 3. A brightwheel "absent" record followed by a "present" one for the same child and
day came out absent (the hook kept the first record of a child-day); a record repeated under the
same id with other content vanished without a count (the hook kept the first version of an id).
Now no hook decides: every record is passed on and the child-day policy
(``ccms_attendance.rules.child_day``: present wins, lineage joins every id) settles them. Exact
repeats are dropped and counted, conflicting versions counted, per site and in the run summary.

Each case runs a whole period in-process — plan, extraction over real HTTP from the sandbox,
validation, reconciliation, load — and reads the reconciled tables.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.ccms_period import ccms_sites, run_ccms_period

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext

PERIOD = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
CHILD_ID = "1000001"
LICENSE = "CC-CONF-1"
MONDAY, TUESDAY, WEDNESDAY = dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)


def _present(source: Source, record_id: str, day: dt.date, clock: str) -> dict:
    if source is Source.BRIGHTWHEEL:
        return {
            "id": record_id,
            "date": day.isoformat(),
            "status": "present",
            "check_in_time": clock,
            "school": {"license_number": LICENSE},
            "student": {"state_child_id": CHILD_ID},
        }
    return {
        "row_id": record_id,
        "type": "sign_in_out",
        "center_license": LICENSE,
        "attendance_date": day.isoformat(),
        "child": {"state_child_id": CHILD_ID},
        "sign_in": f"{day.isoformat()}T{clock}:00-05:00",
    }


def _absent(source: Source, record_id: str, day: dt.date) -> dict:
    if source is Source.BRIGHTWHEEL:
        return {
            "id": record_id,
            "date": day.isoformat(),
            "status": "absent",
            "absence_reason": "sick",
            "school": {"license_number": LICENSE},
            "student": {"state_child_id": CHILD_ID},
        }
    return {
        "row_id": record_id,
        "type": "absence",
        "center_license": LICENSE,
        "attendance_date": day.isoformat(),
        "child": {"state_child_id": CHILD_ID},
        "reason_code": "ILL",
    }


@pytest.mark.parametrize("source", [Source.BRIGHTWHEEL, Source.PLAYGROUND])
def test_conflicting_records_of_a_child_day_are_settled_by_one_policy_and_counted(
    conn, warehouse, use_scenario, make_hook, source
):
    ccms_sites(PERIOD, {"S-CONF": (LICENSE, source, [CHILD_ID])}).write(conn)
    use_scenario(
        {
            "sites": [
                {
                    "vendor": str(source),
                    "license_number": LICENSE,
                    "children": [{"vendor_child_key": "k-ava", "state_child_id": CHILD_ID, "first_name": "Avaline"}],
                    # Monday: "absent" first (rendered), then a "present" record under another id.
                    "days": [{"vendor_child_key": "k-ava", "date": MONDAY.isoformat(), "status": "absent"}],
                    "raw_records": [
                        _present(source, "late-fix", MONDAY, "07:45"),
                        # Tuesday: one id, two versions (absent, then present).
                        _absent(source, "twice", TUESDAY),
                        _present(source, "twice", TUESDAY, "08:00"),
                        # Wednesday: the very same record twice.
                        _present(source, "again", WEDNESDAY, "07:30"),
                        _present(source, "again", WEDNESDAY, "07:30"),
                    ],
                }
            ],
            "settings": {"page_size": 2, "playground_polls_before_complete": 0},
        }
    )
    run = RunContext(run_id=f"conflicts-{source}", dag_id="ccms_attendance_period", period=PERIOD)
    run_ccms_period(warehouse, run, make_hook, [source])

    daily = {
        day: (status, basis, code, record_id)
        for day, status, basis, code, record_id in conn.execute(
            "SELECT attendance_date, status, basis, day_code, source_record_id FROM reconciled.daily_attendance"
            " WHERE child_id = %s AND attendance_date IN (%s, %s, %s)",
            (CHILD_ID, MONDAY, TUESDAY, WEDNESDAY),
        )
    }
    monday = daily[MONDAY]
    assert monday[:3] == ("present", "recorded", "PR")  # present wins, whatever came first
    assert "late-fix" in monday[3].split("+")
    assert len(monday[3].split("+")) == 2  # the lineage keeps the absent record too
    assert daily[TUESDAY] == ("present", "recorded", "PR", "twice")
    assert daily[WEDNESDAY] == ("present", "recorded", "PR", "again")

    site_counts = conn.execute(
        "SELECT duplicates_dropped, duplicate_conflicts FROM staging.site_extract WHERE run_id = %s AND source = %s",
        (run.run_id, str(source)),
    ).fetchone()
    assert tuple(site_counts) == (1, 1)
    (counts,) = conn.execute("SELECT counts FROM reconciled.run_audit WHERE run_id = %s", (run.run_id,)).fetchone()
    extracted = counts["extracted"][str(source)]
    assert (extracted["duplicates_dropped"], extracted["duplicate_conflicts"]) == (1, 1)
    kinds = conn.execute(
        "SELECT attendance_date FROM reconciled.exception WHERE kind = 'duplicate_child_day' AND child_id = %s",
        (CHILD_ID,),
    ).fetchall()
    assert [day for (day,) in kinds] == [MONDAY]
    quarantined = conn.execute("SELECT count(*) FROM reconciled.quarantine WHERE child_id = %s", (CHILD_ID,))
    assert quarantined.fetchone()[0] == 0  # nothing of it was rejected as "a second record"
