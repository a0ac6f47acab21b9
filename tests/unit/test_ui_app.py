"""The /ccms/ app's file routes (no Airflow server: the access check is replaced, it is tested in
tests/e2e/test_ui_browser.py): GX assets from the installed packages, the CSP of each kind of page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ccms_attendance.ui.app import create_app, require_run_access

SITE = "2026-11-08/manual__r1/ppp_entries/gx"


@pytest.fixture
def client(tmp_path, monkeypatch):
    docs, reports = tmp_path / "data_docs", tmp_path / "reports"
    monkeypatch.setenv("CCMS_DATA_DOCS_DIR", str(docs))
    monkeypatch.setenv("CCMS_REPORTS_DIR", str(reports))
    (docs / SITE).mkdir(parents=True)
    (docs / SITE / "index.html").write_text("<html>gx</html>")
    (reports / "2026-11-08").mkdir(parents=True)
    (reports / "2026-11-08" / "latest.html").write_text("<html>report</html>")
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
