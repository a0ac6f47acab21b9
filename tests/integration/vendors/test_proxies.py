"""Proxies still apply as configured, over real HTTP, now that a hook's session reads the proxy
environment once per origin instead of once per request (``base._environment_read_once``).

A small forwarding proxy (plain ``http.server``) relays requests to the brightwheel sandbox and
records each one; the hook is the real one, its connection the sandbox's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ccms_attendance.canonical import Source

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length", "content-encoding"}


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str]

    def do_GET(self) -> None:  # a forward proxy gets the absolute URL as the request target
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        with requests.Session() as upstream:
            upstream.trust_env = False
            reply = upstream.get(self.path, headers=headers, timeout=30)
        body = reply.content
        self.send_response(reply.status_code)
        for name, value in reply.headers.items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Relay)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _proxy_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def no_proxy_environment(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _extract(hook, world) -> list:
    try:
        return list(hook.iter_site_period(world.license(Source.BRIGHTWHEEL, "main"), world.JANUARY))
    finally:
        hook.close()


def test_the_environment_proxy_carries_every_request(world, make_hook, proxy, no_proxy_environment, monkeypatch):
    direct = _extract(make_hook(Source.BRIGHTWHEEL, page_size=5), world)  # several pages
    monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy))

    hook = make_hook(Source.BRIGHTWHEEL, page_size=5)
    assert _extract(hook, world) == direct
    assert len(proxy.seen) == hook.stats["requests"] > 2  # the school lookup and every page
    assert all(url.startswith("http://127.0.0.1:") for url in proxy.seen)


def test_no_proxy_still_bypasses_the_environment_proxy(world, make_hook, proxy, no_proxy_environment, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _extract(make_hook(Source.BRIGHTWHEEL, page_size=5), world)
    assert proxy.seen == []


def test_connection_proxies_apply_without_any_environment(world, make_hook, proxy, no_proxy_environment):
    hook = make_hook(Source.BRIGHTWHEEL, page_size=5, proxies={"http": _proxy_url(proxy)})
    assert _extract(hook, world)
    assert len(proxy.seen) == hook.stats["requests"] > 2


def test_trust_env_false_ignores_the_environment_proxy(world, make_hook, proxy, no_proxy_environment, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy))
    assert _extract(make_hook(Source.BRIGHTWHEEL, page_size=5, trust_env=False), world)
    assert proxy.seen == []


def test_the_environment_is_read_once_per_session(world, make_hook, no_proxy_environment, monkeypatch):
    import requests.sessions

    reads = []
    original = requests.sessions.get_environ_proxies

    def counted(url, no_proxy=None):
        reads.append(url)
        return original(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    hook = make_hook(Source.BRIGHTWHEEL, page_size=5)
    assert _extract(hook, world)
    assert hook.stats["requests"] > 2
    assert len(reads) <= 2  # was one per request (the session's proxies change once, after the first)
