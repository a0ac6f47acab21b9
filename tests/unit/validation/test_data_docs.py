"""build_data_docs: a static, readable page of every suite and the given outcomes, and GX's own Data Docs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pandas as pd

from ccms_attendance.canonical import Source
from ccms_attendance.validation import build_data_docs, data_docs
from ccms_attendance.validation.suite_definitions import SUITE_NAMES


def test_index_lists_every_suite_without_outcomes(tmp_path):
    index = build_data_docs(None, target_dir=tmp_path / "docs")
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


def test_published_to_the_configured_root_only_this_runs_files(tmp_path, monkeypatch, validate, frames):
    from ccms_attendance.artifact_store import data_docs_root
    from ccms_attendance.periods import ServicePeriod
    from ccms_attendance.pipeline.run_context import RunContext
    from ccms_attendance.pipeline.validate import publish_data_docs

    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # the root is a URL, not a folder of the current directory
    monkeypatch.setenv("CCMS_DATA_DOCS_URL", f"file://{tmp_path}/store/data_docs")
    period = ServicePeriod(dt.date(2025, 1, 5), dt.date(2025, 1, 18))
    run = RunContext(run_id="manual__r1", dag_id="ccms_attendance_period", period=period, triggered_by="test")
    other = tmp_path / "store" / "data_docs" / "2025-01-05" / "manual__r0" / "reconciled"
    other.mkdir(parents=True)
    (other / "index.html").write_text("another run")

    index = publish_data_docs(run, [_warned_playground(validate, frames)], "playground_extract")

    folder = tmp_path / "store" / "data_docs" / "2025-01-05" / "manual__r1" / "playground_extract"
    assert index == data_docs_root() / "2025-01-05" / "manual__r1" / "playground_extract" / "index.html"
    assert "href='gx/index.html'" in (folder / "index.html").read_text()
    assert len(_validation_pages(folder)) == 1
    assert (other / "index.html").read_text() == "another run"
    assert not list((tmp_path / "cwd").iterdir())
    # Published again (a retried task) without the outcome: its validation page goes, as GX's rebuild does.
    publish_data_docs(run, [], "playground_extract")
    assert _validation_pages(folder) == []
    assert (folder / "gx" / "index.html").is_file()


def _quarantining_brightwheel(validate, frames):
    frame = frames.extract(Source.BRIGHTWHEEL)
    frame.loc[frame.index[:2], "child_id"] = None  # a critical row-level expectation: two rows quarantined
    outcome = validate("brightwheel_extract", frame)
    assert len(outcome.quarantine) == 2
    return outcome


def test_an_outcome_comes_back_from_its_json_unchanged(validate, frames):
    from ccms_attendance.validation.outcome import ValidationOutcome

    for outcome in (_quarantining_brightwheel(validate, frames), _warned_playground(validate, frames)):
        again = ValidationOutcome.from_json(json.loads(json.dumps(outcome.to_json(), default=str)))
        for name in ("suite_name", "evaluated_rows", "critical_failures", "warnings", "result", "unevaluated"):
            assert getattr(again, name) == getattr(outcome, name), name
        assert again.gx_result == outcome.gx_result
        assert again.success == outcome.success
        assert again.quarantine.index.tolist() == outcome.quarantine.index.tolist()
        assert again.quarantine["reason"].tolist() == outcome.quarantine["reason"].tolist()


def test_kept_outcomes_are_rendered_by_the_data_docs_step_once(tmp_path, monkeypatch, validate, frames):
    """What the validate and reconcile tasks keep, the data_docs task renders: the same pages as
    rendering the outcome at once; each kept file goes once its site is built, so a retry builds nothing again."""
    from ccms_attendance.periods import ServicePeriod
    from ccms_attendance.pipeline.run_context import RunContext
    from ccms_attendance.pipeline.validate import keep_for_data_docs, publish_kept_data_docs

    monkeypatch.setenv("CCMS_DATA_DOCS_URL", f"file://{tmp_path}/store/data_docs")
    period = ServicePeriod(dt.date(2025, 1, 5), dt.date(2025, 1, 18))
    run = RunContext(run_id="manual__r1", dag_id="ccms_attendance_period", period=period, triggered_by="test")
    warned, quarantining = _warned_playground(validate, frames), _quarantining_brightwheel(validate, frames)
    run_folder = tmp_path / "store" / "data_docs" / "2025-01-05" / "manual__r1"
    kept = keep_for_data_docs(run, [warned], "playground_extract")
    keep_for_data_docs(run, [quarantining], "brightwheel_extract")
    assert kept.name == "playground_extract.json"
    assert kept.is_file()
    assert not (run_folder / "playground_extract").exists()  # nothing rendered yet

    published = publish_kept_data_docs(run)

    assert sorted(published) == ["brightwheel_extract", "playground_extract"]
    assert sorted(p.name for p in run_folder.iterdir()) == ["brightwheel_extract", "playground_extract"]
    direct = build_data_docs([quarantining], tmp_path / "direct")
    built = run_folder / "brightwheel_extract" / "index.html"
    assert _without_generated(built.read_text()) == _without_generated(direct.read_text())
    assert "2 quarantined" in built.read_text()
    assert [p.relative_to(run_folder / "brightwheel_extract") for p in _validation_pages(built.parent)] == [
        p.relative_to(tmp_path / "direct") for p in _validation_pages(tmp_path / "direct")
    ]
    assert publish_kept_data_docs(run) == {}


def _without_generated(html: str) -> str:
    return re.sub(r"Generated [^<]*", "", html)


def _warned_playground(validate, frames):
    frame = frames.extract(Source.PLAYGROUND)
    frame.loc[frame.index[0], "absence_reason"] = "NOT_A_REASON"  # fails a warning expectation only
    outcome = validate("playground_extract", frame)
    assert outcome.success
    assert outcome.warnings
    return outcome


def test_outcome_keeps_the_gx_result_out_of_the_summary(validate, frames):
    outcome = _warned_playground(validate, frames)
    assert outcome.gx_result["suite_name"] == "playground_extract"
    assert outcome.gx_result["success"] is False  # GX counts the failed warning
    assert len(outcome.gx_result["results"]) == len(outcome.result["expectations"])
    json.dumps(outcome.gx_result)  # JSON-ready
    assert "gx_result" not in repr(outcome)


def test_gx_data_docs_site_from_the_same_validation(tmp_path, validate, frames):
    outcome = _warned_playground(validate, frames)
    index = build_data_docs([outcome], tmp_path)
    gx_index = tmp_path / "gx" / "index.html"
    assert gx_index.is_file()
    assert "href='gx/index.html'" in index.read_text()
    for name in SUITE_NAMES:
        assert (tmp_path / "gx" / "expectations" / f"{name}.html").is_file()
    pages = list((tmp_path / "gx" / "validations" / "playground_extract").rglob("*.html"))
    assert len(pages) == 1
    page = pages[0].read_text()
    assert "playground_extract" in page
    assert "NOT_A_REASON" in page  # the unexpected value, from the stored GX result
    assert "ccms_attendance" in page  # the run name
    assert pages[0].relative_to(tmp_path / "gx").as_posix() in _with_scripts(gx_index)


def test_gx_data_docs_with_several_outcomes_and_a_rebuild(tmp_path, validate, frames):
    warned = _warned_playground(validate, frames)
    ppp = validate("ppp_entries", frames.extract(Source.PPP))
    hand_made = dataclasses.replace(ppp, gx_result=None)  # no GX result: no validation page, no error
    build_data_docs([warned, ppp, warned, hand_made], tmp_path)
    pages = sorted(p.relative_to(tmp_path / "gx" / "validations").parts[0] for p in _validation_pages(tmp_path))
    assert pages == ["playground_extract", "playground_extract", "ppp_entries"]

    build_data_docs([ppp], tmp_path)  # pages of results not given again are removed from the index
    assert "playground_extract/ccms_attendance" not in (tmp_path / "gx" / "index.html").read_text()


def test_gx_data_docs_without_outcomes(tmp_path):
    index = build_data_docs(None, target_dir=tmp_path)
    assert "href='gx/index.html'" in index.read_text()
    html = _with_scripts(tmp_path / "gx" / "index.html")
    for name in SUITE_NAMES:
        assert f"expectations/{name}.html" in html
    assert not _validation_pages(tmp_path)


def test_gx_data_docs_failure_still_writes_the_project_page(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(data_docs, "build_gx_data_docs", broken)
    html = build_data_docs(None, target_dir=tmp_path).read_text()
    assert "GX Data Docs could not be built" in html
    assert "gx/index.html" not in html


def _validation_pages(root):
    return list((root / "gx" / "validations").rglob("*.html")) if (root / "gx" / "validations").exists() else []


def _with_scripts(page):
    """A GX page and the scripts it loads from its own folder (its table data moved there, offline)."""
    html = page.read_text()
    scripts = re.findall(r'<script src="([^"/]+)"></script>', html)
    assert scripts, "the index's tables are filled by scripts beside it"
    return html + "".join((page.parent / name).read_text() for name in scripts)


def test_gx_data_docs_need_nothing_from_the_network_nor_inline_code(tmp_path, validate, frames):
    from ccms_attendance.validation.gx_offline import asset_file

    build_data_docs([_warned_playground(validate, frames)], tmp_path)
    site = tmp_path / "gx"
    assert not (site / "static").exists()  # GX's ~4 MB copy: served from the installed packages instead
    assert sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) < 1_000_000
    pages = list(site.rglob("*.html"))
    assert len(pages) == 1 + len(SUITE_NAMES) + 1  # index, a page per suite, the validation
    for page in pages:
        html = page.read_text()
        # Nothing is fetched from another host: no external stylesheet, script, image or CSS url().
        loaded = re.findall(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)"', html)
        loaded += re.findall(r"url\('([^']+)'\)", html)
        assert loaded
        assert [u for u in loaded if "//" in u] == [], page
        # No inline code the CSP would have to allow: scripts are files, handlers are data attributes.
        assert re.findall(r"<script>\s*\S", html) == [], page
        assert re.findall(r"\son[a-z]+=", html) == [], page
        # Every local reference resolves: a file beside the page, or an installed asset under static/.
        for url in loaded:
            if url.startswith("#"):
                continue
            target = (page.parent / url).resolve()
            if target.is_relative_to(site / "static"):
                assert asset_file(target.relative_to(site / "static").as_posix()) is not None, url
            else:
                assert target.is_file(), url
    validation = next(p for p in pages if "validations" in p.parts).read_text()
    assert 'href="../../../../static/vendor/bootstrap/css/bootstrap.min.css"' in validation
    assert 'data-ccms-call="showAllValidations"' in validation
    index = (site / "index.html").read_text()
    assert "Clear Filters" not in index  # bootstrap-table's filter control is not there offline


def test_asset_file_stays_inside_the_asset_folders():
    from ccms_attendance.validation.gx_offline import asset_file

    assert asset_file("vendor/jquery/jquery.min.js").name == "jquery.min.js"
    assert asset_file("styles/data_docs_default_styles.css").is_file()  # GX's own
    assert asset_file("ccms/gx-offline.js").is_file()
    for bad in ("../../../../etc/passwd", "vendor/jquery/../../../../../etc/passwd", "/etc/passwd", "", "nope.css"):
        assert asset_file(bad) is None, bad
