"""Pure parsing rules of the vendor hooks (no HTTP): pairing, DST policy, missing fields, options."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from ccms_attendance.canonical import AttendanceRecord, AttendanceStatus, RejectedRecord, Source
from ccms_attendance.hooks import CcmsExtractionError, hook_for_source
from ccms_attendance.hooks.alliance_core import AllianceCoreHook
from ccms_attendance.hooks.brightwheel import BrightwheelHook
from ccms_attendance.hooks.options import HookOptions
from ccms_attendance.hooks.parsers.alliance_core import pair_events
from ccms_attendance.hooks.parsers.brightwheel import daily_record_items
from ccms_attendance.hooks.parsers.clock import local_wall_clock
from ccms_attendance.hooks.parsers.fields import absence_reason
from ccms_attendance.hooks.parsers.playground import export_rows_items
from ccms_attendance.hooks.playground import PlaygroundHook
from ccms_attendance.hooks.site import SiteRequest
from ccms_attendance.periods import ServicePeriod

UTC = dt.UTC
PERIOD = ServicePeriod(dt.date(2026, 3, 1), dt.date(2026, 3, 14))
LICENSE = "CC-00123-4"


def site(source: Source) -> SiteRequest:
    return SiteRequest(source, LICENSE, PERIOD)


def event(event_id, kind, at, child="k1", state_id="1000001", **extra):
    return {
        "event_id": event_id,
        "event_type": kind,
        "occurred_at": at,
        "facility_license_number": LICENSE,
        "child_key": child,
        "state_child_id": state_id,
        **extra,
    }


def test_pairs_first_check_in_and_last_check_out_per_local_day():
    items = list(
        pair_events(
            site(Source.ALLIANCE_CORE),
            [
                event("e1", "check_in", "2026-03-09T12:00:00Z"),
                event("e2", "check_out", "2026-03-09T15:00:00Z"),
                event("e3", "check_in", "2026-03-09T16:00:00Z"),
                event("e4", "check_out", "2026-03-09T21:00:00Z"),
            ],
        )
    )
    (record,) = items
    assert record.source_record_id == "e1+e4"
    assert record.check_in == dt.datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert record.check_out == dt.datetime(2026, 3, 9, 21, tzinfo=UTC)
    assert record.attendance_date == dt.date(2026, 3, 9)


def test_utc_check_in_after_local_midnight_utc_is_previous_local_day():
    (record,) = pair_events(site(Source.ALLIANCE_CORE), [event("e1", "check_in", "2026-03-08T04:30:00Z")])
    assert record.attendance_date == dt.date(2026, 3, 7)
    assert record.check_out is None
    assert record.source_record_id == "e1"


def test_orphan_and_early_check_outs_are_rejected_with_reasons():
    items = list(
        pair_events(
            site(Source.ALLIANCE_CORE),
            [
                event("e1", "check_out", "2026-03-10T05:30:00Z"),  # 01:30 EDT on the 10th, no check-in that day
                event("e2", "check_out", "2026-03-11T11:00:00Z"),
                event("e3", "check_in", "2026-03-11T12:00:00Z"),
            ],
        )
    )
    reasons = {(i.reason, i.source_record_id) for i in items if isinstance(i, RejectedRecord)}
    assert reasons == {("check-out without a check-in on that day", "e1"), ("check-out before check-in", "e2")}
    (record,) = [i for i in items if isinstance(i, AttendanceRecord)]
    assert record.source_record_id == "e3"
    assert record.check_out is None


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"event_id": None}, "missing event id"),
        ({"occurred_at": None}, "missing event timestamp"),
        ({"occurred_at": "yesterday"}, "unparseable event timestamp"),
        ({"occurred_at": "2026-03-09T12:00:00"}, "unparseable event timestamp"),
        ({"facility_license_number": None}, "missing license number"),
        ({"event_type": "nap_time"}, "unknown event type (a text of 8 characters)"),
        ({"state_child_id": None}, "missing state child id"),
        ({"child_key": None, "state_child_id": None}, "missing child identifiers"),
    ],
)
def test_broken_events_become_rejections(broken, reason):
    raw = event("e1", "check_in", "2026-03-09T12:00:00Z")
    raw.update(broken)
    raw = {k: v for k, v in raw.items() if v is not None}
    (item,) = pair_events(site(Source.ALLIANCE_CORE), [raw])
    assert isinstance(item, RejectedRecord)
    assert item.reason == reason


def test_non_object_records_never_crash():
    assert next(iter(pair_events(site(Source.ALLIANCE_CORE), ["junk", None]))).reason == "event is not an object"
    assert next(daily_record_items(site(Source.BRIGHTWHEEL), 42)).reason == "record is not an object"
    assert next(export_rows_items(site(Source.PLAYGROUND), [[]])).reason == "row is not an object"


def bw_record(**changes):
    record = {
        "id": "ar_1",
        "date": "2026-03-08",
        "status": "present",
        "check_in_time": "07:45",
        "check_out_time": "17:10",
        "school": {"id": "s", "license_number": LICENSE},
        "student": {"id": "stu", "state_child_id": "1000001", "first_name": "Secret"},
    }
    record.update(changes)
    return record


def test_brightwheel_local_times_become_aware_on_the_spring_forward_day():
    (record,) = daily_record_items(site(Source.BRIGHTWHEEL), bw_record())
    assert record.check_in == dt.datetime(2026, 3, 8, 11, 45, tzinfo=UTC)  # EDT already
    assert record.check_out == dt.datetime(2026, 3, 8, 21, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": None}, "missing record id"),
        ({"date": None}, "missing attendance date"),
        ({"date": "08/03/2026"}, "unparseable attendance date"),
        ({"school": {}}, "missing license number"),
        ({"student": {"id": "stu"}}, "missing state child id"),
        ({"status": "late"}, "unknown status (a text of 4 characters)"),
        ({"check_in_time": "7.45am"}, "unparseable check-in time"),
        ({"check_out_time": "25:99"}, "unparseable check-out time"),
    ],
)
def test_brightwheel_broken_records_become_rejections(changes, reason):
    (item,) = daily_record_items(site(Source.BRIGHTWHEEL), bw_record(**changes))
    assert isinstance(item, RejectedRecord)
    assert item.reason == reason
    assert "Secret" not in repr(item)


def test_brightwheel_absence_reasons_map_to_codes():
    item = next(daily_record_items(site(Source.BRIGHTWHEEL), bw_record(status="absent", absence_reason="sick")))
    assert item.status is AttendanceStatus.ABSENT
    assert item.absence_reason == "ILL"
    assert item.check_in is None
    assert absence_reason("vacation", {"vacation": "VAC"}) == "VAC"
    assert absence_reason("dentist") == "OTH"
    assert absence_reason(None) is None
    assert absence_reason(" ") is None
    assert absence_reason("fam") == "FAM"


def test_dst_policy_for_wall_clock_times():
    spring, fall = dt.date(2026, 3, 8), dt.date(2026, 11, 1)
    assert local_wall_clock(spring, dt.time(2, 30)) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert local_wall_clock(spring, dt.time(1, 59)) == dt.datetime(2026, 3, 8, 6, 59, tzinfo=UTC)  # EST
    assert local_wall_clock(spring, dt.time(3, 0)) == dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # EDT
    assert local_wall_clock(fall, dt.time(1, 30)) == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # earlier: EDT
    check_in = dt.datetime(2026, 11, 1, 5, 45, tzinfo=UTC)
    assert local_wall_clock(fall, dt.time(1, 10), not_before=check_in) == dt.datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    assert local_wall_clock(fall, dt.time(1, 50), not_before=check_in) == dt.datetime(2026, 11, 1, 5, 50, tzinfo=UTC)
    assert local_wall_clock(fall, dt.time(2, 0)) == dt.datetime(2026, 11, 1, 7, 0, tzinfo=UTC)


def pg_row(row_id, kind, **changes):
    row = {
        "row_id": row_id,
        "type": kind,
        "center_license": LICENSE,
        "attendance_date": "2026-03-09",
        "child": {"playground_id": "p1", "state_child_id": "1000001", "first_name": "Secret", "dob": "2021-01-01"},
    }
    row.update(changes)
    return row


def test_playground_rows_merge_per_child_day_and_every_absence_row_is_passed_on():
    rows = [
        pg_row("r1", "sign_in_out", sign_in="2026-03-09T07:45:00-04:00", sign_out="2026-03-09T11:00:00-04:00"),
        pg_row("r2", "sign_in_out", sign_in="2026-03-09T12:30:00-04:00", sign_out="2026-03-09T17:00:00-04:00"),
        pg_row("r3", "absence", reason_code="ILL"),
        pg_row("r4", "absence", reason_code="XYZ", attendance_date="2026-03-10"),
    ]
    items = list(export_rows_items(site(Source.PLAYGROUND), rows))
    records = [i for i in items if isinstance(i, AttendanceRecord)]
    # The absence on the 9th is passed on: the rules' child-day policy settles it (present wins).
    assert [(r.attendance_date.day, r.status, r.source_record_id) for r in records] == [
        (9, AttendanceStatus.PRESENT, "r1+r2"),
        (9, AttendanceStatus.ABSENT, "r3"),
        (10, AttendanceStatus.ABSENT, "r4"),
    ]
    assert records[0].check_in == dt.datetime(2026, 3, 9, 11, 45, tzinfo=UTC)
    assert records[0].check_out == dt.datetime(2026, 3, 9, 21, 0, tzinfo=UTC)
    assert records[1].absence_reason == "ILL"
    assert records[2].absence_reason == "OTH"
    assert not [i for i in items if isinstance(i, RejectedRecord)]
    assert "Secret" not in repr(items)
    assert "2021-01-01" not in repr(items)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"row_id": None}, "missing row id"),
        ({"attendance_date": None}, "missing attendance date"),
        ({"center_license": ""}, "missing license number"),
        ({"child": {"playground_id": "p1", "state_child_id": None}}, "missing state child id"),
        ({"type": "nap"}, "unknown row type (a text of 3 characters)"),
        ({"sign_in": "soon"}, "unparseable sign-in or sign-out time"),
    ],
)
def test_playground_broken_rows_become_rejections(changes, reason):
    row = pg_row("r1", "sign_in_out")
    row.update(changes)
    (item,) = export_rows_items(site(Source.PLAYGROUND), [row])
    assert isinstance(item, RejectedRecord)
    assert item.reason == reason


def test_options_from_connection_extras():
    options = HookOptions.from_extra({"page_size": "25", "read_timeout": 5, "client_id": "x", "verify": False}, {})
    assert options.page_size == 25
    assert options.read_timeout == 5.0
    assert options.vendor == {"client_id": "x"}
    with pytest.raises(ValueError, match="page_size"):
        HookOptions.from_extra({"page_size": "many"}, {})
    with pytest.raises(ValueError, match="must be positive"):
        HookOptions.from_extra({"max_attempts": 0}, {})


def test_hook_for_source_and_class_attributes():
    assert isinstance(hook_for_source(Source.ALLIANCE_CORE), AllianceCoreHook)
    assert isinstance(hook_for_source("BRIGHTWHEEL"), BrightwheelHook)
    hook = hook_for_source(Source.PLAYGROUND, "my_conn")
    assert isinstance(hook, PlaygroundHook)
    assert hook.http_conn_id == "my_conn"
    assert [h.default_conn_name for h in (AllianceCoreHook, BrightwheelHook, PlaygroundHook)] == [
        "ccms_alliance_core",
        "ccms_brightwheel",
        "ccms_playground",
    ]
    assert all(h.conn_type == "http" for h in (AllianceCoreHook, BrightwheelHook, PlaygroundHook))
    with pytest.raises(ValueError, match="not a CCMS vendor"):
        hook_for_source(Source.PPP)


def test_extraction_error_names_vendor_site_period_and_pickles():
    error = site(Source.BRIGHTWHEEL).fail("HTTP 500 after 5 attempts")
    assert str(error) == "BRIGHTWHEEL site CC-00123-4 period 2026-03-01..2026-03-14: HTTP 500 after 5 attempts"
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)
    assert copy.license_number == LICENSE
    assert copy.period == PERIOD
    assert str(CcmsExtractionError("plain message")) == "plain message"


def test_missing_connection_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CCMS_NOWHERE", raising=False)
    hook = hook_for_source(Source.BRIGHTWHEEL, "ccms_nowhere")
    with pytest.raises(CcmsExtractionError, match=r"BRIGHTWHEEL site CC-00123-4 period .*: connection 'ccms_nowhere'"):
        list(hook.iter_site_period(LICENSE, PERIOD))


def test_records_dated_after_now_are_rejected_for_every_vendor():
    """``now`` is the moment the hook reads the data: nothing can have been observed after it."""
    now = dt.datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 11:00 EDT on Monday 2026-03-09
    at_noon = SiteRequest(Source.BRIGHTWHEEL, LICENSE, PERIOD, now=now)
    items = list(
        daily_record_items(at_noon, bw_record(date="2026-03-09", check_in_time="10:00", check_out_time="17:00"))
    )
    assert [(i.reason, i.source_record_id) for i in items] == [("check-out is in the future", "ar_1")]
    (tomorrow,) = daily_record_items(at_noon, bw_record(date="2026-03-10", status="absent", check_in_time=None))
    assert tomorrow.reason == "attendance date is in the future"
    (later,) = pair_events(
        SiteRequest(Source.ALLIANCE_CORE, LICENSE, PERIOD, now=now), [event("e1", "check_in", "2026-03-09T16:00:00Z")]
    )
    assert later.reason == "check-in is in the future"
    (signed,) = export_rows_items(
        SiteRequest(Source.PLAYGROUND, LICENSE, PERIOD, now=now),
        [pg_row("r1", "sign_in_out", sign_in="2026-03-09T12:30:00-04:00")],
    )
    assert signed.reason == "sign-in or sign-out is in the future"
    (fine,) = pair_events(
        SiteRequest(Source.ALLIANCE_CORE, LICENSE, PERIOD, now=now), [event("e2", "check_in", "2026-03-09T14:00:00Z")]
    )
    assert isinstance(fine, AttendanceRecord)


def test_a_record_that_breaks_the_parser_is_rejected_alone(monkeypatch):
    import ccms_attendance.hooks.parsers.brightwheel as brightwheel

    def explode(*_args, **_kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(brightwheel, "local_wall_clock", explode)
    items = list(
        brightwheel.daily_records(site(Source.BRIGHTWHEEL), [bw_record(), bw_record(id="ar_2", status="absent")])
    )
    assert [(type(i).__name__, i.source_record_id) for i in items] == [
        ("RejectedRecord", "ar_1"),
        ("AttendanceRecord", "ar_2"),
    ]
    assert items[0].reason == "record could not be read (OverflowError)"
