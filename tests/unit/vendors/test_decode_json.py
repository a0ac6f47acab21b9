"""``decode_json`` (msgspec first, ``json.loads`` for whatever msgspec refuses) gives exactly what
``json.loads`` gives — the same value, or an error where ``json.loads`` raises one — for hostile bodies
and for generated JSON of every shape."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccms_attendance.hooks.transport import decode_json

HOSTILE = [
    b'{"a": "\\ud800"}',  # lone surrogates: valid JSON, stored only once the extract step cleans them
    b'{"a": "\\udc00\\ud800x", "b": "\\u0000"}',
    b'"\xed\xa0\x80"',  # a UTF-8-encoded surrogate (json.loads decodes with surrogatepass)
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b'{"a": 1e400, "b": -1e400, "c": 1.7976931348623157e309}',
    b'{"a": 123456789012345678901234567890, "b": -9223372036854775809, "c": 18446744073709551616}',
    b'{"a": 1, "a": 2}',
    b'\xef\xbb\xbf{"a": 1}',  # UTF-8 BOM
    '{"a": "é"}'.encode("utf-16"),
    '{"a": "é"}'.encode("utf-32-le"),
    b' \n{"a": [1, 2.5, -0.0, true, false, null]}\t ',
    b'{"a": 2.2250738585072014e-308, "b": 5e-324, "c": 0.1, "d": 1E2}',
    b'{"a": "\\uD834\\uDD1E \\" \\\\ \\/ \\b \\f \\n \\r \\t"}',
    b"[" * 100_000 + b"]" * 100_000,  # deeper than either decoder goes
]
INVALID = [b"", b"{", b'{"a":1} x', b"[1,]", b'{"a": 01}', b'{"a":"\t"}', b"\xff\xfe\xfd", b"nul", b"{'a': 1}"]


def outcome(decode, body: bytes):
    try:
        return "value", json.dumps(decode(body), sort_keys=False, allow_nan=True)
    except RecursionError:
        return "error", "RecursionError"
    except ValueError:
        return "error", "ValueError"


@pytest.mark.parametrize("body", HOSTILE + INVALID)
def test_same_value_or_same_kind_of_error_as_json_loads(body):
    assert outcome(decode_json, body) == outcome(json.loads, body)


def test_a_lone_surrogate_is_kept_for_storable_to_reject():
    assert decode_json(b'{"id": "x\\ud800"}') == {"id": "x\ud800"}


def test_nan_is_decoded_as_json_loads_decodes_it():
    assert math.isnan(decode_json(b'{"a": NaN}')["a"])


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5), max_leaves=40
)


@settings(max_examples=400)
@given(value=VALUES, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_generated_json_decodes_as_json_loads_decodes_it(value, ensure_ascii, indent):
    body = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent).encode("utf-8", "surrogatepass")
    assert outcome(decode_json, body) == outcome(json.loads, body)


@settings(max_examples=200)
@given(body=st.binary(max_size=60) | st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_arbitrary_bytes_decode_or_fail_as_json_loads_does(body):
    assert outcome(decode_json, body) == outcome(json.loads, body)
