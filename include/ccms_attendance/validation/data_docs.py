"""Human-readable data docs: every suite's expectations and, when given, the latest outcomes.

GX 1.x's own Data Docs are built from a file Data Context's validation-results store; this
pipeline validates in throwaway ephemeral contexts, so the page is rendered here instead, as one
static ``index.html`` (no GX import, no JavaScript) from the suite JSON files and the outcomes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from html import escape
from pathlib import Path

from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.validation.engine import describe, expectations_dir
from ccms_attendance.validation.outcome import FailedExpectation, ValidationOutcome

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; font-size: 0.9rem; }
th { background: #f3f3f3; }
.critical { color: #a00; font-weight: bold; } .warning { color: #b60; } .info { color: #057; }
.ok { color: #070; font-weight: bold; } .failed { color: #a00; font-weight: bold; }
code, pre { font-size: 0.85rem; }
"""


def default_target_dir() -> Path:
    return Path(os.environ.get("CCMS_DATA_DOCS_DIR", PROJECT_ROOT / "build" / "data_docs"))


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


def build_data_docs(outcomes: list[ValidationOutcome] | None = None, target_dir: Path | None = None) -> Path:
    """Write ``index.html`` describing every suite (and the given outcomes) into ``target_dir``."""
    target = Path(target_dir) if target_dir is not None else default_target_dir()
    target.mkdir(parents=True, exist_ok=True)
    suites = _load_suites()
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
        f"<table><tr><th>suite</th><th>expectations</th><th>latest outcome</th></tr>{index_rows}</table>"
        + "".join(_suite_section(n, suites.get(n), latest.get(n)) for n in names)
        + "</body></html>\n"
    )
    index = target / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _status_cell(outcome: ValidationOutcome | None) -> str:
    if outcome is None:
        return "-"
    label = "<span class='ok'>passed</span>" if outcome.success else "<span class='failed'>FAILED</span>"
    return f"{label} ({outcome.evaluated_rows} rows, {len(outcome.quarantine)} quarantined)"
