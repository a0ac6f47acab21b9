"""What every vendor sandbox shares: state, fault injection, admin endpoints, response helper.

Each vendor module builds its own FastAPI routes; they all answer through :func:`respond`, which
applies the active faults (see ``docs/vendors.md``) in one place and records the exchange for the
admin ``/__sandbox__/stats`` endpoint (tests validate recorded responses against the contracts).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import fnmatch
import hmac
import json
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from devtools.vendor_sandboxes.scenario import Scenario, ScenarioError, Site, load_scenario

ADMIN_PREFIX = "/__sandbox__"
ADMIN_HEADER = "X-Sandbox-Admin-Token"
CREDENTIALS_ENV = "CCMS_SANDBOX_CREDENTIALS"

FAULT_KINDS = frozenset(
    {
        "http_429",
        "http_5xx",
        "slow",
        "truncated_json",
        "malformed_json",
        "duplicate_records",
        "extra_fields",
        "missing_required_field",
        "connection_drop",
        "export_failed",  # Playground only: the next export job ends in status "failed"
        "raw_body",  # the response is exactly `body` (text) with `status`: hostile bodies, e.g. 5,000 "["
        "page_fields",  # `fields` (an object) are set on the response's top-level object, e.g. a bad next_cursor
        "cursor_after_last_page",  # Alliance CORE: the last page still carries a next_cursor (has_more false)
    }
)
# At most one of these per request (the first matching fault in list order wins).
TERMINAL_KINDS = ("connection_drop", "http_429", "http_5xx", "raw_body", "truncated_json", "malformed_json")
# Every matching fault of these kinds applies.
MODIFIER_KINDS = (
    "slow",
    "duplicate_records",
    "extra_fields",
    "missing_required_field",
    "export_failed",
    "page_fields",
    "cursor_after_last_page",
)
LOG_LIMIT = 5000


class FaultError(ValueError):
    pass


def normalize_fault(raw: Any) -> dict:
    if not isinstance(raw, dict) or raw.get("kind") not in FAULT_KINDS:
        raise FaultError(f"a fault is an object whose 'kind' is one of {sorted(FAULT_KINDS)}: {raw!r}")
    fault = dict(raw)
    times = fault.get("times", 1)
    if times is not None and (not isinstance(times, int) or times < 1):
        raise FaultError(f"'times' must be a positive integer or null (unlimited): {raw!r}")
    fault["times"] = times
    fault["remaining"] = times
    return fault


class FaultBook:
    """The active faults; each matching request uses one of a fault's ``times``."""

    def __init__(self) -> None:
        self.faults: list[dict] = []

    def replace(self, faults: list) -> None:
        self.faults = [normalize_fault(f) for f in faults]

    def add(self, faults: list) -> None:
        self.faults.extend(normalize_fault(f) for f in faults)

    def clear(self) -> None:
        self.faults = []

    @staticmethod
    def _matches(fault: dict, method: str, path: str, route: str, license_number: str | None) -> bool:
        if fault["remaining"] is not None and fault["remaining"] <= 0:
            return False
        if fault.get("license_number") and fault["license_number"] != license_number:
            return False
        if fault.get("method") and str(fault["method"]).upper() != method:
            return False
        pattern = fault.get("path")
        return not pattern or pattern in (path, route) or fnmatch.fnmatchcase(path, pattern)

    def take(self, method: str, path: str, route: str, license_number: str | None) -> list[dict]:
        taken: list[dict] = []
        terminal_taken = False
        for fault in self.faults:
            if not self._matches(fault, method, path, route, license_number):
                continue
            if fault["kind"] in TERMINAL_KINDS:
                if terminal_taken:
                    continue
                terminal_taken = True
            if fault["kind"] == "export_failed" and route != "/api/v2/exports":
                continue
            if fault["remaining"] is not None:
                fault["remaining"] -= 1
            taken.append(fault)
        return taken

    def describe(self) -> list[dict]:
        return copy.deepcopy(self.faults)


@dataclass
class SandboxState:
    vendor: str
    scenario_path: Path
    scenario: Scenario
    credentials: dict[str, str]
    admin_token: str
    faults: FaultBook = field(default_factory=FaultBook)
    counters: collections.Counter = field(default_factory=collections.Counter)
    log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=LOG_LIMIT))
    extra: dict[str, Any] = field(default_factory=dict)  # vendor-specific runtime state (tokens, jobs)

    @classmethod
    def from_environment(cls, vendor: str, scenario_path: Path) -> SandboxState:
        secrets_blob = json.loads(os.environ.get(CREDENTIALS_ENV, "{}"))
        scenario = load_scenario(scenario_path)
        state = cls(
            vendor=vendor,
            scenario_path=scenario_path,
            scenario=scenario,
            credentials=dict(secrets_blob.get(vendor, {})),
            admin_token=str(secrets_blob.get("admin_token", "")),
        )
        state.faults.replace(list(scenario.faults))
        return state

    def setting(self, name: str) -> Any:
        return self.scenario.setting(name)

    def page_size(self, requested: Any, default: int = 50) -> int:
        cap = int(self.setting("page_size") or 50)
        try:
            size = int(requested) if requested not in (None, "") else min(default, cap)
        except (TypeError, ValueError):
            raise HTTPException(400, "page size must be an integer") from None
        if size < 1:
            raise HTTPException(400, "page size must be at least 1")
        return min(size, cap)

    def credentials_match(self, given: dict, *names: str) -> bool:
        """Whether ``given`` (a form or JSON body) carries this sandbox's credentials ``names``."""
        return all(secret_equal(given.get(name), self.credentials.get(name)) for name in names)


def secret_equal(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


class BearerTokens:
    """The bearer tokens a sandbox has issued (kept in ``state.extra["tokens"]``), with expiry and use count."""

    def __init__(self, state: SandboxState) -> None:
        self._tokens: dict[str, dict] = state.extra.setdefault("tokens", {})

    def issue(self, ttl: float) -> str:
        value = secrets.token_urlsafe(24)
        self._tokens[value] = {"expires": time.monotonic() + ttl, "uses": 0}
        return value

    def accept(self, request: Request, max_uses: Any = None) -> bool:
        """Whether ``request`` carries a live ``Bearer`` token with uses left (this request is one use)."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        info = self._tokens.get(header.removeprefix("Bearer ").strip())
        if info is None or time.monotonic() >= info["expires"]:
            return False
        if max_uses is not None and info["uses"] >= int(max_uses):
            return False
        info["uses"] += 1
        return True


@dataclass
class Applied:
    """The faults in force for one request, as the vendor renderers see them."""

    kinds: list[dict]

    def has(self, kind: str) -> dict | None:
        return next((f for f in self.kinds if f["kind"] == kind), None)


RENDER_CACHE_SIZE = 16  # sites: a client pages through one site before the next


def serve_renderings(state: SandboxState, render: Callable[[Site], list[dict]]) -> None:
    """Render every site of this vendor now, as the vendor's own records, and again on a reload.

    A real vendor answers from data it already holds; rendering the scenario on demand made the
    sandbox's own CPU the largest part of what the statewide benchmark's fetch measured (its floor
    included), on the same two cores as the pipeline. Renderings are read-only: a fault that
    edits records edits a copy (:func:`respond`).
    """
    state.extra["renderer"] = render
    state.extra["site_renderings"] = (
        state.scenario,
        {site.license_number: render(site) for site in state.scenario.sites_for(state.vendor).values()},
    )


def site_rendering(state: SandboxState, site: Site) -> list[dict]:
    """The records ``site`` holds at this vendor (rendered by :func:`serve_renderings`)."""
    scenario, renderings = state.extra["site_renderings"]
    if scenario is not state.scenario:  # reloaded without a re-render: render afresh
        serve_renderings(state, state.extra["renderer"])
        scenario, renderings = state.extra["site_renderings"]
    return renderings[site.license_number]


def memoized(state: SandboxState, key: tuple, build: Callable[[], list]) -> list:
    """``build()`` once per ``key`` and scenario: every page of a query re-uses its selection.

    Without it a site's records are selected (filtered by the requested range) again for every
    page, which grows with the square of its pages.
    Only the last few sites are kept; reloading the scenario starts afresh. Callers must not
    mutate the list or its records (``respond`` copies a page before a fault edits it).
    """
    cache: collections.OrderedDict = state.extra.setdefault("render_cache", collections.OrderedDict())
    hit = cache.get(key)
    if hit is not None and hit[0] is state.scenario:
        cache.move_to_end(key)
        return hit[1]
    value = build()
    cache[key] = (state.scenario, value)
    while len(cache) > RENDER_CACHE_SIZE:
        cache.popitem(last=False)
    return value


def page_slice(items: list, start: int, size: int, duplicate: bool) -> list:
    """One page; with the ``duplicate_records`` fault a page repeats the previous page's last item."""
    page = items[start : start + size]
    if duplicate and start > 0:
        page = [items[start - 1], *page]
    return page


def _drop_path(record: dict, dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    node: Any = record
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)


def _mutate_records(payload: Any, records_key: str | None, applied: Applied, default_missing: str) -> None:
    if not isinstance(payload, dict) or not records_key or not isinstance(payload.get(records_key), list):
        return
    if not (applied.has("extra_fields") or applied.has("missing_required_field")):
        return
    records = payload[records_key] = copy.deepcopy(payload[records_key])  # never edit a memoized rendering
    if fault := applied.has("extra_fields"):
        payload["x_vendor_build"] = "sandbox-2026.11"
        for record in records:
            if isinstance(record, dict):
                record["x_unexpected_field"] = {"nested": [1, 2, 3], "note": "clients must ignore this"}
                record["ext_" + str(fault.get("name", "loyalty_tier"))] = "gold"
    if fault := applied.has("missing_required_field"):
        every = int(fault.get("every", 2))
        for position, record in enumerate(records):
            if isinstance(record, dict) and position % every == 0:
                _drop_path(record, str(fault.get("field") or default_missing))


async def respond(
    request: Request,
    state: SandboxState,
    build: Callable[[Applied], Any],
    *,
    license_number: str | None = None,
    records_key: str | None = None,
    default_missing_field: str = "date",
    status_code: int = 200,
) -> Response:
    """Apply faults, render the payload with ``build`` and record the exchange."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    method = request.method
    applied = Applied(state.faults.take(method, request.url.path, route, license_number))
    for fault in applied.kinds:
        state.counters[f"fault:{fault['kind']}"] += 1
    entry: dict[str, Any] = {
        "method": method,
        "route": route,
        "path": request.url.path,
        "query": dict(request.query_params),
        "faults": [f["kind"] for f in applied.kinds],
    }
    state.log.append(entry)
    state.counters[f"{method} {route}"] += 1

    if fault := applied.has("slow"):
        await asyncio.sleep(float(fault.get("delay_seconds", 2.0)))
    if applied.has("connection_drop"):
        transport = request.scope.get("sandbox.transport")
        entry["status"] = None
        if transport is not None:
            transport.abort()
            return Response(status_code=500)
        raise ConnectionAbortedError("connection_drop fault")  # uvicorn then closes the connection
    if (response := _error_fault(applied, entry)) is not None:
        return response

    result = build(applied)
    headers: dict[str, str] = {}
    if isinstance(result, tuple):
        result, headers = result
    if isinstance(result, Response):
        entry["status"] = result.status_code
        entry["body"] = bytes(result.body).decode() if isinstance(result, JSONResponse) else None
        entry["headers"] = {}
        return result
    _mutate_records(result, records_key, applied, default_missing_field)
    if (fault := applied.has("page_fields")) and isinstance(result, dict):
        result = {**result, **dict(fault.get("fields") or {})}
        entry["page_fields"] = True  # a deliberately off-contract body
    body = _payload_body(result, applied, entry)
    entry["status"] = status_code
    entry["headers"] = headers
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def _error_fault(applied: Applied, entry: dict[str, Any]) -> Response | None:
    """The response an error fault (429, 5xx, a raw body) sends instead of the payload, if any."""
    if fault := applied.has("http_429"):
        retry_after = math.ceil(float(fault.get("retry_after", 1)))
        entry["status"] = 429
        response = JSONResponse(
            {"error": "rate_limited", "message": "Too many requests"},
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
        entry["body"] = bytes(response.body).decode()
        return response
    if fault := applied.has("http_5xx"):
        status = int(fault.get("status", 503))
        headers = {"Retry-After": str(math.ceil(float(fault["retry_after"])))} if "retry_after" in fault else {}
        entry["status"] = status
        response = JSONResponse(
            {"error": "server_error", "message": "Sandbox fault"}, status_code=status, headers=headers
        )
        entry["body"] = bytes(response.body).decode()
        return response

    if fault := applied.has("raw_body"):
        status = int(fault.get("status", 200))
        entry["status"] = status
        entry["body"] = None  # not JSON a contract test could read
        body = str(fault.get("body", "")).encode("utf-8", "surrogatepass")
        return Response(body, status_code=status, media_type=str(fault.get("content_type", "application/json")))
    return None


def _payload_body(result: Any, applied: Applied, entry: dict[str, Any]) -> bytes:
    """``result`` as JSON bytes, truncated or malformed when a fault says so (recorded in ``entry``)."""
    try:
        body = json.dumps(result, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # an unpaired surrogate: send it as JSON allows, as a \\u escape
        body = json.dumps(result).encode()
    entry["body"] = body.decode()
    if applied.has("truncated_json"):
        body = body[: max(1, len(body) // 2)]
        entry["body"] = None
    elif applied.has("malformed_json"):
        body = body[:-1] + b',,"oops": }'
        entry["body"] = None
    return body


def error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


class TransportMiddleware:
    """Outermost ASGI layer: exposes the connection's transport for the ``connection_drop`` fault."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope["sandbox.transport"] = getattr(getattr(receive, "__self__", None), "transport", None)
        await self.app(scope, receive, send)


def add_admin_routes(app: FastAPI, state: SandboxState) -> None:
    """Health, faults, scenario reload and stats under ``/__sandbox__`` (not part of the contract).

    Also renders every HTTP error as the contracts' ``{"error", "message"}`` object.
    """

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, problem: StarletteHTTPException) -> JSONResponse:
        if request.scope.get("route") is None and not request.url.path.startswith(ADMIN_PREFIX):
            # A request outside the contract: record it so contract tests can see it.
            state.log.append(
                {"method": request.method, "route": None, "path": request.url.path, "status": problem.status_code}
            )
        codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "not_allowed"}
        return error(problem.status_code, codes.get(problem.status_code, "error"), str(problem.detail))

    def check_admin(request: Request) -> None:
        if not secret_equal(request.headers.get(ADMIN_HEADER), state.admin_token):
            raise HTTPException(403, "admin token required")

    _add_fault_routes(app, state, check_admin)
    _add_scenario_and_stats_routes(app, state, check_admin)

    @app.get(f"{ADMIN_PREFIX}/health", include_in_schema=False)
    async def health() -> dict:
        return {"status": "ok", "vendor": state.vendor, "pid": os.getpid()}


def _add_fault_routes(app: FastAPI, state: SandboxState, check_admin: Callable[[Request], None]) -> None:

    @app.get(f"{ADMIN_PREFIX}/faults", include_in_schema=False)
    async def list_faults(request: Request) -> dict:
        check_admin(request)
        return {"faults": state.faults.describe()}

    @app.post(f"{ADMIN_PREFIX}/faults", include_in_schema=False)
    async def set_faults(request: Request) -> dict:
        check_admin(request)
        body = await request.json()
        faults = body.get("faults") if isinstance(body, dict) else body
        try:
            if isinstance(body, dict) and body.get("append"):
                state.faults.add(list(faults or []))
            else:
                state.faults.replace(list(faults or []))
        except FaultError as problem:
            raise HTTPException(400, str(problem)) from None
        return {"faults": state.faults.describe()}

    @app.delete(f"{ADMIN_PREFIX}/faults", include_in_schema=False)
    async def clear_faults(request: Request) -> dict:
        check_admin(request)
        state.faults.clear()
        return {"faults": []}


def _add_scenario_and_stats_routes(app: FastAPI, state: SandboxState, check_admin: Callable[[Request], None]) -> None:
    @app.post(f"{ADMIN_PREFIX}/scenario", include_in_schema=False)
    async def reload_scenario(request: Request) -> dict:
        check_admin(request)
        body = await request.json()
        path = Path(body.get("path") or state.scenario_path)
        try:
            scenario = load_scenario(path)
        except ScenarioError as problem:
            raise HTTPException(400, str(problem)) from None
        state.scenario, state.scenario_path = scenario, path
        state.faults.replace(list(scenario.faults))
        if "renderer" in state.extra:
            serve_renderings(state, state.extra["renderer"])
        return {"sites": len(scenario.sites_for(state.vendor)), "path": str(path)}

    @app.get(f"{ADMIN_PREFIX}/stats", include_in_schema=False)
    async def stats(request: Request, log: bool = False) -> dict:
        check_admin(request)
        result: dict[str, Any] = {"vendor": state.vendor, "counters": dict(state.counters)}
        if log:
            result["log"] = list(state.log)
        return result

    @app.get(f"{ADMIN_PREFIX}/tokens", include_in_schema=False)
    async def issued_tokens(request: Request) -> dict:
        """Every bearer token this sandbox issued: tests scan logs and reports for them."""
        check_admin(request)
        return {"tokens": sorted(state.extra.get("tokens", {}))}

    @app.post(f"{ADMIN_PREFIX}/stats/reset", include_in_schema=False)
    async def reset_stats(request: Request) -> dict:
        check_admin(request)
        state.counters.clear()
        state.log.clear()
        return {"ok": True}
