"""Submission markers without HTTP: each vendor's entry reader and the rules they share
(``ccms_attendance.hooks.markers``, documented in docs/vendors.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.hostile_payloads import CASES, build, field, hostile_text, instant_text, wrong_type

from ccms_attendance.canonical import AttendanceRecord, AttendanceStatus, SiteSubmission, Source
from ccms_attendance.hooks import CcmsExtractionError
from ccms_attendance.hooks.alliance_core import certification_entry
from ccms_attendance.hooks.base import CcmsHook
from ccms_attendance.hooks.brightwheel import ilead_report_entry
from ccms_attendance.hooks.markers import MarkerEntry, clamp_through, read_marker, site_submission
from ccms_attendance.hooks.playground import upload_entry
from ccms_attendance.hooks.site import SiteRequest
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.site_items import site_rows

UTC = dt.UTC
PERIOD = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
LICENSE = "CC-00123-4"
#: Each vendor's reader and how it spells a submitted / an unsubmitted statement about PERIOD.
VENDORS = {
    Source.BRIGHTWHEEL: (
        ilead_report_entry,
        {"status": "submitted", "submitted_at": "2026-01-19T23:00:00Z"},
        {"status": "draft", "data_complete_through": "2026-01-10", "created_at": "2026-01-11T14:00:00Z"},
        {"id": "rpt_1", "report_type": "indiana_ilead"},
    ),
    Source.ALLIANCE_CORE: (
        certification_entry,
        {"certified": True, "certified_at": "2026-01-19T23:00:00Z"},
        {"certified": False, "complete_through": "2026-01-10", "updated_at": "2026-01-11T14:00:00Z"},
        {"certification_id": "cert-1", "facility_license_number": LICENSE},
    ),
    Source.PLAYGROUND: (
        upload_entry,
        {"locked": True, "locked_at": "2026-01-19T18:00:00-05:00"},
        {"locked": False, "attendance_through": "2026-01-10", "uploaded_at": "2026-01-11T09:00:00-05:00"},
        {"upload_id": "cca-1", "center_license": LICENSE},
    ),
}
#: The fields each vendor's entries are made of (for the hostile-payload property).
FIELDS = {
    Source.BRIGHTWHEEL: ("report_type", "status", "submitted_at", "data_complete_through", "created_at"),
    Source.ALLIANCE_CORE: ("facility_license_number", "certified", "certified_at", "complete_through", "updated_at"),
    Source.PLAYGROUND: ("center_license", "locked", "locked_at", "attendance_through", "uploaded_at"),
}
SUBMITTED_AT = dt.datetime(2026, 1, 19, 23, 0, tzinfo=UTC)


def site(source: Source) -> SiteRequest:
    return SiteRequest(source, LICENSE, PERIOD)


def entry(source: Source, kind: str, **changes) -> dict:
    _, submitted, draft, common = VENDORS[source]
    body = {
        **common,
        "period_start": "2026-01-04",
        "period_end": "2026-01-17",
        **(submitted if kind == "submitted" else draft),
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def read(source: Source, *entries) -> SiteSubmission:
    return read_marker(site(source), "GET /marker", "items", list(entries), VENDORS[source][0])


def marker(source: Source, submitted: bool, submitted_at=None, data_through=None) -> SiteSubmission:
    return SiteSubmission(source, LICENSE, submitted, submitted_at, data_through)


@pytest.mark.parametrize("source", list(VENDORS))
def test_each_vendor_reads_submitted_draft_and_nothing(source):
    assert read(source, entry(source, "submitted")) == marker(source, True, SUBMITTED_AT, PERIOD.end)
    assert read(source, entry(source, "draft")) == marker(source, False, None, dt.date(2026, 1, 10))
    assert read(source) == marker(source, False)


@pytest.mark.parametrize("source", list(VENDORS))
def test_entries_about_another_period_are_ignored(source):
    december = {"period_start": "2025-12-21", "period_end": "2026-01-03"}
    longer = {"period_end": "2026-01-18"}
    assert read(source, entry(source, "submitted", **december), entry(source, "draft")) == marker(
        source, False, None, dt.date(2026, 1, 10)
    )
    assert read(source, entry(source, "submitted", **longer)) == marker(source, False)


def test_entries_about_another_site_or_report_are_ignored():
    assert (
        read(Source.BRIGHTWHEEL, entry(Source.BRIGHTWHEEL, "submitted", report_type="staff_ratio")).submitted is False
    )
    other = {"facility_license_number": "CC-99999-9"}
    assert read(Source.ALLIANCE_CORE, entry(Source.ALLIANCE_CORE, "submitted", **other)).submitted is False
    assert read(Source.PLAYGROUND, entry(Source.PLAYGROUND, "submitted", center_license="CC-9")).submitted is False


@pytest.mark.parametrize("source", list(VENDORS))
def test_submitted_means_the_whole_period_whatever_the_through_date(source):
    through = {Source.BRIGHTWHEEL: "data_complete_through", Source.ALLIANCE_CORE: "complete_through"}
    name = through.get(source, "attendance_through")
    result = read(source, entry(source, "submitted", **{name: "2026-01-05"}))
    assert result == marker(source, True, SUBMITTED_AT, PERIOD.end)


@pytest.mark.parametrize(
    ("through", "expected"),
    [
        (dt.date(2026, 1, 10), dt.date(2026, 1, 10)),
        (PERIOD.start, PERIOD.start),
        (PERIOD.end, PERIOD.end),
        (dt.date(2026, 1, 25), PERIOD.end),  # beyond the period: clamped to its end
        (dt.date(2026, 1, 3), None),  # before the period: no day of it is complete
        (None, None),
    ],
)
def test_a_through_date_is_clamped_into_the_period(through, expected):
    assert clamp_through(PERIOD, through) == expected
    text = None if through is None else through.isoformat()
    draft = entry(Source.PLAYGROUND, "draft", attendance_through=text)
    assert read(Source.PLAYGROUND, draft).data_through == expected


def test_the_latest_submission_and_the_latest_draft_count():
    at = [dt.datetime(2026, 1, day, 12, tzinfo=UTC) for day in (18, 19, 20)]
    s = site(Source.BRIGHTWHEEL)
    submitted = [MarkerEntry(True, submitted_at=at[0]), MarkerEntry(True, submitted_at=at[1])]
    assert site_submission(s, [*submitted, MarkerEntry(False, data_through=PERIOD.start, issued_at=at[2])]) == (
        marker(Source.BRIGHTWHEEL, True, at[1], PERIOD.end)
    )
    drafts = [
        MarkerEntry(False, data_through=dt.date(2026, 1, 12), issued_at=at[0]),
        MarkerEntry(False, data_through=dt.date(2026, 1, 9), issued_at=at[1]),  # the latest run says less
    ]
    assert site_submission(s, drafts).data_through == dt.date(2026, 1, 9)
    tie = [MarkerEntry(False, data_through=dt.date(2026, 1, 12), issued_at=at[1]), *drafts]
    assert site_submission(s, tie).data_through == dt.date(2026, 1, 9)  # a tie: the earlier through-date
    nothing = [*drafts, MarkerEntry(False, data_through=None, issued_at=at[1])]
    assert site_submission(s, nothing).data_through is None


def test_brightwheel_report_runs_pick_the_latest_draft_and_any_submitted_run():
    runs = [
        entry(Source.BRIGHTWHEEL, "draft", created_at="2026-01-12T14:00:00Z", data_complete_through="2026-01-11"),
        entry(Source.BRIGHTWHEEL, "draft", created_at="2026-01-15T14:00:00Z", data_complete_through="2026-01-14"),
    ]
    assert read(Source.BRIGHTWHEEL, *runs).data_through == dt.date(2026, 1, 14)
    assert read(Source.BRIGHTWHEEL, *runs, entry(Source.BRIGHTWHEEL, "submitted")).submitted


UNUSABLE = [
    (Source.BRIGHTWHEEL, "submitted", {"submitted_at": ...}, "submitted_at is not an ISO 8601 timestamp"),
    (Source.BRIGHTWHEEL, "submitted", {"submitted_at": "2026-01-19T18:00:00"}, "submitted_at is not an ISO 8601"),
    (Source.BRIGHTWHEEL, "submitted", {"status": "Submitted"}, "status is neither 'submitted' nor 'draft'"),
    (Source.BRIGHTWHEEL, "draft", {"data_complete_through": "2026-01-32"}, "data_complete_through is not a YYYY"),
    (Source.BRIGHTWHEEL, "draft", {"created_at": None}, "created_at is not an ISO 8601 timestamp"),
    (Source.BRIGHTWHEEL, "draft", {"period_start": 20260104}, "period_start is not a YYYY-MM-DD date"),
    (Source.ALLIANCE_CORE, "submitted", {"certified": "true"}, "certified is not true or false"),
    (Source.ALLIANCE_CORE, "submitted", {"certified": 1}, "certified is not true or false"),
    (Source.ALLIANCE_CORE, "submitted", {"certified_at": "9999-12-31T23:00:00-05:00"}, "certified_at is not an"),
    (Source.ALLIANCE_CORE, "draft", {"complete_through": ["2026-01-10"]}, "complete_through is not a YYYY-MM-DD"),
    (Source.ALLIANCE_CORE, "draft", {"period_end": ...}, "period_end is not a YYYY-MM-DD date"),
    (Source.PLAYGROUND, "submitted", {"locked": None}, "locked is not true or false"),
    (Source.PLAYGROUND, "submitted", {"locked_at": "yesterday"}, "locked_at is not an ISO 8601"),
    (Source.PLAYGROUND, "draft", {"uploaded_at": ...}, "uploaded_at is not an ISO 8601 timestamp"),
]


@pytest.mark.parametrize(("source", "kind", "changes", "problem"), UNUSABLE)
def test_an_unusable_entry_fails_the_site_naming_the_field(source, kind, changes, problem):
    with pytest.raises(CcmsExtractionError) as caught:
        read(source, entry(source, "draft", created_at="2026-01-09T00:00:00Z"), entry(source, kind, **changes))
    message = str(caught.value)
    assert message.startswith(f"{source} site {LICENSE} period 2026-01-04..2026-01-17: unusable submission marker: ")
    assert f"items[1].{problem}" in message
    assert message.endswith("(GET /marker)")
    assert caught.value.license_number == LICENSE
    assert caught.value.__cause__ is None


def test_an_entry_that_is_not_an_object_fails_the_site():
    with pytest.raises(CcmsExtractionError, match=r"unusable submission marker: items\[0\] is not an object"):
        read(Source.PLAYGROUND, ["locked"])


def test_the_extract_step_passes_a_submission_through_untouched():
    submission = marker(Source.BRIGHTWHEEL, True, SUBMITTED_AT, PERIOD.end)
    rows = site_rows("S-1", LICENSE, [submission], frozenset())
    assert rows.submission is submission
    assert (rows.records, rows.rejected, rows.dropped_non_voucher) == ([], [], 0)


def test_a_hook_must_end_with_exactly_one_marker(monkeypatch):
    record = AttendanceRecord(Source.BRIGHTWHEEL, LICENSE, "1000001", PERIOD.start, AttendanceStatus.ABSENT, "r1")
    submission = marker(Source.BRIGHTWHEEL, False)
    hook = CcmsHook()
    hook.source = Source.BRIGHTWHEEL
    for items, problem in (([record], "yielded no submission marker"), ([submission, record], "after the submission")):
        monkeypatch.setattr(hook, "_extract", lambda _site, items=items: iter(items))
        with pytest.raises(CcmsExtractionError, match=problem):
            list(hook.iter_site_period(LICENSE, PERIOD))
    monkeypatch.setattr(hook, "_extract", lambda _site: iter([record, submission]))
    assert list(hook.iter_site_period(LICENSE, PERIOD)) == [record, submission]
    assert hook.stats["records"] == 1


def _hostile_entries(source: Source):
    _, submitted, draft, common = VENDORS[source]
    flag, at, through, issued = FIELDS[source][1:]
    valid = {
        FIELDS[source][0]: st.sampled_from([common.get(FIELDS[source][0], "indiana_ilead"), LICENSE, "other"]),
        flag: st.sampled_from([submitted[flag], draft[flag]]),
        at: st.sampled_from(["2026-01-19T23:00:00Z", "2026-01-18T08:00:00-05:00", "2026-01-20T01:00:00+02:00"]),
        through: st.sampled_from(["2026-01-03", "2026-01-04", "2026-01-10", "2026-01-17", "2026-02-01"]),
        issued: st.sampled_from(["2026-01-12T14:00:00Z", "2026-01-12T09:00:00-05:00", "2026-01-16T14:00:00Z"]),
        "period_start": st.sampled_from(["2026-01-04", "2026-01-04", "2025-12-21"]),
        "period_end": st.sampled_from(["2026-01-17", "2026-01-17", "2026-01-03"]),
    }
    plausible = st.fixed_dictionaries(valid)
    hostile_values = {**valid, at: instant_text(PERIOD), issued: instant_text(PERIOD)}
    hostile = st.fixed_dictionaries({name: field(strategy) for name, strategy in hostile_values.items()}).map(build)
    junk = st.one_of(wrong_type(), hostile_text())
    one = st.integers(0, 9).flatmap(lambda n: plausible if n < 7 else hostile if n < 9 else junk)
    return st.lists(one, max_size=4)


@pytest.mark.parametrize("source", list(VENDORS))
@given(data=st.data())
def test_hostile_marker_entries_never_crash_and_garbage_is_never_submitted(source, data):
    CASES[f"unit: {source} submission markers"] += 1
    entries = data.draw(_hostile_entries(source))
    try:
        result = read(source, *entries)
    except CcmsExtractionError as error:
        result = error
    if isinstance(result, CcmsExtractionError):
        assert str(result).startswith(f"{source} site {LICENSE} period 2026-01-04..2026-01-17: unusable submission")
        return
    assert isinstance(result, SiteSubmission)
    assert result.data_through is None or PERIOD.contains(result.data_through)
    if result.submitted:
        assert result.data_through == PERIOD.end
        assert result.submitted_at is not None
        assert result.submitted_at.utcoffset() == dt.timedelta(0)
        flag = FIELDS[source][1]
        assert any(
            isinstance(e, dict)
            and (e.get(flag) == "submitted" if source is Source.BRIGHTWHEEL else e.get(flag) is True)
            and (e.get("period_start"), e.get("period_end")) == ("2026-01-04", "2026-01-17")
            for e in entries
        )
    else:
        assert result.submitted_at is None
