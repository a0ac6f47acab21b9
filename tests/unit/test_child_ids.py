"""``canonical.normalize_child_id``: the one rule that turns what a source sent into a state Child ID."""

from __future__ import annotations

import pytest

from ccms_attendance.canonical import normalize_child_id


@pytest.mark.parametrize(
    ("sent", "child_id"),
    [
        ("7100009", "7100009"),
        (" 7100009\t", "7100009"),  # surrounding whitespace is stripped
        ("\u00a07100009\u3000", "7100009"),  # unicode whitespace too
        ("7100009.0", "7100009"),  # a whole number written as a decimal
        ("7100009.000", "7100009"),
        (" 0071.0 ", "0071"),  # leading zeros of text are kept
        ("0071", "0071"),
        ("71", "71"),
        (7100009, "7100009"),  # a JSON integer
        (7100009.0, "7100009"),  # a JSON number with an integral value
        (-3, "-3"),
        ("710 0009", "710 0009"),  # inner whitespace is part of the id
        ("7100009.5", "7100009.5"),  # text that is not a whole number is kept verbatim
        ("1e3", "1e3"),
        ("\u0667\u0661.0", "\u0667\u0661.0"),  # non-ASCII digits are not rewritten
        ("Robert'); DROP TABLE x;--", "Robert'); DROP TABLE x;--"),
    ],
)
def test_ids_that_are_ids(sent, child_id):
    assert normalize_child_id(sent) == child_id


@pytest.mark.parametrize(
    "sent",
    [None, "", "   ", True, False, 7100009.5, float("nan"), float("inf"), 2.0**53, 1e300, [7100009], {"id": 1}],
)
def test_values_that_are_no_id(sent):
    assert normalize_child_id(sent) is None


def test_a_str_subclass_is_read_as_text():
    class Text(str):
        pass

    assert normalize_child_id(Text(" 7100009.0 ")) == "7100009"
