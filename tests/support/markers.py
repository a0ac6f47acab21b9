"""Until the extract step stages submission markers (issue 15 item 4, pipeline side), tests that
feed a hook's items into ``extract_ccms_batch`` hand it the records and rejections only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ccms_attendance.canonical import ExtractedItem, SiteSubmission


def without_marker(items: Iterable[ExtractedItem]) -> Iterator[ExtractedItem]:
    """``items`` without the :class:`SiteSubmission`. Pass it the result of ``iter_site_period``
    (called eagerly, so a Playground hook still announces its site at call time)."""
    return (item for item in items if not isinstance(item, SiteSubmission))
