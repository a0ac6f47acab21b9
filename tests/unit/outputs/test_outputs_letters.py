"""The letters, CSVs and feedback as text: facts in both languages, values escaped, counts only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zlib
from dataclasses import replace

import pytest

from ccms_attendance.outputs import letters
from ccms_attendance.outputs.selection import LetterKind, Notice, Outcome, PlannedLetter
from ccms_attendance.rules.exception_kinds import advice_for

TODAY = dt.date(2026, 10, 20)
N = Notice(
    notice_id=7, child_id="C-42", enrollment_year_start=dt.date(2026, 1, 1), limit_kind="absences_in_enrollment_year",
    threshold=10, crossed_on=dt.date(2026, 9, 18), period_start=dt.date(2026, 9, 6), action="notice",
    voucher_ends_on=None, withdrawn=False, site_id="S1", site_name="Little Oaks", provider_id="P1",
    provider_name="Oak Care", absences_so_far=10, submission_deadline=dt.date(2026, 10, 3),
)  # fmt: skip


def render(*args) -> str:
    """A rendered page with its whitespace collapsed (the templates wrap their sentences)."""
    return " ".join(letters.render_letters(*args).split())


def letter(notice: Notice = N, kind: LetterKind = LetterKind.NOTICE) -> PlannedLetter:
    return PlannedLetter(notice, kind, "folder", Outcome.SENT)


def test_the_english_notice_states_the_facts_and_the_rules():
    html = render("Oak Care", [letter()], "en", TODAY)
    assert "Notice: 10 absences in the enrollment year" in html
    assert "C-42" in html
    assert "Little Oaks (S1)" in html
    assert "2026-09-18" in html
    assert "notices at 10, 20, 30, 35 absences" in html
    assert "40 absences end the voucher" in html
    assert "20 absences in a row remove the child" in html
    assert "Absences more than 60 days old cannot be appealed or credited." in html
    assert '<html lang="en">' in html


def test_the_spanish_notice_says_the_same_in_spanish():
    html = render("Oak Care", [letter()], "es", TODAY)
    assert "Aviso: 10 ausencias en el año de inscripción" in html
    assert "envía avisos a las 10, 20, 30, 35 ausencias" in html
    assert "Las ausencias de más de 60 días no se pueden apelar ni acreditar." in html
    assert '<html lang="es">' in html
    assert "Notice:" not in html


@pytest.mark.parametrize(
    ("changes", "english", "spanish"),
    [
        (
            {"threshold": 40, "action": "voucher_ends", "voucher_ends_on": dt.date(2026, 9, 19)},
            "the voucher ends on <strong>2026-09-19</strong>",
            "el certificado termina el <strong>2026-09-19</strong>",
        ),
        (
            {"threshold": 20, "limit_kind": "consecutive_absences", "action": "removal"},
            "Notice: 20 absences in a row",
            "Aviso: 20 ausencias seguidas",
        ),
    ],
)
def test_referral_letters_say_what_happens(changes, english, spanish):
    n = replace(N, **changes)
    assert english in render("Oak Care", [letter(n)], "en", TODAY)
    assert spanish in render("Oak Care", [letter(n)], "es", TODAY)
    assert "referred to eligibility for review" in render("Oak Care", [letter(n)], "en", TODAY)


def test_a_withdrawal_letter():
    en = render("Oak Care", [letter(kind=LetterKind.WITHDRAWAL)], "en", TODAY)
    es = render("Oak Care", [letter(kind=LetterKind.WITHDRAWAL)], "es", TODAY)
    assert "Withdrawal of a notice" in en
    assert "The notice is withdrawn" in en
    assert "Notice: 10" not in en
    assert "Retiro de un aviso" in es
    assert "El aviso queda retirado" in es


def test_values_are_escaped():
    hostile = replace(N, site_name="<script>alert(1)</script>")
    html = render("A & B <Care>", [letter(hostile)], "en", TODAY)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "A &amp; B &lt;Care&gt;" in html


def _pdf_objects(pdf: bytes) -> bytes:
    """The PDF's objects as bytes: WeasyPrint packs them in compressed object streams."""
    return b"".join(zlib.decompress(s) for s in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S))


def test_the_pdf_prints_one_letter_per_page_in_the_letters_language():
    html = letters.render_letters("Oak Care", [letter(), letter(kind=LetterKind.WITHDRAWAL)], "es", TODAY)
    pdf = letters.letters_pdf(html)
    assert pdf.startswith(b"%PDF-")
    objects = _pdf_objects(pdf)
    assert len(re.findall(rb"/Type /Page\b", objects)) == 2
    assert b"/Lang (es)" in objects
    assert b"/Title (Retiro de un aviso)" in objects  # each letter's heading is a bookmark


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="no letter template"):
        letters.render_letters("Oak Care", [letter()], "fr", TODAY)


def test_the_notices_csv_has_one_row_per_letter():
    rows = list(csv.DictReader(io.StringIO(letters.notices_csv([letter(), letter(kind=LetterKind.WITHDRAWAL)]))))
    assert [(r["letter"], r["child_id"], r["threshold"], r["crossed_on"], r["absences_so_far"]) for r in rows] == [
        ("notice", "C-42", "10", "2026-09-18", "10"),
        ("withdrawal", "C-42", "10", "2026-09-18", "10"),
    ]


def test_feedback_counts_dropped_records_without_identities_and_says_what_to_do():
    dropped = letters.feedback_item(
        {"kind": "unattributed_records_dropped", "site_id": "S1", "site_name": "Little Oaks", "license_number": "L-1",
         "child_id": None, "attendance_date": None, "record_count": 5}
    )  # fmt: skip
    missing = letters.feedback_item(
        {"kind": "child_missing_from_ccms", "site_id": "S1", "site_name": "Little Oaks", "license_number": "L-1",
         "child_id": "C-9", "attendance_date": None, "record_count": None}
    )  # fmt: skip
    assert dropped.count == 5
    assert dropped.child_id is None
    rows = list(csv.DictReader(io.StringIO(letters.feedback_csv([dropped, missing]))))
    assert rows[0]["records"] == "5"
    assert rows[0]["child_id"] == ""
    assert rows[0]["what_to_do"] == advice_for("unattributed_records_dropped")
    assert rows[1]["child_id"] == "C-9"
    assert rows[1]["what_to_do"] == "Enter the child in the CCMS with the Child ID on the voucher."
    html = " ".join(letters.render_feedback("Oak Care", dt.date(2026, 9, 6), [dropped, missing], "en").split())
    assert "5 record(s)" in html
    assert "C-9" in html
    assert "Voucher child missing from the CCMS" in html
    assert "Enter the child in the CCMS with the Child ID on the voucher." in html


def test_the_feedback_reads_in_spanish_too():
    missing = letters.FeedbackItem("child_missing_from_ccms", "S1", "Little Oaks", "L-1", "C-9", None, None)
    dropped = letters.FeedbackItem("unattributed_records_dropped", "S1", "Little Oaks", "L-1", None, None, 5)
    html = " ".join(letters.render_feedback("Oak Care", dt.date(2026, 9, 6), [dropped, missing], "es").split())
    assert '<html lang="es">' in html
    assert "Período de servicio que comienza el 2026-09-06" in html
    assert "5 registro(s)" in html
    assert "Registre al niño en el CCMS con el ID de niño que figura en el certificado (voucher)." in html
    assert "Niño con certificado (voucher) que no figura en el CCMS" in html
    assert "Enter the child" not in html  # no English advice left in the Spanish page
    with pytest.raises(ValueError, match="no feedback template"):
        letters.render_feedback("Oak Care", dt.date(2026, 9, 6), [missing], "fr")


@pytest.mark.parametrize("kind", letters.FEEDBACK_KINDS)
def test_every_feedback_kind_has_advice_in_both_languages(kind):
    assert kind.advice_in("en") == kind.advice
    assert kind.advice_in("es")
    assert kind.advice_in("es") != kind.advice


def test_the_referral_list_names_the_days_that_count():
    n = replace(N, threshold=20, limit_kind="consecutive_absences", action="removal")
    days = [dt.date(2026, 9, 1), dt.date(2026, 9, 2)]
    (row,) = csv.DictReader(io.StringIO(letters.referrals_csv([(n, days)])))
    assert row["days_counted"] == "2"
    assert row["absence_days"] == "2026-09-01 2026-09-02"
    assert row["action"] == "removal"
