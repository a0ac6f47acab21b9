"""Playground sandbox: login token, asynchronous export jobs, page-number pages with totals.

Contract: ``src/ccms_attendance/hooks/contracts/playground.openapi.yaml``. A period is requested as an export
(license + date range); once the job reports ``complete`` its rows are downloaded page by page.
Rows are either ``sign_in_out`` (times with the facility's UTC offset) or ``absence`` (reason code).
A center's "CCA Attendance" uploads for a period (``GET /api/v2/centers/{license}/cca-attendance-submissions``)
are its submission marker: one ``locked`` upload (submitted), one unlocked upload (with a
through-date), or none.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from devtools.vendor_sandboxes.admin import add_admin_routes
from devtools.vendor_sandboxes.common import (
    BearerTokens,
    SandboxState,
    error,
    page_slice,
    respond,
    serve_renderings,
    site_rendering,
)
from devtools.vendor_sandboxes.scenario import (
    FACILITY_TIMEZONE,
    Site,
    local_iso,
    marker_for,
    marker_id,
    requested_period,
)

VENDOR = "PLAYGROUND"
Authorized = Callable[[Request], bool]
REASON_TEXT = {"ILL": "Illness", "VAC": "Vacation", "FAM": "Family emergency", "OTH": "Other"}


def render_rows(site: Site) -> list[dict]:
    rows = []
    for day in site.days:
        child = site.children[day.vendor_child_key]
        person = {
            "playground_id": child.vendor_child_key,
            "first_name": child.first_name,
            "last_name": child.last_name,
            "dob": child.birth_date,
            "guardian": {"name": f"Parent of {child.first_name}", "phone": "555-0100"},
        }
        if child.has_state_child_id_key:
            person["state_child_id"] = child.state_id
        row = {
            "row_id": f"pg-{day.stable_id(site.license_number, 'row')}",
            "center_license": site.license_number,
            "attendance_date": day.date.isoformat(),
            "child": person,
        }
        if day.status == "present":
            row |= {
                "type": "sign_in_out",
                "sign_in": local_iso(day.check_in) if day.check_in else None,
                "sign_out": local_iso(day.check_out) if day.check_out else None,
                "signed_by": "Guardian",
            }
        else:
            row |= {
                "type": "absence",
                "reason_code": day.reason,
                "reason_text": REASON_TEXT.get(day.reason or "", day.reason),
            }
        rows.append(row)
    rows.sort(key=lambda r: (r["attendance_date"], r["child"]["playground_id"], r["row_id"]))
    return rows


def render_uploads(site: Site, first: dt.date, last: dt.date) -> list[dict]:
    """The center's CCA attendance uploads for ``first..last``; none when it has nothing to say."""
    marker = marker_for(site, first, last)
    if not marker.submitted and marker.data_through is None:
        return [*site.raw_submissions]

    def local(moment: dt.datetime) -> str:
        return moment.astimezone(FACILITY_TIMEZONE).isoformat(timespec="seconds")

    upload = {
        "upload_id": f"cca-{marker_id(site, first, last)}",
        "center_license": site.license_number,
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "uploaded_at": local(marker.issued_at),
        "locked": marker.submitted,
        "locked_at": local(marker.submitted_at) if marker.submitted_at else None,
        "attendance_through": marker.data_through.isoformat() if marker.data_through else None,
    }
    return [upload, *site.raw_submissions]


def create_app(state: SandboxState) -> FastAPI:
    app = FastAPI(title="Playground sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    add_admin_routes(app, state)
    serve_renderings(state, render_rows)
    tokens = BearerTokens(state)
    _add_login_route(app, state, tokens)
    _add_export_routes(app, state, tokens)
    _add_submission_route(app, state, tokens)
    return app


def _unauthorized(state: SandboxState) -> JSONResponse:
    state.counters["unauthorized"] += 1
    return error(401, "unauthenticated", "Log in first (POST /api/login)")


def _page_number(params) -> int | JSONResponse:
    """The ``page`` query parameter (1 when absent), or the 400 response for a bad one."""
    try:
        page = int(params.get("page", 1))
    except ValueError:
        return error(400, "bad_request", "page must be an integer")
    if page < 1:
        return error(400, "bad_request", "page must be at least 1")
    return page


def _job_status(job: dict) -> str:
    if job["polls"] >= job["needed"]:
        return "failed" if job["failed"] else "complete"
    return "queued" if job["polls"] == 0 else "processing"


def _add_login_route(app: FastAPI, state: SandboxState, tokens: BearerTokens) -> None:
    @app.post("/api/login")
    async def login(request: Request):
        try:
            body = await request.json()
        except ValueError:
            body = None

        def build(_applied):
            if not isinstance(body, dict):
                return error(400, "bad_request", "JSON body with username and password expected")
            if not state.credentials_match(body, "username", "password"):
                return error(401, "invalid_credentials", "Wrong username or password")
            ttl = float(state.setting("playground_token_ttl_seconds"))
            value = tokens.issue(ttl)
            state.counters["logins"] += 1
            return {"token": value, "token_type": "bearer", "expires_in": ttl}

        return await respond(request, state, build)


def _add_export_routes(app: FastAPI, state: SandboxState, tokens: BearerTokens) -> None:
    """Create an export, poll its status, download its rows (jobs kept in ``state.extra``)."""
    exports: dict[str, dict] = state.extra.setdefault("exports", {})
    _add_create_export_route(app, state, tokens.accept, exports)
    _add_export_status_route(app, state, tokens.accept, exports)
    _add_export_rows_route(app, state, tokens.accept, exports)


def _add_create_export_route(app: FastAPI, state: SandboxState, authorized: Authorized, exports: dict) -> None:
    @app.post("/api/v2/exports")
    async def create_export(request: Request):
        try:
            body = await request.json()
        except ValueError:
            body = None
        license_number = body.get("license_number") if isinstance(body, dict) else None

        def build(applied):
            if not authorized(request):
                return _unauthorized(state)
            if not isinstance(body, dict) or not body.get("start_date") or not body.get("end_date"):
                return error(400, "bad_request", "license_number, start_date and end_date are required")
            site = state.scenario.sites_for(VENDOR).get(str(license_number))
            if site is None:
                return error(404, "center_not_found", "No center with that license number")
            rows = site_rendering(state, site)
            if not state.setting("sloppy_date_filter"):
                rows = [r for r in rows if body["start_date"] <= r["attendance_date"] <= body["end_date"]]
            rows = [*rows, *site.raw_records]  # a new list: the rendering is shared
            export_id = "exp_" + secrets.token_hex(6)
            needed = int(state.setting("playground_polls_before_complete"))
            exports[export_id] = {
                "license_number": site.license_number,
                "rows": rows,
                "polls": 0,
                "needed": needed,
                "failed": bool(applied.has("export_failed")),
            }
            state.counters["exports_created"] += 1
            return {"export_id": export_id, "status": "complete" if needed <= 0 else "queued"}

        return await respond(request, state, build, license_number=license_number, status_code=202)


def _add_export_status_route(app: FastAPI, state: SandboxState, authorized: Authorized, exports: dict) -> None:
    @app.get("/api/v2/exports/{export_id}")
    async def export_status(request: Request, export_id: str):
        job = exports.get(export_id)

        def build(_applied):
            if not authorized(request):
                return _unauthorized(state)
            if job is None:
                return error(404, "export_not_found", "No such export")
            job["polls"] += 1
            status = _job_status(job)
            result = {
                "export_id": export_id,
                "status": status,
                "progress": min(1.0, job["polls"] / max(1, job["needed"])),
            }
            if status == "complete":
                result["row_count"] = len(job["rows"])
            if status == "failed":
                result["error"] = "Export failed; create a new export"
            return result

        return await respond(request, state, build, license_number=job["license_number"] if job else None)


def _add_export_rows_route(app: FastAPI, state: SandboxState, authorized: Authorized, exports: dict) -> None:
    @app.get("/api/v2/exports/{export_id}/rows")
    async def export_rows(request: Request, export_id: str):
        job = exports.get(export_id)
        params = request.query_params

        def build(applied):
            if not authorized(request):
                return _unauthorized(state)
            if job is None:
                return error(404, "export_not_found", "No such export")
            if _job_status(job) != "complete":
                return error(409, "export_not_ready", "The export is not complete")
            page = _page_number(params)
            if isinstance(page, JSONResponse):
                return page
            size = state.page_size(params.get("per_page"))
            rows = job["rows"]
            return {
                "page": page,
                "per_page": size,
                "total": len(rows),
                "total_pages": math.ceil(len(rows) / size),
                "rows": page_slice(rows, (page - 1) * size, size, bool(applied.has("duplicate_records"))),
            }

        return await respond(
            request,
            state,
            build,
            license_number=job["license_number"] if job else None,
            records_key="rows",
            default_missing_field="attendance_date",
        )


def _add_submission_route(app: FastAPI, state: SandboxState, tokens: BearerTokens) -> None:
    @app.get("/api/v2/centers/{center_license}/cca-attendance-submissions")
    async def cca_attendance_submissions(request: Request, center_license: str):
        params = request.query_params

        def build(applied):
            if not tokens.accept(request):
                return _unauthorized(state)
            site = state.scenario.sites_for(VENDOR).get(center_license)
            if site is None:
                return error(404, "center_not_found", "No center with that license number")
            period = requested_period(params.get("period_start"), params.get("period_end"))
            if period is None:
                return error(400, "bad_request", "period_start and period_end must be YYYY-MM-DD, in order")
            page = _page_number(params)
            if isinstance(page, JSONResponse):
                return page
            size = state.page_size(params.get("per_page"))
            uploads = render_uploads(site, *period)
            return {
                "page": page,
                "per_page": size,
                "total": len(uploads),
                "total_pages": math.ceil(len(uploads) / size),
                "submissions": page_slice(uploads, (page - 1) * size, size, bool(applied.has("duplicate_records"))),
            }

        return await respond(
            request,
            state,
            build,
            license_number=center_license,
            records_key="submissions",
            default_missing_field="locked_at",
        )
