"""The bare fetch's floor is each vendor's fastest pass, the passes taken in rounds."""

from __future__ import annotations

from ccms_attendance.canonical import Source
from devtools.bench.floor import FETCH_PASSES, FetchFloor, fastest_fetches

# Seconds each vendor's successive passes "take": the second round is faster for two vendors.
TIMES = {
    Source.ALLIANCE_CORE: [9.0, 6.0],
    Source.BRIGHTWHEEL: [7.0, 8.5],
    Source.PLAYGROUND: [10.0, 5.5],
}


def test_each_vendor_keeps_its_fastest_pass_and_every_pass_is_recorded():
    calls: list[str] = []
    counted_after: list[int] = []

    def fetch(source: Source, round_no: int) -> FetchFloor:
        calls.append(str(source))
        assert round_no == sum(1 for c in calls if c == str(source))  # rounds numbered from 1
        return FetchFloor(source=str(source), requests=100, seconds=TIMES[source][round_no - 1])

    best = fastest_fetches(fetch, passes=2, after_first_pass=lambda: counted_after.append(len(calls)))

    # Rounds over the vendors, not one vendor's passes back to back.
    assert calls == [str(s) for s in Source.ccms()] * 2
    # The request counts are read after exactly one pass of every vendor (one pass = the pipeline's pages).
    assert counted_after == [3]
    assert {source: f.seconds for source, f in best.items()} == {
        "ALLIANCE_CORE": 6.0,
        "BRIGHTWHEEL": 7.0,
        "PLAYGROUND": 5.5,
    }
    assert {source: f.pass_seconds for source, f in best.items()} == {str(s): TIMES[s] for s in TIMES}


def test_the_default_is_more_than_one_pass():
    assert FETCH_PASSES >= 2
