"""Authenticators: what a vendor request carries to prove who sends it.

An authenticator gives the headers of the next request (:meth:`Authenticator.headers`) and, after a
401, drops what it holds (:meth:`Authenticator.forget`); the hook then sends the request once more
when ``reauthenticate_on_401`` says asking again can help.

* :class:`ApiKeyAuth` — a static key in a header (brightwheel); a 401 is final.
* :class:`TokenAuth` — a bearer token obtained by a *token source*, reused until shortly before it
  expires, obtained again after a 401: :func:`client_credentials` (OAuth2 client credentials grant,
  Alliance CORE) or :func:`password_login` (a login call, Playground).

Tokens are registered with Airflow's secrets masker and the hook's redactor as soon as they arrive.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ccms_attendance.hooks.site import SiteRequest


@dataclass(frozen=True)
class Token:
    value: str
    expires_in: float  # seconds


class Send(Protocol):
    """The hook's unauthenticated request: ``send(site, method, endpoint, form=..., json_body=...)``."""

    def __call__(self, site: SiteRequest, method: str, endpoint: str, **kwargs: Any) -> Any: ...


TokenSource = Callable[[SiteRequest], Token]


class Authenticator:
    """No authentication at all (the base of the others)."""

    #: After a 401, obtaining credentials again may help (tokens); a static key does not get better.
    reauthenticate_on_401 = False

    def headers(self, site: SiteRequest) -> dict[str, str]:
        return {}

    def forget(self) -> None:
        """Drop cached credentials after a 401 so that the next request authenticates again."""


class MissingCredentials(Authenticator):
    """A connection without the credentials its vendor needs: every authenticated request fails the
    site with ``problem`` (which names the connection, never a value)."""

    def __init__(self, problem: str) -> None:
        self._problem = problem

    def headers(self, site: SiteRequest) -> dict[str, str]:
        raise site.fail(self._problem)


class ApiKeyAuth(Authenticator):
    """A static API key in a header on every request."""

    def __init__(self, header: str, key: str | None, missing: str) -> None:
        self.header, self._key, self._missing = header, key, missing

    def headers(self, site: SiteRequest) -> dict[str, str]:
        if not self._key:
            raise site.fail(self._missing)
        return {self.header: self._key}


class TokenAuth(Authenticator):
    """A bearer token: obtained lazily, reused until ``refresh_margin`` seconds (at most 10 % of its
    lifetime) before it expires, dropped after a 401."""

    reauthenticate_on_401 = True

    def __init__(
        self,
        source: TokenSource,
        *,
        refresh_margin: float,
        stats: Counter[str],
        stat: str,
        on_token: Callable[[str], None],
    ) -> None:
        self._source = source
        self._refresh_margin = refresh_margin
        self._stats, self._stat = stats, stat
        self._on_token = on_token
        self._token: str | None = None
        self._valid_until = 0.0

    def headers(self, site: SiteRequest) -> dict[str, str]:
        if self._token is None or time.monotonic() >= self._valid_until:
            requested_at = time.monotonic()
            token = self._source(site)
            self._on_token(token.value)
            margin = min(self._refresh_margin, token.expires_in * 0.1)
            self._token = token.value
            self._valid_until = requested_at + token.expires_in - margin
            self._stats[self._stat] += 1
        return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> None:
        self._token = None


def mask_secret(secret: str) -> None:
    """Register a runtime secret (a token) with Airflow's secrets masker: it is masked in task logs."""
    try:
        from airflow.sdk.log import mask_secret as airflow_mask_secret
    except ImportError:  # pragma: no cover - older Airflow
        return
    airflow_mask_secret(secret)


def expires_in_seconds(payload: Any, default: float) -> float:
    """A token response's ``expires_in`` (``default`` when it is missing or not a usable number)."""
    value = payload.get("expires_in", default) if isinstance(payload, dict) else default
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return seconds if 0 < seconds < float("inf") else default


def client_credentials(send: Send, *, token_path: str, client_id: str, client_secret: str) -> TokenSource:
    """OAuth2 client credentials grant: ``POST token_path`` (form) -> ``access_token``, ``expires_in``."""

    def obtain(site: SiteRequest) -> Token:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        payload = send(site, "POST", token_path, form=form).payload
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise site.fail("token response has no access_token")
        return Token(token, expires_in_seconds(payload, 300.0))

    return obtain


def password_login(send: Send, *, path: str, username: str, password: str) -> TokenSource:
    """A login call: ``POST path`` (JSON ``username``, ``password``) -> ``token``, ``expires_in``."""

    def obtain(site: SiteRequest) -> Token:
        payload = send(site, "POST", path, json_body={"username": username, "password": password}).payload
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise site.fail("login response has no token")
        return Token(token, expires_in_seconds(payload, 3600.0))

    return obtain
