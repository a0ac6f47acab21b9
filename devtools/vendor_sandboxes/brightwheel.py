"""brightwheel sandbox: static API key, ``Link: rel="next"`` pagination, daily records, local times.

Contract: ``src/ccms_attendance/hooks/contracts/brightwheel.openapi.yaml``. A school is found by its license number
(``GET /v1/schools``); its attendance is one record per student per day with a ``status`` and
wall-clock ``check_in_time``/``check_out_time`` (no offset) in the facility's time zone. A school's
Indiana I-LEAD report runs for a period (``GET /v1/schools/{id}/state_reports``) are its submission
marker: one ``submitted`` run, one ``draft`` run (not submitted, with a through-date), or none.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from devtools.vendor_sandboxes.admin import add_admin_routes
from devtools.vendor_sandboxes.common import (
    SandboxState,
    error,
    memoized,
    page_slice,
    respond,
    secret_equal,
    serve_renderings,
    site_rendering,
)
from devtools.vendor_sandboxes.scenario import Site, marker_for, marker_id, requested_period, utc_z, wall_clock

VENDOR = "BRIGHTWHEEL"
REASON_WORDS = {"ILL": "sick", "VAC": "vacation", "FAM": "family", "OTH": "other"}


def school_id_for(license_number: str) -> str:
    return "sch_" + hashlib.sha1(license_number.encode()).hexdigest()[:10]


def render_records(site: Site) -> list[dict]:
    records = []
    for day in site.days:
        child = site.children[day.vendor_child_key]
        student = {
            "id": f"stu_{child.vendor_child_key}",
            "first_name": child.first_name,
            "last_name": child.last_name,
            "birthdate": child.birth_date,
            "enrollment_status": "active",
        }
        if child.has_state_child_id_key:
            student["state_child_id"] = child.state_id
        present = day.status == "present"
        records.append(
            {
                "id": f"ar_{day.stable_id(site.license_number, 'daily')}",
                "date": day.date.isoformat(),
                "status": day.status,
                "check_in_time": wall_clock(day.check_in) if present and day.check_in else None,
                "check_out_time": wall_clock(day.check_out) if present and day.check_out else None,
                "absence_reason": None
                if present or not day.reason
                else REASON_WORDS.get(day.reason, day.reason.lower()),
                "absence_note": None,
                "school": {"id": school_id_for(site.license_number), "license_number": site.license_number},
                "student": student,
                "updated_at": "2026-01-01T00:00:00Z",
            }
        )
    records.sort(key=lambda r: (r["date"], r["student"]["id"], r["id"]))
    return records


def render_reports(site: Site, first: dt.date, last: dt.date) -> list[dict]:
    """The school's I-LEAD report runs for ``first..last``; none when it has nothing to say."""
    marker = marker_for(site, first, last)
    if not marker.submitted and marker.data_through is None:
        return [*site.raw_submissions]
    report = {
        "id": f"rpt_{marker_id(site, first, last)}",
        "report_type": "indiana_ilead",
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "status": "submitted" if marker.submitted else "draft",
        "created_at": utc_z(marker.issued_at),
        "submitted_at": utc_z(marker.submitted_at) if marker.submitted_at else None,
        "data_complete_through": marker.data_through.isoformat() if marker.data_through else None,
    }
    return [report, *site.raw_submissions]


def _link_page(request: Request, items: list, size: int, query: dict, duplicate: bool):
    """A page of ``items`` from the ``page_after`` token, with its ``Link`` header (None: bad token)."""
    offset = 0
    if request.query_params.get("page_after"):
        try:
            offset = int(base64.urlsafe_b64decode(request.query_params["page_after"] + "==").decode())
        except (ValueError, binascii.Error):
            return None
    headers = {}
    if offset + size < len(items):
        token = base64.urlsafe_b64encode(str(offset + size).encode()).decode().rstrip("=")
        url = str(request.base_url).rstrip("/") + request.url.path + "?" + urlencode({**query, "page_after": token})
        headers["Link"] = f'<{url}>; rel="next"'
    return page_slice(items, offset, size, duplicate), headers


def create_app(state: SandboxState) -> FastAPI:
    app = FastAPI(title="brightwheel sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    add_admin_routes(app, state)
    serve_renderings(state, render_records)
    _add_schools_route(app, state)
    _add_records_route(app, state)
    _add_reports_route(app, state)
    return app


def _authorized(state: SandboxState, request: Request) -> bool:
    return secret_equal(request.headers.get("X-Api-Key"), state.credentials.get("api_key"))


def _unauthorized(state: SandboxState) -> JSONResponse:
    state.counters["unauthorized"] += 1
    return error(401, "unauthorized", "A valid X-Api-Key header is required")


def _sites_by_school(state: SandboxState) -> dict[str, Site]:
    return {school_id_for(lic): site for lic, site in state.scenario.sites_for(VENDOR).items()}


def _add_schools_route(app: FastAPI, state: SandboxState) -> None:
    @app.get("/v1/schools")
    async def schools(request: Request):
        license_number = request.query_params.get("license_number")

        def build(_applied):
            if not _authorized(state, request):
                return _unauthorized(state)
            sites = state.scenario.sites_for(VENDOR)
            chosen = [sites[license_number]] if license_number in sites else []
            if not license_number:
                chosen = list(sites.values())
            return {
                "schools": [
                    {"id": school_id_for(s.license_number), "name": s.name, "license_number": s.license_number}
                    for s in chosen
                ]
            }

        return await respond(request, state, build, license_number=license_number)


def _add_records_route(app: FastAPI, state: SandboxState) -> None:
    @app.get("/v1/schools/{school_id}/attendance_records")
    async def attendance_records(request: Request, school_id: str):
        params = request.query_params
        site = _sites_by_school(state).get(school_id)

        def build(applied):
            if not _authorized(state, request):
                return _unauthorized(state)
            if site is None:
                return error(404, "not_found", "No such school")
            try:
                first = dt.date.fromisoformat(params.get("start_date", ""))
                last = dt.date.fromisoformat(params.get("end_date", ""))
            except ValueError:
                return error(400, "bad_request", "start_date and end_date must be YYYY-MM-DD")
            size = state.page_size(params.get("per_page"))
            sloppy = bool(state.setting("sloppy_date_filter"))

            def in_range() -> list[dict]:
                records = site_rendering(state, site)
                kept = records if sloppy else [r for r in records if first.isoformat() <= r["date"] <= last.isoformat()]
                return [*kept, *site.raw_records]

            records = memoized(state, ("records", site.license_number, first, last, sloppy), in_range)
            query = {"start_date": first.isoformat(), "end_date": last.isoformat(), "per_page": size}
            paged = _link_page(request, records, size, query, bool(applied.has("duplicate_records")))
            if paged is None:
                return error(400, "bad_request", "page_after is not a valid page token")
            page, headers = paged
            return {"attendance_records": page}, headers

        return await respond(
            request,
            state,
            build,
            license_number=site.license_number if site else None,
            records_key="attendance_records",
            default_missing_field="date",
        )


def _add_reports_route(app: FastAPI, state: SandboxState) -> None:
    @app.get("/v1/schools/{school_id}/state_reports")
    async def state_reports(request: Request, school_id: str):
        params = request.query_params
        site = _sites_by_school(state).get(school_id)

        def build(applied):
            if not _authorized(state, request):
                return _unauthorized(state)
            if site is None:
                return error(404, "not_found", "No such school")
            period = requested_period(params.get("start_date"), params.get("end_date"))
            report_type = params.get("report_type")
            if period is None or not report_type:
                return error(400, "bad_request", "report_type, start_date and end_date are required")
            size = state.page_size(params.get("per_page"))
            reports = render_reports(site, *period) if report_type == "indiana_ilead" else []
            query = {"report_type": report_type, "start_date": str(period[0]), "end_date": str(period[1])}
            query["per_page"] = size
            paged = _link_page(request, reports, size, query, bool(applied.has("duplicate_records")))
            if paged is None:
                return error(400, "bad_request", "page_after is not a valid page token")
            page, headers = paged
            return {"state_reports": page}, headers

        return await respond(
            request,
            state,
            build,
            license_number=site.license_number if site else None,
            records_key="state_reports",
            default_missing_field="submitted_at",
        )
