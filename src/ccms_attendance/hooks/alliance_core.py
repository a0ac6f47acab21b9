"""Alliance CORE (Early Learning Ventures): OAuth2 client credentials, cursor pages, check-in/out events.

Contract: ``src/ccms_attendance/hooks/contracts/alliance_core.openapi.yaml``. Connection: login = client id,
password = client secret (or extra ``client_id``). Events carry UTC timestamps; the hook pairs them
into one record per child per *local* day:

* present = the child has a check-in on that state-calendar day; the record takes the first
  check-in and the last check-out of the day (``source_record_id`` = ``"<in-id>+<out-id>"``);
* a day with check-outs but no check-in -> RejectedRecord "check-out without a check-in on that day"
  (e.g. an overnight stay checked out after midnight);
* check-outs that all precede the first check-in -> the record keeps only its check-in and the
  check-outs are rejected ("check-out before check-in");
* Alliance CORE has no absence records: absence is inferred later by reconciliation, never here.

The submission marker is the facility's attendance certification for the period
(``GET /v1/facilities/{license}/attendance-certifications``, cursor pages): ``certified`` means the
provider certified it; otherwise ``complete_through`` says how far the data is complete (rules in
:mod:`ccms_attendance.hooks.markers`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from ccms_attendance.canonical import SiteSubmission, Source
from ccms_attendance.hooks.base import (
    BearerTokenHook,
    ExtractedItem,
    SiteRequest,
    expires_in_seconds,
    parse_instant_and_day,
    present,
    text,
)
from ccms_attendance.hooks.markers import MarkerEntry, about_site, covers, day, flag, instant, read_marker


class AllianceCoreHook(BearerTokenHook):
    """Attendance from Alliance CORE (Early Learning Ventures)."""

    source: ClassVar[Source] = Source.ALLIANCE_CORE
    default_conn_name = "ccms_alliance_core"
    hook_name = "CCMS: Alliance CORE"
    default_extra: ClassVar[dict[str, Any]] = {"page_size": 100}
    token_stat: ClassVar[str] = "tokens_fetched"

    # --- OAuth2 client credentials -----------------------------------------------------------------

    def _obtain_token(self, site: SiteRequest) -> tuple[str, float]:
        client_id = text(self.options.vendor.get("client_id")) or self.connection.login
        client_secret = self.connection.password
        if not client_id or not client_secret:
            raise site.fail(f"connection {self.http_conn_id!r} needs login (client id) and password (client secret)")
        reply = self._call(
            site,
            "POST",
            str(self.options.vendor.get("token_path", "/oauth/token")),
            form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            authenticated=False,
        )
        payload = reply.payload if isinstance(reply.payload, dict) else {}
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise site.fail("token response has no access_token")
        return token, expires_in_seconds(payload, 300.0)

    def _token_refresh_margin(self) -> float:
        return float(self.options.vendor.get("token_refresh_margin_seconds", 30))

    # --- extraction --------------------------------------------------------------------------------

    def _extract(self, site: SiteRequest) -> Iterator[ExtractedItem]:
        period = site.period
        params = {
            "occurred_from": period.start_instant().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "occurred_to": period.end_instant().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "limit": self.options.page_size,
        }
        facility = f"/v1/facilities/{quote(site.license_number, safe='')}"
        marker = self._submission(site, f"{facility}/attendance-certifications")
        events: list[Any] = []
        for page in self.iter_cursor_pages(site, f"{facility}/attendance-events", params, items_key="data"):
            events.extend(page)
        unique = self.dedupe(events, lambda e: text(e.get("event_id")) if isinstance(e, dict) else None)
        yield from pair_events(site, unique)
        yield marker

    def _submission(self, site: SiteRequest, endpoint: str) -> SiteSubmission:
        params = {
            "period_start": site.period.start.isoformat(),
            "period_end": site.period.end.isoformat(),
            "limit": self.options.page_size,
        }
        certifications: list[Any] = []
        for page in self.iter_cursor_pages(site, endpoint, params, items_key="data"):
            certifications.extend(page)
        return read_marker(site, f"GET {endpoint}", "data", certifications, certification_entry)


def certification_entry(site: SiteRequest, certification: dict) -> MarkerEntry | None:
    """One attendance certification -> a marker entry (``None``: another facility or period)."""
    if not about_site(certification, "facility_license_number", site.license_number):
        return None
    if not covers(certification, site.period, "period_start", "period_end"):
        return None
    if flag(certification, "certified"):
        return MarkerEntry(submitted=True, submitted_at=instant(certification, "certified_at"))
    return MarkerEntry(
        submitted=False,
        data_through=day(certification, "complete_through"),
        issued_at=instant(certification, "updated_at"),
    )


def pair_events(site: SiteRequest, events: Iterable[Any]) -> Iterator[ExtractedItem]:
    """Turn check-in/check-out events into one canonical record per child per local day."""
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: {"check_in": [], "check_out": []})
    for event in events:
        # Statewide this loop runs once per event (hundreds of thousands): instants and their local
        # day come from parse_instant_and_day, which parses each distinct timestamp string once.
        if not isinstance(event, dict):
            yield site.reject("event is not an object")
            continue
        event_id = text(event.get("event_id"))
        license_number = text(event.get("facility_license_number"))
        child_id = text(event.get("state_child_id"))
        if event_id is None:
            yield site.reject("missing event id", child_id=child_id)
            continue
        try:
            moment, day = parse_instant_and_day(event.get("occurred_at"))
        except ValueError:
            reason = "missing event timestamp" if event.get("occurred_at") is None else "unparseable event timestamp"
            yield site.reject(reason, record_id=event_id, child_id=child_id)
            continue
        if license_number is None:
            yield site.reject("missing license number", record_id=event_id, child_id=child_id, day=day)
            continue
        kind = event.get("event_type")
        if kind not in ("check_in", "check_out"):
            yield site.reject(f"unknown event type {str(kind)[:40]!r}", record_id=event_id, child_id=child_id, day=day)
            continue
        child_key = text(event.get("child_key"))
        if child_key is None and child_id is None:
            yield site.reject("missing child identifiers", record_id=event_id, day=day)
            continue
        groups[(license_number, child_key, child_id, day)][kind].append((moment, event_id))

    for (license_number, _key, child_id, day), group in sorted(
        groups.items(), key=lambda item: (item[0][3], item[0][0], item[0][1] or "", item[0][2] or "")
    ):
        ins, outs = sorted(group["check_in"]), sorted(group["check_out"])
        if not ins:
            yield site.reject(
                "check-out without a check-in on that day",
                record_id="+".join(event_id for _, event_id in outs),
                child_id=child_id,
                day=day,
                license_number=license_number,
            )
            continue
        first_in = ins[0]
        last_out = outs[-1] if outs else None
        if last_out is not None and last_out[0] < first_in[0]:
            yield site.reject(
                "check-out before check-in",
                record_id="+".join(event_id for _, event_id in outs),
                child_id=child_id,
                day=day,
                license_number=license_number,
            )
            last_out = None
        record_id = first_in[1] + (f"+{last_out[1]}" if last_out else "")
        if child_id is None:
            yield site.reject("missing state child id", record_id=record_id, day=day, license_number=license_number)
            continue
        yield present(
            site,
            license_number=license_number,
            child_id=child_id,
            day=day,
            record_id=record_id,
            check_in=first_in[0],
            check_out=last_out[0] if last_out else None,
        )
