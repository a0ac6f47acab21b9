"""What every CCMS vendor hook shares: connection options, retries, limits, paging, canonical checks.

A vendor hook only knows its own contract (auth flow, paging style, payload shape); everything else
lives here, once:

* configuration comes entirely from one Airflow connection (host/port/schema/login/password/extra);
  connection extras are options for this hook and are *never* sent as HTTP headers (plain
  ``HttpHook`` would send every unknown extra, secrets included, as a header);
* every request goes through ``HttpHook.run_with_advanced_retry``: exponential backoff with jitter,
  ``Retry-After`` honoured on 429/503, retries on 5xx/429/connection errors/timeouts only, bounded
  by attempts and by total time; malformed JSON is retried a bounded number of times;
* (connect, read) timeouts, a response-size cap enforced while streaming, TLS verification on
  unless the connection says ``"verify": false``;
* nothing sensitive is logged: no headers, no bodies; runtime tokens are registered with Airflow's
  secrets masker;
* every failure surfaces as :class:`CcmsExtractionError` naming vendor, site and period;
* records are de-duplicated by source record id across pages, and checked against the requested
  site and period (anything else becomes a :class:`RejectedRecord` with a reason);
* after a site's records comes exactly one :class:`SiteSubmission`, the vendor's submission marker
  for the site-period (read with ``hooks.markers``), passed on untouched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

import msgspec
import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook

from ccms_attendance.canonical import (
    STATE_TIMEZONE,
    AttendanceRecord,
    AttendanceStatus,
    ExtractedItem,
    RejectedRecord,
    SiteSubmission,
    Source,
    local_day,
)
from ccms_attendance.periods import ServicePeriod

#: Canonical absence reason codes; vendor vocabularies are mapped onto these.
ABSENCE_REASONS = frozenset({"ILL", "VAC", "FAM", "OTH"})


class CcmsExtractionError(Exception):
    """A site-period could not be retrieved from a vendor. The message names vendor, site and period."""

    def __init__(
        self,
        message: str,
        *,
        source: Source | None = None,
        license_number: str | None = None,
        period: ServicePeriod | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.license_number = license_number
        self.period = period

    def __reduce__(self):
        return (_rebuild_error, (str(self), self.source, self.license_number, self.period))


def _rebuild_error(message, source, license_number, period) -> CcmsExtractionError:
    return CcmsExtractionError(message, source=source, license_number=license_number, period=period)


@dataclass(frozen=True)
class SiteRequest:
    """One ``iter_site_period`` call: what every error message and every record check refers to."""

    source: Source
    license_number: str
    period: ServicePeriod

    def fail(self, detail: str) -> CcmsExtractionError:
        return CcmsExtractionError(
            f"{self.source} site {self.license_number} period {self.period}: {detail}",
            source=self.source,
            license_number=self.license_number,
            period=self.period,
        )

    def reject(
        self,
        reason: str,
        *,
        record_id: str | None = None,
        child_id: str | None = None,
        day: dt.date | None = None,
        license_number: str | None = None,
    ) -> RejectedRecord:
        return RejectedRecord(
            source=self.source,
            license_number=license_number or self.license_number,
            source_record_id=record_id,
            child_id=child_id,
            attendance_date=day,
            reason=reason,
        )


# --- internal failure classes (never leave this module's request path) --------------------------


class _Retryable(Exception):
    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class _Fatal(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Unauthorized(Exception):
    pass


class _BadJson(Exception):
    pass


@dataclass(frozen=True)
class HookOptions:
    """The connection extras a CCMS hook understands (all optional)."""

    page_size: int = 100
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    max_retry_seconds: float = 300.0
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    json_retries: int = 2
    max_response_bytes: int = 50_000_000
    max_pages: int = 10_000
    headers: dict[str, str] = field(default_factory=dict)
    vendor: dict[str, Any] = field(default_factory=dict)  # everything else, for the vendor hook

    _NUMERIC: ClassVar[dict[str, type]] = {
        "page_size": int,
        "connect_timeout": float,
        "read_timeout": float,
        "max_attempts": int,
        "max_retry_seconds": float,
        "backoff_base_seconds": float,
        "backoff_max_seconds": float,
        "json_retries": int,
        "max_response_bytes": int,
        "max_pages": int,
    }
    # Read by HttpHook itself (verify, proxies, cert, ...) or ignored here.
    _PASSTHROUGH: ClassVar[frozenset[str]] = frozenset(
        {"verify", "verify_ssl", "proxies", "proxy", "cert", "trust_env", "stream", "timeout", "check_response"}
    )

    @classmethod
    def from_extra(cls, extra: dict[str, Any], defaults: dict[str, Any]) -> HookOptions:
        values: dict[str, Any] = {}
        vendor: dict[str, Any] = {}
        merged = {**defaults, **(extra or {})}
        for key, value in merged.items():
            if key in cls._NUMERIC:
                try:
                    values[key] = cls._NUMERIC[key](value)
                except (TypeError, ValueError):
                    raise ValueError(f"connection extra {key!r} must be a number, got {value!r}") from None
                if values[key] <= 0 and key != "json_retries":
                    raise ValueError(f"connection extra {key!r} must be positive, got {value!r}")
            elif key == "headers":
                if not isinstance(value, dict):
                    raise ValueError("connection extra 'headers' must be an object")
                values["headers"] = {str(k): str(v) for k, v in value.items()}
            elif key not in cls._PASSTHROUGH:
                vendor[key] = value
        return cls(**values, vendor=vendor)


@dataclass
class Reply:
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


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a requests setting (proxies are a dict)."""
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def _environment_read_once(session: requests.Session) -> Callable[..., dict]:
    """``session.merge_environment_settings``, memoized for the session's life.

    With ``trust_env`` (the default), requests reads the proxy variables (``HTTP(S)_PROXY``,
    ``NO_PROXY`` ..., scanning all of ``os.environ`` twice) and the CA-bundle variables for every
    request, about 0.3 ms each: the largest client-side cost of a request. The result depends only
    on the URL's scheme and host (the proxy bypass is decided by host and port) and on the settings passed
    in, so it is computed once per such key; a task's environment does not change while it runs.
    Connection extras (``proxies``, ``verify``, ``trust_env``: false ...) are part of the key, so they
    apply exactly as before. requests also copies the environment's proxies into the ``proxies``
    dict it is given (Airflow passes the session's own); a cached call does the same.
    """
    merge = session.merge_environment_settings
    cache: dict[tuple, tuple[dict, dict | None]] = {}

    def merge_environment_settings(url, proxies, stream, verify, cert) -> dict:
        parts = urlsplit(url)
        key = (
            parts.scheme,
            parts.netloc,
            _frozen(proxies),
            stream,
            verify,
            cert,
            session.trust_env,
            _frozen(session.proxies),
            session.stream,
            session.verify,
            session.cert,
        )
        try:
            known = cache.get(key)
        except TypeError:  # an unhashable setting: not memoized
            return merge(url, proxies, stream, verify, cert)
        if known is None:
            settings = merge(url, proxies, stream, verify, cert)
            known = cache[key] = (settings, dict(proxies) if proxies is not None else None)
        settings, proxies_after = known
        if proxies is not None and proxies_after is not None:
            for name, value in proxies_after.items():
                proxies.setdefault(name, value)
        return {name: dict(value) if isinstance(value, dict) else value for name, value in settings.items()}

    return merge_environment_settings


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _path_of(endpoint: str) -> str:
    return urlsplit(endpoint).path or endpoint


class CcmsHook(HttpHook):
    """Base class of the CCMS vendor hooks (``HttpHook`` underneath, configured from one connection)."""

    source: ClassVar[Source]
    conn_name_attr = "http_conn_id"
    default_conn_name = "ccms_vendor"
    conn_type = "http"
    hook_name = "CCMS vendor"
    #: Vendor-specific defaults for connection extras.
    default_extra: ClassVar[dict[str, Any]] = {}
    #: On a 401, drop cached credentials and try once more (token-based vendors).
    reauthenticate_on_401: ClassVar[bool] = True

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=conn_id or self.default_conn_name, **kwargs)
        self._session: requests.Session | None = None
        self._options: HookOptions | None = None
        self._connection: Any = None
        #: Counters of the hook's last activity (pages, retries, duplicates skipped, re-auths ...).
        self.stats: Counter[str] = Counter()

    # --- connection and options --------------------------------------------------------------------

    @property
    def connection(self) -> Any:
        if self._connection is None:
            self._connection = self.get_connection(self.http_conn_id)
        return self._connection

    @property
    def options(self) -> HookOptions:
        if self._options is None:
            try:
                self._options = HookOptions.from_extra(self.connection.extra_dejson, self.default_extra)
            except ValueError as problem:
                raise CcmsExtractionError(f"{self.source} connection {self.http_conn_id!r}: {problem}") from None
        return self._options

    def _extract_auth(self, connection: Any) -> Any:
        """No HTTP basic auth from login/password: each vendor hook authenticates its own way."""
        return None

    def _configure_session_from_extra(self, session: requests.Session, connection: Any, extra_options: dict):
        session = super()._configure_session_from_extra(session, connection, extra_options)
        # HttpHook copies every unknown extra (client ids, page sizes ...) into the request headers;
        # start again from plain defaults and add only the explicit "headers" extra.
        session.headers = requests.utils.default_headers()
        session.headers["User-Agent"] = "ccms-attendance (Airflow HttpHook)"
        session.headers.update(self.options.headers)
        return session

    def get_conn(self, headers: dict | None = None, extra_options: dict | None = None) -> requests.Session:
        """One session per hook (connection pooling); per-request headers go on each request. The
        session reads the environment's proxy and CA-bundle settings once per origin, not per request
        (:func:`_environment_read_once`)."""
        if self._session is None:
            session = super().get_conn(None, extra_options)
            session.merge_environment_settings = _environment_read_once(session)  # type: ignore[method-assign]
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def check_response(self, response: requests.Response) -> None:
        """Classify a response; read a successful body (capped) and parse it. Never logs the body."""
        status = response.status_code
        try:
            if status == 401:
                raise _Unauthorized()
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status}", _retry_after_seconds(response.headers.get("Retry-After")))
            if status >= 400:
                raise _Fatal(f"HTTP {status} {response.reason or ''}{self._error_code(response)}".rstrip())
            try:
                body = self._read_capped(response)
            except requests.exceptions.SSLError:
                raise
            except requests.RequestException as problem:
                raise _Retryable(f"connection failed while reading the response ({type(problem).__name__})") from None
        finally:
            response.close()
        try:
            response._ccms_payload = decode_json(body)  # type: ignore[attr-defined]
        except ValueError:
            raise _BadJson() from None

    def _error_code(self, response: requests.Response) -> str:
        """A vendor's short error code (e.g. ``facility_not_found``), if the error body has one."""
        try:
            raw = next(response.iter_content(4096), b"")
            code = json.loads(raw).get("error")
        except (ValueError, AttributeError, requests.RequestException):
            return ""
        return f": {str(code)[:80]}" if isinstance(code, str) else ""

    def _read_capped(self, response: requests.Response) -> bytes:
        limit = self.options.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _Fatal(f"response of {declared} bytes exceeds max_response_bytes={limit}")
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise _Fatal(f"response exceeds max_response_bytes={limit}")
            chunks.append(chunk)
        return b"".join(chunks)

    # --- requests ----------------------------------------------------------------------------------

    def _auth_headers(self, site: SiteRequest) -> dict[str, str]:
        """Headers that authenticate a request (vendor hooks log in lazily here)."""
        return {}

    def _forget_auth(self) -> None:
        """Drop cached credentials after a 401 so the next request authenticates again."""

    def _retry_args(self, site: SiteRequest, what: str, bad_json: list[int]) -> dict[str, Any]:
        options = self.options

        def should_retry(error: BaseException) -> bool:
            if isinstance(error, requests.exceptions.SSLError):
                return False
            if isinstance(error, _Retryable | requests.ConnectionError | requests.Timeout):
                return True
            if isinstance(error, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
                return True
            if isinstance(error, _BadJson):
                bad_json[0] += 1
                return bad_json[0] <= options.json_retries
            return False

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            retry_after = getattr(error, "retry_after", None)
            if retry_after is not None:
                return retry_after + random.uniform(0, 0.1)
            ceiling = min(options.backoff_max_seconds, options.backoff_base_seconds * 2 ** (state.attempt_number - 1))
            return random.uniform(ceiling / 2, ceiling)  # "equal jitter"

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= options.max_attempts:
                return True
            return state.seconds_since_start + state.upcoming_sleep > options.max_retry_seconds

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.stats["retries"] += 1
            error = state.outcome.exception() if state.outcome else None
            self.log.warning(
                "%s site %s period %s: %s failed (%s); attempt %d of %d, retrying in %.1f s",
                site.source,
                site.license_number,
                site.period,
                what,
                _describe(error),
                state.attempt_number,
                options.max_attempts,
                state.upcoming_sleep,
            )

        return {
            "retry": tenacity.retry_if_exception(should_retry),
            "wait": wait,
            "stop": stop,
            "before_sleep": before_sleep,
            "reraise": True,
        }

    def _send(
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
        options = self.options
        what = f"{method} {_path_of(endpoint)}"
        bad_json = [0]
        extra_options = {
            "timeout": (options.connect_timeout, options.read_timeout),
            "stream": True,
            "check_response": True,
        }
        request_kwargs: dict[str, Any] = {}
        if json_body is not None:
            request_kwargs["json"] = json_body
        self.method = method
        started = time.monotonic()
        try:
            response = self.run_with_advanced_retry(
                self._retry_args(site, what, bad_json),
                endpoint=endpoint,
                data=params if method == "GET" else form,
                headers=headers,
                extra_options=extra_options,
                **request_kwargs,
            )
        except _Unauthorized:
            raise
        except (_Retryable, _BadJson, _Fatal, requests.RequestException) as error:
            attempts = self._retry_obj.statistics.get("attempt_number", 1)
            elapsed = time.monotonic() - started
            if isinstance(error, _Fatal):
                raise site.fail(f"{error.detail} ({what})") from None
            if isinstance(error, requests.exceptions.SSLError):
                raise site.fail(f"TLS verification failed ({what}); check the certificate or 'verify'") from None
            plural = "s" if attempts != 1 else ""
            # The elapsed time goes to the log only: the message becomes a site's incomplete
            # reason, and a rerun against the same outage must store the same text.
            self.log.warning(
                "%s site %s period %s: %s gave up after %d attempt%s in %.1f s",
                site.source,
                site.license_number,
                site.period,
                what,
                attempts,
                plural,
                elapsed,
            )
            raise site.fail(f"{_describe(error)} after {attempts} attempt{plural} ({what})") from None
        self.stats["requests"] += 1
        return Reply(response._ccms_payload, response.headers, response.links, response.url)

    def _call(
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
        """A request with authentication; on a 401 the hook authenticates again once."""
        for round_no in (1, 2):
            headers = {"Accept": "application/json"}
            if authenticated:
                headers.update(self._auth_headers(site))
            try:
                return self._send(
                    site, method, endpoint, params=params, json_body=json_body, form=form, headers=headers
                )
            except _Unauthorized:
                if authenticated and round_no == 1 and self.reauthenticate_on_401:
                    self.stats["reauthentications"] += 1
                    self._forget_auth()
                    continue
                what = (
                    "still unauthorized after re-authenticating"
                    if authenticated and self.reauthenticate_on_401
                    else "credentials rejected"
                )
                raise site.fail(f"HTTP 401, {what} ({method} {_path_of(endpoint)})") from None
        raise AssertionError("unreachable")

    # --- paging helpers ----------------------------------------------------------------------------

    def _items(self, site: SiteRequest, reply: Reply, key: str) -> list:
        items = reply.payload.get(key) if isinstance(reply.payload, dict) else None
        if not isinstance(items, list):
            raise site.fail(f"unexpected response shape: no '{key}' list ({_path_of(reply.url)})")
        return items

    def _page_guard(self, site: SiteRequest, page_no: int) -> None:
        self.stats["pages"] += 1
        if page_no > self.options.max_pages:
            raise site.fail(f"more than max_pages={self.options.max_pages} pages; giving up")

    def iter_cursor_pages(
        self,
        site: SiteRequest,
        endpoint: str,
        params: dict,
        *,
        items_key: str,
        cursor_param: str = "cursor",
        next_key: str = "next_cursor",
    ) -> Iterator[list]:
        """Cursor pagination: follow ``next_key`` until it is empty."""
        cursor: str | None = None
        seen: set[str] = set()
        for page_no in range(1, self.options.max_pages + 2):
            self._page_guard(site, page_no)
            query = dict(params, **({cursor_param: cursor} if cursor else {}))
            reply = self._call(site, "GET", endpoint, params=query)
            yield self._items(site, reply, items_key)
            cursor = reply.payload.get(next_key)
            if not cursor:
                return
            if cursor in seen:
                raise site.fail(f"the vendor repeated a page cursor; stopping ({_path_of(endpoint)})")
            seen.add(cursor)

    def iter_link_pages(self, site: SiteRequest, endpoint: str, params: dict, *, items_key: str) -> Iterator[list]:
        """``Link: <...>; rel="next"`` pagination; next links must stay on the connection's origin."""
        origin = urlsplit(self.url_from_endpoint(""))
        next_endpoint: str | None = endpoint
        query: dict | None = params
        for page_no in range(1, self.options.max_pages + 2):
            self._page_guard(site, page_no)
            reply = self._call(site, "GET", next_endpoint, params=query)
            yield self._items(site, reply, items_key)
            link = (reply.links.get("next") or {}).get("url")
            if not link:
                return
            target = urlsplit(link)
            if target.netloc and (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
                raise site.fail(f"next-page link points to another host ({target.scheme}://{target.netloc}); refused")
            next_endpoint, query = target.path + (f"?{target.query}" if target.query else ""), None

    def iter_numbered_pages(
        self,
        site: SiteRequest,
        endpoint: str,
        params: dict,
        *,
        items_key: str,
        page_param: str = "page",
        total_pages_key: str = "total_pages",
    ) -> Iterator[list]:
        """Page-number pagination with totals: pages 1..total_pages."""
        page = 1
        while True:
            self._page_guard(site, page)
            reply = self._call(site, "GET", endpoint, params=dict(params, **{page_param: page}))
            items = self._items(site, reply, items_key)
            yield items
            total_pages = reply.payload.get(total_pages_key)
            if not isinstance(total_pages, int):
                raise site.fail(f"unexpected response shape: '{total_pages_key}' missing ({_path_of(endpoint)})")
            if page >= total_pages or (not items and page > 1):
                return
            page += 1

    def dedupe(self, records: Iterable[Any], record_id: Callable[[Any], Any]) -> Iterator[Any]:
        """Drop records whose source id was already seen (vendors may repeat records across pages)."""
        seen: set = set()
        for record in records:
            key = record_id(record)
            if key is not None and key in seen:
                self.stats["duplicates_skipped"] += 1
                continue
            if key is not None:
                seen.add(key)
            yield record

    # --- the public API ----------------------------------------------------------------------------

    def iter_site_period(self, license_number: str, period: ServicePeriod) -> Iterator[ExtractedItem]:
        """Canonical records of one site for one service period (local attendance dates in the period).

        Records that cannot be used (missing fields, another site, outside the period, a second
        record for the same child-day) are yielded as :class:`RejectedRecord` with a reason. The
        last item is the site-period's :class:`SiteSubmission` (exactly one).
        Raises :class:`CcmsExtractionError` when the site-period cannot be retrieved.
        """
        site = SiteRequest(self.source, license_number, period)
        self.stats.clear()
        kept: set[tuple[str, dt.date]] = set()
        counts = {"records": 0, "rejected": 0}
        marker: SiteSubmission | None = None
        try:
            for item in self._extract(site):
                if marker is not None:  # a vendor module bug; fail the site, not the batch
                    raise site.fail("the hook yielded items after the submission marker")
                if isinstance(item, SiteSubmission):
                    marker = item
                    yield item
                    continue
                item = storable(site, self._in_scope(site, item))
                if isinstance(item, AttendanceRecord):
                    key = (item.child_id, item.attendance_date)
                    if key in kept:
                        item = site.reject(
                            "more than one record for this child and day",
                            record_id=item.source_record_id,
                            child_id=item.child_id,
                            day=item.attendance_date,
                        )
                    else:
                        kept.add(key)
                counts["rejected" if isinstance(item, RejectedRecord) else "records"] += 1
                yield item
            if marker is None:
                raise site.fail("the hook yielded no submission marker")
        except CcmsExtractionError as error:
            if error.license_number is None:
                raise site.fail(str(error)) from None
            raise
        except requests.RequestException as error:
            raise site.fail(_describe(error)) from None
        except Exception as error:
            if type(error).__name__ == "AirflowNotFoundException":
                raise site.fail(f"connection {self.http_conn_id!r} is not defined") from None
            raise
        finally:
            self.stats.update({name: count for name, count in counts.items() if count})

    def _extract(self, site: SiteRequest) -> Iterator[ExtractedItem]:
        """The site's records, then its :class:`SiteSubmission`. Vendor modules fetch the marker
        *before* the records: a submission made in between then never vouches for older data."""
        raise NotImplementedError

    @staticmethod
    def _in_scope(site: SiteRequest, item: ExtractedItem) -> ExtractedItem:
        if not isinstance(item, AttendanceRecord):
            return item
        if item.license_number != site.license_number:
            return site.reject(
                f"record is for license {item.license_number}, not the requested site",
                record_id=item.source_record_id,
                child_id=item.child_id,
                day=item.attendance_date,
                license_number=item.license_number,
            )
        if not site.period.contains(item.attendance_date):
            return site.reject(
                "outside period", record_id=item.source_record_id, child_id=item.child_id, day=item.attendance_date
            )
        return item

    def test_connection(self) -> tuple[bool, str]:
        return False, "CCMS hooks are tested with a site and period (iter_site_period)"


#: Text PostgreSQL cannot store: NUL, and unpaired UTF-16 surrogates (JSON's "\\u0000" / "\\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _clean(value: str | None) -> str | None:
    return None if value is None else _UNSTORABLE.sub("\ufffd", value)


def _record_texts(record: AttendanceRecord) -> str:
    """A record's identifier texts in one string: one regex scan instead of four (the pattern
    matches single characters, so a hit here is a hit in one of the fields)."""
    return f"{record.source_record_id}{record.child_id}{record.license_number}{record.absence_reason or ''}"


def storable(site: SiteRequest, item: ExtractedItem) -> ExtractedItem:
    """Make sure the warehouse can store ``item``: a record whose identifiers hold text PostgreSQL
    cannot store (NUL, unpaired surrogates; valid JSON, though) becomes a rejection, and a
    rejection's own texts are cleaned (U+FFFD). Without this, one such record makes the COPY of a
    whole batch fail, losing every site of the batch with an error naming none of them. A
    :class:`SiteSubmission` carries no vendor text and passes untouched.
    """
    if isinstance(item, SiteSubmission):
        return item
    if isinstance(item, AttendanceRecord):
        if not _UNSTORABLE.search(_record_texts(item)):  # the common case: one scan, not four
            return item
        names = ("source_record_id", "child_id", "license_number", "absence_reason")
        bad = [name for name in names if _UNSTORABLE.search(getattr(item, name) or "")]
        return site.reject(
            f"unstorable character (NUL or unpaired surrogate) in {', '.join(bad)}",
            record_id=_clean(item.source_record_id),
            child_id=_clean(item.child_id),
            day=item.attendance_date,
            license_number=_clean(item.license_number),
        )
    texts = ("source_record_id", "child_id", "license_number", "reason")
    if any(_UNSTORABLE.search(getattr(item, name) or "") for name in texts):
        return dataclasses.replace(item, **{name: _clean(getattr(item, name)) for name in texts})
    return item


class BearerTokenHook(CcmsHook):
    """A hook that authenticates with a bearer token: obtained lazily, reused until shortly before it
    expires, dropped after a 401. A vendor hook only says how it gets a token (:meth:`_obtain_token`).
    """

    #: ``stats`` counter bumped for every token obtained.
    token_stat: ClassVar[str] = "tokens_fetched"

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self._token: str | None = None
        self._token_valid_until = 0.0

    def _auth_headers(self, site: SiteRequest) -> dict[str, str]:
        if self._token is None or time.monotonic() >= self._token_valid_until:
            requested_at = time.monotonic()
            token, expires_in = self._obtain_token(site)
            _mask_secret(token)
            margin = min(self._token_refresh_margin(), expires_in * 0.1)
            self._token = token
            self._token_valid_until = requested_at + expires_in - margin
            self.stats[self.token_stat] += 1
        return {"Authorization": f"Bearer {self._token}"}

    def _forget_auth(self) -> None:
        self._token = None

    def _token_refresh_margin(self) -> float:
        """Renew the token this many seconds before it expires (capped at 10 % of its lifetime)."""
        return 60.0

    def _obtain_token(self, site: SiteRequest) -> tuple[str, float]:
        """A new token from the vendor and its lifetime in seconds; ``site.fail(...)`` if there is none."""
        raise NotImplementedError


def _mask_secret(secret: str) -> None:
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except ImportError:  # pragma: no cover - older Airflow
        pass


def expires_in_seconds(payload: dict, default: float) -> float:
    """A token response's ``expires_in`` (``default`` when it is missing or not a number)."""
    try:
        return float(payload.get("expires_in", default))
    except (TypeError, ValueError):
        return default


def _describe(error: BaseException | None) -> str:
    if isinstance(error, _Retryable | _Fatal):
        return error.detail
    if isinstance(error, _BadJson):
        return "response is not valid JSON"
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return "connection failed"
    if isinstance(error, requests.RequestException):
        return f"request failed ({type(error).__name__})"
    return type(error).__name__ if error else "unknown error"


# --- small parsing helpers shared by the vendor modules -----------------------------------------


def text(value: Any) -> str | None:
    """A non-empty identifier string, or None (numbers are accepted and stringified)."""
    if type(value) is str:  # the common case first: called for every identifier of every record
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        value = str(value).strip()
        return value or None
    return None


def field_of(record: Any, *path: str) -> Any:
    node = record
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


#: Vendors repeat the same dates, timestamps and clock times across thousands of records (a site's
#: check-ins fall on a few hundred distinct minutes), so each distinct string is parsed once. The
#: caches are bounded, and only short strings are cached: a hostile payload cannot grow them.
_CACHE_SIZE = 16_384
_CACHEABLE_LENGTH = 40


def _cached(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` memoized for short strings (failures are not cached: they raise every time)."""
    memo = functools.lru_cache(maxsize=_CACHE_SIZE)(parse)

    def parse_text(value: str) -> Any:
        return memo(value) if len(value) <= _CACHEABLE_LENGTH else parse(value)

    return parse_text


@_cached
def _date_from_text(value: str) -> dt.date:
    return dt.date.fromisoformat(value.strip())


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        raise ValueError("not a date string")
    return _date_from_text(value)


def _instant_from_text(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.utcoffset() is None:
        raise ValueError("timestamp has no UTC offset")
    return moment.astimezone(dt.UTC)


_cached_instant = _cached(_instant_from_text)


@_cached
def _instant_and_day_from_text(value: str) -> tuple[dt.datetime, dt.date]:
    moment = _cached_instant(value)
    return moment, local_day(moment)


def parse_instant(value: Any) -> dt.datetime:
    """An ISO 8601 timestamp *with* offset (``Z`` accepted), normalised to UTC.

    Canonical timestamps are always UTC-aware: datetimes sharing a ``ZoneInfo`` compare by wall
    clock and ignore ``fold``, which would misorder the repeated hour on the fall-back day.
    """
    if not isinstance(value, str):
        raise ValueError("not a timestamp string")
    return _cached_instant(value)


def parse_instant_and_day(value: Any) -> tuple[dt.datetime, dt.date]:
    """:func:`parse_instant` and the state calendar day of that instant (``local_day``), together:
    the time zone conversion is as costly as the parse, and both repeat across records."""
    if not isinstance(value, str):
        raise ValueError("not a timestamp string")
    return _instant_and_day_from_text(value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _wall_clock_readings(day: dt.date, clock: dt.time) -> tuple[dt.datetime, dt.datetime | None]:
    """The earlier (fold 0) reading of a naive wall-clock time, and the later one only when the time
    is ambiguous (a spring-forward gap time keeps the earlier reading alone)."""
    naive = dt.datetime.combine(day, clock)
    earlier = naive.replace(tzinfo=STATE_TIMEZONE, fold=0).astimezone(dt.UTC)
    later = naive.replace(tzinfo=STATE_TIMEZONE, fold=1).astimezone(dt.UTC)
    if earlier == later:
        return earlier, None
    if earlier.astimezone(STATE_TIMEZONE).replace(tzinfo=None) != naive:  # in the spring-forward gap
        return earlier, None
    return earlier, later


def local_wall_clock(day: dt.date, clock: dt.time, *, not_before: dt.datetime | None = None) -> dt.datetime:
    """The instant (UTC-aware) of a wall-clock time keyed in at a facility on ``day`` (state time zone).

    DST policy (documented in docs/vendors.md):

    * a time that does not exist (spring forward, e.g. 02:30 on 2026-03-08) is read with the offset
      in force before the jump, i.e. it lands one hour later on the clock (02:30 -> 03:30 EDT);
    * an ambiguous time (fall back, e.g. 01:30 on 2026-11-01) is the *earlier* of the two instants
      (EDT), unless that would put it before ``not_before`` (a check-out before its check-in) while
      the later instant (EST) would not; then the later one is used.
    """
    if clock.tzinfo is None and type(day) is dt.date:
        earlier, later = _wall_clock_readings(day, clock)
    else:  # aware times compare across offsets, so they are not cache keys
        earlier, later = _wall_clock_readings.__wrapped__(day, clock)
    if later is not None and not_before is not None and earlier < not_before <= later:
        return later
    return earlier


@_cached
def _clock_from_text(value: str) -> dt.time:
    if len(value.strip()) not in (5, 8):
        raise ValueError("not HH:MM or HH:MM:SS")
    return dt.time.fromisoformat(value.strip())


def parse_clock(value: Any) -> dt.time:
    if not isinstance(value, str):
        raise ValueError("not HH:MM or HH:MM:SS")
    return _clock_from_text(value)


class RecordIdentity(NamedTuple):
    """Who and what a raw vendor record is about, once :func:`record_identity` has checked it."""

    record_id: str
    license_number: str
    child_id: str
    day: dt.date


def record_identity(
    site: SiteRequest,
    *,
    record_id: str | None,
    date: Any,
    license_number: str | None,
    child_id: str | None,
    missing_id: str = "missing record id",
) -> RecordIdentity | RejectedRecord:
    """Check a record's id, attendance date, license number and state child id, in that order.

    The first one missing (or a date that does not parse) gives a :class:`RejectedRecord` with its
    reason; ``missing_id`` is the reason for a missing record id.
    """
    if record_id is None:
        return site.reject(missing_id, child_id=child_id)
    if date is None:
        return site.reject("missing attendance date", record_id=record_id, child_id=child_id)
    try:
        day = parse_date(date)
    except ValueError:
        return site.reject("unparseable attendance date", record_id=record_id, child_id=child_id)
    if license_number is None:
        return site.reject("missing license number", record_id=record_id, child_id=child_id, day=day)
    if child_id is None:
        return site.reject("missing state child id", record_id=record_id, day=day)
    return RecordIdentity(record_id, license_number, child_id, day)


def absence_reason(code: Any, vocabulary: dict[str, str] | None = None) -> str | None:
    """Map a vendor's absence reason onto ILL/VAC/FAM/OTH (unknown -> OTH, none -> None)."""
    if code is None or (isinstance(code, str) and not code.strip()):
        return None
    key = str(code).strip()
    if vocabulary:
        key = vocabulary.get(key.lower(), key)
    key = key.upper()
    return key if key in ABSENCE_REASONS else "OTH"


def present(
    site: SiteRequest,
    *,
    license_number: str,
    child_id: str,
    day: dt.date,
    record_id: str,
    check_in: dt.datetime | None,
    check_out: dt.datetime | None,
) -> AttendanceRecord:
    return AttendanceRecord(
        source=site.source,
        license_number=license_number,
        child_id=child_id,
        attendance_date=day,
        status=AttendanceStatus.PRESENT,
        source_record_id=record_id,
        check_in=check_in,
        check_out=check_out,
    )


def absent(
    site: SiteRequest, *, license_number: str, child_id: str, day: dt.date, record_id: str, reason: str | None
) -> AttendanceRecord:
    return AttendanceRecord(
        source=site.source,
        license_number=license_number,
        child_id=child_id,
        attendance_date=day,
        status=AttendanceStatus.ABSENT,
        source_record_id=record_id,
        absence_reason=reason,
    )
