"""What the hooks make of a vendor's paging, clocks, dates and child ids (over real HTTP).

Issue 17, item 6: Alliance CORE paged on while a cursor was present although ``has_more`` was
false (one site could be held ~7 minutes by the default page cap); a brightwheel clock with an
offset (``08:00+05``) was read as local time; a Playground sign-in dated 2099 passed; a child id
sent as ``7100009.0`` was "missing".
"""

from __future__ import annotations

import datetime as dt

import pytest

from ccms_attendance.canonical import AttendanceRecord, RejectedRecord, Source

EVENTS_ROUTE = "GET /v1/facilities/{license_number}/attendance-events"


def test_alliance_core_stops_on_has_more_false_even_with_a_cursor(world, fleet, extract):
    baseline = extract(Source.ALLIANCE_CORE, page_size=10)
    pages = fleet.stats(Source.ALLIANCE_CORE)["counters"][EVENTS_ROUTE]
    assert pages > 2
    fleet.reset_stats()
    # Every last page keeps a next_cursor (to an empty page that has one again, and so on).
    fault = {"kind": "cursor_after_last_page", "times": None, "path": "/v1/facilities/*/attendance-events"}
    fleet.set_faults([fault], Source.ALLIANCE_CORE)
    assert extract(Source.ALLIANCE_CORE, page_size=10, max_pages=50) == baseline
    counters = fleet.stats(Source.ALLIANCE_CORE)["counters"]
    assert counters[EVENTS_ROUTE] == pages  # not one page more
    assert counters["fault:cursor_after_last_page"] == pages


def _site(world, source: Source, raw: list) -> dict:
    scenario = world.base_scenario()
    for site in scenario["sites"]:
        if site["vendor"] == str(source) and site["license_number"] == world.license(source, "main"):
            site["raw_records"] = raw
    return scenario


def _brightwheel(world, record_id: str, **fields) -> dict:
    return {
        "id": record_id,
        "date": "2026-01-06",
        "status": "present",
        "school": {"license_number": world.license(Source.BRIGHTWHEEL, "main")},
        "student": {"state_child_id": "1000001"},
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"check_in_time": "08:00+05"}, "check-in time has a UTC offset"),
        ({"check_in_time": "08:00", "check_out_time": "17:00Z"}, "check-out time has a UTC offset"),
        ({"check_in_time": "08:00:00-05:00"}, "check-in time has a UTC offset"),
    ],
)
def test_a_brightwheel_clock_with_an_offset_is_rejected_not_read_as_local_time(
    world, use_scenario, extract, fields, reason
):
    use_scenario(_site(world, Source.BRIGHTWHEEL, [_brightwheel(world, "bw-offset", **fields)]))
    items = extract(Source.BRIGHTWHEEL)
    assert not [i for i in items if isinstance(i, AttendanceRecord) and i.source_record_id == "bw-offset"]
    rejected = [i for i in items if isinstance(i, RejectedRecord) and i.source_record_id == "bw-offset"]
    assert [(r.reason, r.child_id, r.attendance_date) for r in rejected] == [(reason, "1000001", dt.date(2026, 1, 6))]


def _playground(world, row_id: str, **fields) -> dict:
    return {
        "row_id": row_id,
        "type": "sign_in_out",
        "center_license": world.license(Source.PLAYGROUND, "main"),
        "attendance_date": "2026-01-06",
        "child": {"state_child_id": "1000001"},
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"sign_in": "2099-01-06T08:00:00-05:00"}, "sign-in is not on the attendance date"),
        ({"sign_in": "2025-01-06T08:00:00-05:00"}, "sign-in is not on the attendance date"),
        (
            {"sign_in": "2026-01-06T08:00:00-05:00", "sign_out": "2099-01-06T17:00:00-05:00"},
            "sign-out is not on the attendance date or the day after",
        ),
    ],
)
def test_a_playground_sign_in_dated_outside_its_day_is_rejected(world, use_scenario, extract, fields, reason):
    use_scenario(_site(world, Source.PLAYGROUND, [_playground(world, "pg-2099", **fields)]))
    items = extract(Source.PLAYGROUND)
    assert not [i for i in items if isinstance(i, AttendanceRecord) and "pg-2099" in i.source_record_id.split("+")]
    rejected = [i for i in items if isinstance(i, RejectedRecord) and i.source_record_id == "pg-2099"]
    assert [(r.reason, r.child_id) for r in rejected] == [(reason, "1000001")]


CHILD_ID_RECORDS = {
    Source.BRIGHTWHEEL: lambda world, child_id: _brightwheel(
        world, "bw-float", check_in_time="08:00", student={"state_child_id": child_id}
    ),
    Source.PLAYGROUND: lambda world, child_id: _playground(
        world, "pg-float", sign_in="2026-01-06T08:00:00-05:00", child={"state_child_id": child_id}
    ),
    Source.ALLIANCE_CORE: lambda world, child_id: {
        "event_id": "evt-float",
        "event_type": "check_in",
        "occurred_at": "2026-01-06T13:00:00Z",
        "facility_license_number": world.license(Source.ALLIANCE_CORE, "main"),
        "child_key": "k-float",
        "state_child_id": child_id,
    },
}


@pytest.mark.parametrize("source", list(CHILD_ID_RECORDS))
@pytest.mark.parametrize("sent", [7100009.0, "7100009.0", " 7100009 ", 7100009])
def test_a_child_id_sent_as_a_whole_number_or_with_spaces_is_that_id(world, use_scenario, extract, source, sent):
    use_scenario(_site(world, source, [CHILD_ID_RECORDS[source](world, sent)]))
    records = [i for i in extract(source) if isinstance(i, AttendanceRecord) and i.child_id == "7100009"]
    assert [(r.attendance_date, r.status.value) for r in records] == [(dt.date(2026, 1, 6), "present")]
