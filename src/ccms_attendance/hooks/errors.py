"""How a vendor call fails: the one public error, and the internal classes that steer retries.

Only :class:`CcmsExtractionError` leaves the hooks. The others classify what went wrong inside one
request so that the transport retries what a retry can fix (``Retryable``, ``BadJson``) and
nothing else: a response that arrived whole but cannot be used (``VendorDataError``) is a data
error and is never retried, by the hook or by the Airflow task (``CcmsExtractionError.retryable``).
"""

from __future__ import annotations

from enum import StrEnum

import requests

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod


class FailureKind(StrEnum):
    """What kind of failure a site's error is: it decides retry or fail-fast, and the advice given."""

    TRANSIENT = "transient"  # timeouts, connection errors, 5xx, 429, cut-off bodies: retry later
    CONNECTION = "connection"  # HTTP 401, a missing or unusable Airflow connection, TLS refused
    UNKNOWN_LICENSE = "unknown_license"  # the vendor has no site with this license number
    REFUSED = "refused"  # another HTTP 4xx: the vendor refuses this request as sent
    DATA = "data"  # a response that arrived whole but cannot be used

    @property
    def retryable(self) -> bool:
        return self is FailureKind.TRANSIENT


class CcmsExtractionError(Exception):
    """A site-period could not be retrieved from a vendor. The message names vendor, site and period.

    ``retryable`` says whether trying again later can help: a transport failure (timeouts,
    connection errors, 5xx, 429, cut-off bodies) after the hook's own retries is retryable; a data
    error (a response that cannot be used, an unusable marker, a refused request) is not.
    ``kind`` (:class:`FailureKind`) says which; by default ``TRANSIENT`` when retryable, else ``DATA``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: Source | None = None,
        license_number: str | None = None,
        period: ServicePeriod | None = None,
        retryable: bool = False,
        kind: FailureKind | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.license_number = license_number
        self.period = period
        self.kind = FailureKind(kind) if kind else FailureKind.TRANSIENT if retryable else FailureKind.DATA
        self.retryable = self.kind.retryable

    def __reduce__(self):
        args = (str(self), self.source, self.license_number, self.period, self.retryable, str(self.kind))
        return (_rebuild_error, args)


def _rebuild_error(message, source, license_number, period, retryable=False, kind=None) -> CcmsExtractionError:
    return CcmsExtractionError(
        message, source=source, license_number=license_number, period=period, retryable=retryable, kind=kind
    )


# --- inside one request (never leave the hooks) --------------------------------------------------


class Retryable(Exception):
    """A failure a retry may fix (5xx, 429, a body cut off while reading)."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class Fatal(Exception):
    """A response that says the request will not succeed (a 4xx other than 401/429, too large)."""

    def __init__(self, detail: str, kind: FailureKind = FailureKind.DATA) -> None:
        super().__init__(detail)
        self.detail = detail
        self.kind = kind


class Unauthorized(Exception):
    """HTTP 401: the authenticator may obtain new credentials and the request be sent once more."""


class BadJson(Exception):
    """A body that is not valid JSON; usually cut off in transit, so retried ``json_retries`` times."""


class VendorDataError(Exception):
    """A response that arrived whole but cannot be used (its shape, its nesting); never retried."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def describe(error: BaseException | None) -> str:
    """A short, fixed description of a request failure (no vendor text beyond what ``detail`` holds)."""
    if isinstance(error, Retryable | Fatal | VendorDataError):
        return error.detail
    if isinstance(error, BadJson):
        return "response is not valid JSON"
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return "connection failed"
    if isinstance(error, requests.RequestException):
        return f"request failed ({type(error).__name__})"
    return type(error).__name__ if error else "unknown error"
