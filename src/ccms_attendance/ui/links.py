"""Links from Airflow to a run's period report; light enough to import in DAG files.

The web app that serves the reports is ``ccms_attendance.ui.app`` (mounted at ``URL_PREFIX``).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

URL_PREFIX = "/ccms"


def report_url(dag_id: str, run_id: str, base_url: str | None = None) -> str:
    """The UI URL of a run's period report (absolute when ``[api] base_url`` is set, else a path)."""
    if base_url is None:
        base_url = _api_base_url()
    return f"{base_url.rstrip('/')}{URL_PREFIX}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def _api_base_url() -> str:
    try:
        from airflow.configuration import conf

        return conf.get("api", "base_url", fallback="") or ""
    except Exception:  # a worker without the core configuration: a path still works in the UI
        return os.environ.get("AIRFLOW__API__BASE_URL", "")


class PeriodReportLink(BaseOperatorLink):
    """Operator extra link "Period report": the run's report in the UI (``/ccms/dags/<dag>/runs/<run>``)."""

    name = "Period report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return report_url(ti_key.dag_id, ti_key.run_id)
