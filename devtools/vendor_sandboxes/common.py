"""What every vendor sandbox shares: state, bearer tokens, renderings and paging, the response helper.

Each vendor module builds its own FastAPI routes; they all answer through :func:`respond`, which
applies the active faults (:mod:`devtools.vendor_sandboxes.faults`, ``docs/vendors.md``) in one
place and records the exchange for the admin ``/__sandbox__/stats`` endpoint
(:mod:`devtools.vendor_sandboxes.admin`; tests validate recorded responses against the contracts).
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response

from devtools.vendor_sandboxes.faults import Applied, FaultBook, error_fault, mutate_records, payload_body
from devtools.vendor_sandboxes.scenario import Scenario, Site, load_scenario

ADMIN_PREFIX = "/__sandbox__"
ADMIN_HEADER = "X-Sandbox-Admin-Token"
CREDENTIALS_ENV = "CCMS_SANDBOX_CREDENTIALS"

LOG_LIMIT = 5000


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
    if (response := error_fault(applied, entry)) is not None:
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
    mutate_records(result, records_key, applied, default_missing_field)
    if (fault := applied.has("page_fields")) and isinstance(result, dict):
        result = {**result, **dict(fault.get("fields") or {})}
        entry["page_fields"] = True  # a deliberately off-contract body
    body = payload_body(result, applied, entry)
    entry["status"] = status_code
    entry["headers"] = headers
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


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
