"""The period report built from a period really loaded by the pipeline steps: exact figures, valid SVG."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from support.period_steps import run_ppp_period
from support.portal_state import PortalState, at

from ccms_attendance.artifact_store import local_path
from ccms_attendance.paths import KEPT_OUTCOMES_DIR, run_folder
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.reporting import PeriodNotLoadedError, build_period_report
from ccms_attendance.reporting.period_data import read_period
from ccms_attendance.rules.exception_kinds import ExceptionKind

PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
D = {n: dt.date(2026, 11, n) for n in range(8, 22)}
RUN_ID = "manual__2026-11-22T09:00:00+00:00"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _state() -> PortalState:
    state = PortalState(PERIOD)
    # S-A: PPP, submitted, closed on the 11th; three absences of two children, one on a Saturday.
    state.site("S-A", "CC-00001-1", provider_id="P-1").submission("S-A", dt.date(2026, 10, 25))
    state.submission("S-A", PERIOD.start).closure("S-A", D[11])
    state.voucher("1001", "S-A").voucher("1002", "S-A", program="OMW", end=D[13])
    state.absence("S-A", "1001", D[10]).absence("S-A", "1001", D[17]).absence("S-A", "1002", D[12])
    state.absence("S-A", "1001", D[14])  # a Saturday: record_on_non_operating_day
    # S-B: never submitted the period: incomplete, every day pending (its typed absence included).
    state.site("S-B", "CC-00002-2", provider_id="P-1").submission("S-B", dt.date(2026, 10, 25))
    state.voucher("2001", "S-B").absence("S-B", "2001", D[9])
    # S-C: chose brightwheel before ever submitting: PPP governs; named with characters to escape.
    state.site("S-C", "CC-00003-3", provider_id="P-2")
    state.selection("S-C", "BRIGHTWHEEL", dt.date(2026, 10, 25), chosen_at=at(dt.date(2026, 10, 1)))
    state.submission("S-C", PERIOD.start, submitted_at=at(dt.date(2026, 11, 23)))
    state.voucher("3001", "S-C")
    return state


@pytest.fixture
def loaded(conn, tmp_path, monkeypatch) -> RunContext:
    """The period run through plan, extract, validate, reconcile and load, as the DAG's tasks do."""
    monkeypatch.setenv("CCMS_DATA_DOCS_DIR", str(tmp_path / "build" / "data_docs"))
    _state().write(conn)
    conn.execute("UPDATE ref.site SET site_name = %s WHERE site_id = 'S-C'", ("Kids <&> 'Co'",))
    run = RunContext(run_id=RUN_ID, dag_id="ccms_attendance_period", period=PERIOD, triggered_by="test")
    run_ppp_period(conn, run)
    # As the data_docs task publishes them (publish_kept_data_docs): one folder per suite; one still
    # being built beside the report (only its kept outcomes so far).
    run_docs = tmp_path / "build" / "data_docs" / PERIOD.start.isoformat() / run_folder(RUN_ID)
    for suite in ("ppp_entries", "reconciled"):
        (run_docs / suite).mkdir(parents=True)
        (run_docs / suite / "index.html").write_text("<html>docs</html>")
    (run_docs / KEPT_OUTCOMES_DIR).mkdir()
    (run_docs / KEPT_OUTCOMES_DIR / "brightwheel_extract.json").write_text("[]")
    return run


def _svgs(page: str) -> dict[str, ET.Element]:
    charts = {}
    for text in re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL):
        element = ET.fromstring(text)  # well-formed XML or this raises
        assert element.tag == f"{SVG_NS}svg"
        charts[element.get("id")] = element
    return charts


def _bars(chart: ET.Element) -> list[tuple[str, str]]:
    return [(g.get("data-label"), g.get("data-value")) for g in chart.iter(f"{SVG_NS}g")]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.srcs += [v for k, v in attrs if k in ("src", "href") and v and ("://" in v or v.startswith("//"))]


def test_report_holds_the_loaded_periods_exact_figures_and_plots(conn, loaded, tmp_path):
    root = tmp_path / "build" / "reports"

    path = build_period_report(conn, PERIOD.start, RUN_ID, target_dir=root)

    assert local_path(path) == root / "2026-11-08" / "manual__2026-11-22T09_00_00_00_00" / "report.html"
    page = path.read_text(encoding="utf-8")
    # The headline figures: 9 + 4 + 10 open complete-site rows, S-A's closure on the 11th for both of
    # its children (PC) and S-B's 10 pending days (its typed absence was never submitted: not final).
    assert "<td id='fig-rows'>35</td>" in page
    assert "<td id='fig-absences'>3</td>" in page
    assert "<td id='fig-pending'>10</td>" in page
    # The deadline has passed (the run's as_of is after it): the version is final.
    assert "<td id='fig-lifecycle'>final</td>" in page
    assert "<tr><th>Submission deadline</th><td>2026-12-05</td></tr>" in page
    assert "<td id='fig-incomplete'>1</td>" in page
    assert "<td id='fig-exceptions'>3</td>" in page
    assert "2026-11-08..2026-11-21" in page
    assert f"<code id='run-id'>{RUN_ID}</code>" in page
    assert (
        "<li class='incomplete'>S-B Site S-B: period not submitted in the portal by the deadline 2026-12-05;"
        " its days are pending</li>"
    ) in page
    # Exceptions by kind, with severities and what to do (from the one catalogue of kinds).
    rows = [
        f"<tr><td>{kind}</td><td>warning</td><td class='n'>1</td><td>{escape(ExceptionKind(kind).advice)}</td></tr>"
        for kind in ("ccms_before_first_submission", "record_on_non_operating_day", "site_period_incomplete")
    ]
    assert "".join(rows) in page
    # Extraction counts per source, from the run's audit.
    assert "<td>PPP</td><td class='n'>3</td><td class='n'>0</td>" in page
    # Every value is escaped: the site name never reaches the page raw.
    assert "Kids <&>" not in page
    assert "Kids &lt;&amp;&gt; &#39;Co&#39;" in page  # markupsafe's spelling of ' (html.escape's was &#x27;)

    charts = _svgs(page)
    assert set(charts) == {"absence-rate-by-site", "absences-by-source", "exceptions-by-kind", "completeness-by-site"}
    name_c = "S-C Kids <&> 'Co'"  # the parsed attribute: escaped in the page
    assert _bars(charts["absence-rate-by-site"]) == [
        ("S-A Site S-A", "23.1%"),  # 3 absent of 13 enrolled child-days
        ("S-B Site S-B", "n/a (incomplete)"),  # its days are pending: no rate, never "0.0%" (perfect attendance)
        (name_c, "0.0%"),
    ]
    # The incomplete site's bar says why (tooltip), in the warning colour, with no length.
    s_b = next(g for g in charts["absence-rate-by-site"].iter(f"{SVG_NS}g") if g.get("data-label") == "S-B Site S-B")
    assert s_b.find(f"{SVG_NS}title").text.startswith("incomplete: period not submitted in the portal")
    assert s_b.find(f"{SVG_NS}rect").get("width") == "0.0"
    assert s_b.find(f"{SVG_NS}rect").get("fill") == "#c0392b"
    # The site table: S-B's rate is "n/a (incomplete)" beside its reason, S-A's a real rate.
    rows = re.findall(r"<tr><td>(S-[ABC])</td>(.*?)</tr>", page)
    cells = {site: re.findall(r"<td[^>]*>(.*?)</td>", rest) for site, rest in rows}
    assert cells["S-B"][3].startswith("incomplete: period not submitted in the portal")
    assert cells["S-B"][8] == "n/a (incomplete)"
    assert cells["S-A"][8] == "23.1%"
    assert "0.0%" not in "".join(cells["S-B"])
    # The label column is as wide as the longest label needs (the escaped name is the longest).
    for chart in charts.values():
        for label in chart.iter(f"{SVG_NS}text"):
            if label.get("class") == "label":
                longest = max(len(g.get("data-label")) for g in chart.iter(f"{SVG_NS}g"))
                assert float(label.get("x")) + 6 >= longest * 7.5 + 12 or float(label.get("x")) + 6 >= 360
    assert _bars(charts["absences-by-source"]) == [("PPP", "3 of 35")]
    assert _bars(charts["exceptions-by-kind"]) == [
        ("ccms_before_first_submission", "1"),
        ("record_on_non_operating_day", "1"),
        ("site_period_incomplete", "1"),
    ]
    assert _bars(charts["completeness-by-site"]) == [
        ("S-A Site S-A", "complete 100.0%"),
        ("S-B Site S-B", "INCOMPLETE 0.0%"),  # no final child-day of 10 enrolled
        (name_c, "complete 100.0%"),
    ]

    # Self-contained: no script, no external resource; links to the run's data docs (relative).
    parsed = _Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert parsed.srcs == []
    docs = "data_docs/2026-11-08/manual__2026-11-22T09_00_00_00_00/"
    assert f"href='../../../{docs}'" in page
    assert f"href='../../../{docs}ppp_entries/index.html'" in page
    assert f"href='../../../{docs}reconciled/index.html'" in page
    assert f"href='../../../{docs}brightwheel_extract/index.html'" in page  # being built
    assert KEPT_OUTCOMES_DIR not in page
    # From build/reports/<period>/<run>/ the relative link lands on the data docs written under build/.
    assert (path.parent / "../../../" / docs / "reconciled" / "index.html").resolve().is_file()

    latest = (root / "2026-11-08" / "latest.html").read_text(encoding="utf-8")
    assert "<td id='fig-absences'>3</td>" in latest
    assert f"href='../../{docs}reconciled/index.html'" in latest
    # The same page one folder up (drawn once, one timestamp): only its relative links differ.
    assert page.replace("'../../../", "'../../") == latest
    assert (root / "2026-11-08" / "../../" / docs / "reconciled" / "index.html").resolve().is_file()


def test_the_figures_per_source_count_each_site_once(conn, loaded):
    figures = read_period(conn, PERIOD.start)
    daily = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'absent') FROM reconciled.daily_attendance"
    ).fetchone()
    assert figures.sources == [{"source": "PPP", "sites": 3, "daily_rows": daily[0], "absences": daily[1]}]
    assert (figures.daily_rows, figures.absences) == daily
    assert daily[1] == 3  # the fixture's three counted absences (S-A)


def test_report_root_follows_ccms_reports_dir_and_defaults_to_the_loading_run(conn, loaded, tmp_path, monkeypatch):
    monkeypatch.setenv("CCMS_REPORTS_DIR", str(tmp_path / "elsewhere"))

    path = build_period_report(conn, "2026-11-08", None)

    assert local_path(path) == tmp_path / "elsewhere" / "2026-11-08" / run_folder(RUN_ID) / "report.html"
    assert "<td id='fig-absences'>3</td>" in path.read_text(encoding="utf-8")


def test_report_goes_to_an_object_store_root_and_links_the_stored_data_docs(conn, loaded, tmp_path, monkeypatch):
    """A bucket as fsspec's memory:// file system: the report is written there, and its data docs
    links are found in the data docs root, wherever that is (here: another bucket)."""
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    attach("memory", fs=MemoryFileSystem())
    bucket = f"memory://ccms-report-{tmp_path.name}"
    monkeypatch.setenv("CCMS_REPORTS_URL", f"{bucket}/reports")
    monkeypatch.setenv("CCMS_DATA_DOCS_URL", f"{bucket}/data_docs")
    docs = ObjectStoragePath(f"{bucket}/data_docs/2026-11-08/{run_folder(RUN_ID)}/reconciled/index.html")
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text("<html>docs</html>")
    monkeypatch.chdir(tmp_path)

    path = build_period_report(conn, PERIOD.start, RUN_ID)

    assert str(path) == f"{bucket}/reports/2026-11-08/{run_folder(RUN_ID)}/report.html"
    latest = ObjectStoragePath(f"{bucket}/reports/2026-11-08/latest.html").read_text(encoding="utf-8")
    assert "<td id='fig-absences'>3</td>" in latest
    assert f"href='../../data_docs/2026-11-08/{run_folder(RUN_ID)}/reconciled/index.html'" in latest
    assert "ppp_entries/index.html" not in latest  # only in the local folder, not in the configured root
    assert not (tmp_path / "build" / "reports").exists()


def test_report_of_an_unknown_period_says_so(conn, tmp_path):
    with pytest.raises(PeriodNotLoadedError, match="2030-01-06"):
        build_period_report(conn, dt.date(2030, 1, 6), "r", target_dir=tmp_path)


def test_chart_labels_fit_or_wrap_never_a_fixed_width():
    from ccms_attendance.reporting.charts import MAX_LABEL_W, Bar, bar_chart

    short = ET.fromstring(str(bar_chart("c", "t", [Bar("S-1", 1.0, "1")])))
    long_name = "S-9 Little Learners Early Childhood Development Center of Greater Indianapolis, North"
    wide = ET.fromstring(str(bar_chart("c", "t", [Bar("S-1", 1.0, "1"), Bar(long_name, 2.0, "2")])))

    def label_x(svg: ET.Element) -> float:
        return float(next(t for t in svg.iter(f"{SVG_NS}text") if t.get("class") == "label").get("x"))

    # A short label gets a narrow column; a long one a wider column, capped, and wraps onto lines
    # that each fit in it (at the generous 7.5 px per character the width is computed from).
    assert label_x(short) < 100
    assert label_x(wide) + 6 == MAX_LABEL_W
    long_bar = next(g for g in wide.iter(f"{SVG_NS}g") if g.get("data-label") == long_name)
    lines = [t.text for t in long_bar.iter(f"{SVG_NS}tspan")]
    assert len(lines) >= 2
    assert " ".join(lines) == long_name
    assert all(len(line) * 7.5 + 12 <= MAX_LABEL_W for line in lines)
    # The rows below a wrapped label move down: the SVG grows with it.
    assert float(wide.get("height")) > float(short.get("height")) + 24


def test_index_lists_this_instances_periods_with_state_counts_and_links(conn, loaded, tmp_path):
    from ccms_attendance.ui.period_index import AirflowRun, period_lines, render_rows

    reports = tmp_path / "build" / "reports"
    build_period_report(conn, PERIOD.start, RUN_ID, target_dir=reports)
    local_midnight = dt.datetime(2026, 11, 8, 5, tzinfo=dt.UTC)  # 00:00 in Indianapolis (EST)
    runs = [
        AirflowRun("ccms_attendance_period", RUN_ID, "success", "manual", local_midnight, local_midnight),
        # A later failed run of this instance that never planned: listed first, no warehouse status.
        AirflowRun(
            "ccms_attendance_period", "manual__late", "failed", "manual", local_midnight, local_midnight.replace(day=9)
        ),
    ]

    lines = period_lines(conn, runs, reports, tmp_path / "build" / "data_docs")

    assert len(lines) == 1  # one row per period, not per run folder
    line = lines[0]
    assert (line.period_start, line.period_end) == (PERIOD.start, PERIOD.end)
    assert line.lifecycle == "final"
    assert (line.sites_complete, line.sites_incomplete, line.absences, line.pending_days) == (2, 1, 3, 10)
    assert [r.run.run_id for r in line.runs] == ["manual__late", RUN_ID]
    assert [r.audit_status for r in line.runs] == [None, "loaded"]
    assert line.latest_report_href == "reports/2026-11-08/latest.html"
    assert line.runs[1].report_href == f"reports/2026-11-08/{run_folder(RUN_ID)}/report.html"
    assert line.runs[1].docs_href == f"data_docs/2026-11-08/{run_folder(RUN_ID)}/"
    assert line.runs[0].report_href is None  # no file on disk: no link

    html = render_rows(lines)
    assert "<td class='period'>2026-11-08 - 2026-11-21</td>" in html
    assert "<td class='lifecycle final'>final</td>" in html
    assert "<span class='state-failed'>failed</span> / not planned" in html  # the latest run's state
    assert "<td class='n sites-incomplete'><span class='warn'>1</span></td>" in html
    assert "<td class='n pending'>10</td>" in html
    # A period only other instances ran (no run of this instance given) is not listed at all.
    assert period_lines(conn, [], reports, tmp_path) == []
