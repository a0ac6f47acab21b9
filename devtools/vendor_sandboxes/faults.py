"""The faults a vendor sandbox injects (``docs/vendors.md``): which exist, which are in force, and
what each does to a response.

:func:`devtools.vendor_sandboxes.common.respond` takes a request's faults from the sandbox's
:class:`FaultBook` and applies them with the functions here: an error fault answers instead of the
payload (:func:`error_fault`), record faults edit a copy of the page (:func:`mutate_records`), body
faults break the JSON (:func:`payload_body`).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import math
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse, Response

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
class Applied:
    """The faults in force for one request, as the vendor renderers see them."""

    kinds: list[dict]

    def has(self, kind: str) -> dict | None:
        return next((f for f in self.kinds if f["kind"] == kind), None)


def drop_path(record: dict, dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    node: Any = record
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)


def mutate_records(payload: Any, records_key: str | None, applied: Applied, default_missing: str) -> None:
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
                drop_path(record, str(fault.get("field") or default_missing))


def error_fault(applied: Applied, entry: dict[str, Any]) -> Response | None:
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


def payload_body(result: Any, applied: Applied, entry: dict[str, Any]) -> bytes:
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
