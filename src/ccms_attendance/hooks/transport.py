"""The vendor hook's transport: an Airflow connection becomes a ``requests`` session, and a request
becomes a decoded :class:`Reply` (or a :class:`CcmsExtractionError`), with retries.

* Configuration comes entirely from one Airflow connection (host/port/schema/login/password/extra);
  connection extras are options (``HookOptions``) and are *never* sent as HTTP headers (plain
  ``HttpHook`` would send every unknown extra, secrets included, as a header), and login/password
  are never sent as HTTP basic auth.
* One session per hook. The environment's proxy and CA-bundle settings are read into it once, when
  it is created (:func:`read_environment_once`), instead of by ``requests`` on every request.
* Every request goes through ``HttpHook.run_with_advanced_retry`` (policy: ``hooks.retries``);
  :meth:`VendorHttpHook.run_and_check` reads the body (streamed, capped at ``max_response_bytes``)
  and decodes it, so :meth:`VendorHttpHook.send` returns the payload itself.
* Nothing is logged but the request line's path and the outcome; vendor text that reaches an error
  message is bounded and scrubbed (``hooks.redact``).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import msgspec
import requests
from airflow.providers.http.hooks.http import HttpHook

from ccms_attendance.hooks.errors import (
    BadJson,
    CcmsExtractionError,
    FailureKind,
    Fatal,
    Retryable,
    Unauthorized,
    VendorDataError,
    describe,
)
from ccms_attendance.hooks.options import HookOptions
from ccms_attendance.hooks.redact import SECRET_EXTRA, Redactor
from ccms_attendance.hooks.retries import Attempts, retry_after_seconds, retry_arguments
from ccms_attendance.hooks.site import SiteRequest


@dataclass(frozen=True)
class Reply:
    """A successful response: its decoded JSON payload and what paging needs from it."""

    payload: Any
    headers: Any
    links: dict
    url: str


def decode_json(body: bytes) -> Any:
    """``json.loads(body)``, the same value or the same error, about twice as fast on vendor pages.

    msgspec decodes what it can (plain UTF-8 JSON: every page a vendor normally sends); whatever it
    refuses — lone surrogate escapes, NaN, numbers beyond a double, a BOM, other encodings, invalid
    JSON — is decoded (or rejected) by ``json.loads`` exactly as before. Where msgspec succeeds it
    gives the value ``json.loads`` gives (``tests/unit/vendors/test_decode_json.py``).
    """
    try:
        return msgspec.json.decode(body)
    except Exception:  # anything msgspec refuses is json.loads's to decode or to reject, as before
        return json.loads(body)


def read_environment_once(session: requests.Session, base_url: str) -> None:
    """Read the environment's proxy and CA-bundle settings into ``session`` once, then stop
    ``requests`` from reading them again.

    With ``trust_env`` (the default), ``requests`` reads the proxy variables (``HTTP(S)_PROXY``,
    ``NO_PROXY`` ..., scanning all of ``os.environ`` twice) and the CA-bundle variables for every
    request, about 0.3 ms each: the largest client-side cost of a request. A hook only talks to its
    connection's origin (next-page links elsewhere are refused), and a task's environment does not
    change while it runs, so the result for the base URL is the result for every request. Exactly
    what ``requests`` does per request, once: environment proxies fill in schemes the connection's
    ``proxies`` extra does not set (a ``no_proxy`` match gives none), ``REQUESTS_CA_BUNDLE`` /
    ``CURL_CA_BUNDLE`` replace a ``verify`` that is just "on". A connection with ``"trust_env":
    false`` reads nothing. ``trust_env`` is then off, which also stops ``requests`` from sending
    ``~/.netrc`` credentials as basic auth: a vendor hook authenticates its own way.
    """
    if not session.trust_env:
        return
    proxies = dict(session.proxies or {})
    for scheme, proxy in requests.utils.get_environ_proxies(base_url, no_proxy=proxies.get("no_proxy")).items():
        proxies.setdefault(scheme, proxy)
    session.proxies = proxies
    if session.verify is True or session.verify is None:
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or session.verify
    session.trust_env = False


def path_of(endpoint: str) -> str:
    return urlsplit(endpoint).path or endpoint


class VendorHttpHook(HttpHook):
    """``HttpHook`` configured from one connection, sending one request at a time with retries."""

    conn_name_attr = "http_conn_id"
    default_conn_name = "ccms_vendor"
    conn_type = "http"
    hook_name = "CCMS vendor"
    #: Vendor-specific defaults for connection extras.
    default_extra: ClassVar[dict[str, Any]] = {}

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=conn_id or self.default_conn_name, **kwargs)
        self._session: requests.Session | None = None
        self._options: HookOptions | None = None
        self._connection: Any = None
        #: Keeps the connection's secrets and runtime tokens out of every error message.
        self.redactor = Redactor()
        #: Counters of the hook's last activity (requests, pages, retries, re-authentications ...).
        self.stats: Counter[str] = Counter()

    # --- connection, options, session ---------------------------------------------------------------

    @property
    def connection(self) -> Any:
        if self._connection is None:
            connection = self.get_connection(self.http_conn_id)
            extra = connection.extra_dejson or {}
            self.redactor.add(connection.password, *(v for k, v in extra.items() if SECRET_EXTRA.search(str(k))))
            self._connection = connection
        return self._connection

    @property
    def options(self) -> HookOptions:
        if self._options is None:
            self._options = HookOptions.from_extra(self.connection.extra_dejson, self.default_extra)
        return self._options

    def get_conn(self, headers: dict | None = None, extra_options: dict | None = None) -> requests.Session:
        """One session per hook (connection pooling), with the environment read into it once;
        per-request headers go on each request.

        ``HttpHook`` copies every connection extra (client ids, page sizes, secrets ...) into the
        session's headers and login/password into HTTP basic auth; neither is ever sent: the headers
        start again from ``requests``' defaults plus the explicit ``headers`` extra, and each vendor
        hook authenticates its own way (``hooks.auth``).
        """
        if self._session is None:
            session = super().get_conn(None, extra_options)
            session.headers = requests.utils.default_headers()
            session.headers["User-Agent"] = "ccms-attendance (Airflow HttpHook)"
            session.headers.update(self.options.headers)
            session.auth = None
            read_environment_once(session, self.base_url)
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def origin(self) -> tuple[str, str]:
        """The connection's scheme and host:port (next-page links must stay on it)."""
        base = urlsplit(self.url_from_endpoint(""))
        return base.scheme, base.netloc

    # --- one response ---------------------------------------------------------------------------------

    def run_and_check(self, session: requests.Session, prepped_request: Any, extra_options: dict) -> Reply:
        """Send, classify the status, read the body (capped) and decode it.

        Sent with the session's own proxies/verify/cert: the environment was read into the session
        when it was made (:func:`read_environment_once`), so nothing is merged or read per request
        (``HttpHook.run_and_check`` would merge the environment settings again for every request).
        """
        options = self.options
        response = session.send(
            prepped_request,
            timeout=(options.connect_timeout, options.read_timeout),
            stream=True,  # read in chunks, capped at max_response_bytes
            allow_redirects=extra_options.get("allow_redirects", True),
        )
        status = response.status_code
        try:
            if status == 401:
                raise Unauthorized()
            if status == 429 or status >= 500:
                raise Retryable(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")))
            if status >= 400:
                reason = self.redactor.text(response.reason or "", 40)
                raise Fatal(f"HTTP {status} {reason}{self._error_code(response)}".rstrip(), FailureKind.REFUSED)
            try:
                body = self._read_capped(response)
            except requests.exceptions.SSLError:
                raise
            except requests.RequestException as problem:
                raise Retryable(f"connection failed while reading the response ({type(problem).__name__})") from None
        finally:
            response.close()
        try:
            payload = decode_json(body)
        except RecursionError:
            raise VendorDataError("response is nested too deeply to read") from None
        except ValueError:
            raise BadJson() from None
        return Reply(payload, response.headers, response.links, response.url)

    def _error_code(self, response: requests.Response) -> str:
        """A vendor's short error code (e.g. ``facility_not_found``), if the error body has one."""
        try:
            code = json.loads(next(response.iter_content(4096), b"")).get("error")
        except (ValueError, RecursionError, AttributeError, TypeError, requests.RequestException):
            return ""
        return f": {self.redactor.text(code)}" if isinstance(code, str) and code.strip() else ""

    def _read_capped(self, response: requests.Response) -> bytes:
        limit = self.options.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise Fatal(f"response of {int(declared)} bytes exceeds max_response_bytes={limit}")
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise Fatal(f"response exceeds max_response_bytes={limit}")
            chunks.append(chunk)
        return b"".join(chunks)

    # --- one request, with retries --------------------------------------------------------------------

    def send(
        self,
        site: SiteRequest,
        method: str,
        endpoint: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        form: dict | None = None,
        headers: dict | None = None,
    ) -> Reply:
        """The decoded reply, or ``site.fail(...)``. A 401 is raised as ``Unauthorized`` (the caller
        may authenticate again)."""
        options = self.options
        what = f"{method} {self.redactor.text(path_of(endpoint), 120)}"
        attempts = Attempts()

        def on_retry(error: BaseException | None, attempt: int, wait: float) -> None:
            self.stats["retries"] += 1
            self.log.warning(
                "%s site %s period %s: %s failed (%s); attempt %d of %d, retrying in %.1f s",
                site.source,
                site.license_number,
                site.period,
                what,
                describe(error),
                attempt,
                options.max_attempts,
                wait,
            )

        request_kwargs: dict[str, Any] = {} if json_body is None else {"json": json_body}
        self.method = method
        started = time.monotonic()
        try:
            reply = self.run_with_advanced_retry(
                retry_arguments(options, attempts, on_retry),
                endpoint=endpoint,
                data=params if method == "GET" else form,
                headers=headers,
                extra_options={"timeout": (options.connect_timeout, options.read_timeout), "stream": True},
                **request_kwargs,
            )
        except Unauthorized:
            raise
        except (Fatal, VendorDataError) as error:
            raise site.fail(f"{error.detail} ({what})", kind=getattr(error, "kind", FailureKind.DATA)) from None
        except requests.exceptions.SSLError:
            detail = f"TLS verification failed ({what}); check the certificate or 'verify'"
            raise site.fail(detail, kind=FailureKind.CONNECTION) from None
        except (Retryable, BadJson, requests.RequestException) as error:
            plural = "s" if attempts.sent != 1 else ""
            # The elapsed time goes to the log only: the message becomes a site's incomplete
            # reason, and a rerun against the same outage must store the same text.
            self.log.warning(
                "%s site %s period %s: %s gave up after %d attempt%s in %.1f s",
                site.source,
                site.license_number,
                site.period,
                what,
                attempts.sent,
                plural,
                time.monotonic() - started,
            )
            detail = f"{describe(error)} after {attempts.sent} attempt{plural} ({what})"
            raise site.fail(detail, retryable=True) from None
        self.stats["requests"] += 1
        return reply

    def fail_on_connection(self, site: SiteRequest, problem: BaseException) -> CcmsExtractionError | None:
        """The site's error for a connection that cannot be used (undefined, bad extras), else ``None``."""
        if type(problem).__name__ == "AirflowNotFoundException":
            return site.fail(f"connection {self.http_conn_id!r} is not defined", kind=FailureKind.CONNECTION)
        if isinstance(problem, ValueError) and str(problem).startswith("connection extra "):
            detail = f"{site.source} connection {self.http_conn_id!r}: {problem}"
            return site.fail(detail, kind=FailureKind.CONNECTION)
        return None
