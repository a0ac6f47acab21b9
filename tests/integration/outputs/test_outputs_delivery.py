"""Letters delivered from real loads: a real warehouse, a real folder, a real SMTP server.

PPP periods run through the pipeline's own steps (``support.period_steps``); the outputs read the
warehouse as the loader role, as the DAG does. Periods: P0 2026-10-25 and P1 2026-11-08 (deadline
2026-12-05, so the correction window closes 2027-02-03).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import psycopg
import pytest
from support.period_steps import AFTER_DEADLINES, run_ppp_period
from support.portal_state import PortalState, record_change

from ccms_attendance.intake.apply import history_entity
from ccms_attendance.intake.contract import BY_NAME
from ccms_attendance.outputs.delivery import Folder, Mailer, OutputsConfig
from ccms_attendance.outputs.produce import produce_outputs
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.warehouse.target import LOADER_ROLE
from devtools.smtp_sink import SmtpSink

P0 = ServicePeriod(dt.date(2026, 10, 25), dt.date(2026, 11, 7))
P1 = ServicePeriod(dt.date(2026, 11, 8), dt.date(2026, 11, 21))
IN_WINDOW = dt.date(2026, 12, 10)
PAST_WINDOW = dt.date(2027, 2, 4)


def weekdays(period: ServicePeriod) -> list[dt.date]:
    return [d for d in period.days if d.isoweekday() <= 5]


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


@pytest.fixture
def outputs(conn, warehouse, sink, tmp_path, monkeypatch):
    """Run a period, or deliver a period's outputs as the loader role; returns the helpers."""
    monkeypatch.setenv("CCMS_DATA_DOCS_DIR", str(tmp_path / "data_docs"))
    monkeypatch.setenv("AIRFLOW_CONN_CCMS_OUTPUTS_SMTP", sink.airflow_conn_uri())
    config = OutputsConfig(
        folder_url=(tmp_path / "out").as_uri(), folder_conn_id=None, smtp_conn_id="ccms_outputs_smtp",
        correction_window_days=60,
    )  # fmt: skip
    runs = iter(range(1, 100))

    class Helpers:
        folder_root = tmp_path / "out"

        @staticmethod
        def run(period: ServicePeriod, as_of: dt.datetime = AFTER_DEADLINES) -> None:
            run = RunContext(
                run_id=f"run-{next(runs)}", dag_id="ccms_attendance_period", period=period, triggered_by="t"
            )
            run_ppp_period(conn, run, as_of=as_of)

        @staticmethod
        def deliver(period: ServicePeriod, today: dt.date = IN_WINDOW):
            with psycopg.connect(warehouse.as_role(LOADER_ROLE).conninfo, autocommit=True) as loader:
                return produce_outputs(
                    loader, period.start, f"outputs-{next(runs)}", today, 60, Folder(config), Mailer(config)
                )

    return Helpers


def absent_child(conn) -> None:
    """Child 1001 absent every weekday of P0 and P1 (10 and 20 in the year, 20 in a row); 1002 present."""
    state = PortalState(P1)
    state.site("S-A", "CC-1").submission("S-A", P0.start).submission("S-A", P1.start)
    state.voucher("1001", "S-A", eligibility_start=dt.date(2026, 3, 1)).voucher("1002", "S-A")
    for d in weekdays(P0) + weekdays(P1):
        state.absence("S-A", "1001", d)
    state.write(conn)
    conn.execute("UPDATE ref.provider SET email = 'director@oak.example' WHERE provider_id = 'P-1'")


def text(part) -> str:
    """An attachment's text (the hook attaches files as application/octet-stream)."""
    return part.get_payload(decode=True).decode("utf-8")


def ledger(conn) -> list[tuple]:
    return conn.execute(
        "SELECT n.threshold, n.limit_kind, d.letter, d.channel, d.outcome FROM reconciled.notice_delivery d"
        " JOIN reconciled.absence_limit_notice n USING (notice_id) ORDER BY d.delivery_id"
    ).fetchall()


def test_notices_are_delivered_once_and_a_correction_sends_one_withdrawal(conn, outputs, sink):
    absent_child(conn)
    outputs.run(P0)
    first = outputs.deliver(P0)
    assert first.letters == {"email_notice": 1, "email_withdrawal": 0, "folder_notice": 1, "folder_withdrawal": 0}
    (mail,) = sink.received()
    assert mail.recipients == ("director@oak.example",)
    assert mail.message["Subject"].startswith("Absence notices for Provider P-1, service period starting 2026-10-25")
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in mail.message.iter_attachments()}
    assert set(attachments) == {"notices.csv", "letters.en.html", "letters.es.html", "letters.en.pdf", "letters.es.pdf"}
    assert attachments["letters.es.pdf"].startswith(b"%PDF-")
    (folder,) = (outputs.folder_root / "P-1" / "2026-10-25").glob("letters-*")
    assert (folder / "letters.en.pdf").read_bytes() == attachments["letters.en.pdf"]  # the folder's PDF, e-mailed
    attachments = {name: data.decode("utf-8") for name, data in attachments.items() if not name.endswith(".pdf")}
    (row,) = csv.DictReader(io.StringIO(attachments["notices.csv"]))
    assert (row["child_id"], row["threshold"], row["crossed_on"], row["absences_so_far"], row["site_id"]) == (
        "1001", "10", weekdays(P0)[-1].isoformat(), "10", "S-A"
    )  # fmt: skip

    # Rerun: nothing new, nothing sent.
    assert outputs.deliver(P0).letters == {}
    assert len(sink.received()) == 1

    outputs.run(P1)
    second = outputs.deliver(P1)
    assert second.letters["folder_notice"] == 2  # 20 in the year, 20 in a row
    assert second.referrals == 1
    referral = (outputs.folder_root / "state" / "2026-11-08" / "eligibility_referrals.csv").read_text()
    (ref,) = csv.DictReader(io.StringIO(referral))
    assert (ref["child_id"], ref["limit_kind"], ref["action"], ref["days_counted"]) == (
        "1001", "consecutive_absences", "removal", "20"
    )  # fmt: skip
    assert ref["absence_days"].split() == [d.isoformat() for d in weekdays(P0) + weekdays(P1)]
    assert len(sink.received()) == 2

    # The provider corrects one absence of P1; the period is run again: both P1 notices are withdrawn.
    conn.execute("DELETE FROM portal.manual_entry WHERE child_id = '1001' AND attendance_date = %s", (weekdays(P1)[2],))
    outputs.run(P1)
    third = outputs.deliver(P1)
    assert third.letters == {"email_notice": 0, "email_withdrawal": 2, "folder_notice": 0, "folder_withdrawal": 2}
    withdrawal = sink.received()[-1].message
    letter_en = next(text(p) for p in withdrawal.iter_attachments() if p.get_filename() == "letters.en.html")
    assert "Withdrawal of a notice" in letter_en
    assert outputs.deliver(P1).letters == {}
    assert len(sink.received()) == 3
    assert ledger(conn) == [
        (10, "absences_in_enrollment_year", "notice", "email", "sent"),
        (10, "absences_in_enrollment_year", "notice", "folder", "sent"),
        (20, "absences_in_enrollment_year", "notice", "email", "sent"),
        (20, "consecutive_absences", "notice", "email", "sent"),
        (20, "absences_in_enrollment_year", "notice", "folder", "sent"),
        (20, "consecutive_absences", "notice", "folder", "sent"),
        (20, "absences_in_enrollment_year", "withdrawal", "email", "sent"),
        (20, "consecutive_absences", "withdrawal", "email", "sent"),
        (20, "absences_in_enrollment_year", "withdrawal", "folder", "sent"),
        (20, "consecutive_absences", "withdrawal", "folder", "sent"),
    ]
    letters_dirs = sorted(p.name for p in (outputs.folder_root / "P-1" / "2026-11-08").iterdir())
    assert len([d for d in letters_dirs if d.startswith("letters-")]) == 2


def test_a_correction_past_the_window_is_recorded_but_sends_no_withdrawal(conn, outputs, sink):
    absent_child(conn)
    outputs.run(P0)
    outputs.run(P1)
    outputs.deliver(P1)
    sent = len(sink.received())
    conn.execute("DELETE FROM portal.manual_entry WHERE child_id = '1001' AND attendance_date = %s", (weekdays(P1)[2],))
    outputs.run(P1)
    late = outputs.deliver(P1, today=PAST_WINDOW)
    assert late.withheld == 4  # two withdrawals, each withheld on both channels
    assert late.letters == {}
    assert len(sink.received()) == sent
    withheld = [r for r in ledger(conn) if r[2] == "withdrawal"]
    assert {r[4] for r in withheld} == {"withheld"}
    assert outputs.deliver(P1, today=PAST_WINDOW).withheld == 0  # recorded once


def test_a_provisional_period_produces_nothing(conn, outputs, sink):
    absent_child(conn)
    conn.execute("DELETE FROM portal.period_submission WHERE period_start = %s", (P1.start,))
    outputs.run(P0)
    outputs.run(P1, as_of=dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC))  # before the deadline, not submitted
    summary = outputs.deliver(P1)
    assert summary.lifecycle == "provisional"
    assert summary.letters == {}
    assert not (outputs.folder_root / "P-1" / "2026-11-08").exists()
    assert conn.execute("SELECT count(*) FROM reconciled.notice_delivery").fetchone()[0] == 0


def test_roster_feedback_by_provider_with_counts_only_for_children_without_a_voucher(conn, outputs):
    absent_child(conn)
    outputs.run(P1)
    # The dropped-record count is the record_count column (4), not the words of the detail (3).
    conn.execute(
        "INSERT INTO reconciled.exception (period_start, run_id, kind, severity, site_id, child_id, detail,"
        " record_count) VALUES"
        " (%(p)s, 'r', 'unattributed_records_dropped', 'warning', 'S-A', NULL,"
        "  'BRIGHTWHEEL records not matching any voucher child were not kept (3 x unknown child id)', 4),"
        " (%(p)s, 'r', 'child_missing_from_ccms', 'warning', 'S-A', '1002', 'no record all period', NULL),"
        " (%(p)s, 'r', 'source_disagreement', 'info', 'S-A', '1001', 'not feedback', NULL)",
        {"p": P1.start},
    )
    assert outputs.deliver(P1).feedback_items == 2
    rows = list(csv.DictReader(io.StringIO((outputs.folder_root / "P-1" / "2026-11-08" / "feedback.csv").read_text())))
    assert [(r["finding"], r["child_id"], r["records"]) for r in rows] == [
        ("child_missing_from_ccms", "1002", ""),
        ("unattributed_records_dropped", "", "4"),
    ]
    assert all(r["what_to_do"] for r in rows)


def test_reference_history_gives_one_letter_per_notice_to_the_current_address(conn, outputs, sink):
    """ref/portal keep every version (docs/history.md): a later sync that changed the provider's
    address and gave the site a new name from a date must not repeat a notice per version."""
    absent_child(conn)
    outputs.run(P0)
    providers = history_entity(BY_NAME["providers"])  # as the sync writes them: the address included
    record_change(conn, providers, [{"provider_id": "P-1", "provider_name": "Oak Care", "email": "new@oak.example"}])
    site = {"site_id": "S-A", "provider_id": "P-1", "license_number": "CC-1", "operating_weekdays": [1, 2, 3, 4, 5]}
    record_change(conn, "site", [
        {**site, "site_name": "Site S-A", "valid_from": dt.date(1970, 1, 1), "valid_until": dt.date(2026, 11, 1)},
        {**site, "site_name": "Oak Hill", "valid_from": dt.date(2026, 11, 1), "valid_until": None},
    ])  # fmt: skip
    assert conn.execute("SELECT count(*) FROM ref.site WHERE site_id = 'S-A'").fetchone()[0] == 3
    assert outputs.deliver(P0).letters == {"email_notice": 1, "email_withdrawal": 0, "folder_notice": 1,
                                           "folder_withdrawal": 0}  # fmt: skip
    (mail,) = sink.received()
    assert mail.recipients == ("new@oak.example",)
    (folder,) = (outputs.folder_root / "P-1" / "2026-10-25").glob("letters-*")
    (row,) = csv.DictReader(io.StringIO((folder / "notices.csv").read_text()))
    assert row["site_name"] == "Oak Hill"  # the site as it is now
