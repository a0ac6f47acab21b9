"""``CcmsHook``: one vendor's site-period as canonical items, composed of small parts.

A vendor hook says only what is its own: how it authenticates (an authenticator from
``hooks.auth``), which endpoints it reads with which paginator (``hooks.paging``), and which pure
parser turns the records into canonical items (``hooks.parsers``). This class runs them:

* every request goes through the transport (``hooks.transport``: the connection, retries, limits)
  with the authenticator's headers; a 401 makes a token authenticator start again once;
* record ids the vendor repeats are screened (``hooks.duplicates``) before parsing;
* ``iter_site_period`` yields the site's records and rejections, then exactly one
  :class:`SiteSubmission` (the vendor's marker, read with ``hooks.markers``);
* **whatever goes wrong while handling one site stays with that site**: a record the parser cannot
  handle is rejected alone (``parsers.records.guarded``); anything else — a transport failure, a
  response that cannot be used, an unexpected exception — ends the site with one
  :class:`CcmsExtractionError` naming vendor, site, period and the error (secrets scrubbed,
  ``hooks.redact``), never an exception that would fail the whole batch.

Not decided here (see ``docs/vendors.md``): which of several records of a child-day counts (the
rules' child-day policy), whether a record belongs to the requested site and whether its text can be
stored (both the extract step's), whether a child has a voucher (the extract step's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from ccms_attendance.canonical import AttendanceRecord, ExtractedItem, RejectedRecord, SiteSubmission, Source
from ccms_attendance.hooks.auth import Authenticator, mask_secret
from ccms_attendance.hooks.errors import CcmsExtractionError, FailureKind, Unauthorized, VendorDataError, describe
from ccms_attendance.hooks.paging import PageRequest, Paginator, iter_pages
from ccms_attendance.hooks.site import SiteRequest
from ccms_attendance.hooks.transport import Reply, VendorHttpHook, path_of
from ccms_attendance.periods import ServicePeriod

__all__ = ["CcmsExtractionError", "CcmsHook", "SiteRequest"]


class CcmsHook(VendorHttpHook):
    """Base class of the CCMS vendor hooks (``HttpHook`` underneath, configured from one connection)."""

    source: ClassVar[Source]

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self._auth: Authenticator | None = None

    # --- what a vendor hook provides ----------------------------------------------------------------

    def _authenticator(self) -> Authenticator:
        """The vendor's authenticator, built once from the connection."""
        return Authenticator()

    def _extract(self, site: SiteRequest) -> Iterator[ExtractedItem]:
        """The site's records, then its :class:`SiteSubmission`. Vendor modules fetch the marker
        *before* the records: a submission made in between then never vouches for older data."""
        raise NotImplementedError

    # --- requests -------------------------------------------------------------------------------------

    def remember_token(self, token: str) -> None:
        """A token just obtained: masked in logs, scrubbed from every error message."""
        mask_secret(token)
        self.redactor.add(token)

    @property
    def auth(self) -> Authenticator:
        if self._auth is None:
            self._auth = self._authenticator()
        return self._auth

    def call(
        self,
        site: SiteRequest,
        method: str,
        endpoint: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        form: dict | None = None,
        authenticated: bool = True,
    ) -> Reply:
        """One request with the authenticator's headers; after a 401 a token is obtained again, once."""
        for round_no in (1, 2):
            headers = {"Accept": "application/json"}
            if authenticated:
                headers.update(self.auth.headers(site))
            try:
                return self.send(site, method, endpoint, params=params, json_body=json_body, form=form, headers=headers)
            except Unauthorized:
                if authenticated and round_no == 1 and self.auth.reauthenticate_on_401:
                    self.stats["reauthentications"] += 1
                    self.auth.forget()
                    continue
                what = (
                    "still unauthorized after re-authenticating"
                    if authenticated and self.auth.reauthenticate_on_401
                    else "credentials rejected"
                )
                detail = f"HTTP 401, {what} ({method} {self.redactor.text(path_of(endpoint), 120)})"
                raise site.fail(detail, kind=FailureKind.CONNECTION) from None
        raise AssertionError("unreachable")

    def unauthenticated(self, site: SiteRequest, method: str, endpoint: str, **kwargs: Any) -> Reply:
        """A request without credentials (a token source's login call)."""
        return self.call(site, method, endpoint, authenticated=False, **kwargs)

    def pages(self, site: SiteRequest, paginator: Paginator, endpoint: str, params: dict) -> Iterator[list]:
        """Every page's items of one listing; a page that cannot be used fails the site (not retried)."""

        def fetch(request: PageRequest) -> Reply:
            self.stats["pages"] += 1
            return self.call(site, "GET", request.endpoint, params=request.params)

        try:
            yield from iter_pages(fetch, paginator, endpoint, params, max_pages=self.options.max_pages)
        except VendorDataError as problem:
            raise site.fail(self.redactor.text(problem.detail, 200)) from None

    def items(self, site: SiteRequest, reply: Reply, key: str) -> list:
        """The list ``key`` of a single (unpaged) reply."""
        items = reply.payload.get(key) if isinstance(reply.payload, dict) else None
        if not isinstance(items, list):
            path = self.redactor.text(path_of(reply.url), 120)
            raise site.fail(f"unexpected response shape: no '{key}' list ({path})")
        return items

    # --- the public API -------------------------------------------------------------------------------

    def iter_site_period(self, license_number: str, period: ServicePeriod) -> Iterator[ExtractedItem]:
        """Canonical items of one site for one service period (local attendance dates in the period).

        Records that cannot be used (missing fields, outside the period, dated after now ...) are
        yielded as :class:`RejectedRecord` with a reason; record ids the vendor repeated are
        announced as :class:`RepeatedRecord`. The last item is the site-period's
        :class:`SiteSubmission` (exactly one). Raises :class:`CcmsExtractionError` — and nothing
        else — when the site-period cannot be retrieved.
        """
        site = SiteRequest(self.source, license_number, period)
        self.stats.clear()
        counts = {"records": 0, "rejected": 0, "repeated": 0}
        marker: SiteSubmission | None = None
        try:
            for item in self._extract(site):
                if marker is not None:  # a vendor module bug; fail the site, not the batch
                    raise site.fail("the hook yielded items after the submission marker")
                if isinstance(item, SiteSubmission):
                    marker = item
                elif isinstance(item, AttendanceRecord):
                    counts["records"] += 1
                elif isinstance(item, RejectedRecord):
                    counts["rejected"] += 1
                else:
                    counts["repeated"] += 1
                yield item
            if marker is None:
                raise site.fail("the hook yielded no submission marker")
        except CcmsExtractionError as error:
            raise self._site_error(site, error) from None
        except Exception as error:  # anything at all: this site's failure, never the batch's
            raise self._site_error(site, self._unexpected(site, error)) from None
        finally:
            self.stats.update({name: count for name, count in counts.items() if count})

    def _site_error(self, site: SiteRequest, error: CcmsExtractionError) -> CcmsExtractionError:
        """``error`` as this site's error, its text scrubbed of every secret the hook knows."""
        message = str(error)
        if error.license_number is None:
            message = str(site.fail(message))
        return CcmsExtractionError(
            self.redactor.scrub(message),
            source=site.source,
            license_number=site.license_number,
            period=site.period,
            retryable=error.retryable,
            kind=error.kind,
        )

    def _unexpected(self, site: SiteRequest, error: Exception) -> CcmsExtractionError:
        known = self.fail_on_connection(site, error)
        if known is not None:
            return known
        if isinstance(error, OSError) or type(error).__module__.startswith(("requests", "urllib3")):
            return site.fail(describe(error), retryable=True)
        # Named by its type and where it happened, never by its message (which may quote vendor data).
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}" if frame else "?"
        self.log.warning(
            "%s site %s period %s: unexpected %s at %s",
            site.source,
            site.license_number,
            site.period,
            type(error).__name__,
            where,
        )
        return site.fail(f"the vendor's data could not be read ({type(error).__name__})")

    def test_connection(self) -> tuple[bool, str]:
        return False, "CCMS hooks are tested with a site and period (iter_site_period)"
