"""A run that needs attention ends failed and mails an alert; errors a retry cannot fix fail at once.

Real ``airflow dags test`` runs (real sandboxes over HTTP, real PostgreSQL, the DAG as the loader
role) of one period with four sites: PPP (complete), brightwheel with a rejected API key (HTTP 401:
not retried), Alliance CORE answering 503 to everything (retried once, then failed) and a site whose
license is not linked (no vendor call, no usable data). Retries are on (1, after 1 s) so that a
retry would show in ``try_number``.

1. With the alert connection pointing at a local SMTP server (``devtools/smtp_sink.py``): the run
   loads and reports what it can, then ``check_period`` fails it, and the failure notifier mails
   the period, the sites and what to do.
2. Without the alert connection, the vendors healthy: the unlinked license alone fails the run
   (only ``check_period`` fails), and the notifier logs one line instead of crashing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from support.portal_state import PortalState, at
from support.vendor_scenario import VendorScenario

from ccms_attendance.canonical import Source
from ccms_attendance.periods import ServicePeriod
from devtools.smtp_sink import Received, SmtpSink
from devtools.vendor_sandboxes import CONN_IDS

pytestmark = pytest.mark.e2e

PERIOD = ServicePeriod(dt.date(2026, 8, 2), dt.date(2026, 8, 15))
EARLIER = dt.date(2026, 7, 5)
WEEKDAYS = [d for d in PERIOD.days if d.isoweekday() <= 5]
RECIPIENT = "attendance-ops@example.test"
RETRIES = {"CCMS_TASK_RETRIES": "1", "CCMS_TASK_RETRY_DELAY_SECONDS": "1"}


def build(folder: Path) -> tuple[PortalState, Path]:
    portal = PortalState(PERIOD)
    vendors = VendorScenario()
    portal.site("S-PPP", "CC-A-PP").voucher("3001", "S-PPP").submission("S-PPP", PERIOD.start)
    portal.site("S-UNL", "CC-A-UN", linked=False).voucher("3401", "S-UNL")
    for site_id, license_number, source, child in (
        ("S-BW", "CC-A-BW", Source.BRIGHTWHEEL, "3101"),
        ("S-AC", "CC-A-AC", Source.ALLIANCE_CORE, "3201"),
        ("S-UNL", "CC-A-UN", Source.ALLIANCE_CORE, "3401"),
    ):
        if site_id != "S-UNL":
            portal.site(site_id, license_number).voucher(child, site_id)
        portal.submission(site_id, EARLIER, submitted_at=at(dt.date(2026, 7, 20)))
        portal.selection(site_id, str(source), PERIOD.start, chosen_at=at(dt.date(2026, 7, 19)))
        vendors.site(str(source), license_number).child(license_number, child)
        for day in WEEKDAYS:
            vendors.present(license_number, child, day)
    return portal, vendors.write(folder / "scenario.json")


@dataclass
class Runs:
    faulty_log: str
    tries: dict[str, tuple[str, int]]  # task (map index 0 for mapped ones) -> (state, try_number)
    mail: list[Received]
    healthy_log: str
    healthy_tries: dict[str, tuple[str, int]]
    site_period: dict[str, tuple]


def task_tries(home: Path, run_id: str) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(home / "airflow.db") as meta:
        rows = meta.execute(
            "SELECT task_id, state, try_number FROM task_instance WHERE run_id = ? AND map_index IN (-1, 0)",
            (run_id,),
        ).fetchall()
    return {task_id: (state, tries) for task_id, state, tries in rows}


def logged_json(log: str, title: str) -> dict:
    """The JSON object of the first ``<title>: {...}`` line of ``log``."""
    line = next(x for x in log.splitlines() if f"{title}: {{" in x)
    return json.JSONDecoder().raw_decode(line.split(f"{title}: ", 1)[1])[0]


def run_id_of(log: str) -> str:
    return re.search(r"run_id=(manual__[^,\s]+)", log).group(1)


@pytest.fixture(scope="module")
def runs(warehouse, sandbox_fleet, period_runner, tmp_path_factory) -> Runs:
    folder = tmp_path_factory.mktemp("run_alerts")
    portal, scenario = build(folder)
    with psycopg.connect(warehouse.conninfo, autocommit=True) as conn:
        from conftest import truncate_data

        truncate_data(conn)
        portal.write(conn)
        sandbox_fleet.reload_scenario(scenario)
        bad_key = sandbox_fleet.connection(Source.BRIGHTWHEEL) | {"password": "not-the-key"}
        faulty_env = {**RETRIES, f"AIRFLOW_CONN_{CONN_IDS[Source.BRIGHTWHEEL].upper()}": json.dumps(bad_key)}
        sandbox_fleet.set_faults([{"kind": "http_5xx", "status": 503, "times": None}], Source.ALLIANCE_CORE)
        try:
            with SmtpSink(folder=folder / "mail") as sink:
                faulty_env |= {
                    "AIRFLOW_CONN_CCMS_ALERTS_SMTP": json.dumps(sink.connection()),
                    "CCMS_ALERT_RECIPIENTS": RECIPIENT,
                }
                faulty_log = period_runner.run(WEEKDAYS[0], fails=True, **faulty_env)
                mail = sink.wait_for(1, timeout=30)
        finally:
            sandbox_fleet.clear_faults()
        healthy_log = period_runner.run(WEEKDAYS[1], fails=True, **RETRIES)
        site_period = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                "SELECT site_id, complete, incomplete_kind, unavailable_cause FROM reconciled.site_period"
                " WHERE period_start = %s",
                (PERIOD.start,),
            )
        }
    home = period_runner.airflow_home
    return Runs(
        faulty_log,
        task_tries(home, run_id_of(faulty_log)),
        mail,
        healthy_log,
        task_tries(home, run_id_of(healthy_log)),
        site_period,
    )


def test_a_rejected_api_key_fails_at_once_and_an_outage_is_retried(runs):
    # 401: one try although retries are on; the advice is about the credentials, not "when the vendor is back".
    assert runs.tries["brightwheel.extract_batch"] == ("failed", 1)
    assert runs.tries["alliance_core.extract_batch"] == ("failed", 2)
    assert "What to do: the vendor refused the credentials, or the Airflow connection ccms_brightwheel" in (
        runs.faulty_log
    )
    assert "What to do (if the retries fail too): the vendor was unreachable or failing" in runs.faulty_log
    # Everything that could be loaded is loaded and reported before the run is failed.
    assert runs.tries["load"] == ("success", 1)
    assert runs.tries["report"] == ("success", 1)
    assert runs.tries["check_period"][0] == "failed"


def test_check_period_names_each_site_why_and_what_to_do(runs):
    check = [line for line in runs.faulty_log.splitlines() if "site S-" in line and "what to do" in line]
    assert any("site S-BW (license CC-A-BW, BRIGHTWHEEL)" in line and "HTTP 401" in line for line in check)
    assert any("site S-AC (license CC-A-AC, ALLIANCE_CORE)" in line and "HTTP 503" in line for line in check)
    assert any("site S-UNL" in line and "link the license" in line for line in check)
    assert not any("S-PPP" in line for line in check)
    assert "Failed tasks: alliance_core.extract_batch[0], brightwheel.extract_batch[0]" in runs.faulty_log
    # The check's structured line.
    check_json = logged_json(runs.faulty_log, "Period check")
    assert check_json["needs_attention"] is True
    assert {s["site_id"]: s["cause"] for s in check_json["sites_without_usable_data"]} == {
        "S-AC": "source_failed",
        "S-BW": "source_failed",
        "S-UNL": "plan",
    }


def test_the_failure_notifier_mails_period_sites_and_what_to_do(runs):
    assert len(runs.mail) == 1
    message = runs.mail[0]
    assert message.recipients == (RECIPIENT,)
    assert f"period {PERIOD} needs attention" in message.subject
    body = message.text()
    assert f"Service period {PERIOD}" in body
    assert "site S-BW (license CC-A-BW, BRIGHTWHEEL)" in body
    assert "site S-UNL" in body
    assert "link the license" in body
    assert "Failed tasks:" in body
    assert "brightwheel.extract_batch[0]" in body
    assert "What to do:" in body
    assert "not-the-key" not in body


def test_a_site_without_usable_data_alone_fails_the_run_and_a_missing_alert_connection_is_one_line(runs):
    failed = sorted(task for task, (state, _) in runs.healthy_tries.items() if state not in ("success", "skipped"))
    assert failed == ["check_period"]
    assert runs.site_period["S-BW"][0]
    assert runs.site_period["S-AC"][0]
    assert runs.site_period["S-PPP"][0]
    assert runs.site_period["S-UNL"] == (False, "data_unavailable", "plan")
    lines = [x for x in runs.healthy_log.splitlines() if "CCMS alert for failed run" in x]
    assert len(lines) == 1, lines
    assert "Airflow connection 'ccms_alerts_smtp' is not defined" in lines[0]
    assert "Callback failed" not in runs.healthy_log


def test_summaries_are_structured_json(runs):
    for title in ("Period planned", "Batch extracted", "Source extracted", "Period reconciled", "Period report"):
        assert logged_json(runs.healthy_log, title)["period"] == str(PERIOD), title
