"""Canonical output: identical across vendors, child ids, no personal data, DST days."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ccms_attendance.canonical import STATE_TIMEZONE, AttendanceStatus, SiteSubmission, Source

UTC = dt.UTC


def _comparable(records, *, present_only: bool = False):
    rows = set()
    for record in records:
        if present_only and record.status is not AttendanceStatus.PRESENT:
            continue
        rows.add(dataclasses.replace(record, source=Source.PPP, source_record_id="", license_number="-"))
    return rows


@pytest.mark.parametrize(
    "kind_period", [("main", "JANUARY"), ("dst", "MARCH"), ("dst", "OCTOBER"), ("dst", "NOVEMBER")]
)
def test_canonical_output_is_identical_whichever_vendor_serves_the_scenario(world, extract, kind_period):
    kind, period_name = kind_period
    period = getattr(world, period_name)
    results = {source: world.split(extract(source, kind, period)) for source in world.VENDORS}
    brightwheel, _ = results[Source.BRIGHTWHEEL]
    playground, _ = results[Source.PLAYGROUND]
    alliance, _ = results[Source.ALLIANCE_CORE]
    assert brightwheel, "the scenario has records in this period"
    assert _comparable(brightwheel) == _comparable(playground)
    # Alliance CORE has no absence records: its present records must match the others'.
    assert _comparable(alliance) == _comparable(brightwheel, present_only=True)
    assert all(r.status is AttendanceStatus.PRESENT for r in alliance)
    # Rejections are the same too (the children without a state Child ID), apart from ids.
    rejected = {s: sorted((r.reason, r.attendance_date) for r in results[s][1]) for s in world.VENDORS}
    present_days = sorted((r.reason, r.attendance_date) for r in results[Source.BRIGHTWHEEL][1])
    assert rejected[Source.PLAYGROUND] == present_days
    for source in world.VENDORS:
        assert all(r.source is source for r in results[source][0] + results[source][1])
        assert all(r.license_number == world.license(source, kind) for r in results[source][0])


def test_every_record_is_in_the_period_and_timestamps_are_aware(world, extract):
    for source in world.VENDORS:
        records, _ = world.split(extract(source))
        assert {r.attendance_date for r in records} <= set(world.JANUARY.days)
        for record in records:
            for stamp in (record.check_in, record.check_out):
                assert stamp is None or stamp.utcoffset() is not None
            if record.check_in is not None:
                assert record.check_in.astimezone(STATE_TIMEZONE).date() == record.attendance_date


def test_children_without_state_child_id_are_rejected_and_non_voucher_ids_are_kept(world, extract):
    for source in world.VENDORS:
        records, rejected = world.split(extract(source))
        ids = {r.child_id for r in records}
        assert ids == {"1000001", "1000002", "9000009"}  # the non-voucher child is the pipeline's call
        assert rejected
        assert {r.reason for r in rejected} == {"missing state child id"}
        assert all(r.child_id is None and r.source_record_id and r.attendance_date for r in rejected)


def test_names_and_birth_dates_never_appear_in_hook_output(world, extract):
    for source in world.VENDORS:
        for kind, period in (("main", world.JANUARY), ("dst", world.MARCH), ("edge", world.NOVEMBER)):
            text = repr(extract(source, kind, period))
            leaked = [value for value in world.PERSONAL if value in text]
            assert not leaked, f"{source} leaked {leaked}"


def test_absence_reasons_are_canonical_codes(world, extract):
    for source in (Source.BRIGHTWHEEL, Source.PLAYGROUND):
        records, _ = world.split(extract(source))
        reasons = {r.absence_reason for r in records if r.status is AttendanceStatus.ABSENT}
        assert reasons == {"ILL", "VAC", "FAM"}


def test_alliance_utc_check_in_before_local_midnight_belongs_to_the_previous_local_day(world, extract):
    records, _ = world.split(extract(Source.ALLIANCE_CORE, "dst", world.MARCH))
    late = [r for r in records if r.child_id == "1000001" and r.attendance_date == dt.date(2026, 3, 7)]
    assert len(late) == 1
    assert late[0].check_in == dt.datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
    assert late[0].check_in.astimezone(STATE_TIMEZONE).strftime("%H:%M %Z") == "23:30 EST"
    assert "+" not in late[0].source_record_id  # no check-out event: only the check-in id
    paired = [r for r in records if r.attendance_date == dt.date(2026, 3, 8) and r.child_id == "1000001"]
    assert paired[0].source_record_id.count("+") == 1
    assert paired[0].source_record_id.startswith("evt-")


def test_record_on_the_last_evening_of_a_period_stays_in_that_period(world, extract):
    for source in world.VENDORS:
        october, _ = world.split(extract(source, "dst", world.OCTOBER))
        november, _ = world.split(extract(source, "dst", world.NOVEMBER))
        assert [r.attendance_date for r in october] == [dt.date(2026, 10, 31)]
        assert october[0].check_in == dt.datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
        assert dt.date(2026, 10, 31) not in {r.attendance_date for r in november}


def test_brightwheel_local_times_on_dst_days(world, extract):
    march, _ = world.split(extract(Source.BRIGHTWHEEL, "dst", world.MARCH))
    by_child = {(r.child_id, r.attendance_date): r for r in march}
    leo = by_child[("1000002", dt.date(2026, 3, 8))]
    assert leo.check_in == dt.datetime(2026, 3, 8, 5, 30, tzinfo=UTC)  # 00:30 EST
    assert leo.check_out == dt.datetime(2026, 3, 8, 7, 15, tzinfo=UTC)  # 03:15 EDT
    ava = by_child[("1000001", dt.date(2026, 3, 8))]
    assert ava.check_in == dt.datetime(2026, 3, 8, 11, 45, tzinfo=UTC)  # 07:45 EDT


def test_brightwheel_nonexistent_and_ambiguous_wall_clock_times(world, extract):
    march, _ = world.split(extract(Source.BRIGHTWHEEL, "edge", world.MARCH))
    (ava,) = march
    # "02:30" does not exist on 2026-03-08: read with the pre-jump offset -> 03:30 EDT.
    assert ava.check_in == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert ava.check_in.astimezone(STATE_TIMEZONE).strftime("%H:%M %Z") == "03:30 EDT"
    november, rejected = world.split(extract(Source.BRIGHTWHEEL, "edge", world.NOVEMBER))
    assert not rejected
    leo = next(r for r in november if r.child_id == "1000002")
    # "01:30" happens twice on 2026-11-01: the earlier (EDT) reading ...
    assert leo.check_in == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    # ... but a check-out "01:10" after it can only be the later (EST) one.
    assert leo.check_out == dt.datetime(2026, 11, 1, 6, 10, tzinfo=UTC)


def test_alliance_and_playground_keep_exact_instants_on_the_fall_back_day(world, extract):
    for source in (Source.ALLIANCE_CORE, Source.PLAYGROUND):
        november, rejected = world.split(extract(source, "edge", world.NOVEMBER))
        nov = next(r for r in november if r.child_id == "9000009")
        assert nov.check_in == dt.datetime(2026, 11, 1, 6, 20, tzinfo=UTC)  # 01:20 EST, the second 01:20
        leo = next(r for r in november if r.child_id == "1000002")
        assert leo.check_in == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
        assert leo.check_out is None  # its check-out (01:10 EDT) precedes the check-in
        assert [r.reason for r in rejected] == ["check-out before check-in"]
        assert rejected[0].child_id == "1000002"


def test_empty_period_yields_only_the_submission_marker(world, extract):
    for source in world.VENDORS:
        for kind, period in (("empty", world.JANUARY), ("main", world.NOVEMBER)):
            submitted_at = dt.datetime.combine(period.end + dt.timedelta(days=2), dt.time(18), tzinfo=STATE_TIMEZONE)
            marker = SiteSubmission(source, world.license(source, kind), True, submitted_at, period.end)
            assert extract(source, kind, period) == [marker]


def test_records_outside_the_period_are_rejected_when_a_vendor_ignores_the_range(world, extract, use_scenario):
    use_scenario(world.base_scenario({"sloppy_date_filter": True}))
    for source in world.VENDORS:
        records, rejected = world.split(extract(source, "dst", world.MARCH))
        outside = [r for r in rejected if r.reason == "outside period"]
        assert outside, source
        assert all(not world.MARCH.contains(r.attendance_date) for r in outside)
        assert all(world.MARCH.contains(r.attendance_date) for r in records)


def test_unknown_site_is_a_clear_error(world, make_hook):
    from ccms_attendance.hooks import CcmsExtractionError

    for source in world.VENDORS:
        hook = make_hook(source)
        with pytest.raises(CcmsExtractionError) as caught:
            list(hook.iter_site_period("CC-99999-9", world.JANUARY))
        message = str(caught.value)
        assert message.startswith(f"{source} site CC-99999-9 period 2026-01-04..2026-01-17: ")
        assert "404" in message or "no brightwheel school" in message
