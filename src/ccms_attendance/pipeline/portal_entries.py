"""Step 2 for PPP: stage the portal's manual entries of the planned sites, as known at the run's
``as_known_at`` (docs/history.md).

* Child IDs are compared after :func:`ccms_attendance.canonical.normalize_child_id` on both sides
  (surrounding whitespace stripped, ``"7100009.0"`` read as ``"7100009"``, leading zeros kept), and
  an entry is staged under the state's own spelling of the id. Where two entries of a child-day
  normalize to the same id, the one typed last counts.
* An entry whose id matches no child with a voucher in the period is not used: it is dropped and
  counted, as every source's records of such children, and a ``portal_entry_unknown_child``
  exception names site, day and the portal entry (not the id: it may belong to a child outside the
  programs, whom nothing persists), so that the id can be corrected in the portal.
* Once a site connected a CCMS the portal is read-only: an entry typed at or after that instant
  (``staging.site_plan.portal_read_only_from``, set by plan) is not used, also for earlier PPP
  periods, and is reported (``portal_entry_after_ccms_connection``).
"""

from __future__ import annotations

import pandas as pd
import psycopg

from ccms_attendance.canonical import AttendanceStatus, Source, normalize_child_id
from ccms_attendance.pipeline.extract import (
    PPP_BATCH,
    SITE_EXTRACT_COLUMNS,
    ExtractSummary,
    extract_stage,
    reported_children,
)
from ccms_attendance.pipeline.run_context import RunContext, run_as_known_at, run_clock
from ccms_attendance.pipeline.site_items import RECORD_COLUMNS
from ccms_attendance.rules.exception_kinds import ExceptionKind
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS, exceptions_frame
from ccms_attendance.warehouse.bulk import copy_frame, read_frame
from ccms_attendance.warehouse.sql_files import query, run_file


def canonical_ids(ids: pd.Series | list[str]) -> dict[str, str]:
    """Normalized id -> the state's own spelling of it (the first, sorted, if several normalize alike)."""
    spelled: dict[str, str] = {}
    for child_id in sorted(ids):
        normalized = normalize_child_id(child_id)
        if normalized is not None:
            spelled.setdefault(normalized, child_id)
    return spelled


def usable_entries(entries: pd.DataFrame, voucher_ids: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Split the portal's entries into records to stage, entries not used for their id, and exceptions."""
    entries = entries.assign(normalized=entries["child_id"].map(normalize_child_id))
    read_only_from = pd.to_datetime(entries["portal_read_only_from"], utc=True)
    late = read_only_from.notna() & (pd.to_datetime(entries["entered_at"], utc=True) >= read_only_from)
    unknown = ~late & ~entries["normalized"].isin(voucher_ids.keys())
    # The unknown id itself is not stored: it may be a child outside the programs (never persisted).
    unmatched = entries[unknown].assign(child_id=None)
    exceptions = [
        exceptions_frame(
            entries[late],
            str(ExceptionKind.PORTAL_ENTRY_AFTER_CCMS_CONNECTION),
            "warning",
            "portal entry "
            + entries.loc[late, "source_record_id"]
            + " ignored: typed after the site connected a CCMS ("
            + read_only_from[late].dt.strftime("%Y-%m-%d %H:%M UTC")
            + "); the portal is read-only from then on",
        ),
        exceptions_frame(
            unmatched,
            str(ExceptionKind.PORTAL_ENTRY_UNKNOWN_CHILD),
            "warning",
            "portal entry "
            + unmatched["source_record_id"]
            + " names a Child ID that matches no child with a voucher in the period (compared without "
            "surrounding spaces; leading zeros count); not used: correct the Child ID in the portal",
        ),
    ]
    records = entries[~late & ~unknown]
    records = records.assign(child_id=records["normalized"].map(voucher_ids))
    # One entry per child-day once ids are normalized: the one typed last (then the latest entry).
    records = (
        records.sort_values(["entered_at", "source_record_id"])
        .drop_duplicates(["site_id", "child_id", "attendance_date"], keep="last")
        .sort_index()
    )
    return {
        "records": records,
        "unmatched": unmatched,
        "exceptions": pd.concat([e for e in exceptions if len(e)] or [pd.DataFrame(columns=EXCEPTION_COLUMNS)]),
    }


def extract_portal_entries(conn: psycopg.Connection, run: RunContext) -> ExtractSummary:
    """Stage the portal's manual entries for every planned site (used or, under a CCMS, reported)."""
    stage = extract_stage(Source.PPP, PPP_BATCH)
    params = {**run.period_params, "source": str(Source.PPP), "batch_no": PPP_BATCH, "stage": stage}
    as_of, _ = run_clock(conn, run)
    params["as_known_at"] = run_as_known_at(conn, run)
    entries = read_frame(conn, query("ppp_manual_entries"), params)
    voucher_ids = canonical_ids(list(reported_children(conn, run)))
    split = usable_entries(entries, voucher_ids)
    records = split["records"].assign(
        status=str(AttendanceStatus.ABSENT), check_in=None, check_out=None, absence_reason=None
    )
    sites = read_frame(conn, query("reconcile_inputs_plan"), params)["site_id"]
    # The portal's period submission is PPP's completeness signal (as known at the run's "now").
    submitted_at = sites.map(
        read_frame(conn, query("ppp_submissions"), {**params, "as_of": as_of}).set_index("site_id")["submitted_at"]
    )
    dropped = split["unmatched"]
    outcomes = pd.DataFrame(
        {
            "site_id": sites,
            "outcome": "retrieved",
            "records": sites.map(records["site_id"].value_counts()).fillna(0),
            "dropped_non_voucher": sites.map(dropped["site_id"].value_counts()).fillna(0),
            "rejected": 0,
            "error": None,
            "submitted": submitted_at.notna(),
            "submitted_at": submitted_at,
            "data_through": None,
            "duplicates_dropped": 0,
            "duplicate_conflicts": 0,
        }
    )
    with conn.transaction():
        run_file(conn, "clear_batch_extract", params)
        constants = {"run_id": run.run_id, "source": str(Source.PPP), "batch_no": PPP_BATCH}
        copy_frame(conn, "staging.source_record", records, RECORD_COLUMNS, constants)
        copy_frame(conn, "staging.site_extract", outcomes, SITE_EXTRACT_COLUMNS, constants)
        copy_frame(
            conn,
            "staging.exception",
            split["exceptions"],
            EXCEPTION_COLUMNS,
            {"run_id": run.run_id, "period_start": run.period.start, "stage": stage},
        )
    return ExtractSummary(
        source=str(Source.PPP),
        batch_no=PPP_BATCH,
        sites=len(sites),
        records=len(records),
        dropped_non_voucher=len(dropped),
    )
