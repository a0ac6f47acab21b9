"""What the state sends onward, end to end from an intake drop: real `airflow dags test` runs of
`ccms_reference_sync`, of the period DAG and of `ccms_period_outputs`, a real PostgreSQL, a real local
SMTP server, and Chromium reading the letters.

The state's reference and portal data (provider with an e-mail address, site, vouchers, the portal
absences) arrive as a snapshot drop that the sync DAG applies. Dates are relative to today: the two
latest periods whose submission deadline has passed are final (and well inside the 60-day correction
window); the period after them is still provisional. One portal child is absent every weekday of
both final periods: 10 absences in the first (a notice), 20 in the year and 20 in a row in the second
(a notice and an eligibility referral). The provider's correction of one absence of the second
period arrives as a second drop (a change set withdrawing the portal entry); after the sync and a
rerun of the period, both of its notices are withdrawn: one withdrawal letter each.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from support.intake_drops import change_set, run_sync
from support.outputs_state import P1, P2, PROVISIONAL, portal, weekdays

from ccms_attendance.periods import ServicePeriod
from devtools.demo.drop import drop_name, write_drop
from devtools.local_airflow import dags_test
from devtools.smtp_sink import SmtpSink

pytestmark = pytest.mark.e2e


class Outputs:
    """Runs of ccms_period_outputs with the Param fallback (a scheduler would pass the Asset events)."""

    def __init__(self, period_runner, folder, sink) -> None:
        self.runner, self.folder, self.sink, self.runs = period_runner, folder, sink, 0

    def run(self, period: ServicePeriod) -> str:
        self.runs += 1
        env = self.runner.env(
            {"CCMS_OUTPUTS_URL": self.folder.as_uri(), "AIRFLOW_CONN_CCMS_OUTPUTS_SMTP": self.sink.airflow_conn_uri()}
        )
        logical = f"2026-01-05T00:{self.runs:02d}:00+00:00"  # one run id per call
        log_file = self.runner.airflow_home / f"outputs-{self.runs}.log"
        dags_test(
            env, "ccms_period_outputs", logical, conf={"period_start": period.start.isoformat()}, log_file=log_file
        )
        return log_file.read_text()


def summary(log: str, period: ServicePeriod) -> dict:
    """The last summary line the run logged for ``period``."""
    marker = f"Outputs of period {period.start}: "
    line = [x for x in log.splitlines() if marker in x][-1]
    return json.JSONDecoder().raw_decode(line.split(marker, 1)[1])[0]


def test_an_intake_drop_through_two_final_periods_to_delivered_letters_no_repeat_and_a_withdrawal(
    conn, period_runner, tmp_path
):
    drops = tmp_path / "drops"
    snapshot = write_drop(portal().generated(), drops)  # the provider's address: office@p-out.example.org
    run_sync(period_runner, drops, "2026-01-06T00:01:00+00:00")
    assert conn.execute("SELECT drop_name FROM ref.intake_drop").fetchall() == [(snapshot.name,)]
    with SmtpSink() as sink:
        outputs = Outputs(period_runner, tmp_path / "outputs", sink)

        period_runner.run(P1.start + dt.timedelta(days=3))
        outputs.run(P1)
        (first,) = sink.received()
        assert first.recipients == ("office@p-out.example.org",)
        assert f"service period starting {P1.start}: 1 notice(s), 0 withdrawal(s)" in first.message["Subject"]

        period_runner.run(P2.start + dt.timedelta(days=3))
        log = outputs.run(P2)
        assert summary(log, P2)["letters"] == {"email_notice": 2, "email_withdrawal": 0, "folder_notice": 2,
                                               "folder_withdrawal": 0}  # fmt: skip
        assert len(sink.received()) == 2
        referrals = (tmp_path / "outputs" / "state" / P2.start.isoformat() / "eligibility_referrals.csv").read_text()
        assert "1001,consecutive_absences,20," in referrals

        # A rerun sends nothing again.
        assert summary(outputs.run(P2), P2)["letters"] == {}
        assert len(sink.received()) == 2

        # The provider corrects one absence of P2 in the portal: the next export is a change set that
        # withdraws that entry. The sync applies it, the period is rerun: both P2 notices are withdrawn.
        exported_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        correction = change_set(
            drops,
            drop_name(exported_at, "changes"),
            {"manual_entries": [{"action": "delete", "site_id": "S-A", "child_id": "1001",
                                 "attendance_date": weekdays(P2)[4].isoformat()}]},
            exported_at.isoformat(),
        )  # fmt: skip
        run_sync(period_runner, drops, "2026-01-06T00:02:00+00:00")
        assert conn.execute("SELECT drop_name FROM ref.intake_drop ORDER BY applied_at").fetchall() == [
            (snapshot.name,),
            (correction.name,),
        ]
        period_runner.run(P2.start + dt.timedelta(days=4))
        outputs.run(P2)
        withdrawal = sink.received()[-1]
        assert len(sink.received()) == 3
        assert "0 notice(s), 2 withdrawal(s)" in withdrawal.message["Subject"]
        assert summary(outputs.run(P2), P2)["letters"] == {}
        assert len(sink.received()) == 3

        # A provisional period produces nothing, and says so.
        period_runner.run(PROVISIONAL.start + dt.timedelta(days=3))
        log = outputs.run(PROVISIONAL)
        assert f"Period {PROVISIONAL.start} is provisional, not final: no outputs" in log
        assert len(sink.received()) == 3

    # Every load named its period and lifecycle on its Asset events (what the schedule passes on).
    with sqlite3.connect(period_runner.airflow_home / "airflow.db") as meta:
        extras = [json.loads(e) for (e,) in meta.execute("SELECT extra FROM asset_event ORDER BY id")]
    assert {"period_start": P2.start.isoformat(), "lifecycle": "final"} in extras
    assert {"period_start": PROVISIONAL.start.isoformat(), "lifecycle": "provisional"} in extras

    letters = tmp_path / "outputs" / "P-OUT" / P2.start.isoformat()
    folders = sorted(letters.glob("letters-*"))
    assert len(folders) == 2  # the notices, then the withdrawals
    assert {p.name for p in folders[0].iterdir()} == {
        "notices.csv", "letters.en.html", "letters.es.html", "letters.en.pdf", "letters.es.pdf"
    }  # fmt: skip
    assert (folders[0] / "letters.es.pdf").read_bytes().startswith(b"%PDF-")
    _screenshot_letters(folders[0], tmp_path / "screenshots")


def _screenshot_letters(folder, shots) -> None:
    """Chromium opens one letter in each language; the page's text is what the family reads."""
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright()() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            expected = {
                "en": [
                    "Notice: 20 absences in a row",
                    "Absences more than 60 days old cannot be appealed or credited.",
                ],
                "es": [
                    "Aviso: 20 ausencias seguidas",
                    "Las ausencias de más de 60 días no se pueden apelar ni acreditar.",
                ],
            }
            for lang, texts in expected.items():
                page.goto((folder / f"letters.{lang}.html").as_uri())
                body = page.locator("body").inner_text()
                for text in texts:
                    assert text in " ".join(body.split())
                assert page.locator("section.letter").count() == 2
                page.screenshot(path=str(shots / f"letter-{lang}.png"), full_page=True)
                assert (shots / f"letter-{lang}.png").stat().st_size > 10_000
        finally:
            browser.close()
