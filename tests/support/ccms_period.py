"""A CCMS period through the pipeline's steps in DAG order, in-process, as the loader role.

The vendor data comes from the sandboxes over real HTTP through the real hooks (``make_hook``);
plan, extract, validate, reconcile and load are the pipeline's own functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError
from ccms_attendance.periods import ServicePeriod, load_calendar
from ccms_attendance.pipeline.extract import extract_ccms_batch, extract_ppp
from ccms_attendance.pipeline.load import load_period
from ccms_attendance.pipeline.plan import plan_period
from ccms_attendance.pipeline.reconcile import check_and_stage, ensure_valid, reconcile_run
from ccms_attendance.pipeline.run_context import RunContext
from ccms_attendance.pipeline.validate import validate_source
from ccms_attendance.warehouse.target import LOADER_ROLE
from support.period_steps import AFTER_DEADLINES
from support.portal_state import PortalState, at


def ccms_sites(period: ServicePeriod, sites: dict[str, tuple[str, Source, Iterable[str]]]) -> PortalState:
    """Sites ``{site_id: (license, vendor, voucher child ids)}`` governed by their vendor in ``period``
    (selected and first submitted in the portal in the period before)."""
    before = period.start - dt.timedelta(days=14)
    state = PortalState(period)
    for site_id, (license_number, source, children) in sites.items():
        state.site(site_id, license_number)
        state.submission(site_id, before, submitted_at=at(period.start - dt.timedelta(days=2)))
        state.selection(site_id, str(source), period.start, chosen_at=at(before + dt.timedelta(days=1)))
        for child_id in children:
            state.voucher(child_id, site_id)
    return state


def run_ccms_period(
    warehouse: Any, run: RunContext, make_hook: Callable[..., Any], sources: Iterable[Source]
) -> dict[str, Any]:
    """Plan, extract (vendors over HTTP, PPP), validate, reconcile and load ``run``'s period."""
    with psycopg.connect(warehouse.as_role(LOADER_ROLE).conninfo, autocommit=True) as loader:
        plan = plan_period(loader, run, load_calendar(), batch_count=1, as_of=AFTER_DEADLINES)
        for source in sources:
            hook = make_hook(source)
            try:
                for batch_no in plan.batches[str(source)]:
                    extract_ccms_batch(
                        loader,
                        run,
                        source,
                        batch_no,
                        lambda number, hook=hook: hook.iter_site_period(number, run.period),
                        (CcmsExtractionError,),
                    )
            finally:
                hook.close()
        extract_ppp(loader, run)
        for source in (Source.PPP, *sources):
            assert validate_source(loader, run, source).success
        result = reconcile_run(loader, run)
        ensure_valid(run, check_and_stage(loader, run, result))
        return load_period(loader, run)
