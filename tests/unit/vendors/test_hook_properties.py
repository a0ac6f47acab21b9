"""Property-based tests of the hooks' record parsing: whatever a vendor sends, nothing crashes and
nothing is silently lost.

Each vendor's parser gets lists of generated records (``support.hostile_payloads``): malformed,
wrong-typed, oversized, duplicated, out-of-period, DST-edge and unicode-hostile values mixed with
plausible ones. For every example:

* no exception escapes the parser;
* every item is a canonical record that is internally sound (ids present, UTC-aware times,
  check-out not before check-in, a known status) or a rejection with a non-empty reason for the
  requested vendor;
* every input record is accounted for: its id shows up in an output item (a record or a
  rejection), and records without an id or that are not objects show up as id-less rejections;
* no name or birth date the vendor sent reaches any output.

The same properties over real HTTP (with paging, dedupe and scope checks) are in
``tests/integration/vendors/test_hook_properties_http.py``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from support.hostile_payloads import (
    CASES,
    PERIODS,
    alliance_event,
    brightwheel_record,
    check_items,
    no_personal_data,
    playground_row,
    with_duplicates_and_junk,
)

from ccms_attendance.canonical import Source
from ccms_attendance.hooks.parsers.alliance_core import pair_events
from ccms_attendance.hooks.parsers.brightwheel import daily_records
from ccms_attendance.hooks.parsers.playground import export_rows_items
from ccms_attendance.hooks.site import SiteRequest

LICENSE = "CC-77777-7"


@st.composite
def site_and_batch(draw, make_record):
    period = draw(st.sampled_from(PERIODS))
    return SiteRequest(SOURCE_OF[make_record], LICENSE, period), draw(
        with_duplicates_and_junk(make_record(LICENSE, period, http_safe=False))
    )


SOURCE_OF = {
    brightwheel_record: Source.BRIGHTWHEEL,
    playground_row: Source.PLAYGROUND,
    alliance_event: Source.ALLIANCE_CORE,
}


UNIT_EXAMPLES = settings(max_examples=300)


@UNIT_EXAMPLES
@given(site_and_batch(brightwheel_record))
def test_brightwheel_daily_records(case):
    CASES["unit: brightwheel daily records"] += 1
    site, records = case
    items = list(daily_records(site, records))
    check_items(site, records, items, "id")
    no_personal_data(records, items)


@UNIT_EXAMPLES
@given(site_and_batch(playground_row))
def test_playground_export_rows(case):
    CASES["unit: Playground export rows"] += 1
    site, rows = case
    items = list(export_rows_items(site, rows))
    check_items(site, rows, items, "row_id")
    no_personal_data(rows, items)


@UNIT_EXAMPLES
@given(site_and_batch(alliance_event))
def test_alliance_core_events(case):
    CASES["unit: Alliance CORE events"] += 1
    site, events = case
    items = list(pair_events(site, events))
    check_items(site, events, items, "event_id")
    no_personal_data(events, items)
