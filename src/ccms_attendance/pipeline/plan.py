"""Step 1: decide, for every site with voucher children, which source governs the period.

First refuses a period that has not ended (its days have not all happened), before writing
anything. Then takes the run's "now" (``as_of``, recorded in the run audit for every later step),
reads the portal state as it was at the period start (selection history, first submission, license
linkage), applies the governing-source rules, and stages one plan row per site, each assigned to a
batch so a vendor's sites become a bounded number of mapped extract tasks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from ccms_attendance.canonical import Source
from ccms_attendance.periods import PeriodCalendar
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.rules.governing_source import (
    GoverningDecision,
    Selection,
    SiteFacts,
    decide,
    portal_read_only_from,
)
from ccms_attendance.rules.lifecycle import require_ended
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS
from ccms_attendance.warehouse.bulk import copy_frame, read_frame
from ccms_attendance.warehouse.sql_files import query, run_file
from ccms_attendance.warehouse.statistics import analyze_staging

PLAN_COLUMNS = [
    "site_id",
    "license_number",
    "governing_source",
    "selected_method",
    "incomplete_reason",
    "batch_no",
    "portal_read_only_from",
]


@dataclass(frozen=True)
class PlanResult:
    """Small enough for XCom: batch numbers per source, and counts."""

    batches: dict[str, list[int]]
    sites_per_source: dict[str, int]
    exceptions: int

    def as_xcom(self) -> dict[str, object]:
        return {**self.batches, "sites_per_source": self.sites_per_source, "exceptions": self.exceptions}


def assign_batches(site_ids: list[str], batch_count: int) -> dict[str, int]:
    """Spread sites over at most ``batch_count`` batches, stable for a given site list."""
    return {site_id: index % batch_count for index, site_id in enumerate(sorted(site_ids))}


def load_site_facts(
    conn: psycopg.Connection, run: RunContext, as_of: dt.datetime, as_known_at: dt.datetime
) -> list[SiteFacts]:
    """The portal state of the period's sites as known at ``as_known_at`` (selections saved up to
    ``as_of``: those after the period only tell when a site connected a CCMS)."""
    params = {**run.period_params, "only_sites": list(run.scope.sites), "as_of": as_of, "as_known_at": as_known_at}
    facts = read_frame(conn, query("plan_site_facts"), params)
    if facts.empty:
        return []
    selections = read_frame(conn, query("plan_selections"), {**params, "site_ids": facts["site_id"].tolist()})
    by_site: dict[str, list[Selection]] = defaultdict(list)
    for row in selections.itertuples(index=False):
        by_site[row.site_id].append(
            Selection(row.selection_id, Source(row.method), row.effective_start, row.chosen_at, row.chosen_by)
        )
    return [
        SiteFacts(
            site_id=row.site_id,
            license_number=row.license_number,
            selections=tuple(by_site[row.site_id]),
            first_submission_at=None if pd.isna(row.first_submission_at) else row.first_submission_at,
            license_linked_at_start=bool(row.license_linked),
        )
        for row in facts.itertuples(index=False)
    ]


def plan_period(
    conn: psycopg.Connection,
    run: RunContext,
    calendar: PeriodCalendar,
    batch_count: int,
    *,
    as_of: dt.datetime | None = None,
    as_known_at: dt.datetime | None = None,
    grace: dt.timedelta = dt.timedelta(0),
) -> PlanResult:
    """Stage the plan for ``run`` (replacing any earlier plan of the same run) and commit.

    ``as_of`` is the run's "now" (default: this instant). ``as_known_at`` is the instant every step
    reads reference and portal data as known at (default: this instant, i.e. everything recorded so
    far; an earlier load's value reproduces what it saw). Both are recorded in the run audit.
    ``grace`` is how long after the period's end the schedule runs it, for the message that refuses
    an open period.
    """
    if batch_count < 1:
        raise ValueError("batch_count must be at least 1")
    now = dt.datetime.now(dt.UTC)
    as_of = as_of or now
    as_known_at = as_known_at or now
    require_ended(run.period, as_of, provisional_run_at=run.period.end_instant() + grace)
    with conn.transaction():
        run_file(
            conn, "upsert_service_period", {**run.period_params, "submission_deadline": calendar.deadline(run.period)}
        )
        run_file(conn, "clear_run_staging", run.period_params)
        run_file(
            conn,
            "start_run_audit",
            {
                **run.period_params,
                "dag_id": run.dag_id,
                "scope": Jsonb(run.scope.as_json()),
                "as_of": as_of,
                "as_known_at": as_known_at,
            },
        )
        decisions = {
            f.site_id: (f, decide(f, run.period, calendar)) for f in load_site_facts(conn, run, as_of, as_known_at)
        }
        read_only_from = {
            site_id: portal_read_only_from(facts, run.period, calendar)
            for site_id, (facts, decision) in decisions.items()
            if decision.governing_source == Source.PPP
        }
        if run.scope.sources:
            wanted = {str(s) for s in run.scope.sources}
            decisions = {k: v for k, v in decisions.items() if v[1].governing_source in wanted}
        plan = _plan_frame(decisions, batch_count)
        plan["portal_read_only_from"] = plan["site_id"].map(read_only_from).astype(object)
        copy_frame(
            conn, "staging.site_plan", plan, PLAN_COLUMNS, {"run_id": run.run_id, "period_start": run.period.start}
        )
        exceptions = _exceptions_frame([d for _, d in decisions.values()])
        copy_frame(
            conn,
            "staging.exception",
            exceptions,
            EXCEPTION_COLUMNS,
            {"run_id": run.run_id, "period_start": run.period.start, "stage": "plan"},
        )
    # Every later step of the run joins its plan: statistics now, not when autovacuum comes round.
    analyze_staging(conn, ["site_plan"], f"{run.describe()}: planned")
    batches = {
        str(source): sorted(
            plan.loc[(plan["governing_source"] == source) & (plan["batch_no"] >= 0), "batch_no"].unique().tolist()
        )
        if not plan.empty
        else []
        for source in Source
    }
    counts = plan["governing_source"].value_counts().to_dict() if not plan.empty else {}
    return PlanResult(
        batches=batches,
        sites_per_source={str(s): int(counts.get(str(s), 0)) for s in Source},
        exceptions=len(exceptions),
    )


def _plan_frame(decisions: dict[str, tuple[SiteFacts, GoverningDecision]], batch_count: int) -> pd.DataFrame:
    rows = [
        {
            "site_id": facts.site_id,
            "license_number": facts.license_number,
            "governing_source": str(decision.governing_source),
            "selected_method": str(decision.selected_method),
            "incomplete_reason": decision.incomplete_reason,
        }
        for facts, decision in decisions.values()
    ]
    plan = pd.DataFrame(rows, columns=PLAN_COLUMNS[:-2])
    plan["batch_no"] = 0  # PPP is read in one query: batches only split vendor API calls
    extractable = (plan["governing_source"] != str(Source.PPP)) & plan["incomplete_reason"].isna()
    plan.loc[plan["incomplete_reason"].notna(), "batch_no"] = -1  # nothing to call (e.g. unlinked license)
    for _source, group in plan[extractable].groupby("governing_source"):
        batch_of = assign_batches(group["site_id"].tolist(), batch_count)
        plan.loc[group.index, "batch_no"] = group["site_id"].map(batch_of)
    return plan


def _exceptions_frame(decisions: list[GoverningDecision]) -> pd.DataFrame:
    rows = [
        {
            "kind": e.kind.value,
            "severity": e.severity.value,
            "site_id": e.site_id,
            "child_id": e.child_id,
            "attendance_date": e.attendance_date,
            "detail": e.detail,
        }
        for decision in decisions
        for e in decision.exceptions
    ]
    return pd.DataFrame(rows, columns=EXCEPTION_COLUMNS)
