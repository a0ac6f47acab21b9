"""Paginators: from one page's reply to the request for the next one (``None``: that was the last).

* :class:`CursorPaginator` — ``next_cursor`` in the body, stop on ``has_more: false`` (Alliance CORE);
* :class:`LinkHeaderPaginator` — ``Link: <url>; rel="next"``, on the connection's origin only
  (brightwheel);
* :class:`PageNumberPaginator` — ``page=1..total_pages`` (Playground).

:func:`iter_pages` runs one of them over a fetch function and yields each page's list. A page whose
shape cannot be used raises ``VendorDataError`` (a data error: the site fails, nothing is retried);
more than ``max_pages`` pages is one too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from ccms_attendance.hooks.errors import VendorDataError
from ccms_attendance.hooks.transport import Reply, path_of


@dataclass(frozen=True)
class PageRequest:
    endpoint: str
    params: dict | None


class Paginator(Protocol):
    items_key: str

    def first(self, endpoint: str, params: dict) -> PageRequest: ...

    def next(self, request: PageRequest, reply: Reply, items: list) -> PageRequest | None: ...


def page_items(reply: Reply, key: str) -> list:
    items = reply.payload.get(key) if isinstance(reply.payload, dict) else None
    if not isinstance(items, list):
        raise VendorDataError(f"unexpected response shape: no '{key}' list")
    return items


def iter_pages(
    fetch: Callable[[PageRequest], Reply], paginator: Paginator, endpoint: str, params: dict, *, max_pages: int
) -> Iterator[list]:
    """Every page's items, in order; ``fetch`` sends one (authenticated) GET."""
    request: PageRequest | None = paginator.first(endpoint, params)
    pages = 0
    while request is not None:
        pages += 1
        if pages > max_pages:
            raise VendorDataError(f"more than max_pages={max_pages} pages; giving up")
        reply = fetch(request)
        try:
            items = page_items(reply, paginator.items_key)
            following = paginator.next(request, reply, items)
        except VendorDataError as problem:
            raise VendorDataError(f"{problem.detail} ({path_of(request.endpoint)})") from None
        yield items
        request = following


class CursorPaginator:
    """``next_key`` (a non-empty string) until it is absent/null/empty or ``more_key`` is ``false``."""

    def __init__(
        self, items_key: str, *, cursor_param: str = "cursor", next_key: str = "next_cursor", more_key: str = "has_more"
    ) -> None:
        self.items_key = items_key
        self.cursor_param, self.next_key, self.more_key = cursor_param, next_key, more_key
        self._seen: set[str] = set()

    def first(self, endpoint: str, params: dict) -> PageRequest:
        return PageRequest(endpoint, dict(params))

    def next(self, request: PageRequest, reply: Reply, items: list) -> PageRequest | None:
        payload = reply.payload
        if payload.get(self.more_key) is False:  # the vendor says this was the last page, whatever the cursor
            return None
        cursor = payload.get(self.next_key)
        if cursor is None or cursor == "":
            return None
        if not isinstance(cursor, str):
            raise VendorDataError(f"unexpected response shape: '{self.next_key}' is not a string")
        if cursor in self._seen:
            raise VendorDataError("the vendor repeated a page cursor; stopping")
        self._seen.add(cursor)
        return PageRequest(request.endpoint, {**(request.params or {}), self.cursor_param: cursor})


class LinkHeaderPaginator:
    """``Link: <...>; rel="next"``; a next link must stay on ``origin`` (the connection's scheme and host)."""

    def __init__(self, items_key: str, *, origin: tuple[str, str]) -> None:
        self.items_key = items_key
        self._origin = origin

    def first(self, endpoint: str, params: dict) -> PageRequest:
        return PageRequest(endpoint, dict(params))

    def next(self, request: PageRequest, reply: Reply, items: list) -> PageRequest | None:
        link = (reply.links.get("next") or {}).get("url")
        if not link:
            return None
        target = urlsplit(link)
        if target.netloc and (target.scheme, target.netloc) != self._origin:
            raise VendorDataError("next-page link points to another host; refused")
        return PageRequest(target.path + (f"?{target.query}" if target.query else ""), None)


class PageNumberPaginator:
    """Pages ``1..total_pages`` (an integer in every reply); an empty page after the first ends it too."""

    def __init__(self, items_key: str, *, page_param: str = "page", total_pages_key: str = "total_pages") -> None:
        self.items_key = items_key
        self.page_param, self.total_pages_key = page_param, total_pages_key

    def first(self, endpoint: str, params: dict) -> PageRequest:
        return PageRequest(endpoint, {**params, self.page_param: 1})

    def next(self, request: PageRequest, reply: Reply, items: list) -> PageRequest | None:
        params = request.params or {}
        page = params[self.page_param]
        total_pages = reply.payload.get(self.total_pages_key)
        if type(total_pages) is not int:
            raise VendorDataError(f"unexpected response shape: '{self.total_pages_key}' missing")
        if page >= total_pages or (not items and page > 1):
            return None
        return PageRequest(request.endpoint, {**params, self.page_param: page + 1})
