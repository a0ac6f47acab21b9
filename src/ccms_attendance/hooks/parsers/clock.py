"""Dates, instants and wall-clock times as vendors write them.

Every function raises ``ValueError`` for text it cannot read, including values that parse but
cannot be placed on the state's calendar (year 1 or 9999 timestamps overflow when converted to UTC:
``OverflowError`` is turned into ``ValueError`` here, so a parser's ``except ValueError`` covers it).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

from ccms_attendance.canonical import STATE_TIMEZONE, local_day

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


def parse_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("not a date string")
    return _date_from_text(value)


def _instant_from_text(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.utcoffset() is None:
        raise ValueError("timestamp has no UTC offset")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is in year 10000 in UTC
        raise ValueError("timestamp out of range") from None


_cached_instant = _cached(_instant_from_text)


@_cached
def _instant_and_day_from_text(value: str) -> tuple[dt.datetime, dt.date]:
    moment = _cached_instant(value)
    try:
        return moment, local_day(moment)
    except OverflowError:
        raise ValueError("timestamp out of range") from None


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

    ``clock`` must be naive (a wall-clock time has no offset); ``ValueError`` otherwise, and for a
    day at the edge of the calendar (year 1 or 9999) whose instant cannot be expressed in UTC.
    """
    if clock.tzinfo is not None:
        raise ValueError("a wall-clock time has no UTC offset")
    try:
        earlier, later = _wall_clock_readings(day, clock)
    except OverflowError:
        raise ValueError("time out of range") from None
    if later is not None and not_before is not None and earlier < not_before <= later:
        return later
    return earlier


#: ``HH:MM`` or ``HH:MM:SS``: nothing else (no offset, no fraction, no ``Z``).
_CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?")


@_cached
def _clock_from_text(value: str) -> dt.time:
    if not _CLOCK.fullmatch(value.strip()):
        raise ValueError("not HH:MM or HH:MM:SS")
    return dt.time.fromisoformat(value.strip())


def parse_clock(value: Any) -> dt.time:
    """A facility wall-clock time ``HH:MM`` or ``HH:MM:SS`` (naive). A time with an offset
    (``08:00+05``, ``08:00Z``) is refused: it is not a wall-clock time."""
    if not isinstance(value, str):
        raise ValueError("not HH:MM or HH:MM:SS")
    return _clock_from_text(value)
