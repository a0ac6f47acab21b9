"""Airflow hooks for the three CCMS vendors (one module per vendor contract; shared code in ``base``)."""

from __future__ import annotations

from ccms_attendance.canonical import Source
from ccms_attendance.hooks.alliance_core import AllianceCoreHook
from ccms_attendance.hooks.base import CcmsExtractionError, CcmsHook
from ccms_attendance.hooks.brightwheel import BrightwheelHook
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
