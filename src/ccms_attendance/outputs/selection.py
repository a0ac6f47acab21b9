"""Which absence-limit letters a run sends: new notices, withdrawals, and the correction window.

Plain Python over rows read from the warehouse (``outputs_notices.sql``, ``outputs_deliveries.sql``),
so every decision is unit-tested without a database.

- A notice is identified by child, enrollment year, limit kind and threshold: a correction that only
  moves the crossing day makes a new ``notice_id`` for the same identity, and the family, told once,
  is not told again.
- Per identity and channel, the last letter *sent* says what the family was told. A current notice
  whose family was told nothing (or was told of a withdrawal) gets a notice letter; a family told
  of a notice that is no longer current gets one withdrawal letter.
- **Correction window** (``../shared/domain.md``: absences more than 60 days old cannot be appealed
  or credited): a withdrawal of a notice whose period's submission deadline is more than
  ``window_days`` before today is recorded as ``withheld`` and never sent; the notice stands.
- E-mail follows the folder: a letter is e-mailed only when it is new to the folder too.
- Nothing recorded in the ledger for a (notice, letter, channel) is planned again, so rerunning a
  period never sends a letter twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class LetterKind(StrEnum):
    NOTICE = "notice"
    WITHDRAWAL = "withdrawal"


class Outcome(StrEnum):
    SENT = "sent"
    WITHHELD = "withheld"


Identity = tuple[str, dt.date, str, int]


@dataclass(frozen=True, slots=True)
class Notice:
    """One row of ``reconciled.absence_limit_notice`` with where it happened (site and provider)."""

    notice_id: int
    child_id: str
    enrollment_year_start: dt.date
    limit_kind: str
    threshold: int
    crossed_on: dt.date
    period_start: dt.date
    action: str
    voucher_ends_on: dt.date | None
    withdrawn: bool
    site_id: str
    site_name: str
    provider_id: str
    provider_name: str
    absences_so_far: int
    submission_deadline: dt.date

    @property
    def identity(self) -> Identity:
        return (self.child_id, self.enrollment_year_start, self.limit_kind, self.threshold)

    @property
    def is_referral(self) -> bool:
        """40 in the enrollment year or 20 in a row: the case goes to eligibility for review."""
        return self.action in ("voucher_ends", "removal")


@dataclass(frozen=True, slots=True)
class Delivered:
    """One row of the ledger ``reconciled.notice_delivery``."""

    notice_id: int
    identity: Identity
    letter: LetterKind
    channel: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class PlannedLetter:
    notice: Notice
    letter: LetterKind
    channel: str
    outcome: Outcome


def window_closes(submission_deadline: dt.date, window_days: int) -> dt.date:
    """The last day a correction of a period can still withdraw a notice already sent."""
    return submission_deadline + dt.timedelta(days=window_days)


def plan_letters(
    notices: Sequence[Notice],
    delivered: Iterable[Delivered],
    channels: Callable[[str], Sequence[str]],
    today: dt.date,
    window_days: int,
) -> list[PlannedLetter]:
    """The letters to deliver now, per channel (``channels(provider_id)``), in the notices' order."""
    recorded = set()
    last_sent: dict[tuple[Identity, str], Delivered] = {}
    for row in delivered:  # oldest first: the last one sent wins
        recorded.add((row.notice_id, row.letter, row.channel))
        if row.outcome is Outcome.SENT:
            last_sent[(row.identity, row.channel)] = row
    current = {n.identity: n for n in notices if not n.withdrawn}

    planned: list[PlannedLetter] = []
    for notice in notices:
        for channel in channels(notice.provider_id):
            told = last_sent.get((notice.identity, channel))
            if not notice.withdrawn:
                if (told is None or told.letter is LetterKind.WITHDRAWAL) and (
                    (notice.notice_id, LetterKind.NOTICE, channel) not in recorded
                ):
                    planned.append(PlannedLetter(notice, LetterKind.NOTICE, channel, Outcome.SENT))
                continue
            # Withdrawn: only the notice the family was told of gets a withdrawal, once, and only
            # when nothing current replaced it.
            if told is None or told.letter is not LetterKind.NOTICE or told.notice_id != notice.notice_id:
                continue
            if notice.identity in current or (notice.notice_id, LetterKind.WITHDRAWAL, channel) in recorded:
                continue
            closed = today > window_closes(notice.submission_deadline, window_days)
            planned.append(
                PlannedLetter(notice, LetterKind.WITHDRAWAL, channel, Outcome.WITHHELD if closed else Outcome.SENT)
            )
    return _follow_first_channel(planned, channels)


def _follow_first_channel(
    planned: list[PlannedLetter], channels: Callable[[str], Sequence[str]]
) -> list[PlannedLetter]:
    """Other channels send only letters the first channel (the folder) sends now too: an e-mail
    address added later does not e-mail every past letter."""
    first = {(p.notice.notice_id, p.letter) for p in planned if p.channel == channels(p.notice.provider_id)[0]}
    return [p for p in planned if (p.notice.notice_id, p.letter) in first]
