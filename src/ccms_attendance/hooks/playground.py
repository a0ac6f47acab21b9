"""Playground: login token, asynchronous export job, page-number pages, sign-in/out + absence rows.

Contract: ``src/ccms_attendance/hooks/contracts/playground.openapi.yaml``. Connection: login/password of the API
user. A site-period is requested as an export (``POST /api/v2/exports``), polled until ``complete``
(extras ``export_poll_interval_seconds``, ``export_timeout_seconds``; a ``failed`` export is created
again up to ``export_attempts`` times) and downloaded page by page.

Exports take the vendor time, so a batch does not wait for them one site after another: every
:meth:`PlaygroundHook.iter_site_period` call announces its site, and when a site's items are first
asked for, the hook creates the exports of that site and of the next announced sites, up to
``export_concurrency`` outstanding (created, not yet downloaded), and polls all of them in the same
rounds (one ``export_poll_interval_seconds`` wait per round, not per site). Sites are still
downloaded one at a time in the order they are iterated, and an export that fails or times out
fails only its own site. The extract step announces a batch's sites before it consumes any.

Rows are parsed by :func:`ccms_attendance.hooks.parsers.playground.export_rows_items` (sign-in/out
sessions of a child-day merge into one present record; every absence row is an absent record).

The submission marker is the center's "CCA Attendance" uploads for the period
(``GET /api/v2/centers/{license}/cca-attendance-submissions``, numbered pages): a ``locked`` upload
means the provider submitted the period; otherwise the latest upload's ``attendance_through`` says
how far the data is complete (rules in :mod:`ccms_attendance.hooks.markers`). It is read just
before each export of the site is created, so a later submission never vouches for an older export.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from ccms_attendance.canonical import ExtractedItem, SiteSubmission, Source
from ccms_attendance.hooks.auth import Authenticator, MissingCredentials, TokenAuth, password_login
from ccms_attendance.hooks.base import CcmsHook
from ccms_attendance.hooks.duplicates import RepeatedIds, split
from ccms_attendance.hooks.errors import CcmsExtractionError
from ccms_attendance.hooks.markers import MarkerEntry, about_site, covers, day, flag, instant, read_marker
from ccms_attendance.hooks.paging import PageNumberPaginator
from ccms_attendance.hooks.parsers.fields import text
from ccms_attendance.hooks.parsers.playground import export_rows_items, row_id
from ccms_attendance.hooks.site import SiteRequest
from ccms_attendance.periods import ServicePeriod

#: Export states that need another status poll.
_PENDING = ("queued", "processing")


@dataclass(eq=False)
class _Export:
    """One announced site's export job, from announcement until its rows are downloaded."""

    site: SiteRequest
    export_id: str | None = None
    status: Any = None
    attempts: int = 0  # exports created for this site (a failed one is created again)
    deadline: float = 0.0
    seen_at: float = 0.0  # when its status was last read
    error: CcmsExtractionError | None = None  # raised when (and only when) this site is consumed
    polls: int = 0
    submission: SiteSubmission | None = None  # read just before the export was created

    @property
    def created(self) -> bool:
        return self.attempts > 0 or self.error is not None

    @property
    def pending(self) -> bool:
        return self.error is None and self.status in _PENDING


@dataclass(frozen=True)
class _ExportSettings:
    interval: float
    timeout: float
    attempts: int
    concurrency: int


class PlaygroundHook(CcmsHook):
    """Attendance from Playground."""

    source: ClassVar[Source] = Source.PLAYGROUND
    default_conn_name = "ccms_playground"
    hook_name = "CCMS: Playground"
    default_extra: ClassVar[dict[str, Any]] = {
        "page_size": 100,
        "export_poll_interval_seconds": 2.0,
        "export_timeout_seconds": 600.0,
        "export_attempts": 2,
        "export_concurrency": 10,
    }

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        #: Sites announced by iter_site_period whose iteration has not started, in call order.
        self._announced: list[_Export] = []

    def iter_site_period(self, license_number: str, period: ServicePeriod) -> Iterator[ExtractedItem]:
        """As :meth:`CcmsHook.iter_site_period`; the call (before any iteration) also announces the
        site, so that its export can be created and polled together with the sites before it."""
        self._announced.append(_Export(SiteRequest(self.source, license_number, period)))
        return super().iter_site_period(license_number, period)

    def _authenticator(self) -> Authenticator:
        username, password = self.connection.login, self.connection.password
        if not username or not password:
            return MissingCredentials(f"connection {self.http_conn_id!r} needs login and password")
        source = password_login(self.unauthenticated, path="/api/login", username=username, password=password)
        return TokenAuth(source, refresh_margin=60.0, stats=self.stats, stat="logins", on_token=self.remember_token)

    def _export_settings(self) -> _ExportSettings:
        concurrency = int(self.options.vendor_number("export_concurrency"))
        if concurrency < 1:
            raise ValueError("connection extra 'export_concurrency' must be at least 1")
        return _ExportSettings(
            interval=self.options.vendor_number("export_poll_interval_seconds"),
            timeout=self.options.vendor_number("export_timeout_seconds"),
            attempts=int(self.options.vendor_number("export_attempts")),
            concurrency=concurrency,
        )

    # --- exports: created ahead, polled together, consumed in order ---------------------------------

    def _claim(self, site: SiteRequest) -> _Export:
        """This site's announced export (sites announced before it and never iterated are dropped)."""
        for index, job in enumerate(self._announced):
            if job.site == site:
                del self._announced[: index + 1]
                return job
        return _Export(site)  # not announced (e.g. _extract called directly): on its own

    def _create(self, job: _Export, settings: _ExportSettings) -> None:
        site = job.site
        body = {
            "license_number": site.license_number,
            "start_date": site.period.start.isoformat(),
            "end_date": site.period.end.isoformat(),
        }
        job.attempts += 1
        try:
            job.submission = self._submission(site)
            reply = self.call(site, "POST", "/api/v2/exports", json_body=body)
        except CcmsExtractionError as error:
            job.error = error
            return
        except Exception as error:  # this export's site fails, not the one being consumed
            job.error = self._unexpected(site, error)
            return
        export_id = text(reply.payload.get("export_id")) if isinstance(reply.payload, dict) else None
        if export_id is None:
            job.error = site.fail("export response has no export_id")
            return
        job.export_id, job.status = export_id, reply.payload.get("status")
        job.seen_at = time.monotonic()
        job.deadline = job.seen_at + settings.timeout
        self._settle(job, settings)

    def _poll(self, job: _Export, settings: _ExportSettings) -> None:
        try:
            reply = self.call(job.site, "GET", f"/api/v2/exports/{quote(str(job.export_id), safe='')}")
        except CcmsExtractionError as error:
            job.error = error
            return
        except Exception as error:  # this export's site fails, not the one being consumed
            job.error = self._unexpected(job.site, error)
            return
        job.status = reply.payload.get("status") if isinstance(reply.payload, dict) else None
        job.seen_at = time.monotonic()
        job.polls += 1
        self._settle(job, settings)

    def _settle(self, job: _Export, settings: _ExportSettings) -> None:
        """Act on a job's latest status: a failed export is created again, up to ``export_attempts``."""
        site = job.site
        if job.status in _PENDING or job.status == "complete":
            return
        if job.status != "failed":
            job.error = site.fail(f"export {self.redactor.text(job.export_id)} has an unknown status")
            return
        self.log.warning(
            "%s site %s period %s: export %s failed (attempt %d of %d)",
            site.source,
            site.license_number,
            site.period,
            self.redactor.text(job.export_id),
            job.attempts,
            settings.attempts,
        )
        if job.attempts >= settings.attempts:
            job.error = site.fail(f"the export failed at the vendor {settings.attempts} times", retryable=True)
        else:
            self._create(job, settings)

    def _completed_export(self, site: SiteRequest) -> _Export:
        """``site``'s completed export; the next announced sites' exports progress meanwhile."""
        settings = self._export_settings()
        job = self._claim(site)
        if not job.created:
            self._create(job, settings)
        ahead = self._exports_ahead(job, settings)
        while job.pending:
            waiting = [other for other in (job, *ahead) if other.pending]
            self._expire_overdue(waiting, settings)
            if not job.pending:
                break
            time.sleep(settings.interval)  # one wait per round, however many exports are outstanding
            for other in waiting:
                if other.pending:
                    self._poll(other, settings)
        self.stats["exports"] += job.attempts
        self.stats["export_polls"] += job.polls
        if job.error is not None:
            raise job.error
        return job

    def _exports_ahead(self, job: _Export, settings: _ExportSettings) -> list[_Export]:
        """The next announced sites' exports, created now up to ``export_concurrency`` outstanding in all
        (none while ``job`` itself failed: its error is raised at once)."""
        ahead = [other for other in self._announced if other.created]
        if job.error is not None:
            return ahead
        for other in self._announced:
            if len(ahead) + 1 >= settings.concurrency:
                break
            if not other.created:
                self._create(other, settings)
                ahead.append(other)
        return ahead

    def _expire_overdue(self, waiting: list[_Export], settings: _ExportSettings) -> None:
        """Fail the exports still pending when last seen after their deadline."""
        for other in waiting:
            if other.seen_at > other.deadline:
                other.error = other.site.fail(
                    f"export {self.redactor.text(other.export_id)} did not complete within {settings.timeout:g} s",
                    retryable=True,
                )

    def _extract(self, site: SiteRequest) -> Iterator[Any]:
        try:
            job = self._completed_export(site)
        except ValueError as problem:
            raise site.fail(str(problem)) from None
        endpoint = f"/api/v2/exports/{quote(str(job.export_id), safe='')}/rows"
        pages = self.pages(site, PageNumberPaginator("rows"), endpoint, {"per_page": self.options.page_size})
        rows, repeats = split(RepeatedIds(site, row_id).screen(row for page in pages for row in page))
        yield from repeats
        yield from export_rows_items(site, rows)
        assert job.submission is not None  # read by _create before the export existed
        yield job.submission

    def _submission(self, site: SiteRequest) -> SiteSubmission:
        endpoint = f"/api/v2/centers/{quote(site.license_number, safe='')}/cca-attendance-submissions"
        params = {
            "period_start": site.period.start.isoformat(),
            "period_end": site.period.end.isoformat(),
            "per_page": self.options.page_size,
        }
        pages = self.pages(site, PageNumberPaginator("submissions"), endpoint, params)
        uploads = [upload for page in pages for upload in page]
        return read_marker(site, f"GET {endpoint}", "submissions", uploads, upload_entry)


def upload_entry(site: SiteRequest, upload: dict) -> MarkerEntry | None:
    """One CCA attendance upload -> a marker entry (``None``: another center or period)."""
    if not about_site(upload, "center_license", site.license_number):
        return None
    if not covers(upload, site.period, "period_start", "period_end"):
        return None
    if flag(upload, "locked"):
        return MarkerEntry(submitted=True, submitted_at=instant(upload, "locked_at"))
    return MarkerEntry(
        submitted=False, data_through=day(upload, "attendance_through"), issued_at=instant(upload, "uploaded_at")
    )
