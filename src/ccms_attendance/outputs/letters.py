"""What a provider receives, as text: notice and withdrawal letters (HTML, English and Spanish), the
notices CSV, the roster/data-quality feedback, and the state's eligibility referral list.

Templates live in ``outputs/templates/`` (Jinja2, autoescape on, undefined names are errors). The
wording restates the program's published rules (``../shared/domain.md``) and nothing else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from ccms_attendance.outputs.selection import LetterKind, Notice, PlannedLetter
from ccms_attendance.reporting.jinja_env import package_templates
from ccms_attendance.rules.absence_limits import CONSECUTIVE_LIMIT, NOTICE_THRESHOLDS, VOUCHER_END_ABSENCES
from ccms_attendance.rules.exception_kinds import ExceptionKind, advice_for

LANGUAGES = ("en", "es")

TEMPLATES = package_templates("ccms_attendance.outputs")

NOTICE_COLUMNS = [
    "letter", "child_id", "limit_kind", "threshold", "crossed_on", "absences_so_far", "site_id", "site_name",
    "period_start", "action", "voucher_ends_on",
]  # fmt: skip


def render_letters(provider_name: str, letters: Sequence[PlannedLetter], language: str, today: dt.date) -> str:
    """One printable HTML page holding one letter per notice or withdrawal (page breaks between)."""
    if language not in LANGUAGES:
        raise ValueError(f"no letter template for language {language!r}")
    return TEMPLATES.get_template(f"letters.{language}.html.j2").render(
        lang=language,
        provider_name=provider_name,
        letters=[_letter_fields(p) for p in letters],
        today=today,
        notice_thresholds=", ".join(map(str, NOTICE_THRESHOLDS)),
        voucher_end=VOUCHER_END_ABSENCES,
        consecutive_limit=CONSECUTIVE_LIMIT,
    )


def letters_pdf(html: str) -> bytes:
    """The printable letters as a PDF, one letter per page as the HTML prints (WeasyPrint, which
    needs the system's Pango). Imported here: it is heavy and only a delivering task needs it."""
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


def _letter_fields(planned: PlannedLetter) -> dict:
    n = planned.notice
    return {
        "kind": str(planned.letter),
        "child_id": n.child_id,
        "limit_kind": n.limit_kind,
        "threshold": n.threshold,
        "crossed_on": n.crossed_on,
        "absences_so_far": n.absences_so_far,
        "site_name": n.site_name,
        "site_id": n.site_id,
        "enrollment_year_start": n.enrollment_year_start,
        "action": n.action,
        "voucher_ends_on": n.voucher_ends_on,
        "period_start": n.period_start,
    }


def notices_csv(letters: Sequence[PlannedLetter]) -> str:
    """The letters of one provider as CSV rows (one per notice or withdrawal)."""
    rows = []
    for planned in letters:
        fields = _letter_fields(planned)
        rows.append({"letter": fields.pop("kind"), **{k: fields[k] for k in NOTICE_COLUMNS if k in fields}})
    return _csv(NOTICE_COLUMNS, rows)


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    kind: str
    site_id: str
    site_name: str
    license_number: str
    child_id: str | None
    attendance_date: dt.date | None
    count: int | None


#: The roster and data-quality findings a provider gets back; what to do comes from the one catalogue.
FEEDBACK_KINDS = (
    ExceptionKind.UNATTRIBUTED_RECORDS_DROPPED,
    ExceptionKind.CHILD_MISSING_FROM_CCMS,
    ExceptionKind.LICENSE_NOT_LINKED,
    ExceptionKind.PORTAL_ENTRY_WHILE_CCMS,
)


def feedback_item(row: dict) -> FeedbackItem:
    """One feedback line from ``outputs_provider_feedback.sql``; dropped records are a count only
    (the exception's ``record_count``, V014: never parsed out of the detail text)."""
    return FeedbackItem(
        kind=row["kind"],
        site_id=row["site_id"],
        site_name=row["site_name"],
        license_number=row["license_number"],
        child_id=row["child_id"],
        attendance_date=row["attendance_date"],
        count=row["record_count"],
    )


def feedback_csv(items: Sequence[FeedbackItem]) -> str:
    columns = ["finding", "site_id", "site_name", "license_number", "child_id", "date", "records", "what_to_do"]
    rows = [
        {
            "finding": i.kind, "site_id": i.site_id, "site_name": i.site_name, "license_number": i.license_number,
            "child_id": i.child_id or "", "date": i.attendance_date or "", "records": i.count or "",
            "what_to_do": advice_for(i.kind),
        }
        for i in items
    ]  # fmt: skip
    return _csv(columns, rows)


def render_feedback(provider_name: str, period_start: dt.date, items: Sequence[FeedbackItem], language: str) -> str:
    """The provider's roster and data feedback as a printable page, in English or Spanish; what to
    do comes from the catalogue of exception kinds in that language."""
    if language not in LANGUAGES:
        raise ValueError(f"no feedback template for language {language!r}")
    return TEMPLATES.get_template(f"feedback.{language}.html.j2").render(
        lang=language,
        provider_name=provider_name,
        period_start=period_start,
        items=items,
        advice={str(k): k.advice_in(language) for k in FEEDBACK_KINDS},
    )


def referrals_csv(referrals: Sequence[tuple[Notice, list[dt.date]]]) -> str:
    """The state's eligibility referral list: 40 in the year or 20 in a row, with the days that count."""
    columns = ["child_id", "limit_kind", "threshold", "crossed_on", "action", "voucher_ends_on", "site_id",
               "provider_id", "days_counted", "absence_days"]  # fmt: skip
    rows = []
    for notice, days in referrals:
        rows.append(
            {
                "child_id": notice.child_id, "limit_kind": notice.limit_kind, "threshold": notice.threshold,
                "crossed_on": notice.crossed_on, "action": notice.action,
                "voucher_ends_on": notice.voucher_ends_on or "", "site_id": notice.site_id,
                "provider_id": notice.provider_id, "days_counted": len(days),
                "absence_days": " ".join(d.isoformat() for d in days),
            }
        )  # fmt: skip
    return _csv(columns, rows)


def subject(provider_name: str, period_start: dt.date, letters: Sequence[PlannedLetter]) -> str:
    notices = sum(1 for p in letters if p.letter is LetterKind.NOTICE)
    withdrawals = len(letters) - notices
    return (
        f"Absence notices for {provider_name}, service period starting {period_start.isoformat()}: "
        f"{notices} notice(s), {withdrawals} withdrawal(s)"
    )


def _csv(columns: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
