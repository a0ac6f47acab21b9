"""Airflow hooks for the three CCMS vendors.

One small module per vendor (``alliance_core``, ``brightwheel``, ``playground``: endpoints,
authenticator, paginator, marker entries) on :class:`~ccms_attendance.hooks.base.CcmsHook`, which
composes the shared parts, each in its own module:

* ``options`` — connection extras; ``transport`` — connection -> session, one request with
  retries (``retries``) -> a decoded reply; ``errors`` — ``CcmsExtractionError`` and the internal
  failure classes; ``redact`` — vendor text in errors, bounded and without secrets;
* ``auth`` — authenticators (API key; bearer tokens from OAuth2 client credentials or a login);
* ``paging`` — paginators (cursor, ``Link`` header, page numbers);
* ``duplicates`` — record ids a vendor repeats; ``markers`` — submission markers;
* ``parsers`` — per-vendor pure functions from records to canonical items; ``site`` — the
  site-period asked for.
"""

from __future__ import annotations

from ccms_attendance.canonical import Source
from ccms_attendance.hooks.alliance_core import AllianceCoreHook
from ccms_attendance.hooks.base import CcmsHook
from ccms_attendance.hooks.brightwheel import BrightwheelHook
from ccms_attendance.hooks.errors import CcmsExtractionError
from ccms_attendance.hooks.playground import PlaygroundHook

HOOKS: dict[Source, type[CcmsHook]] = {
    Source.ALLIANCE_CORE: AllianceCoreHook,
    Source.BRIGHTWHEEL: BrightwheelHook,
    Source.PLAYGROUND: PlaygroundHook,
}


def hook_for_source(source: Source | str, conn_id: str | None = None) -> CcmsHook:
    """The hook for a CCMS ``source``, on ``conn_id`` or the vendor's default connection."""
    try:
        hook_class = HOOKS[Source(source)]
    except (KeyError, ValueError):
        raise ValueError(f"{source!r} is not a CCMS vendor (expected one of {', '.join(HOOKS)})") from None
    return hook_class(conn_id)


__all__ = [
    "HOOKS",
    "AllianceCoreHook",
    "BrightwheelHook",
    "CcmsExtractionError",
    "CcmsHook",
    "PlaygroundHook",
    "hook_for_source",
]
