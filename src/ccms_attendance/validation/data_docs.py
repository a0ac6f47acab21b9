"""Human-readable data docs: every suite's expectations and, when given, the outcomes.

Two sites are written into ``target_dir``:

- ``index.html``: the project's own summary page (no JavaScript), rendered from the suite JSON
  files and the outcomes (severity policy, quarantine counts, sample bad rows);
- ``gx/index.html``: GX's own Data Docs site (``gx/expectations/<suite>.html``,
  ``gx/validations/<suite>/<run name>/<run time>/<batch>.html``), built by GX's ``SiteBuilder``
  from the suites and the very GX results the outcomes carry (``outcome.gx_result``): nothing is
  validated again. A one-off ephemeral Data Context holds them in memory stores; only the site
  is written to disk. Outcomes without a GX result (e.g. built by hand) get no validation page.
  The site is then made to work offline (:mod:`.gx_offline`): local assets served by the UI
  plugin, no inline script, no per-site copy of GX's static files.

GX writes its site with local file operations, so :func:`publish_data_docs` builds both sites in a
private temporary folder and then copies that folder's files, and only them, to the configured data
docs root (:mod:`ccms_attendance.artifact_store`: a local folder or a bucket the UI plugin reads).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import tempfile
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccms_attendance.artifact_store import upload_folder
from ccms_attendance.validation.engine import describe, expectations_dir
from ccms_attendance.validation.gx_offline import make_offline
from ccms_attendance.validation.outcome import FailedExpectation, ValidationOutcome

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

GX_SITE_DIR = "gx"  # GX's Data Docs site, inside the target dir
_GX_SITE_NAME = "ccms_local_site"
_GX_RUN_NAME = "ccms_attendance"
_GX_LOAD_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # GX's batch_markers["ge_load_time"]
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; font-size: 0.9rem; }
th { background: #f3f3f3; }
.critical { color: #a00; font-weight: bold; } .warning { color: #b60; } .info { color: #057; }
.ok { color: #070; font-weight: bold; } .failed { color: #a00; font-weight: bold; }
code, pre { font-size: 0.85rem; }
"""


def _load_suites() -> dict[str, dict]:
    suites = {}
    for path in sorted(expectations_dir().glob("*.json")):
        data = json.loads(path.read_text())
        suites[data.get("name", path.stem)] = data
    return suites


def _failure_rows(failures: list[FailedExpectation]) -> str:
    rows = []
    for failure in failures:
        samples = "".join(f"<pre>{escape(json.dumps(row, sort_keys=True))}</pre>" for row in failure.sample_rows)
        rows.append(
            f"<tr><td class='{escape(failure.severity)}'>{escape(failure.severity)}</td>"
            f"<td><code>{escape(failure.description)}</code></td><td>{failure.unexpected_count}</td>"
            f"<td>{samples}</td></tr>"
        )
    return (
        "<table><tr><th>severity</th><th>expectation</th><th>unexpected</th><th>sample rows</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _outcome_section(outcome: ValidationOutcome) -> str:
    status = "<span class='ok'>passed</span>" if outcome.success else "<span class='failed'>FAILED</span>"
    parts = [
        f"<p>Latest outcome: {status} - {outcome.evaluated_rows} rows evaluated, "
        f"{len(outcome.quarantine)} quarantined, {len(outcome.critical_failures)} critical failure(s), "
        f"{len(outcome.warnings)} warning(s).</p>"
    ]
    if outcome.critical_failures:
        parts.append("<h4>Critical failures</h4>" + _failure_rows(outcome.critical_failures))
    if outcome.warnings:
        parts.append("<h4>Warnings and notices</h4>" + _failure_rows(outcome.warnings))
    per_expectation = outcome.result.get("expectations", [])
    if per_expectation:
        rows = "".join(
            f"<tr><td><code>{escape(str(e.get('expectation_type')))}</code></td><td>{escape(str(e.get('column')))}</td>"
            f"<td class='{escape(str(e.get('severity')))}'>{escape(str(e.get('severity')))}</td>"
            f"<td>{escape(str(e.get('action')))}</td><td>{escape(str(e.get('unexpected_count')))}</td></tr>"
            for e in per_expectation
        )
        parts.append(
            "<h4>Per expectation</h4><table><tr><th>expectation</th><th>column</th><th>severity</th>"
            f"<th>result</th><th>unexpected</th></tr>{rows}</table>"
        )
    return "".join(parts)


def _suite_section(name: str, suite: dict | None, outcome: ValidationOutcome | None) -> str:
    parts = [f"<h2 id='{escape(name)}'>{escape(name)}</h2>"]
    if suite:
        meta = suite.get("meta", {})
        parts.append(f"<p>{escape(str(meta.get('description', '')))}</p>")
        parts.append(
            f"<p>Rows failing a critical row-level expectation are quarantined; more than "
            f"{float(meta.get('max_quarantine_fraction', 0.05)):.0%} quarantined fails the suite.</p>"
        )
        rows = "".join(
            f"<tr><td class='{escape(e.get('severity', 'critical'))}'>{escape(e.get('severity', 'critical'))}</td>"
            f"<td><code>{escape(describe(e))}</code></td></tr>"
            for e in suite.get("expectations", [])
        )
        parts.append(f"<table><tr><th>severity</th><th>expectation</th></tr>{rows}</table>")
    if outcome is not None:
        parts.append(_outcome_section(outcome))
    return "".join(parts)


def publish_data_docs(outcomes: list[ValidationOutcome] | None, target: ObjectStoragePath) -> ObjectStoragePath:
    """Build the data docs in a temporary folder and copy them into ``target`` (files of an earlier
    build there that this one has not are removed); returns ``target``'s ``index.html``."""
    with tempfile.TemporaryDirectory(prefix="ccms-data-docs-") as tmp:
        index = build_data_docs(outcomes, Path(tmp))
        copied = upload_folder(index.parent, target)
    log.info("Data docs: %d file(s) published to %s", copied, target)
    return target / index.name


def build_data_docs(outcomes: list[ValidationOutcome] | None, target_dir: Path) -> Path:
    """Write ``index.html`` (every suite and the given outcomes) and GX's Data Docs (``gx/``) into
    the local folder ``target_dir``.

    Returns the project page. If GX's site cannot be built, that is logged and noted on the page.
    """
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    suites = _load_suites()
    try:
        gx_note = _gx_link(build_gx_data_docs(outcomes, target / GX_SITE_DIR, suites=suites))
    except Exception as error:  # the project page is still worth writing
        log.warning("GX Data Docs could not be built in %s", target / GX_SITE_DIR, exc_info=True)
        gx_note = f"<p class='failed'>GX Data Docs could not be built: {escape(repr(error))}</p>"
    latest = {outcome.suite_name: outcome for outcome in outcomes or []}
    names = list(suites) + [name for name in latest if name not in suites]
    index_rows = "".join(
        f"<tr><td><a href='#{escape(n)}'>{escape(n)}</a></td>"
        f"<td>{len(suites.get(n, {}).get('expectations', []))}</td>"
        f"<td>{_status_cell(latest.get(n))}</td></tr>"
        for n in names
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>CCMS attendance - data docs</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>CCMS attendance - data quality (Great Expectations suites)</h1><p>Generated {generated}.</p>"
        f"{gx_note}"
        f"<table><tr><th>suite</th><th>expectations</th><th>latest outcome</th></tr>{index_rows}</table>"
        + "".join(_suite_section(n, suites.get(n), latest.get(n)) for n in names)
        + "</body></html>\n"
    )
    index = target / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _gx_link(gx_index: Path) -> str:
    href = f"{GX_SITE_DIR}/{gx_index.name}"  # relative: the folder may be moved or served elsewhere
    return (
        f"<p>Great Expectations' own Data Docs (suites and validation results): "
        f"<a href='{escape(href)}'>{escape(href)}</a></p>"
    )


def build_gx_data_docs(
    outcomes: list[ValidationOutcome] | None, site_dir: Path, *, suites: dict[str, dict] | None = None
) -> Path:
    """Build GX's Data Docs site in ``site_dir`` from the suites and the outcomes' GX results; its index.

    The suites and results go into an ephemeral Data Context's in-memory stores; GX's
    ``SiteBuilder`` renders them into ``site_dir`` (pages of results no longer given are removed).
    """
    from ccms_attendance.validation.gx_run import import_gx

    gx = import_gx()
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    site_dir = Path(site_dir).resolve()
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={_GX_SITE_NAME: site},
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    for definition in (_load_suites() if suites is None else suites).values():
        context.suites.add(gx.ExpectationSuite(**definition))

    schema = ExpectationSuiteValidationResultSchema()
    keys: set[tuple] = set()
    for outcome in outcomes or []:
        if not outcome.gx_result:
            continue
        data = copy.deepcopy(outcome.gx_result)
        meta = data.setdefault("meta", {})
        markers = meta.get("batch_markers") or {}
        run_id = RunIdentifier(run_name=_GX_RUN_NAME, run_time=_load_time(markers.get("ge_load_time")))
        # What GX's checkpoints record: shown as run name/time and "Data asset" on the page.
        meta.setdefault("run_id", {"run_name": run_id.run_name, "run_time": run_id.run_time.isoformat()})
        asset = (meta.get("active_batch_definition") or {}).get("data_asset_name")
        if asset and isinstance(meta.get("batch_spec"), dict):
            meta["batch_spec"].setdefault("data_asset_name", asset)
        batch = _unique_batch(str(markers.get("pandas_data_fingerprint") or "batch"), data["suite_name"], run_id, keys)
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=data["suite_name"]), run_id, batch)
        context.validation_results_store.set(key, schema.load(data))

    built = context.build_data_docs(site_names=[_GX_SITE_NAME])
    index = site_dir / "index.html"
    if _GX_SITE_NAME not in built or not index.is_file():
        raise RuntimeError(f"GX built no Data Docs index in {site_dir}")
    make_offline(site_dir)  # local assets, no inline script, no per-run copy of GX's static files
    return index


def _load_time(text: str | None) -> dt.datetime:
    try:
        return dt.datetime.strptime(str(text), _GX_LOAD_TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime.now(dt.UTC)


def _unique_batch(batch: str, suite_name: str, run_id: Any, keys: set[tuple]) -> str:
    """``batch``, suffixed if this suite, run and batch are already stored (the same frame validated twice)."""
    candidate, n = batch, 1
    while (suite_name, *run_id.to_tuple(), candidate) in keys:
        n += 1
        candidate = f"{batch}_{n}"
    keys.add((suite_name, *run_id.to_tuple(), candidate))
    return candidate


def _status_cell(outcome: ValidationOutcome | None) -> str:
    if outcome is None:
        return "-"
    label = "<span class='ok'>passed</span>" if outcome.success else "<span class='failed'>FAILED</span>"
    return f"{label} ({outcome.evaluated_rows} rows, {len(outcome.quarantine)} quarantined)"
