"""Vendor-chosen text on its way into an error message: bounded, on one line, without secrets.

A site's error message is stored (``reconciled.site_period.incomplete_reason``), shown in the
period report and logged by the task. Only a few pieces of it come from the vendor — an HTTP reason
phrase, the ``error`` code of an error body, an export id or status — and a vendor may put anything
there, including the caller's own credentials (a 403 echoing the client secret). Every such piece
goes through :meth:`Redactor.text` (scrubbed, then cut to a few dozen characters), and the whole
message once more through :meth:`Redactor.scrub` before it leaves the hook.

Scrubbed: every known secret of the connection (its password, i.e. the client secret / API key /
login password, and extras whose name says secret, password, token or key), every bearer token the
hook obtained at runtime, and anything that looks like a credential whatever its value
(``Bearer <token>``, ``client_secret=...``, ``"password": "..."``). Record field values never get
here: rejection reasons are fixed text (``hooks.site.SiteRequest.reject``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

#: Shortest secret that is scrubbed verbatim (shorter ones would mangle ordinary words).
MIN_SECRET_LENGTH = 4
#: The usual bound for one piece of vendor text in a message.
VENDOR_TEXT_LIMIT = 60
MASK = "***"

_CREDENTIAL_WORDS = r"(?:bearer|basic|token)"
_BEARER = re.compile(rf"(?i)\b({_CREDENTIAL_WORDS})(\s+)[A-Za-z0-9._~+/=-]{{6,}}")
_ASSIGNED = re.compile(
    r"""(?ix)
    \b((?:client_?secret|secret|password|passwd|pwd|api_?key|access_?token|refresh_?token|token)
    ["']?\s*[:=]\s*["']?)
    [^\s"'&,;}{]+
    """
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]+")
#: Connection extras holding secrets, by name.
SECRET_EXTRA = re.compile(r"(?i)secret|password|passwd|token|api_?key|credential")


class Redactor:
    """Knows the secrets of one hook and keeps them (and anything credential-like) out of messages."""

    def __init__(self, secrets: Iterable[object] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: object) -> None:
        """Remember more secrets (e.g. a token just obtained). Non-strings and short values are ignored."""
        fresh = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        if not fresh:
            return
        with self._lock:  # longest first: a secret that contains another is masked whole
            self._secrets = tuple(sorted(set(self._secrets) | fresh, key=len, reverse=True))

    def scrub(self, message: str) -> str:
        """``message`` without any known secret or credential-looking value."""
        for secret in self._secrets:
            if secret in message:
                message = message.replace(secret, MASK)
        message = _BEARER.sub(rf"\1\2{MASK}", message)
        return _ASSIGNED.sub(rf"\1{MASK}", message)

    def text(self, value: object, limit: int = VENDOR_TEXT_LIMIT) -> str:
        """One piece of vendor text for a message: scrubbed, on one line, at most ``limit`` characters.

        Scrubbed before it is cut, so a secret is never left half-masked by the cut.
        """
        text = value if isinstance(value, str) else repr(value)
        text = _CONTROL.sub(" ", self.scrub(text)).strip()
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
