"""A vendor sandbox's admin endpoints under ``/__sandbox__`` (not part of any vendor's contract):
health, the faults in force, a scenario reload, and the recorded exchanges that contract tests read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from devtools.vendor_sandboxes.common import (
    ADMIN_HEADER,
    ADMIN_PREFIX,
    SandboxState,
    error,
    secret_equal,
    serve_renderings,
)
from devtools.vendor_sandboxes.faults import FaultError
from devtools.vendor_sandboxes.scenario import ScenarioError, load_scenario


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
