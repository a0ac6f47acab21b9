"""build_data_docs: a static, readable page of every suite and the given outcomes."""

from __future__ import annotations

import pandas as pd

from ccms_attendance.canonical import Source
from ccms_attendance.validation import build_data_docs
from ccms_attendance.validation.suite_definitions import SUITE_NAMES


def test_index_lists_every_suite_without_outcomes(tmp_path):
    index = build_data_docs(target_dir=tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html"
    html = index.read_text()
    for name in SUITE_NAMES:
        assert name in html
    assert "expect_compound_columns_to_be_unique" in html
    assert "$period_start" in html


def test_index_shows_outcomes(tmp_path, validate, frames):
    good = validate("ppp_entries", frames.extract(Source.PPP))
    bad_frame = frames.extract(Source.BRIGHTWHEEL)
    bad_frame = pd.concat([bad_frame, bad_frame.iloc[[0]].set_axis([-1])])
    bad = validate("brightwheel_extract", bad_frame)
    html = build_data_docs([good, bad], target_dir=tmp_path).read_text()
    assert "FAILED" in html
    assert "passed" in html
    assert "C0000" in html  # the sample duplicate row
    assert html.count("<h2") == len(SUITE_NAMES)


def test_default_target_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CCMS_DATA_DOCS_DIR", str(tmp_path / "env_docs"))
    index = build_data_docs()
    assert index == tmp_path / "env_docs" / "index.html"
    assert index.is_file()
