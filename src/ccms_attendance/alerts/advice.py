"""What to do when something fails: per step, per kind of vendor failure, per unusable site-period.

One place for the advice a failed task logs, its docs repeat and the alert mails, so that the three
never disagree. Only a transient failure is retried; the others say what has to change first.
"""

from __future__ import annotations

from collections.abc import Iterable

#: What to do when a step fails, by task (the failure callback, the task docs).
STEP_ADVICE = {
    "plan_period": (
        "If the period has not ended, run a past period instead (trigger form: a logical date inside it). "
        "If Params 'sites' names an unknown site, trigger again with known site ids. Otherwise check the "
        "warehouse connection and the portal tables; then clear the whole run."
    ),
    "extract_entries": "Check the warehouse connection; clear this task (the run continues from here).",
    "extract_batch": (
        "Sites of this batch could not be read from the vendor; they are reported incomplete, never absent. "
        "The task log's last line says what to do for the kind of failure; see docs/operations.md."
    ),
    "validate": (
        "If the source's data broke a critical expectation (see the message and the data docs), its sites are "
        "reported incomplete: fix the data at the source, then clear the source's extract task downstream. "
        "If the check itself failed (warehouse unreachable, GX could not evaluate), the run stops at reconcile "
        "and loads nothing: fix the cause, clear this task and its downstream tasks."
    ),
    "reconcile": (
        "The period was NOT loaded; its previous version stays current. If an extract or validate step did not "
        "complete, clear it with its downstream tasks; otherwise read the error, fix, clear reconcile."
    ),
    "data_docs": (
        "Only the run's data docs pages are missing; validation results and the load are not affected. Check the "
        "data docs store ([data_docs] in pipeline.toml, its connection), then clear this task."
    ),
    "load": "The load rolled back: the previous version of the period is intact. Clear the load task to retry.",
    "report": "The period IS loaded; only its report is missing. Read the error, fix, clear the report task.",
    "deliver_outputs": (
        "Letters already recorded in reconciled.notice_delivery are not sent again. Check the outputs folder and "
        "the ccms_outputs_smtp connection, then clear this task."
    ),
    "check_period": (
        "Everything that could be loaded is loaded and reported. Act on each problem listed (the line per "
        "site says what to do), then rerun the period (clear the run, or trigger it for a day inside it)."
    ),
}
DEFAULT_STEP_ADVICE = "Read the task log, fix the cause, clear the task."

#: What to do about sites a vendor call failed for, by ``hooks.errors.FailureKind``.
KIND_ADVICE = {
    "transient": (
        "the vendor was unreachable or failing (outage, HTTP 5xx/429, timeouts) after retries: when the "
        "vendor is back, clear this task with its downstream tasks"
    ),
    "connection": (
        "the vendor refused the credentials, or the Airflow connection ccms_{vendor} is missing or unusable: "
        "fix the connection (API key / client secret, host, TLS), then clear this task with its downstream "
        "tasks; retrying unchanged cannot succeed"
    ),
    "unknown_license": (
        "the vendor has no site with this license number: check the site's license number in the portal and "
        "with the provider (is the site set up in its CCMS under that number?), then rerun the period"
    ),
    "refused": (
        "the vendor refused the request (HTTP 4xx): check the site's license number and the connection "
        "ccms_{vendor} against docs/vendors.md, then clear this task with its downstream tasks"
    ),
    "data": (
        "the vendor's response could not be used: report it to the vendor with the site and period; a rerun "
        "reads the same data the same way until the vendor fixes it"
    ),
}
KIND_ORDER = ("connection", "unknown_license", "refused", "data", "transient")

#: What to do about a site-period without usable data, by ``rules.lifecycle.UnavailableCause``.
CAUSE_ADVICE = {
    "plan": "ask the provider to link the license to the site in the portal, then rerun the period",
    "failed_validation": (
        "its records broke a critical expectation (the validate task's message and the data docs say which): fix the "
        "data at the source, then rerun the period"
    ),
    "source_failed": "the vendor call failed: follow the advice at the end of the failed extract task's log",
    "no_records": (
        "the vendor sent no records for a site with enrolled children: check with the provider that attendance "
        "is kept in the CCMS under this license and the children's Child IDs, then rerun the period"
    ),
    "not_extracted": "the extract step did not complete: clear it with its downstream tasks",
}
DEFAULT_CAUSE_ADVICE = "read the reason, fix the cause, then rerun the period"


def step_advice(step: str) -> str:
    return STEP_ADVICE.get(step, DEFAULT_STEP_ADVICE)


def extract_advice(vendor: str, kinds: Iterable[str]) -> str:
    """The advice for a batch whose sites failed with these kinds, most actionable first."""
    present = set(kinds)
    parts = [KIND_ADVICE[kind].format(vendor=vendor.lower()) for kind in KIND_ORDER if kind in present]
    return "; ".join(parts) or step_advice("extract_batch")


def cause_advice(cause: str | None) -> str:
    return CAUSE_ADVICE.get(cause or "", DEFAULT_CAUSE_ADVICE)


_KIND_TITLES = {
    "transient": "Outage, HTTP 5xx/429, timeouts (retried)",
    "connection": "HTTP 401 or an unusable connection (not retried)",
    "unknown_license": "Unknown license number (not retried)",
    "refused": "Another HTTP 4xx (not retried)",
    "data": "Unusable response (not retried)",
}


def step_doc(step: str) -> str:
    """The "when it fails" part of a task's docs (Markdown); the extract lists every kind of failure."""
    if step != "extract_batch":
        return step_advice(step)
    kinds = "\n".join(
        f"- *{_KIND_TITLES[kind]}*: {KIND_ADVICE[kind].format(vendor='<vendor>')}." for kind in KIND_ORDER[::-1]
    )
    return f"{step_advice(step)}\n\n{kinds}"
