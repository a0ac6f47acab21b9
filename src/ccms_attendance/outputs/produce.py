"""One final period's outputs: letters per provider (folder and e-mail), the ledger, the referral list
and the roster feedback. Read with the SQL files ``outputs_*.sql`` and ``provider_contacts.sql``.

Letters are planned over every final period's notices (``selection.plan_letters``), so a run that
was missed or failed is caught up by the next one; the per-period files (feedback, referrals) are
those of the period that triggered the run. A letter is recorded in the ledger right after its
channel delivered it, one channel at a time, so a failure part-way resends only what was not sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg.rows import dict_row

from ccms_attendance.outputs import letters as text
from ccms_attendance.outputs.selection import (
    Delivered,
    LetterKind,
    Notice,
    Outcome,
    PlannedLetter,
    plan_letters,
)
from ccms_attendance.rules.absence_limits import CONSECUTIVE_LOOKBACK_DAYS
from ccms_attendance.warehouse.sql_files import query, run_file

log = logging.getLogger(__name__)


class FolderLike(Protocol):
    def write(self, parts: tuple[str, ...], files: dict[str, str | bytes]) -> str: ...


class MailerLike(Protocol):
    def send(self, to: str, subject: str, body_html: str, attachments: Mapping[str, str | bytes]) -> None: ...


@dataclass
class OutputsSummary:
    period_start: dt.date
    lifecycle: str | None
    letters: dict[str, int] = field(default_factory=dict)
    withheld: int = 0
    referrals: int = 0
    feedback_items: int = 0
    folders: list[str] = field(default_factory=list)

    def as_xcom(self) -> dict:
        return {
            "period_start": self.period_start.isoformat(),
            "lifecycle": self.lifecycle,
            "letters": self.letters,
            "withheld": self.withheld,
            "referrals": self.referrals,
            "feedback_items": self.feedback_items,
        }


def _rows(conn: psycopg.Connection, name: str, params: dict | None = None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(query(name), params or {}).fetchall()


def period_lifecycle(conn: psycopg.Connection, period_start: dt.date) -> str | None:
    rows = _rows(conn, "outputs_period_lifecycle", {"period_start": period_start})
    return rows[0]["lifecycle"] if rows else None


def read_notices(conn: psycopg.Connection) -> list[Notice]:
    return [
        Notice(
            **{k: r[k] for k in Notice.__slots__ if k not in ("withdrawn",)},
            withdrawn=r["withdrawn_at"] is not None,
        )
        for r in _rows(conn, "outputs_notices")
    ]


def read_ledger(conn: psycopg.Connection) -> list[Delivered]:
    return [
        Delivered(
            r["notice_id"],
            (r["child_id"], r["enrollment_year_start"], r["limit_kind"], r["threshold"]),
            LetterKind(r["letter"]),
            r["channel"],
            Outcome(r["outcome"]),
        )
        for r in _rows(conn, "outputs_deliveries")
    ]


def produce_outputs(
    conn: psycopg.Connection,
    period_start: dt.date,
    run_id: str,
    today: dt.date,
    window_days: int,
    folder: FolderLike,
    mailer: MailerLike | None,
) -> OutputsSummary:
    """Deliver what a final period sends onward; a period that is not final produces nothing."""
    summary = OutputsSummary(period_start, period_lifecycle(conn, period_start))
    if summary.lifecycle != "final":
        return summary
    contacts = {r["provider_id"]: r for r in _rows(conn, "provider_contacts")}
    notices = read_notices(conn)

    def channels(provider_id: str) -> tuple[str, ...]:
        has_email = mailer is not None and contacts.get(provider_id, {}).get("email")
        return ("folder", "email") if has_email else ("folder",)

    planned = plan_letters(notices, read_ledger(conn), channels, today, window_days)
    by_provider: dict[tuple[str, str], list[PlannedLetter]] = defaultdict(list)
    for letter in planned:
        if letter.outcome is Outcome.WITHHELD:
            _record(conn, letter, None, period_start, run_id)
            summary.withheld += 1
            log.info(
                "Withdrawal of notice %d (%s %d, %s) withheld: period %s is past its correction window",
                letter.notice.notice_id, letter.notice.limit_kind, letter.notice.threshold, letter.channel,
                letter.notice.period_start,
            )  # fmt: skip
        else:
            by_provider[(letter.notice.provider_id, letter.channel)].append(letter)

    # E-mail before the folder: a failed e-mail is retried on the next run only while the folder
    # has not recorded the letter either (see selection._follow_first_channel).
    for (provider_id, channel), batch in sorted(by_provider.items(), key=lambda kv: (kv[0][0], kv[0][1] != "email")):
        name = contacts[provider_id]["provider_name"]
        html = {lang: text.render_letters(name, batch, lang, today) for lang in text.LANGUAGES}
        files: dict[str, str | bytes] = {
            "notices.csv": text.notices_csv(batch),
            **{f"letters.{lang}.html": page for lang, page in html.items()},
            **{f"letters.{lang}.pdf": text.letters_pdf(page) for lang, page in html.items()},
        }
        if channel == "folder":
            location = folder.write((provider_id, period_start.isoformat(), f"letters-{run_id}"), files)
            summary.folders.append(location)
        else:
            assert mailer is not None
            mailer.send(
                contacts[provider_id]["email"],
                text.subject(name, period_start, batch),
                html["en"],
                files,
            )
            location = "email"
        for letter in batch:
            _record(conn, letter, location, period_start, run_id)
        for kind in LetterKind:
            key = f"{channel}_{kind}"
            summary.letters[key] = summary.letters.get(key, 0) + sum(1 for b in batch if b.letter is kind)

    summary.referrals = _write_referrals(conn, notices, period_start, folder)
    summary.feedback_items = _write_feedback(conn, contacts, period_start, folder)
    return summary


def _record(conn, letter: PlannedLetter, location: str | None, period_start: dt.date, run_id: str) -> None:
    n = letter.notice
    run_file(
        conn,
        "outputs_record_delivery",
        {
            "notice_id": n.notice_id, "child_id": n.child_id, "enrollment_year_start": n.enrollment_year_start,
            "limit_kind": n.limit_kind, "threshold": n.threshold, "letter": str(letter.letter),
            "channel": letter.channel, "provider_id": n.provider_id, "outcome": str(letter.outcome),
            "location": location, "period_start": period_start, "run_id": run_id,
        },
    )  # fmt: skip


def _write_referrals(conn, notices: list[Notice], period_start: dt.date, folder: FolderLike) -> int:
    """The state's eligibility referral list of this period (rewritten identically on a rerun)."""
    referrals = []
    for n in notices:
        if n.withdrawn or not n.is_referral or n.period_start != period_start:
            continue
        if n.limit_kind == "consecutive_absences":
            start = n.crossed_on - dt.timedelta(days=CONSECUTIVE_LOOKBACK_DAYS)
        else:
            start = n.enrollment_year_start
        days = [
            r["attendance_date"]
            for r in _rows(
                conn, "outputs_referral_days", {"child_id": n.child_id, "from_day": start, "crossed_on": n.crossed_on}
            )
        ]
        if n.limit_kind == "consecutive_absences":
            days = days[-n.threshold :]  # the run itself: the last `threshold` absence days
        referrals.append((n, days))
    folder.write(("state", period_start.isoformat()), {"eligibility_referrals.csv": text.referrals_csv(referrals)})
    return len(referrals)


def _write_feedback(conn, contacts: dict, period_start: dt.date, folder: FolderLike) -> int:
    items: dict[str, list[text.FeedbackItem]] = defaultdict(list)
    for row in _rows(
        conn,
        "outputs_provider_feedback",
        {"period_start": period_start, "kinds": [str(k) for k in text.FEEDBACK_KINDS]},
    ):
        items[row["provider_id"]].append(text.feedback_item(row))
    for provider_id, found in sorted(items.items()):
        name = contacts[provider_id]["provider_name"]
        folder.write(
            (provider_id, period_start.isoformat()),
            {
                "feedback.csv": text.feedback_csv(found),
                **{
                    f"feedback.{lang}.html": text.render_feedback(name, period_start, found, lang)
                    for lang in text.LANGUAGES
                },
            },
        )
    return sum(len(found) for found in items.values())
