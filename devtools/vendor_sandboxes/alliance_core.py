"""Alliance CORE (Early Learning Ventures) sandbox: OAuth2 client credentials, cursor pages, events.

Contract: ``src/ccms_attendance/hooks/contracts/alliance_core.openapi.yaml``. Each present child-day of the scenario
becomes a ``check_in`` and (when known) a ``check_out`` event with a UTC timestamp; absences are not
served at all (the real product has no absence records). A facility's attendance certification for
a period (``GET /v1/facilities/{license}/attendance-certifications``) is its submission marker: it
exists for every requested period, ``certified`` or not (``complete_through`` null: nothing to say).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from devtools.vendor_sandboxes.admin import add_admin_routes
from devtools.vendor_sandboxes.common import (
    BearerTokens,
    SandboxState,
    error,
    memoized,
    page_slice,
    respond,
    serve_renderings,
    site_rendering,
)
from devtools.vendor_sandboxes.scenario import Site, marker_for, marker_id, moment, requested_period, utc_z

VENDOR = "ALLIANCE_CORE"
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="alliance-core", error="invalid_token"'}


def render_events(site: Site) -> list[dict]:
    events = []
    for day in site.days:
        if day.status != "present":
            continue
        child = site.children[day.vendor_child_key]
        for kind, stamp in (("check_in", day.check_in), ("check_out", day.check_out)):
            if not stamp:
                continue
            event = {
                "event_id": f"evt-{day.stable_id(site.license_number, kind)}",
                "event_type": kind,
                "occurred_at": utc_z(stamp),
                "facility_license_number": site.license_number,
                "child_key": child.vendor_child_key,
                "child": {
                    "first_name": child.first_name,
                    "last_name": child.last_name,
                    "date_of_birth": child.birth_date,
                },
                "recorded_by": "Front desk kiosk",
                "device_id": "kiosk-01",
            }
            if child.has_state_child_id_key:
                event["state_child_id"] = child.state_id
            events.append((moment(stamp), event))
    events.sort(key=lambda pair: (pair[0], pair[1]["event_id"]))
    return [event for _, event in events]


def render_certifications(site: Site, first: dt.date, last: dt.date) -> list[dict]:
    """The facility's attendance certification for ``first..last`` (one, certified or not)."""
    marker = marker_for(site, first, last)
    certification = {
        "certification_id": f"cert-{marker_id(site, first, last)}",
        "facility_license_number": site.license_number,
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "certified": marker.submitted,
        "certified_at": utc_z(marker.submitted_at) if marker.submitted_at else None,
        "certified_by": "Center director" if marker.submitted else None,
        "complete_through": marker.data_through.isoformat() if marker.data_through else None,
        "updated_at": utc_z(marker.issued_at),
    }
    return [certification, *site.raw_submissions]


def _parse_instant(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.utcoffset() is not None else None


def _encode_cursor(offset: int, window: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "w": window}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, window: str) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(data["o"]) if data.get("w") == window else None
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


def create_app(state: SandboxState) -> FastAPI:
    app = FastAPI(title="Alliance CORE sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    add_admin_routes(app, state)
    serve_renderings(state, render_events)
    tokens = BearerTokens(state)
    _add_token_route(app, state, tokens)

    def authorized(request: Request) -> bool:
        return tokens.accept(request, state.setting("alliance_core_token_max_uses"))

    _add_events_route(app, state, authorized)
    _add_certifications_route(app, state, authorized)
    return app


def _unauthorized(state: SandboxState) -> JSONResponse:
    state.counters["unauthorized"] += 1
    return error(401, "invalid_token", "The access token is missing, invalid or expired", BEARER_CHALLENGE)


def _cursor_offset(params, window: str) -> int | JSONResponse:
    """Where the page starts: 0 without a cursor, else the cursor's offset (400 for a bad cursor)."""
    if not params.get("cursor"):
        return 0
    offset = _decode_cursor(params["cursor"], window)
    if offset is None:
        return error(400, "invalid_cursor", "The cursor is malformed or belongs to another query")
    return offset


def _add_token_route(app: FastAPI, state: SandboxState, tokens: BearerTokens) -> None:
    @app.post("/oauth/token")
    async def token(request: Request):
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}

        def build(_applied):
            if form.get("grant_type") != "client_credentials":
                return error(400, "unsupported_grant_type", "grant_type must be client_credentials")
            if not state.credentials_match(form, "client_id", "client_secret"):
                return error(401, "invalid_client", "Client authentication failed")
            ttl = float(state.setting("alliance_core_token_ttl_seconds"))
            value = tokens.issue(ttl)
            state.counters["tokens_issued"] += 1
            return {"access_token": value, "token_type": "Bearer", "expires_in": ttl, "scope": "attendance.read"}

        return await respond(request, state, build)


def _add_events_route(app: FastAPI, state: SandboxState, authorized: Callable[[Request], bool]) -> None:
    @app.get("/v1/facilities/{license_number}/attendance-events")
    async def attendance_events(request: Request, license_number: str):
        params = request.query_params

        def build(applied):
            if not authorized(request):
                return _unauthorized(state)
            site = state.scenario.sites_for(VENDOR).get(license_number)
            if site is None:
                return error(404, "facility_not_found", "No facility with that license number")
            start, end = _parse_instant(params.get("occurred_from")), _parse_instant(params.get("occurred_to"))
            if start is None or end is None or end <= start:
                return error(400, "invalid_request", "occurred_from and occurred_to must be RFC 3339 instants")
            size = state.page_size(params.get("limit"))
            window = f"{params.get('occurred_from')}|{params.get('occurred_to')}"
            sloppy = bool(state.setting("sloppy_date_filter"))

            def in_window() -> list[dict]:
                events = site_rendering(state, site)
                kept = events if sloppy else [e for e in events if start <= _parse_instant(e["occurred_at"]) < end]
                return [*kept, *site.raw_records]

            events = memoized(state, ("events", license_number, window, sloppy), in_window)
            offset = _cursor_offset(params, window)
            if isinstance(offset, JSONResponse):
                return offset
            page = page_slice(events, offset, size, bool(applied.has("duplicate_records")))
            more = offset + size < len(events)
            # A vendor whose last page still carries a cursor (to an empty page, which has one too ...).
            stale = bool(applied.has("cursor_after_last_page"))
            return {
                "data": page,
                "next_cursor": _encode_cursor(offset + size, window) if more or stale else None,
                "has_more": more,
            }

        return await respond(
            request,
            state,
            build,
            license_number=license_number,
            records_key="data",
            default_missing_field="occurred_at",
        )


def _add_certifications_route(app: FastAPI, state: SandboxState, authorized: Callable[[Request], bool]) -> None:
    @app.get("/v1/facilities/{license_number}/attendance-certifications")
    async def attendance_certifications(request: Request, license_number: str):
        params = request.query_params

        def build(applied):
            if not authorized(request):
                return _unauthorized(state)
            site = state.scenario.sites_for(VENDOR).get(license_number)
            if site is None:
                return error(404, "facility_not_found", "No facility with that license number")
            period = requested_period(params.get("period_start"), params.get("period_end"))
            if period is None:
                return error(400, "invalid_request", "period_start and period_end must be YYYY-MM-DD, in order")
            size = state.page_size(params.get("limit"))
            window = f"{period[0]}|{period[1]}"
            certifications = render_certifications(site, *period)
            offset = _cursor_offset(params, window)
            if isinstance(offset, JSONResponse):
                return offset
            more = offset + size < len(certifications)
            return {
                "data": page_slice(certifications, offset, size, bool(applied.has("duplicate_records"))),
                "next_cursor": _encode_cursor(offset + size, window) if more else None,
                "has_more": more,
            }

        return await respond(
            request,
            state,
            build,
            license_number=license_number,
            records_key="data",
            default_missing_field="certified_at",
        )
