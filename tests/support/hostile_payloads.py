"""Hypothesis strategies for vendor payloads that a real CCMS might send on a bad day.

Each vendor's records are built field by field; every field is either a plausible value for the
requested site and period (so valid records are common too), a hostile value (wrong type, empty,
SQL/CSV-injection look-alikes, control characters, bidi overrides, emoji, very long text), or left
out. Dates cluster on the period's edges and on DST change days; lists get duplicated records and
non-object junk mixed in. ``http_safe`` strategies leave out lone surrogates, which no UTF-8 HTTP
body can carry.

The number of examples each property test tried is counted in :data:`CASES` and printed at the end
of the pytest run (see ``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from ccms_attendance.canonical import (
    AttendanceRecord,
    AttendanceStatus,
    RejectedRecord,
    RepeatedRecord,
    Source,
    normalize_child_id,
)
from ccms_attendance.hooks.parsers.fields import text
from ccms_attendance.periods import ServicePeriod

#: Examples tried per property test (name -> count), reported in the terminal summary.
CASES: Counter[str] = Counter()

JANUARY = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
MARCH = ServicePeriod(dt.date(2026, 3, 1), dt.date(2026, 3, 14))  # spring forward 2026-03-08
NOVEMBER = ServicePeriod(dt.date(2026, 11, 1), dt.date(2026, 11, 14))  # fall back 2026-11-01
PERIODS = (JANUARY, MARCH, NOVEMBER)
CHILD_IDS = ("1000001", "1000002", "1000003")

INJECTION = (
    "Robert'); DROP TABLE reconciled.daily_attendance;--",
    "1' OR '1'='1",
    "$$; DELETE FROM ref.child; $$",
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    '@HYPERLINK("http://evil.example")',
    "\\.",
    "a\tb\nc\\N",
    '"quoted, with comma"',
    "%(run_id)s",
    "{0}{1}",
)
UNICODE_HOSTILE = (
    "\u202eevil\u202c",  # right-to-left override
    "zero\u200bwidth",
    "\ufeffbom",
    "👶🏽🧒",
    "Ωμέγα",
    "\uff26\uff35\uff2c\uff2c",  # full-width letters
    "e\u0301\u0301\u0301",
    "\x00",
    "nul\x00inside",
    "\x1b[31mred",
    "line\r\nbreak",
)


def hostile_text(http_safe: bool = True) -> st.SearchStrategy[str]:
    alphabet = st.characters(codec="utf-8") if http_safe else st.characters()
    return st.one_of(
        st.sampled_from(INJECTION + UNICODE_HOSTILE + ("", " ", "   \t")),
        st.text(alphabet=alphabet, max_size=30),
        st.integers(min_value=300, max_value=5000).map(lambda n: "X" * n),  # oversized field
    )


def wrong_type() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )


MISSING = object()


def field(valid: st.SearchStrategy[Any], http_safe: bool = True) -> st.SearchStrategy[Any]:
    """Mostly a plausible value; else hostile text, a wrong type, or the key left out (MISSING)."""
    return st.one_of(
        valid,
        valid,
        valid,
        hostile_text(http_safe),
        wrong_type(),
        st.just(MISSING),
    )


def build(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not MISSING}


def days_around(period: ServicePeriod) -> st.SearchStrategy[dt.date]:
    edges = [
        period.start - dt.timedelta(days=1),
        period.start,
        period.end,
        period.end + dt.timedelta(days=1),
        dt.date(2026, 3, 8),
        dt.date(2026, 11, 1),
    ]
    return st.one_of(st.sampled_from(edges), st.sampled_from(list(period.days)))


def date_text(period: ServicePeriod) -> st.SearchStrategy[str]:
    return st.one_of(
        days_around(period).map(dt.date.isoformat),
        st.sampled_from(["2026-02-30", "2026-13-01", "26-01-05", "2026/01/05", "2026-01-05T00:00:00Z", "tomorrow"]),
    )


def clock_text() -> st.SearchStrategy[str]:
    """Facility wall-clock times: ordinary, DST gap (02:30) and fold (01:30), and broken ones."""
    return st.one_of(
        st.times().map(lambda t: t.strftime("%H:%M")),
        st.sampled_from(["01:30", "02:30", "01:59:59", "00:00", "23:59", "24:00", "7:5", "12:60", "noon"]),
    )


def instant_text(period: ServicePeriod, *, allow_naive: bool = True) -> st.SearchStrategy[str]:
    start = dt.datetime.combine(period.start - dt.timedelta(days=1), dt.time())
    end = dt.datetime.combine(period.end + dt.timedelta(days=2), dt.time())
    utc = st.datetimes(min_value=start, max_value=end).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    edges = [
        "2026-11-01T05:30:00Z",  # 01:30 EDT, first pass of the repeated hour
        "2026-11-01T06:30:00Z",  # 01:30 EST, second pass
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:30:00-05:00",
        "2026-03-08T07:30:00Z",  # 03:30 EDT, just after the gap
        "2026-03-08T02:30:00-05:00",  # inside the gap, written with the old offset
        "2026-01-05T07:45:00+14:00",
        "2026-01-05T07:45:00.123456Z",
    ]
    naive = ["2026-11-01T01:30:00", "2026-03-08T02:30:00", "2026-01-05T07:45:00"] if allow_naive else []
    return st.one_of(utc, st.sampled_from(edges + naive + ["2026-01-05 07:45", "not a time", "T07:45Z"]))


def record_ids(prefix: str) -> st.SearchStrategy[str]:
    """Few distinct ids, so the same id often comes twice with different content."""
    return st.integers(min_value=0, max_value=12).map(lambda n: f"{prefix}-{n:04x}")


def child_ids(http_safe: bool = True) -> st.SearchStrategy[Any]:
    return field(st.sampled_from(CHILD_IDS), http_safe)


def license_field(license_number: str, http_safe: bool = True) -> st.SearchStrategy[Any]:
    return field(st.sampled_from([license_number, license_number, "CC-OTHER-9", license_number.lower()]), http_safe)


def person(http_safe: bool = True) -> st.SearchStrategy[dict]:
    """Names and birth dates a vendor sends along (they must never be kept)."""
    return st.fixed_dictionaries(
        {
            "first_name": hostile_text(http_safe),
            "last_name": hostile_text(http_safe),
            "birthdate": st.just("2020-02-29"),
        }
    )


def brightwheel_record(license_number: str, period: ServicePeriod, http_safe: bool = True):
    @st.composite
    def _record(draw: Callable) -> dict:
        student = build({"state_child_id": draw(child_ids(http_safe)), **draw(person(http_safe))})
        return build(
            {
                "id": draw(field(record_ids("bw"), http_safe)),
                "date": draw(field(date_text(period), http_safe)),
                "status": draw(field(st.sampled_from(["present", "absent"]), http_safe)),
                "check_in_time": draw(field(clock_text(), http_safe)),
                "check_out_time": draw(field(clock_text(), http_safe)),
                "absence_reason": draw(field(st.sampled_from(["sick", "vacation", "family", "other"]), http_safe)),
                "school": draw(
                    field(
                        st.builds(lambda n: build({"license_number": n}), license_field(license_number, http_safe)),
                        http_safe,
                    )
                ),
                "student": draw(field(st.just(student), http_safe)),
            }
        )

    return _record()


def playground_row(license_number: str, period: ServicePeriod, http_safe: bool = True):
    @st.composite
    def _row(draw: Callable) -> dict:
        child = build({"state_child_id": draw(child_ids(http_safe)), **draw(person(http_safe))})
        return build(
            {
                "row_id": draw(field(record_ids("pg"), http_safe)),
                "type": draw(field(st.sampled_from(["sign_in_out", "absence"]), http_safe)),
                "attendance_date": draw(field(date_text(period), http_safe)),
                "center_license": draw(license_field(license_number, http_safe)),
                "child": draw(field(st.just(child), http_safe)),
                "sign_in": draw(field(instant_text(period), http_safe)),
                "sign_out": draw(field(instant_text(period), http_safe)),
                "reason_code": draw(field(st.sampled_from(["ILL", "VAC", "FAM", "OTH", "XYZ"]), http_safe)),
            }
        )

    return _row()


def alliance_event(license_number: str, period: ServicePeriod, http_safe: bool = True):
    @st.composite
    def _event(draw: Callable) -> dict:
        return build(
            {
                "event_id": draw(field(record_ids("evt"), http_safe)),
                "event_type": draw(field(st.sampled_from(["check_in", "check_out"]), http_safe)),
                "occurred_at": draw(field(instant_text(period, allow_naive=False), http_safe)),
                "facility_license_number": draw(license_field(license_number, http_safe)),
                "state_child_id": draw(child_ids(http_safe)),
                "child_key": draw(field(st.sampled_from(["k-1", "k-2", "k-3"]), http_safe)),
                "child": draw(person(http_safe)),
            }
        )

    return _event()


def with_duplicates_and_junk(records: st.SearchStrategy[dict], max_size: int = 8) -> st.SearchStrategy[list]:
    """A list of records, some repeated verbatim, with non-object junk mixed in."""

    @st.composite
    def _batch(draw: Callable) -> list:
        batch = draw(st.lists(st.one_of(records, records, records, wrong_type()), max_size=max_size))
        if batch:
            batch += draw(st.lists(st.sampled_from(batch), max_size=2))  # duplicated records
        return draw(st.permutations(batch)) if len(batch) < 12 else batch

    return _batch()


# --- the properties every hook's output must have ----------------------------------------------


def storable(value: str | None) -> str | None:
    """What the extract step makes of text PostgreSQL cannot store (NUL, unpaired surrogates): U+FFFD."""
    return None if value is None else re.sub("[\x00\ud800-\udfff]", "\ufffd", value)


def unstorable(value: str | None) -> bool:
    return value is not None and storable(value) != value


def _accounted(record_id: str, output_ids: set[str]) -> bool:
    """Whether an input id is an output item's id, or one of the ids a merged record joined with "+"."""
    return record_id in output_ids or any(f"+{record_id}+" in f"+{output}+" for output in output_ids)


def check_items(site: Any, inputs: list[Any], items: list[Any], id_key: str) -> None:
    """The properties every parser must have (see the module docstring)."""
    output_ids: set[str] = set()
    idless_rejections = 0
    repeated: list[RepeatedRecord] = []
    for item in items:
        if isinstance(item, RepeatedRecord):  # hooks announce record ids the vendor sent again
            assert item.source is site.source
            assert item.license_number == site.license_number
            assert item.source_record_id
            repeated.append(item)
            continue
        if isinstance(item, RejectedRecord):
            assert item.source is site.source
            assert isinstance(item.reason, str), item
            assert item.reason.strip(), item
            if item.source_record_id is None:
                idless_rejections += 1
        else:
            assert isinstance(item, AttendanceRecord), item
            assert item.source is site.source
            assert item.status in (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT)
            assert isinstance(item.child_id, str)
            assert item.child_id.strip()
            assert isinstance(item.license_number, str)
            assert item.license_number.strip()
            assert isinstance(item.attendance_date, dt.date)
            assert isinstance(item.source_record_id, str)
            assert item.source_record_id
            for stamp in (item.check_in, item.check_out):
                assert stamp is None or stamp.utcoffset() == dt.timedelta(0)
            if item.check_in is not None and item.check_out is not None:
                assert item.check_out >= item.check_in
            if item.status is AttendanceStatus.ABSENT:
                assert item.check_in is None
                assert item.check_out is None
        if item.source_record_id is not None:
            output_ids.add(item.source_record_id)  # merged records join their ids with "+"
            output_ids.update(item.source_record_id.split("+"))

    idless_inputs = 0
    for record in inputs:
        record_id = text(record.get(id_key)) if isinstance(record, dict) else None
        if record_id is None:
            idless_inputs += 1
        elif not _accounted(record_id, output_ids):
            # Alliance CORE folds a child-day's events into one record (first check-in, last
            # check-out); the other events of that day are represented by it.
            assert site.source is Source.ALLIANCE_CORE, (record_id, items)
            assert any(
                getattr(i, "child_id", None) == normalize_child_id(record.get("state_child_id")) for i in items
            ), (
                record_id,
                items,
            )
    assert idless_rejections >= idless_inputs, (inputs, items)
    # A repeated id was sent before: that first version is accounted for like any other record.
    input_ids = {text(r.get(id_key)) for r in inputs if isinstance(r, dict)}
    assert all(r.source_record_id in input_ids for r in repeated), (repeated, inputs)


PERSONAL_KEYS = frozenset({"first_name", "last_name", "birthdate", "date_of_birth", "dob"})


def _strings(node: Any, *, personal: bool) -> set[str]:
    """String values in ``node``: only those under personal keys, or only all the others."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PERSONAL_KEYS:
                if personal and isinstance(value, str):
                    found.add(value)
            else:
                found |= _strings(value, personal=personal)
    elif isinstance(node, list):
        for value in node:
            found |= _strings(value, personal=personal)
    elif isinstance(node, str) and not personal:
        found.add(node)
    return found


def no_personal_data(inputs: list[Any], items: list[Any]) -> None:
    """Names and birth dates a vendor sent appear in no output field (unless the very same text was
    also sent as a non-personal value, e.g. as a record id)."""
    personal = {v for v in _strings(inputs, personal=True) if len(v.strip()) > 3}
    others = _strings(inputs, personal=False)
    personal = {p for p in personal if not any(p in other for other in others)}
    output = set()
    for item in items:
        for name in item.__slots__:
            value = getattr(item, name)
            output.add(value.isoformat() if isinstance(value, dt.date) else str(value))
    leaked = {p for p in personal if any(p in value for value in output)}
    assert not leaked, leaked
