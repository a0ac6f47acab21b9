"""The Airflow UI and the period report in a real browser (headless Chromium via Playwright).

A period runs with `airflow dags test` (which serializes the DAG into the Airflow home's metadata),
its report is written, then `airflow api-server` is started on a free loopback port and Chromium
opens the DAG page, the plugin's report index, the run's report and its data docs, and the report
tab the plugin adds to the run page. Screenshots are kept in the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.portal_state import PortalState

from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.reporting import report_path
from ccms_attendance.ui.links import PeriodReportLink
from devtools.local_airflow import AIRFLOW_BIN

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "The browser test needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`) and "
    "the Playwright Python package (`.venv/bin/pip install -r requirements/dev.txt -c constraints.txt`; "
    "never `playwright install`, the system Chromium is used)."
)
DAG_ID = "ccms_attendance_period"
PERIOD = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
D = {n: dt.date(2026, 11, n) for n in range(8, 22)}
TIMEOUT_MS = 60_000


def _state() -> PortalState:
    state = PortalState(PERIOD)
    state.site("S-A", "CC-00001-1", provider_id="P-1").submission("S-A", dt.date(2026, 10, 25))
    state.submission("S-A", PERIOD.start).closure("S-A", D[11])
    state.voucher("1001", "S-A").voucher("1002", "S-A", program="OMW", end=D[13])
    state.absence("S-A", "1001", D[10]).absence("S-A", "1001", D[17]).absence("S-A", "1002", D[12])
    state.site("S-B", "CC-00002-2", provider_id="P-1").submission("S-B", dt.date(2026, 10, 25))
    state.voucher("2001", "S-B").absence("S-B", "2001", D[9])  # S-B has not submitted: incomplete
    return state


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.fail(f"Playwright is not installed ({error}). {INSTALL_HINT}")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} does not exist. {INSTALL_HINT}")
    return sync_playwright


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _log_tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@contextlib.contextmanager
def api_server(env: dict[str, str], log_file: Path) -> Iterator[str]:
    """`airflow api-server` on a free loopback port, until the block ends; yields its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [str(AIRFLOW_BIN), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"airflow api-server exited {process.returncode}:\n{_log_tail(log_file)}")
            try:
                with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"airflow api-server did not answer on {base} within 180 s:\n{_log_tail(log_file)}")
            time.sleep(1)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_dag_and_period_report_render_in_chromium(conn, period_runner, tmp_path):
    sync_playwright = _sync_playwright()
    build = tmp_path / "build"
    folders = {"CCMS_REPORTS_DIR": str(build / "reports"), "CCMS_DATA_DOCS_DIR": str(build / "data_docs")}
    _state().write(conn)
    period_runner.run(D[10], **folders)
    run_id = conn.execute("SELECT run_id FROM reconciled.period_load WHERE period_start = %s", (PERIOD.start,))
    run_id = run_id.fetchone()[0]
    absences = conn.execute(
        "SELECT count(*) FROM reconciled.daily_attendance WHERE period_start = %s AND status = 'absent'",
        (PERIOD.start,),
    ).fetchone()[0]
    assert absences == 3  # S-B has not submitted: its typed absence is pending, not an absence
    assert report_path(PERIOD.start, run_id, root=build / "reports").is_file()  # written by the `report` task

    env = period_runner.env({**folders, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"})
    assert env.get("AIRFLOW__API__BASE_URL") is None
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with (
        api_server(env, tmp_path / "api-server.log") as base,
        sync_playwright() as playwright,
    ):
        # The plugin checks access like the API: an invalid token is refused (with all-admins, no token is fine).
        forged = urllib.request.Request(
            f"{base}/ccms/reports/2026-11-08/latest.html", headers={"Authorization": "Bearer not-a-jwt"}
        )
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(forged, timeout=10)
        assert denied.value.code == 403
        # No way out of the served folders.
        with pytest.raises(urllib.error.HTTPError) as outside:
            urllib.request.urlopen(f"{base}/ccms/reports/%2e%2e/%2e%2e/pyproject.toml", timeout=10)
        assert outside.value.code == 404
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a new, empty user data dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            browser.set_default_timeout(TIMEOUT_MS)
            page = browser.new_page()

            # The DAG in the Airflow UI: its name and its tasks.
            page.goto(f"{base}/dags/{DAG_ID}")
            page.get_by_text(DAG_ID).first.wait_for()
            page.get_by_text("plan_period").first.wait_for()
            page.get_by_text("reconcile").first.wait_for()
            page.get_by_text("Latest Run").first.wait_for()
            page.screenshot(path=str(shots / "dag.png"), full_page=True)

            # The plugin's index: one row per period of this instance, with its end, lifecycle, the
            # latest run's state (Airflow and warehouse), the counts, and links.
            page.goto(f"{base}/ccms/")
            row = page.locator("#period-2026-11-08")
            row.wait_for()
            assert row.locator("td.period").inner_text() == "2026-11-08 - 2026-11-21"
            assert row.locator("td.lifecycle").inner_text() in ("provisional", "final")
            with urllib.request.urlopen(f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=10) as response:
                state = json.load(response)["state"]  # whatever the run ended as, the index says the same
            assert f"{run_id} {state} / warehouse: loaded" in row.locator("td.run-state").inner_text()
            assert row.locator("td.sites-complete").inner_text() == "1"
            assert row.locator("td.sites-incomplete").inner_text() == "1"
            assert row.locator("td.absences").inner_text() == str(absences)
            assert row.locator("td.pending").inner_text() == "10"
            assert row.get_by_role("link", name="data docs").count() == 1
            page.screenshot(path=str(shots / "ccms-index.png"), full_page=True)
            row.get_by_role("link", name="report").first.click()
            page.wait_for_url("**/ccms/reports/2026-11-08/latest.html")
            assert page.locator("#fig-absences").inner_text() == str(absences)
            # S-A: 9 + 4 open child-days and the closure on the 11th for both children (PC); S-B: its
            # 10 pending days (it has not submitted).
            assert page.locator("#fig-rows").inner_text() == "25"
            assert page.locator("#fig-incomplete").inner_text() == "1"
            assert page.locator("#run-id").inner_text() == run_id
            assert page.locator("svg.chart").count() == 4
            # The incomplete site: "n/a (incomplete)" in the chart and the table, never 0.0 %, with its reason.
            s_b = page.locator("#absence-rate-by-site g.bar[data-label='S-B Site S-B']")
            assert s_b.locator("text.value").text_content() == "n/a (incomplete)"
            s_b_row = page.locator("table.sites tr", has_text="S-B")
            assert "n/a (incomplete)" in s_b_row.inner_text()
            assert "0.0%" not in s_b_row.inner_text()
            assert "incomplete: period not" in s_b_row.inner_text()
            assert page.locator("li.incomplete", has_text="S-B Site S-B").is_visible()
            # Every chart label lies inside its SVG: none clipped at the left edge.
            label_left = page.eval_on_selector_all("svg.chart text.label", "ts => ts.map(t => t.getBBox().x)")
            assert label_left
            assert min(label_left) >= 0, label_left
            page.screenshot(path=str(shots / "latest-report.png"), full_page=True)

            # The run's report through the load task's extra link, then its data docs.
            link = PeriodReportLink().get_link(None, ti_key=SimpleNamespace(dag_id=DAG_ID, run_id=run_id))
            assert link.startswith("/ccms/dags/")  # no [api] base_url: a path on the API server
            page.goto(base + link)
            page.wait_for_url("**/ccms/reports/2026-11-08/*/report.html")
            assert page.locator("#fig-absences").inner_text() == str(absences)
            # S-B's reason (before the deadline "not yet submitted", after it "not submitted ... by the deadline").
            assert page.get_by_text("in the portal").filter(has_text="its days are pending").count() >= 1
            page.screenshot(path=str(shots / "run-report.png"), full_page=True)
            page.locator("#data-docs-link").click()
            page.get_by_role("link", name="reconciled").click()
            page.get_by_text("CCMS attendance - data quality").wait_for()
            page.screenshot(path=str(shots / "data-docs.png"), full_page=True)
            _gx_validation_page(page, base, build / "data_docs", shots / "gx-validation.png")

            # The "Period report" tab the plugin adds to the run page embeds the report.
            page.goto(f"{base}/dags/{DAG_ID}/runs/{run_id}/plugin/ccms-period-report")
            frame = page.frame_locator("iframe").first
            frame.locator("#fig-absences").wait_for()
            assert frame.locator("#fig-absences").inner_text() == str(absences)
            page.screenshot(path=str(shots / "run-tab.png"), full_page=True)
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "ccms-index.png",
        "dag.png",
        "data-docs.png",
        "gx-index.png",
        "gx-validation.png",
        "latest-report.png",
        "run-report.png",
        "run-tab.png",
    ]


def _gx_validation_page(page, base: str, data_docs: Path, shot: Path) -> None:
    """GX's validation page of the PPP suite, opened through the plugin with no internet: styled by
    the local Bootstrap and Font Awesome, its expectation rows there, no request for another host,
    no script refused by the CSP, no script error."""
    pages = sorted(data_docs.glob("2026-11-08/*/ppp_entries/gx/validations/ppp_entries/**/*.html"))
    assert len(pages) == 1, pages
    site = pages[0].relative_to(data_docs).parents[-5]  # <period>/<run>/ppp_entries/gx
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    # GX's site index: its tables are filled from data by the local bootstrap-table stand-in; a row
    # of the validations table leads to the validation page.
    page.goto(f"{base}/ccms/data_docs/{site.as_posix()}/index.html")
    page.wait_for_load_state("networkidle")
    validations = page.locator("table.ccms-table-lite tbody tr", has_text="ppp_entries").filter(
        has=page.locator("i.fa-check-circle")  # the status column: passed
    )
    assert validations.count() == 1
    assert page.locator("table.ccms-table-lite tbody tr", has_text="brightwheel_extract").count() == 1  # suites
    page.screenshot(path=str(shot.with_name("gx-index.png")), full_page=True)
    validations.click()
    page.wait_for_url("**/validations/ppp_entries/**")
    page.wait_for_load_state("networkidle")
    assert page.url == f"{base}/ccms/data_docs/{pages[0].relative_to(data_docs).as_posix()}"
    assert page.title()
    # Styled: Bootstrap's rules apply (collapsed table borders, its font stack, its container padding).
    style = page.eval_on_selector(
        "table.table",
        "t => ({collapse: getComputedStyle(t).borderCollapse, font: getComputedStyle(document.body).fontFamily,"
        " width: t.getBoundingClientRect().width})",
    )
    assert style["collapse"] == "collapse", style
    assert "Times" not in style["font"], style  # the browser's default serif would mean no stylesheet
    sheets = page.evaluate("[...document.styleSheets].map(s => [s.href, s.cssRules.length])")
    assert any(href and href.endswith("bootstrap.min.css") and rules > 100 for href, rules in sheets), sheets
    icon = page.eval_on_selector("i.fas, i.fa", "i => getComputedStyle(i, '::before').fontFamily")
    assert "Font Awesome" in icon, icon
    # Filled: the suite's expectations, each a row of the results table, with their outcome.
    rows = page.locator("table.table tr", has_text="child_id")
    assert rows.count() >= 1
    assert page.locator("table.table tbody tr").count() >= 8
    # The show/hide buttons work without inline code (their handlers are wired by a local script).
    page.get_by_text("Failed Only", exact=False).first.click()
    page.get_by_text("Show All", exact=False).first.click()
    page.screenshot(path=str(shot), full_page=True)
    hosts = {urllib.parse.urlsplit(u).hostname for u in requests if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, sorted(set(requests))
    assert problems == [], problems
