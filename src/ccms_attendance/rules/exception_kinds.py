"""Every exception kind the pipeline records, with its severity and what to do about it — once.

The rules, the extract step and the load record exceptions by kind; the report, the run summary and
the provider feedback read the advice from here. A kind that is not in this catalogue cannot be
recorded (`ExceptionKind(...)` raises), so a new rule must say here how serious it is and who acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How serious an exception is. Critical: the site-period cannot be used as is."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Actor(StrEnum):
    """Who can act on an exception."""

    PROVIDER = "provider"
    STATE = "state"
    ENGINEER = "engineer"


@dataclass(frozen=True)
class KindInfo:
    severity: Severity
    actor: Actor
    advice: str
    #: The advice in Spanish, for the kinds a provider receives in writing (the outputs' roster
    #: feedback, docs/outputs.md); the wording follows the Spanish provider guide.
    advice_es: str = ""


class ExceptionKind(StrEnum):
    """The kinds, by the module that records them."""

    # rules/governing_source.py
    SELECTION_REJECTED = "selection_rejected"
    CCMS_BEFORE_FIRST_SUBMISSION = "ccms_before_first_submission"
    LICENSE_NOT_LINKED = "license_not_linked"
    # rules/daily_attendance.py
    RECORD_ON_NON_OPERATING_DAY = "record_on_non_operating_day"
    ABSENCE_FOR_UNENROLLED_CHILD = "absence_for_unenrolled_child"
    RECORD_OUTSIDE_ENROLLMENT = "record_outside_enrollment"
    DUPLICATE_CHILD_DAY = "duplicate_child_day"
    PORTAL_ENTRY_WHILE_CCMS = "portal_entry_while_ccms"
    SOURCE_DISAGREEMENT = "source_disagreement"
    SITE_PERIOD_INCOMPLETE = "site_period_incomplete"
    # rules/vouchers.py
    OVERLAPPING_VOUCHERS = "overlapping_vouchers"
    # rules/day_codes.py
    OFF_DAY_FOR_FULL_TIME_VOUCHER = "off_day_for_full_time_voucher"
    OFF_DAY_ON_SCHEDULED_DAY = "off_day_on_scheduled_day"
    ABSENCE_ON_UNSCHEDULED_DAY = "absence_on_unscheduled_day"
    CLOSURE_ENTRY_WITHOUT_SITE_CLOSURE = "closure_entry_without_site_closure"
    PAID_CLOSURE_OVER_ANNUAL_LIMIT = "paid_closure_over_annual_limit"
    UNPAID_CLOSURE_WHILE_PAID_REMAINING = "unpaid_closure_while_paid_remaining"
    FULL_WEEK_OFF_DAY = "full_week_off_day"
    # rules/missing_data.py
    NO_ATTENDANCE_FOR_DAY = "no_attendance_for_day"
    STATUS_WITHHELD_QUARANTINED_RECORD = "status_withheld_quarantined_record"
    CHILD_MISSING_FROM_CCMS = "child_missing_from_ccms"
    # pipeline/extract.py
    UNATTRIBUTED_RECORDS_DROPPED = "unattributed_records_dropped"
    # pipeline/portal_entries.py
    PORTAL_ENTRY_AFTER_CCMS_CONNECTION = "portal_entry_after_ccms_connection"
    PORTAL_ENTRY_UNKNOWN_CHILD = "portal_entry_unknown_child"
    # pipeline/load.py (sql/queries/record_kept_sites.sql)
    SITE_PERIOD_KEPT = "site_period_kept"

    @property
    def info(self) -> KindInfo:
        return CATALOG[self]

    @property
    def severity(self) -> Severity:
        return CATALOG[self].severity

    @property
    def advice(self) -> str:
        return CATALOG[self].advice

    def advice_in(self, language: str) -> str:
        """The advice in ``language`` (``en`` or ``es``); a kind without Spanish advice raises."""
        info = CATALOG[self]
        if language == "en":
            return info.advice
        if language == "es" and info.advice_es:
            return info.advice_es
        raise ValueError(f"no {language!r} advice for exception kind {self.value!r}")


K, S, A = ExceptionKind, Severity, Actor

CATALOG: dict[ExceptionKind, KindInfo] = {
    K.SELECTION_REJECTED: KindInfo(
        S.WARNING, A.PROVIDER, "Save the Data Entry Settings again with a start that is a future period's first day."
    ),
    K.CCMS_BEFORE_FIRST_SUBMISSION: KindInfo(
        S.WARNING, A.PROVIDER, "Submit a first attendance period in the portal; the CCMS governs from the period after."
    ),
    K.LICENSE_NOT_LINKED: KindInfo(
        S.CRITICAL,
        A.PROVIDER,
        "Link the site's license number in the CCMS; the period is run again once it is linked.",
        "Conecte el número de licencia del centro en el CCMS; el período se procesa de nuevo una vez conectado.",
    ),
    K.RECORD_ON_NON_OPERATING_DAY: KindInfo(
        S.WARNING, A.PROVIDER, "Check the site's operating days and closures in the portal, or the record's date."
    ),
    K.ABSENCE_FOR_UNENROLLED_CHILD: KindInfo(
        S.WARNING, A.PROVIDER, "Check the child's voucher dates and site; the absence is not used."
    ),
    K.RECORD_OUTSIDE_ENROLLMENT: KindInfo(
        S.WARNING, A.PROVIDER, "Check the child's voucher dates and site; the record is not used."
    ),
    K.DUPLICATE_CHILD_DAY: KindInfo(
        S.INFO, A.PROVIDER, "Nothing to do: the records were merged (present wins); keep one record per child-day."
    ),
    K.PORTAL_ENTRY_WHILE_CCMS: KindInfo(
        S.WARNING,
        A.PROVIDER,
        "Enter attendance in the CCMS: the portal is read-only while a CCMS is selected.",
        "Introduzca la asistencia en el CCMS: el portal del proveedor es de sólo lectura mientras un CCMS está"
        " seleccionado.",
    ),
    K.SOURCE_DISAGREEMENT: KindInfo(S.INFO, A.PROVIDER, "Nothing to do: the governing source was used."),
    K.SITE_PERIOD_INCOMPLETE: KindInfo(
        S.WARNING, A.ENGINEER, "Read the reason: submit the period, fix the data, or rerun once the vendor is back."
    ),
    K.OVERLAPPING_VOUCHERS: KindInfo(
        S.WARNING, A.STATE, "Correct the overlapping authorizations; days they disagree on stay uncoded until then."
    ),
    K.OFF_DAY_FOR_FULL_TIME_VOUCHER: KindInfo(
        S.WARNING, A.PROVIDER, "A full-time child's missed day is an absence (AB); use OD only for part-time schedules."
    ),
    K.OFF_DAY_ON_SCHEDULED_DAY: KindInfo(
        S.WARNING, A.PROVIDER, "OD is only for days the part-time schedule does not include; the day counts as AB."
    ),
    K.ABSENCE_ON_UNSCHEDULED_DAY: KindInfo(
        S.INFO, A.PROVIDER, "Nothing to do: a day the schedule does not include is OD, not an absence."
    ),
    K.CLOSURE_ENTRY_WITHOUT_SITE_CLOSURE: KindInfo(
        S.WARNING, A.PROVIDER, "Register the closure for the whole site in the portal, or correct the entry."
    ),
    K.PAID_CLOSURE_OVER_ANNUAL_LIMIT: KindInfo(
        S.WARNING, A.PROVIDER, "The site has used its 16 paid closure days this year; further closures are unpaid (NP)."
    ),
    K.UNPAID_CLOSURE_WHILE_PAID_REMAINING: KindInfo(
        S.WARNING, A.PROVIDER, "Paid closure days remain this year; check whether the closure should be PC."
    ),
    K.FULL_WEEK_OFF_DAY: KindInfo(
        S.WARNING, A.PROVIDER, "A full week of OD is not allowed; record the days as absences or correct the schedule."
    ),
    K.NO_ATTENDANCE_FOR_DAY: KindInfo(
        S.WARNING, A.PROVIDER, "Register the closure in the portal, or sync the day's attendance from the CCMS."
    ),
    K.STATUS_WITHHELD_QUARANTINED_RECORD: KindInfo(
        S.WARNING, A.PROVIDER, "Correct the quarantined record in the CCMS (see the quarantine reason)."
    ),
    K.CHILD_MISSING_FROM_CCMS: KindInfo(
        S.WARNING,
        A.PROVIDER,
        "Enter the child in the CCMS with the Child ID on the voucher.",
        "Registre al niño en el CCMS con el ID de niño que figura en el certificado (voucher).",
    ),
    K.UNATTRIBUTED_RECORDS_DROPPED: KindInfo(
        S.WARNING,
        A.PROVIDER,
        "Check the Child IDs in the CCMS roster against the voucher roster (counts only).",
        "Compare los ID de niño de la lista del CCMS con la lista de certificados (vouchers); solo se indica el número"
        " de registros.",
    ),
    K.PORTAL_ENTRY_AFTER_CCMS_CONNECTION: KindInfo(
        S.WARNING,
        A.PROVIDER,
        "Send the correction through the CCMS: the portal is read-only once the site's CCMS is connected.",
    ),
    K.PORTAL_ENTRY_UNKNOWN_CHILD: KindInfo(
        S.WARNING, A.PROVIDER, "Correct the Child ID of the named portal entry; the day was coded without it."
    ),
    K.SITE_PERIOD_KEPT: KindInfo(
        S.WARNING, A.ENGINEER, "Rerun the period once the vendor or the data is back; the previous version stands."
    ),
}
del K, S, A


def advice_for(kind: str) -> str:
    """The advice for a stored kind; an unknown kind (an older version's) gets none."""
    try:
        return ExceptionKind(kind).advice
    except ValueError:
        return ""
