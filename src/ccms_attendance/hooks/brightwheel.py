"""brightwheel: static API key, ``Link: rel="next"`` pages, one daily record per student per day.

Contract: ``src/ccms_attendance/hooks/contracts/brightwheel.openapi.yaml``. Connection: password = API key (sent in the
``X-Api-Key`` header, or the header named by extra ``api_key_header``). The school is looked up by
license number first. Check-in/out times are facility wall-clock times without an offset
(``"07:45"``); they are read in America/Indiana/Indianapolis with the DST policy of
:func:`ccms_attendance.hooks.base.local_wall_clock` (nonexistent -> shifted forward, ambiguous -> earlier).

The submission marker is the school's Indiana I-LEAD report runs for the period
(``GET /v1/schools/{id}/state_reports``): a provider may run the report many times; a ``submitted``
run for exactly the period makes it submitted, otherwise the latest ``draft`` run's
``data_complete_through`` says how far the data is complete (rules in :mod:`ccms_attendance.hooks.markers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from ccms_attendance.canonical import RejectedRecord, SiteSubmission, Source
from ccms_attendance.hooks.base import (
    CcmsHook,
    ExtractedItem,
    SiteRequest,
    absence_reason,
    absent,
    field_of,
    local_wall_clock,
    parse_clock,
    present,
    record_identity,
    text,
)
from ccms_attendance.hooks.markers import MarkerEntry, UnusableMarker, covers, day, instant, read_marker

#: The state report whose submission is the period's completeness signal.
ILEAD_REPORT = "indiana_ilead"

#: brightwheel's absence vocabulary -> canonical reason codes.
REASONS = {"sick": "ILL", "illness": "ILL", "vacation": "VAC", "family": "FAM", "other": "OTH"}


class BrightwheelHook(CcmsHook):
    """Attendance from brightwheel."""

    source: ClassVar[Source] = Source.BRIGHTWHEEL
    default_conn_name = "ccms_brightwheel"
    hook_name = "CCMS: brightwheel"
    default_extra: ClassVar[dict[str, Any]] = {"page_size": 100}
    reauthenticate_on_401: ClassVar[bool] = False  # a static key does not get better by asking again

    def _auth_headers(self, site: SiteRequest) -> dict[str, str]:
        key = self.connection.password
        if not key:
            raise site.fail(f"connection {self.http_conn_id!r} has no API key (password)")
        return {str(self.options.vendor.get("api_key_header", "X-Api-Key")): key}

    def _school_id(self, site: SiteRequest) -> str:
        reply = self._call(site, "GET", "/v1/schools", params={"license_number": site.license_number})
        schools = [
            school
            for school in self._items(site, reply, "schools")
            if isinstance(school, dict) and text(school.get("license_number")) == site.license_number
        ]
        if not schools:
            raise site.fail("no brightwheel school has this license number")
        if len(schools) > 1:
            raise site.fail(f"{len(schools)} brightwheel schools have this license number")
        school_id = text(schools[0].get("id"))
        if school_id is None:
            raise site.fail("the school record has no id")
        return school_id

    def _extract(self, site: SiteRequest) -> Iterator[ExtractedItem]:
        school = f"/v1/schools/{quote(self._school_id(site), safe='')}"
        params = {
            "start_date": site.period.start.isoformat(),
            "end_date": site.period.end.isoformat(),
            "per_page": self.options.page_size,
        }
        marker = self._submission(site, f"{school}/state_reports", {"report_type": ILEAD_REPORT, **params})
        pages = self.iter_link_pages(site, f"{school}/attendance_records", params, items_key="attendance_records")
        records = (record for page in pages for record in page)
        for record in self.dedupe(records, lambda r: text(r.get("id")) if isinstance(r, dict) else None):
            yield from daily_record_items(site, record)
        yield marker

    def _submission(self, site: SiteRequest, endpoint: str, params: dict) -> SiteSubmission:
        pages = self.iter_link_pages(site, endpoint, params, items_key="state_reports")
        reports = [report for page in pages for report in page]
        return read_marker(site, f"GET {endpoint}", "state_reports", reports, ilead_report_entry)


def ilead_report_entry(site: SiteRequest, report: dict) -> MarkerEntry | None:
    """One state report run -> a marker entry (``None``: another report type or another period)."""
    if report.get("report_type") != ILEAD_REPORT or not covers(report, site.period, "period_start", "period_end"):
        return None
    status = report.get("status")
    if status == "submitted":
        return MarkerEntry(submitted=True, submitted_at=instant(report, "submitted_at"))
    if status != "draft":
        raise UnusableMarker("is neither 'submitted' nor 'draft'", "status")
    return MarkerEntry(
        submitted=False, data_through=day(report, "data_complete_through"), issued_at=instant(report, "created_at")
    )


def daily_record_items(site: SiteRequest, record: Any) -> Iterator[ExtractedItem]:
    """One brightwheel daily record -> one canonical record (or a rejection with its reason)."""
    if not isinstance(record, dict):
        yield site.reject("record is not an object")
        return
    identity = record_identity(
        site,
        record_id=text(record.get("id")),
        date=record.get("date"),
        license_number=text(field_of(record, "school", "license_number")),
        child_id=text(field_of(record, "student", "state_child_id")),
    )
    if isinstance(identity, RejectedRecord):
        yield identity
        return
    record_id, license_number, child_id, day = identity
    status = record.get("status")
    if status == "absent":
        yield absent(
            site,
            license_number=license_number,
            child_id=child_id,
            day=day,
            record_id=record_id,
            reason=absence_reason(record.get("absence_reason"), REASONS),
        )
        return
    if status != "present":
        yield site.reject(f"unknown status {str(status)[:40]!r}", record_id=record_id, child_id=child_id, day=day)
        return
    check_in = check_out = None
    for name in ("check_in_time", "check_out_time"):
        if record.get(name) is None:
            continue
        try:
            clock = parse_clock(record[name])
        except ValueError:
            label = "check-in" if name == "check_in_time" else "check-out"
            yield site.reject(f"unparseable {label} time", record_id=record_id, child_id=child_id, day=day)
            return
        if name == "check_in_time":
            check_in = local_wall_clock(day, clock)
        else:
            check_out = local_wall_clock(day, clock, not_before=check_in)
    if check_in is not None and check_out is not None and check_out < check_in:
        yield site.reject("check-out before check-in", record_id=record_id, child_id=child_id, day=day)
        check_out = None
    yield present(
        site,
        license_number=license_number,
        child_id=child_id,
        day=day,
        record_id=record_id,
        check_in=check_in,
        check_out=check_out,
    )
