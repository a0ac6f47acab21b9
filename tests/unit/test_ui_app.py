"""The /ccms/ app's file routes (no Airflow server: the access check is replaced, it is tested in
tests/e2e/test_ui_browser.py): GX assets from the installed packages, the CSP of each kind of page,
files read through ObjectStoragePath from a local folder (not the current directory) or from
fsspec's ``memory://`` file system as from a bucket."""

from __future__ import annotations

import os
import uuid

import pytest
from airflow.sdk import ObjectStoragePath
from fastapi.testclient import TestClient

from ccms_attendance.artifact_store import write_text
from ccms_attendance.paths import KEPT_OUTCOMES_DIR
from ccms_attendance.ui.app import create_app, require_run_access

SITE = "2026-11-08/manual__r1/ppp_entries/gx"
RUN = "2026-11-08/manual__2026-11-22T09_00_00_00_00"


@pytest.fixture(params=["file", "memory"])
def roots(request, tmp_path, monkeypatch) -> tuple[ObjectStoragePath, ObjectStoragePath]:
    """(reports root, data docs root), configured by URL; the current directory is elsewhere."""
    if request.param == "memory":
        from airflow.sdk.io import attach
        from fsspec.implementations.memory import MemoryFileSystem

        attach("memory", fs=MemoryFileSystem())
        base = f"memory://ccms-{uuid.uuid4().hex[:8]}"
    else:
        base = f"file://{tmp_path}/store"
        (tmp_path / "cwd").mkdir()
        monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("CCMS_REPORTS_URL", f"{base}/reports")
    monkeypatch.setenv("CCMS_DATA_DOCS_URL", f"{base}/data_docs")
    return ObjectStoragePath(f"{base}/reports"), ObjectStoragePath(f"{base}/data_docs")


@pytest.fixture
def client(roots):
    reports, docs = roots
    write_text(docs / SITE / "index.html", "<html>gx</html>")
    write_text(docs / SITE / "validations" / "v.json", '{"success": true}')
    write_text(reports / "2026-11-08" / "latest.html", "<html>report é</html>")
    write_text(reports / RUN / "report.html", "<html>run report</html>")
    app = create_app()
    app.dependency_overrides[require_run_access] = lambda: None
    return TestClient(app)


def test_gx_static_assets_come_from_the_installed_packages(client):
    css = client.get(f"/data_docs/{SITE}/static/vendor/bootstrap/css/bootstrap.min.css")
    assert css.status_code == 200
    assert "Bootstrap v4.5.3" in css.text
    assert css.headers["content-type"].startswith("text/css")
    assert client.get(f"/data_docs/{SITE}/static/vendor/jquery/jquery.min.js").status_code == 200
    font = client.get(f"/data_docs/{SITE}/static/vendor/font-awesome/webfonts/fa-solid-900.woff2")
    assert font.status_code == 200
    assert font.content[:4] == b"wOF2"
    assert client.get(f"/data_docs/{SITE}/static/images/favicon.ico").status_code == 200  # GX's own
    assert client.get(f"/data_docs/{SITE}/static/ccms/bootstrap-table-lite.js").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/data_docs/{SITE}/static/vendor/jquery/..%2F..%2F..%2F__init__.py",
        f"/data_docs/{SITE}/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        f"/data_docs/{SITE}/static/nothing.css",
        "/data_docs/2026-11-08/no_such_run/ppp_entries/gx/static/vendor/jquery/jquery.min.js",  # no such site
        "/data_docs/..%2F..%2Fgx/static/vendor/jquery/jquery.min.js",
    ],
)
def test_nothing_outside_the_assets_or_for_a_site_that_does_not_exist(client, path):
    assert client.get(path).status_code == 404


def test_data_docs_may_run_scripts_of_this_server_only_reports_none(client):
    docs = client.get(f"/data_docs/{SITE}/index.html")
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "connect-src 'none'" in policy
    assert "http" not in policy  # no other host, no CDN
    report = client.get("/reports/2026-11-08/latest.html").headers["content-security-policy"]
    assert "script-src" not in report  # default-src 'none': no script at all
    assert report.startswith("default-src 'none'")


def test_stored_files_are_served_with_their_content_type(client):
    latest = client.get("/reports/2026-11-08/latest.html")
    assert latest.status_code == 200
    assert latest.headers["content-type"] == "text/html; charset=utf-8"
    assert latest.text == "<html>report é</html>"
    assert latest.headers["x-content-type-options"] == "nosniff"
    data = client.get(f"/data_docs/{SITE}/validations/v.json")
    assert data.headers["content-type"].startswith("application/json")
    assert data.json() == {"success": True}
    assert client.get(f"/data_docs/{SITE}/nothing.html").status_code == 404


def test_folders_redirect_list_and_open_their_index(client):
    folder = client.get(f"/data_docs/{SITE}", follow_redirects=False)
    assert folder.status_code == 307
    assert folder.headers["location"] == "gx/"
    assert client.get(f"/data_docs/{SITE}/").text == "<html>gx</html>"
    listing = client.get("/reports/2026-11-08/")
    assert "href='latest.html'" in listing.text
    assert "href='manual__2026-11-22T09_00_00_00_00/'" in listing.text


def test_a_run_and_a_period_lead_to_their_stored_reports(client):
    run = client.get("/dags/ccms_attendance_period/runs/manual__2026-11-22T09:00:00+00:00", follow_redirects=False)
    assert run.status_code == 307
    assert run.headers["location"] == f"../../../reports/{RUN}/report.html"
    assert client.get("/periods/2026-11-08", follow_redirects=False).status_code == 307
    assert client.get("/periods/2026-11-22").status_code == 404
    assert "has no report" in client.get("/dags/ccms_attendance_period/runs/manual__other").text


@pytest.mark.parametrize(
    "path",
    ["/reports/%2e%2e/%2e%2e/pyproject.toml", "/reports/2026-11-08/..%2F..%2Fdata_docs/" + SITE + "/index.html"],
)
def test_nothing_outside_a_root(client, path):
    assert client.get(path).status_code == 404


def test_the_outcomes_kept_for_the_data_docs_task_are_not_served_nor_listed(client, roots):
    """They are the data_docs task's input (GX's full result), not a page: only the pages built from them are."""
    _, docs = roots
    run = docs / "2026-11-08" / "manual__r1"
    write_text(run / KEPT_OUTCOMES_DIR / "ppp_entries.json", "[]")
    write_text(run / "reconciled" / "index.html", "<html>built</html>")
    assert client.get(f"/data_docs/2026-11-08/manual__r1/{KEPT_OUTCOMES_DIR}/ppp_entries.json").status_code == 404
    assert client.get(f"/data_docs/2026-11-08/manual__r1/{KEPT_OUTCOMES_DIR}/").status_code == 404
    listing = client.get("/data_docs/2026-11-08/manual__r1/")
    assert listing.status_code == 200
    assert "reconciled" in listing.text
    assert KEPT_OUTCOMES_DIR not in listing.text


def test_no_link_out_of_a_local_root(tmp_path, monkeypatch):
    (tmp_path / "reports" / "2026-11-08").mkdir(parents=True)
    (tmp_path / "secret.html").write_text("secret")
    os.symlink(tmp_path / "secret.html", tmp_path / "reports" / "2026-11-08" / "latest.html")
    monkeypatch.setenv("CCMS_REPORTS_URL", str(tmp_path / "reports"))
    app = create_app()
    app.dependency_overrides[require_run_access] = lambda: None
    assert TestClient(app).get("/reports/2026-11-08/latest.html").status_code == 404
