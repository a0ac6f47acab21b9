"""Playground: login token, asynchronous export job, page-number pages, sign-in/out + absence rows.

Contract: ``include/contracts/playground.openapi.yaml``. Connection: login/password of the API
user. A site-period is requested as an export (``POST /api/v2/exports``), polled until ``complete``
(extras ``export_poll_interval_seconds``, ``export_timeout_seconds``; a ``failed`` export is created
again up to ``export_attempts`` times) and downloaded page by page. Rows of type ``sign_in_out``
give present records (several rows of one child-day merge: first sign-in, last sign-out); rows of
type ``absence`` give absent records with the reason code (ILL/VAC/FAM/OTH; unknown -> OTH).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from ccms_attendance.canonical import RejectedRecord, Source
from ccms_hooks.base import (
    BearerTokenHook,
    ExtractedItem,
    SiteRequest,
    absence_reason,
    absent,
    expires_in_seconds,
    field_of,
    local_wall_clock,
    parse_instant,
    present,
    record_identity,
    text,
)


class PlaygroundHook(BearerTokenHook):
    """Attendance from Playground."""

    source: ClassVar[Source] = Source.PLAYGROUND
    default_conn_name = "ccms_playground"
    hook_name = "CCMS: Playground"
    default_extra: ClassVar[dict[str, Any]] = {
        "page_size": 100,
        "export_poll_interval_seconds": 2.0,
        "export_timeout_seconds": 600.0,
        "export_attempts": 2,
    }
    token_stat: ClassVar[str] = "logins"

    def _obtain_token(self, site: SiteRequest) -> tuple[str, float]:
        username, password = self.connection.login, self.connection.password
        if not username or not password:
            raise site.fail(f"connection {self.http_conn_id!r} needs login and password")
        reply = self._call(
            site, "POST", "/api/login", json_body={"username": username, "password": password}, authenticated=False
        )
        token = reply.payload.get("token") if isinstance(reply.payload, dict) else None
        if not isinstance(token, str) or not token:
            raise site.fail("login response has no token")
        return token, expires_in_seconds(reply.payload, 3600.0)

    def _vendor_float(self, name: str) -> float:
        try:
            return float(self.options.vendor[name])
        except (TypeError, ValueError):
            raise ValueError(f"connection extra {name!r} must be a number") from None

    def _completed_export(self, site: SiteRequest) -> str:
        interval = self._vendor_float("export_poll_interval_seconds")
        timeout = self._vendor_float("export_timeout_seconds")
        attempts = int(self._vendor_float("export_attempts"))
        body = {
            "license_number": site.license_number,
            "start_date": site.period.start.isoformat(),
            "end_date": site.period.end.isoformat(),
        }
        for attempt in range(1, attempts + 1):
            reply = self._call(site, "POST", "/api/v2/exports", json_body=body)
            export_id = text(reply.payload.get("export_id")) if isinstance(reply.payload, dict) else None
            if export_id is None:
                raise site.fail("export response has no export_id")
            self.stats["exports"] += 1
            status = reply.payload.get("status")
            deadline = time.monotonic() + timeout
            while status in ("queued", "processing"):
                if time.monotonic() > deadline:
                    raise site.fail(f"export {export_id} did not complete within {timeout:g} s")
                time.sleep(interval)
                reply = self._call(site, "GET", f"/api/v2/exports/{quote(export_id, safe='')}")
                status = reply.payload.get("status") if isinstance(reply.payload, dict) else None
                self.stats["export_polls"] += 1
            if status == "complete":
                return export_id
            if status != "failed":
                raise site.fail(f"export {export_id} has unknown status {str(status)[:40]!r}")
            self.log.warning(
                "%s site %s period %s: export %s failed (attempt %d of %d)",
                site.source,
                site.license_number,
                site.period,
                export_id,
                attempt,
                attempts,
            )
        raise site.fail(f"the export failed at the vendor {attempts} times")

    def _extract(self, site: SiteRequest) -> Iterator[ExtractedItem]:
        try:
            export_id = self._completed_export(site)
        except ValueError as problem:
            raise site.fail(str(problem)) from None
        pages = self.iter_numbered_pages(
            site,
            f"/api/v2/exports/{quote(export_id, safe='')}/rows",
            {"per_page": self.options.page_size},
            items_key="rows",
        )
        rows = (row for page in pages for row in page)
        unique = self.dedupe(rows, lambda r: text(r.get("row_id")) if isinstance(r, dict) else None)
        yield from export_rows_items(site, list(unique))


def _stamp(value: Any, day: dt.date) -> dt.datetime | None:
    """Sign-in/out time: ISO 8601 with offset; a bare local time is read as facility wall clock."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        naive = dt.datetime.fromisoformat(str(value))  # ValueError propagates: unparseable
        if naive.utcoffset() is not None:
            raise
        return local_wall_clock(naive.date(), naive.time())


def export_rows_items(site: SiteRequest, rows: Iterable[Any]) -> Iterator[ExtractedItem]:
    """Playground export rows -> canonical records, one per child per day."""
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: {"present": [], "absent": []})
    for row in rows:
        if not isinstance(row, dict):
            yield site.reject("row is not an object")
            continue
        identity = record_identity(
            site,
            record_id=text(row.get("row_id")),
            date=row.get("attendance_date"),
            license_number=text(row.get("center_license")),
            child_id=text(field_of(row, "child", "state_child_id")),
            missing_id="missing row id",
        )
        if isinstance(identity, RejectedRecord):
            yield identity
            continue
        row_id, license_number, child_id, day = identity
        key = (license_number, child_id, day)
        kind = row.get("type")
        if kind == "absence":
            groups[key]["absent"].append((row_id, absence_reason(row.get("reason_code"))))
        elif kind == "sign_in_out":
            try:
                sign_in, sign_out = _stamp(row.get("sign_in"), day), _stamp(row.get("sign_out"), day)
            except ValueError:
                yield site.reject("unparseable sign-in or sign-out time", record_id=row_id, child_id=child_id, day=day)
                continue
            groups[key]["present"].append((row_id, sign_in, sign_out))
        else:
            yield site.reject(f"unknown row type {str(kind)[:40]!r}", record_id=row_id, child_id=child_id, day=day)

    for (license_number, child_id, day), group in sorted(groups.items(), key=lambda item: (item[0][2], item[0][1])):
        common = {"license_number": license_number, "child_id": child_id, "day": day}
        if group["present"]:
            ins = [sign_in for _, sign_in, _ in group["present"] if sign_in is not None]
            outs = [sign_out for _, _, sign_out in group["present"] if sign_out is not None]
            record_id = "+".join(row_id for row_id, _, _ in group["present"])
            check_in, check_out = (min(ins) if ins else None), (max(outs) if outs else None)
            if check_in is not None and check_out is not None and check_out < check_in:
                yield site.reject("check-out before check-in", record_id=record_id, child_id=child_id, day=day)
                check_out = None
            yield present(site, record_id=record_id, check_in=check_in, check_out=check_out, **common)
            for row_id, _reason in group["absent"]:
                yield site.reject(
                    "absence conflicts with a sign-in on the same day", record_id=row_id, child_id=child_id, day=day
                )
            continue
        (row_id, reason), *others = group["absent"]
        yield absent(site, record_id=row_id, reason=reason, **common)
        for other_id, _reason in others:
            yield site.reject(
                "more than one absence for this child and day", record_id=other_id, child_id=child_id, day=day
            )
