"""The period reports and GX data docs in the Airflow UI.

- A FastAPI app mounted on the API server at ``/ccms`` serves the reports root and the data docs root
  (:mod:`ccms_attendance.artifact_store`: ``build/reports`` and ``build/data_docs`` by default, or a
  bucket the workers write to) read-only, through ``ObjectStoragePath``, to users allowed to read the
  period DAG's runs:

  ``/ccms/``                                    the periods this instance ran: lifecycle, run state, counts, links
  ``/ccms/reports/<period>/latest.html``        the period's latest report
  ``/ccms/reports/<period>/<run>/report.html``  one run's report (``<run>`` = sanitized run id)
  ``/ccms/data_docs/<period>/<run>/<suite>/``   one run's GX data docs (``.../gx/static/*``: GX's assets,
                                                from the installed packages, see validation/gx_offline.py)
  ``/ccms/dags/<dag id>/runs/<run id>``         redirects to that run's report
  ``/ccms/periods/<period>``                    redirects to the period's latest report

- External views: "CCMS period reports" in the Browse menu, and a "Period report" tab on every run
  of ``ccms_attendance_period``.
- ``PeriodReportLink``: an operator extra link ("Period report") to the run's report, for the task
  that writes it.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from ccms_attendance.artifact_store import child, data_docs_root, reports_root
from ccms_attendance.paths import KEPT_OUTCOMES_DIR, run_folder

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

DAG_ID = "ccms_attendance_period"
REPORT_FILE = "report.html"
LATEST_FILE = "latest.html"
_PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Reports are static pages with inline styles and SVG: nothing else may load.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'"
# GX's Data Docs, made offline (validation/gx_offline.py): scripts, styles, fonts and images from this
# server only - no inline script, no other host; GX's inline styles stay allowed (styles run no code).
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
#: ``<period>/<run>/<suite>/gx/static/<asset>``: GX's assets, served from the installed packages.
_GX_STATIC = re.compile(r"^(?P<site>(?:[^/]+/)*gx)/static/(?P<asset>.+)$")


# --------------------------------------------------------------------------------------------------
# Access: the same rule as reading the DAG's runs in the UI (the UI's session cookie or a bearer token)


async def require_run_access(request: Request) -> None:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPAuthorizationCredentials

    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials) if credentials else None
    try:
        user = await get_user(request, None, bearer)
    except HTTPException as error:
        if error.status_code == 401 and "text/html" in request.headers.get("accept", ""):
            login = get_auth_manager().get_url_login(next_url=str(request.url))
            raise HTTPException(status_code=307, headers={"Location": login}) from error
        raise
    allowed = get_auth_manager().is_authorized_dag(
        method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=DAG_ID), user=user
    )
    if not allowed:
        raise HTTPException(status_code=403, detail="Forbidden: reading the period DAG's runs is required")


# --------------------------------------------------------------------------------------------------
# Files


def _inside(root: ObjectStoragePath, relative: str) -> ObjectStoragePath:
    """``root/relative`` if it stays inside ``root`` (no ``..``, no link out); 404 otherwise."""
    target = child(root, relative)
    if target is None:
        raise HTTPException(status_code=404)
    return target


def _page(title: str, body: str, style: str = "body{font-family:system-ui,sans-serif;margin:2rem}") -> HTMLResponse:
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{style}li{{margin:.2rem 0}}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": _CSP})


def _serve(root: ObjectStoragePath, relative: str, request: Request, csp: str = _CSP) -> Response:
    """A stored file (read through ObjectStoragePath, so a bucket works like a folder), a folder's
    ``index.html``, or a folder listing."""
    target = _inside(root, relative)
    if target.is_dir():
        if not request.url.path.endswith("/"):
            return RedirectResponse(f"{request.url.path.rsplit('/', 1)[-1]}/", status_code=307)
        if (target / "index.html").is_file():
            target = target / "index.html"
        else:
            entries = sorted((p for p in target.iterdir() if p.name != KEPT_OUTCOMES_DIR), key=lambda p: p.name)
            items = "".join(
                f"<li><a href='{quote(p.name)}{'/' if p.is_dir() else ''}'>{escape(p.name)}</a></li>" for p in entries
            )
            return _page(f"CCMS - {relative or '/'}", f"<p><a href='../'>up</a></p><ul>{items}</ul>")
    try:
        content = target.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise HTTPException(
            status_code=404, detail="no such page (data docs of older runs are removed by retention)"
        ) from None
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type in ("application/javascript", "application/json"):
        media_type += "; charset=utf-8"  # the reports and GX's pages are written as UTF-8
    headers = {"Content-Security-Policy": csp, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return Response(content, media_type=media_type, headers=headers)


def _serve_gx_asset(root: ObjectStoragePath, site: str, asset: str) -> Response:
    """An asset of a GX site's ``static/`` folder, from the installed packages (the site must exist)."""
    from ccms_attendance.validation.gx_offline import asset_file  # not at import: the plugin loads everywhere

    if not _inside(root, site).is_dir():
        raise HTTPException(status_code=404)
    path = asset_file(asset)
    if path is None:
        raise HTTPException(status_code=404, detail="no such data docs asset")
    # Versioned by the installed packages: a day of caching spares every page load the fonts and CSS.
    return FileResponse(path, headers={"Content-Security-Policy": _DOCS_CSP, "Cache-Control": "max-age=86400"})


def _index_body() -> str:
    """The periods this instance ran (its metadata) with the warehouse's state and counts."""
    from ccms_attendance.hooks.warehouse import WarehouseHook
    from ccms_attendance.ui import period_index  # psycopg and SQL: not at import, the plugin loads everywhere

    try:
        runs = period_index.airflow_runs()
    except Exception as error:  # the page says what is missing rather than failing
        log.warning("the /ccms/ index could not read this instance's DAG runs", exc_info=True)
        return f"<p class='warn'>Could not read this Airflow instance's runs: {escape(type(error).__name__)}</p>"
    if not runs:
        return period_index.render_rows([])
    try:
        with WarehouseHook().connect(application_name="ccms-attendance ui") as conn:
            lines = period_index.period_lines(conn, runs, reports_root(), data_docs_root())
    except Exception as error:
        log.warning("the /ccms/ index could not read the warehouse", exc_info=True)
        return f"<p class='warn'>Could not read the warehouse (ccms_warehouse): {escape(type(error).__name__)}</p>"
    return period_index.render_rows(lines)


def create_app() -> FastAPI:
    app = FastAPI(
        title="CCMS attendance period reports",
        description="Period reports and GX data docs of the ccms_attendance_period DAG",
        dependencies=[Depends(require_run_access)],
    )

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        from ccms_attendance.ui.period_index import STYLE

        return _page("CCMS attendance - service periods", _index_body(), style=STYLE)

    @app.get("/reports/{relative:path}")
    def reports(relative: str, request: Request) -> Response:
        return _serve(reports_root(), relative, request)

    @app.get("/data_docs/{relative:path}")
    def data_docs(relative: str, request: Request) -> Response:
        if KEPT_OUTCOMES_DIR in relative.split("/"):  # the data_docs task's input, not a page
            raise HTTPException(status_code=404)
        asset = _GX_STATIC.match(relative)
        if asset:
            return _serve_gx_asset(data_docs_root(), asset["site"], asset["asset"])
        return _serve(data_docs_root(), relative, request, csp=_DOCS_CSP)

    @app.get("/periods/{period}")
    def period_latest(period: str) -> Response:
        if not _PERIOD.match(period) or not (reports_root() / period / LATEST_FILE).is_file():
            raise HTTPException(status_code=404, detail=f"no report for the period starting {period}")
        return RedirectResponse(f"../reports/{period}/{LATEST_FILE}", status_code=307)

    @app.get("/dags/{dag_id}/runs/{run_id}")
    def run_report(dag_id: str, run_id: str) -> Response:
        if dag_id != DAG_ID:
            return _page("No period report", f"<p>{escape(dag_id)} does not write period reports.</p>")
        folder = run_folder(run_id)
        root = reports_root()
        found = root.glob(f"*/{folder}/{REPORT_FILE}") if folder not in (".", "..") and root.is_dir() else []
        candidates = sorted(found, key=lambda p: p.parent.parent.name)
        if not candidates:
            return _page(
                "No period report yet",
                f"<p>Run <code>{escape(run_id)}</code> has no report (it is written once the run has loaded "
                "its period). <a href='../../../'>All period reports</a></p>",
            )
        period = candidates[-1].parent.parent.name
        return RedirectResponse(f"../../../reports/{period}/{quote(folder)}/{REPORT_FILE}", status_code=307)

    return app


#: The UI entries: "CCMS period reports" in the Browse menu and a "Period report" tab on every run.
EXTERNAL_VIEWS = [
    {
        "name": "CCMS period reports",
        "href": "ccms/",
        "destination": "nav",
        "category": "browse",
        "url_route": "ccms-period-reports",
    },
    {
        "name": "Period report",
        "href": "ccms/dags/{DAG_ID}/runs/{RUN_ID}",
        "destination": "dag_run",
        "url_route": "ccms-period-report",
    },
]
