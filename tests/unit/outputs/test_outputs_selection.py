"""Which letters a run sends: new notices, withdrawals once, nothing twice, the correction window."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ccms_attendance.outputs.selection import (
    Delivered,
    LetterKind,
    Notice,
    Outcome,
    plan_letters,
    window_closes,
)

DEADLINE = dt.date(2026, 10, 1)
TODAY = dt.date(2026, 10, 20)


def notice(notice_id: int = 1, threshold: int = 10, withdrawn: bool = False, **changes) -> Notice:
    base = Notice(
        notice_id=notice_id, child_id="C1", enrollment_year_start=dt.date(2026, 1, 1),
        limit_kind="absences_in_enrollment_year", threshold=threshold, crossed_on=dt.date(2026, 9, 10),
        period_start=dt.date(2026, 9, 6), action="notice", voucher_ends_on=None, withdrawn=withdrawn,
        site_id="S1", site_name="Site 1", provider_id="P1", provider_name="Provider 1", absences_so_far=threshold,
        submission_deadline=DEADLINE,
    )  # fmt: skip
    return replace(base, **changes)


def sent(n: Notice, letter: LetterKind = LetterKind.NOTICE, channel: str = "folder", outcome=Outcome.SENT) -> Delivered:
    return Delivered(n.notice_id, n.identity, letter, channel, outcome)


def folder_only(_: str) -> tuple[str, ...]:
    return ("folder",)


def plan(notices, delivered=(), channels=folder_only, today=TODAY, window_days=60):
    return [(p.notice.notice_id, str(p.letter), p.channel, str(p.outcome)) for p in
            plan_letters(notices, delivered, channels, today, window_days)]  # fmt: skip


def test_a_new_current_notice_is_sent_once_per_channel():
    n = notice()
    assert plan([n], channels=lambda _: ("folder", "email")) == [
        (1, "notice", "folder", "sent"),
        (1, "notice", "email", "sent"),
    ]


def test_a_notice_already_sent_is_not_sent_again():
    n = notice()
    assert plan([n], [sent(n)]) == []


def test_a_withdrawn_notice_that_was_sent_gets_one_withdrawal():
    n = notice(withdrawn=True)
    assert plan([n], [sent(n)]) == [(1, "withdrawal", "folder", "sent")]
    assert plan([n], [sent(n), sent(n, LetterKind.WITHDRAWAL)]) == []


def test_a_notice_withdrawn_before_it_was_sent_sends_nothing():
    assert plan([notice(withdrawn=True)]) == []


def test_a_crossing_moved_to_another_day_is_not_told_again_nor_withdrawn():
    old = notice(1, withdrawn=True)
    moved = notice(2, crossed_on=dt.date(2026, 9, 11))
    assert plan([old, moved], [sent(old)]) == []


def test_a_crossing_again_after_a_withdrawal_is_a_new_notice():
    old = notice(1, withdrawn=True)
    again = notice(2, crossed_on=dt.date(2026, 9, 25))
    delivered = [sent(old), sent(old, LetterKind.WITHDRAWAL)]
    assert plan([old, again], delivered) == [(2, "notice", "folder", "sent")]


def test_a_withdrawal_past_the_correction_window_is_withheld_once():
    n = notice(withdrawn=True)
    closes = window_closes(DEADLINE, 60)
    assert closes == dt.date(2026, 11, 30)
    assert plan([n], [sent(n)], today=closes) == [(1, "withdrawal", "folder", "sent")]  # the last day still counts
    late = closes + dt.timedelta(days=1)
    assert plan([n], [sent(n)], today=late) == [(1, "withdrawal", "folder", "withheld")]
    # Withheld is recorded: never planned again, and the notice stands (nothing else is sent).
    assert plan([n], [sent(n), sent(n, LetterKind.WITHDRAWAL, outcome=Outcome.WITHHELD)], today=late) == []


def test_the_window_is_configurable():
    n = notice(withdrawn=True)
    assert plan([n], [sent(n)], today=DEADLINE + dt.timedelta(days=11), window_days=10)[0][3] == "withheld"
    assert plan([n], [sent(n)], today=DEADLINE + dt.timedelta(days=11), window_days=11)[0][3] == "sent"


def test_email_follows_the_folder_so_an_address_added_later_mails_no_past_letter():
    told = notice(1)
    new = notice(2, threshold=20)
    both = lambda _: ("folder", "email")  # noqa: E731
    assert plan([told, new], [sent(told)], channels=both) == [
        (2, "notice", "folder", "sent"),
        (2, "notice", "email", "sent"),
    ]


def test_a_failed_email_is_retried_while_the_folder_has_not_recorded_the_letter():
    n = notice()
    both = lambda _: ("folder", "email")  # noqa: E731
    assert plan([n], [], channels=both) == [(1, "notice", "folder", "sent"), (1, "notice", "email", "sent")]
    assert plan([n], [sent(n, channel="email")], channels=both) == [(1, "notice", "folder", "sent")]


def test_thresholds_and_kinds_are_separate_notices():
    ten, twenty = notice(1, 10), notice(2, 20)
    row = notice(3, 20, limit_kind="consecutive_absences", action="removal")
    assert [p[0] for p in plan([ten, twenty, row], [sent(ten)])] == [2, 3]
    assert row.is_referral
    assert not twenty.is_referral
