"""Record ids a vendor sent more than once for one site-period.

Vendors repeat records (across pages, after a retry on their side) and sometimes send another
version of a record under an id they already sent. :class:`RepeatedIds` screens a site's raw
records before they are parsed:

* the very same record again (same id, same JSON content) is dropped and announced as a
  ``RepeatedRecord(same_content=True)``: counted per site, never staged twice;
* another version under a known id is passed on to the parser *and* announced as a
  ``RepeatedRecord(same_content=False)``: counted as a conflict; what the versions say is settled
  like any other records of one child-day, by the rules' policy (``rules.child_day``).

Nothing else is decided here. Records without an id pass untouched (the parser rejects them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ccms_attendance.canonical import RepeatedRecord
from ccms_attendance.hooks.site import SiteRequest


def same_json(a: Any, b: Any) -> bool:
    """Whether two decoded JSON values are the same JSON (``1`` and ``true`` and ``1.0`` differ)."""
    if a is b:
        return True
    try:
        if a != b:  # the cheap test first; equal Python values may still be different JSON
            return False
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (ValueError, TypeError, RecursionError):  # not comparable: treated as different versions
        return False


class RepeatedIds:
    """The versions of every record id seen so far for one site-period."""

    def __init__(self, site: SiteRequest, record_id: Callable[[Any], str | None]) -> None:
        self._site = site
        self._record_id = record_id
        self._versions: dict[str, list[Any]] = {}

    def screen(self, records: Iterable[Any]) -> Iterator[Any]:
        """The records to parse, with a :class:`RepeatedRecord` before each repeat (dropped or not)."""
        for record in records:
            try:
                key = self._record_id(record)
            except Exception:  # the parser rejects what it cannot identify
                key = None
            if key is None:
                yield record
                continue
            versions = self._versions.get(key)
            if versions is None:
                self._versions[key] = [record]
                yield record
                continue
            same = any(same_json(record, version) for version in versions)
            yield RepeatedRecord(self._site.source, self._site.license_number, key, same_content=same)
            if not same:
                versions.append(record)
                yield record


def split(screened: Iterable[Any]) -> tuple[list[Any], list[RepeatedRecord]]:
    """Screened records -> (records to parse, repeat notices)."""
    records: list[Any] = []
    notices: list[RepeatedRecord] = []
    for item in screened:
        (notices if isinstance(item, RepeatedRecord) else records).append(item)
    return records, notices
