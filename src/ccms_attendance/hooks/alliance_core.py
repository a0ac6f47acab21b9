"""Alliance CORE (Early Learning Ventures): OAuth2 client credentials, cursor pages, check-in/out events.

Contract: ``src/ccms_attendance/hooks/contracts/alliance_core.openapi.yaml``. Connection: login =
client id, password = client secret (or extra ``client_id``). Events carry UTC timestamps; they are
paired into one record per child per *local* day by
:func:`ccms_attendance.hooks.parsers.alliance_core.pair_events`. Pages follow ``next_cursor`` until
the vendor says ``has_more: false`` (a cursor on the last page is not followed).

The submission marker is the facility's attendance certification for the period
(``GET /v1/facilities/{license}/attendance-certifications``, cursor pages): ``certified`` means the
provider certified it; otherwise ``complete_through`` says how far the data is complete (rules in
:mod:`ccms_attendance.hooks.markers`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from ccms_attendance.canonical import SiteSubmission, Source
from ccms_attendance.hooks.auth import Authenticator, MissingCredentials, TokenAuth, client_credentials
from ccms_attendance.hooks.base import CcmsHook
from ccms_attendance.hooks.duplicates import RepeatedIds, split
from ccms_attendance.hooks.markers import MarkerEntry, about_site, covers, day, flag, instant, read_marker
from ccms_attendance.hooks.paging import CursorPaginator
from ccms_attendance.hooks.parsers.alliance_core import event_id, pair_events
from ccms_attendance.hooks.parsers.fields import text
from ccms_attendance.hooks.site import SiteRequest


class AllianceCoreHook(CcmsHook):
    """Attendance from Alliance CORE (Early Learning Ventures)."""

    source: ClassVar[Source] = Source.ALLIANCE_CORE
    default_conn_name = "ccms_alliance_core"
    hook_name = "CCMS: Alliance CORE"
    default_extra: ClassVar[dict[str, Any]] = {"page_size": 100}

    def _authenticator(self) -> Authenticator:
        client_id = text(self.options.vendor.get("client_id")) or self.connection.login
        client_secret = self.connection.password
        if not client_id or not client_secret:
            problem = f"connection {self.http_conn_id!r} needs login (client id) and password (client secret)"
            return MissingCredentials(problem)
        source = client_credentials(
            self.unauthenticated,
            token_path=str(self.options.vendor.get("token_path", "/oauth/token")),
            client_id=client_id,
            client_secret=client_secret,
        )
        return TokenAuth(
            source,
            refresh_margin=float(self.options.vendor.get("token_refresh_margin_seconds", 30)),
            stats=self.stats,
            stat="tokens_fetched",
            on_token=self.remember_token,
        )

    def _extract(self, site: SiteRequest) -> Iterator[Any]:
        period = site.period
        params = {
            "occurred_from": period.start_instant().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "occurred_to": period.end_instant().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "limit": self.options.page_size,
        }
        facility = f"/v1/facilities/{quote(site.license_number, safe='')}"
        marker = self._submission(site, f"{facility}/attendance-certifications")
        pages = self.pages(site, CursorPaginator("data"), f"{facility}/attendance-events", params)
        events, repeats = split(RepeatedIds(site, event_id).screen(event for page in pages for event in page))
        yield from repeats
        yield from pair_events(site, events)
        yield marker

    def _submission(self, site: SiteRequest, endpoint: str) -> SiteSubmission:
        params = {
            "period_start": site.period.start.isoformat(),
            "period_end": site.period.end.isoformat(),
            "limit": self.options.page_size,
        }
        certifications = [c for page in self.pages(site, CursorPaginator("data"), endpoint, params) for c in page]
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
