"""brightwheel: static API key, ``Link: rel="next"`` pages, one daily record per student per day.

Contract: ``src/ccms_attendance/hooks/contracts/brightwheel.openapi.yaml``. Connection: password =
API key (sent in the ``X-Api-Key`` header, or the header named by extra ``api_key_header``). The
school is looked up by license number first. Records are parsed by
:mod:`ccms_attendance.hooks.parsers.brightwheel` (school-local wall-clock times, DST policy there).

The submission marker is the school's Indiana I-LEAD report runs for the period
(``GET /v1/schools/{id}/state_reports``): a provider may run the report many times; a ``submitted``
run for exactly the period makes it submitted, otherwise the latest ``draft`` run's
``data_complete_through`` says how far the data is complete (rules in :mod:`ccms_attendance.hooks.markers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from ccms_attendance.canonical import RepeatedRecord, SiteSubmission, Source
from ccms_attendance.hooks.auth import ApiKeyAuth, Authenticator
from ccms_attendance.hooks.base import CcmsHook
from ccms_attendance.hooks.duplicates import RepeatedIds
from ccms_attendance.hooks.errors import FailureKind
from ccms_attendance.hooks.markers import MarkerEntry, UnusableMarker, covers, day, instant, read_marker
from ccms_attendance.hooks.paging import LinkHeaderPaginator
from ccms_attendance.hooks.parsers.brightwheel import daily_record_items, record_id
from ccms_attendance.hooks.parsers.fields import text
from ccms_attendance.hooks.parsers.records import guarded
from ccms_attendance.hooks.site import SiteRequest

#: The state report whose submission is the period's completeness signal.
ILEAD_REPORT = "indiana_ilead"


class BrightwheelHook(CcmsHook):
    """Attendance from brightwheel."""

    source: ClassVar[Source] = Source.BRIGHTWHEEL
    default_conn_name = "ccms_brightwheel"
    hook_name = "CCMS: brightwheel"
    default_extra: ClassVar[dict[str, Any]] = {"page_size": 100}

    def _authenticator(self) -> Authenticator:
        return ApiKeyAuth(
            str(self.options.vendor.get("api_key_header", "X-Api-Key")),
            self.connection.password,
            missing=f"connection {self.http_conn_id!r} has no API key (password)",
        )

    def _school_id(self, site: SiteRequest) -> str:
        reply = self.call(site, "GET", "/v1/schools", params={"license_number": site.license_number})
        schools = [
            school
            for school in self.items(site, reply, "schools")
            if isinstance(school, dict) and text(school.get("license_number")) == site.license_number
        ]
        if not schools:
            raise site.fail("no brightwheel school has this license number", kind=FailureKind.UNKNOWN_LICENSE)
        if len(schools) > 1:
            raise site.fail(f"{len(schools)} brightwheel schools have this license number")
        school_id = text(schools[0].get("id"))
        if school_id is None:
            raise site.fail("the school record has no id")
        return school_id

    def _extract(self, site: SiteRequest) -> Iterator[Any]:
        school = f"/v1/schools/{quote(self._school_id(site), safe='')}"
        params = {
            "start_date": site.period.start.isoformat(),
            "end_date": site.period.end.isoformat(),
            "per_page": self.options.page_size,
        }
        marker = self._submission(site, f"{school}/state_reports", {"report_type": ILEAD_REPORT, **params})
        paginator = LinkHeaderPaginator("attendance_records", origin=self.origin())
        pages = self.pages(site, paginator, f"{school}/attendance_records", params)
        screened = RepeatedIds(site, record_id).screen(record for page in pages for record in page)
        for record in screened:  # parsed page by page, as the pages arrive
            if isinstance(record, RepeatedRecord):
                yield record
            else:
                yield from guarded(site, record, daily_record_items, record_id)
        yield marker

    def _submission(self, site: SiteRequest, endpoint: str, params: dict) -> SiteSubmission:
        pages = self.pages(site, LinkHeaderPaginator("state_reports", origin=self.origin()), endpoint, params)
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
