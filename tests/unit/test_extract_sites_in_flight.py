"""Several sites in flight (``extract._sites_items``): the documented properties, without a vendor or a database.

Results come in site order (so staging is what one site at a time stages); thread ``k`` calls the
extractor for all of its sites (``k``, ``k + n`` ...) in site order before it fetches any (Playground's
look-ahead); only a bounded window of sites is fetched ahead of the one being consumed; a crash of
one site is raised in its turn; nothing deadlocks; the threads stop when the consumer stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ccms_attendance.pipeline import extract
from ccms_attendance.pipeline.extract import _sites_items

DEADLINE = 20.0  # seconds: any run past it is a deadlock


class SiteFailed(Exception):
    """A vendor failure of one site (one of ``failure_types``)."""


class Recorder:
    """A site extractor that logs who announced and fetched which site, and when."""

    def __init__(self, count: int, *, crash_at=None, crash_when="fetch", fail_at=(), slow=()) -> None:
        self.numbers = [f"CC-{i:03d}" for i in range(count)]
        self.events: list[tuple[str, str, int]] = []  # (what, thread name, site index)
        self.lock = threading.Lock()
        self.consumed = 0  # sites the consumer has received
        self.ahead: list[int] = []  # per fetch: its site index minus the sites consumed when it started
        self.crash_at, self.crash_when, self.fail_at, self.slow = crash_at, crash_when, set(fail_at), set(slow)

    def __call__(self, number: str):
        index = self.numbers.index(number)
        self._log("announce", index)
        if index == self.crash_at and self.crash_when == "announce":
            raise KeyError(f"crash announcing {index}")
        return self._items(index)

    def _items(self, index: int) -> Iterator[str]:
        with self.lock:
            self.ahead.append(index - self.consumed)
        self._log("fetch", index)
        if index in self.slow:
            time.sleep(0.2)
        if index == self.crash_at:
            raise KeyError(f"crash fetching {index}")
        if index in self.fail_at:
            raise SiteFailed(f"site {index} failed")
        yield from (f"{index}:{n}" for n in range(3))

    def _log(self, what: str, index: int) -> None:
        with self.lock:
            self.events.append((what, threading.current_thread().name, index))


def consume(recorder: Recorder, in_flight: int, stop_after: int | None = None) -> list:
    """Consume ``_sites_items`` in a thread of its own (a deadlock fails the test instead of hanging it)."""
    out: list = []

    def run() -> None:
        try:
            for result in _sites_items(recorder.numbers, recorder, (SiteFailed,), in_flight):
                try:  # as extract_ccms_batch does: a failure while iterating is the site's failure
                    out.append(result if isinstance(result, BaseException) else list(result))
                except SiteFailed as error:
                    out.append(error)
                with recorder.lock:
                    recorder.consumed += 1
                if stop_after is not None and len(out) == stop_after:
                    break
        except BaseException as error:  # the crash, raised in its turn
            out.append(("raised", error))

    consumer = threading.Thread(target=run)
    consumer.start()
    consumer.join(DEADLINE)
    assert not consumer.is_alive(), "deadlock"
    return out


def site_threads_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("extract-site")]


def expected_items(index: int) -> list[str]:
    return [f"{index}:{n}" for n in range(3)]


@pytest.mark.parametrize("in_flight", [1, 2, 3, 4])
@pytest.mark.parametrize("count", [0, 1, 2, 5, 9])
def test_results_come_in_site_order_with_failures_in_their_place(count, in_flight):
    recorder = Recorder(count, fail_at={i for i in (1, 4) if i < count})
    out = consume(recorder, in_flight)
    assert len(out) == count
    for index, result in enumerate(out):
        if index in recorder.fail_at:
            assert isinstance(result, SiteFailed)
            assert str(result) == f"site {index} failed"
        else:
            assert result == expected_items(index)
    assert not site_threads_alive()


@pytest.mark.parametrize("in_flight", [2, 3])
def test_each_thread_announces_all_its_sites_in_order_before_fetching_any(in_flight):
    count = 11
    recorder = Recorder(count)
    consume(recorder, in_flight)
    by_thread: dict[str, list[tuple[str, int]]] = {}
    for what, thread, index in recorder.events:
        by_thread.setdefault(thread, []).append((what, index))
    assert len(by_thread) == in_flight  # one thread per site in flight (one hook each)
    owned = sorted(sorted({index for _, index in events}) for events in by_thread.values())
    assert owned == sorted([list(range(k, count, in_flight)) for k in range(in_flight)])
    for events in by_thread.values():
        mine = sorted({index for _, index in events})
        assert events == [("announce", i) for i in mine] + [("fetch", i) for i in mine]


@pytest.mark.parametrize("in_flight", [2, 3])
def test_only_a_window_of_sites_is_fetched_ahead_of_the_one_consumed(in_flight):
    recorder = Recorder(30, slow={0})  # the first site is slow: the others must wait, not run ahead
    out = consume(recorder, in_flight)
    assert out == [expected_items(i) for i in range(30)]
    window = extract._SITES_AHEAD_PER_THREAD * in_flight
    # While site i is consumed, sites up to i + window may be fetched: at most ``window`` ahead of the
    # sites the consumer has received (window - 1 once it has counted the one in hand).
    assert max(recorder.ahead) <= window
    assert max(recorder.ahead) >= window - 1  # and the window is used


@pytest.mark.parametrize("crash_when", ["announce", "fetch"])
@pytest.mark.parametrize("in_flight", [2, 3])
def test_a_crash_of_one_site_is_raised_in_its_turn(in_flight, crash_when):
    recorder = Recorder(9, crash_at=4, crash_when=crash_when)
    out = consume(recorder, in_flight)
    assert out[:4] == [expected_items(i) for i in range(4)]
    (what, error) = out[4]
    assert what == "raised"
    assert isinstance(error, KeyError)
    assert error.args == (f"crash {'announcing' if crash_when == 'announce' else 'fetching'} 4",)
    assert len(out) == 5
    assert not site_threads_alive()


@pytest.mark.parametrize("in_flight", [2, 3])
def test_threads_stop_when_the_consumer_stops(in_flight):
    recorder = Recorder(40)
    out = consume(recorder, in_flight, stop_after=3)
    assert out == [expected_items(i) for i in range(3)]
    assert not site_threads_alive()  # joined before the generator returned
    fetched = [index for what, _, index in recorder.events if what == "fetch"]
    window = extract._SITES_AHEAD_PER_THREAD * in_flight
    assert max(fetched) < 3 + window  # nothing past the window of the last site consumed
    time.sleep(0.2)
    assert [index for what, _, index in recorder.events if what == "fetch"] == fetched  # and nothing later
