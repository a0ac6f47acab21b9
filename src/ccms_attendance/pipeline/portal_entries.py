"""Step 2 for PPP: stage the portal's manual entries of the planned sites, as known at the run's
``as_known_at`` (docs/history.md).

* Child IDs are compared after :func:`ccms_attendance.canonical.normalize_child_id` on both sides
  (surrounding whitespace stripped, ``"7100009.0"`` read as ``"7100009"``, leading zeros kept), and
  an entry is staged under the state's own spelling of the id. Where two entries of a child-day
  normalize to the same id, the one typed last counts.
* An entry whose id matches no child in the state's register is a mistyped id: it is not used, and
  a ``portal_entry_unknown_child`` exception names site, id and day (the CCMS path reports a voucher
  child it received nothing about). An entry for a registered child without a voucher in the period
  is dropped and only counted, as every source's.
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
from ccms_attendance.rules.rule_exceptions import EXCEPTION_COLUMNS, exceptions_frame
from ccms_attendance.warehouse.bulk import copy_frame, read_frame
from ccms_attendance.warehouse.sql_files import query, run_file


def canonical_ids(ids: pd.Series | list[str]) -> dict[str, str]:
    """Normalized id -> the state's own spelling of it (the first, sorted, if several normalize alike)."""
    spelled: dict[str, str] = {}
    for child_id in sorted(ids):
        spelled.setdefault(normalize_child_id(child_id), child_id)
    spelled.pop(None, None)
    return spelled


def usable_entries(entries: pd.DataFrame, state_ids: dict[str, str], voucher_ids: dict[str, str]) -> dict:
    """Split the portal's entries into records to stage, entries not counted, and exceptions."""
    entries = entries.assign(normalized=entries["child_id"].map(normalize_child_id))
    read_only_from = pd.to_datetime(entries["portal_read_only_from"], utc=True)
    late = read_only_from.notna() & (pd.to_datetime(entries["entered_at"], utc=True) >= read_only_from)
    unknown = ~late & ~entries["normalized"].isin(state_ids.keys())
    exceptions = [
        exceptions_frame(
            entries[late],
            "portal_entry_after_ccms_connection",
            "warning",
            "portal entry "
            + entries.loc[late, "source_record_id"]
            + " ignored: typed after the site connected a CCMS ("
            + read_only_from[late].dt.strftime("%Y-%m-%d %H:%M UTC")
            + "); the portal is read-only from then on",
        ),
        exceptions_frame(
            entries[unknown].assign(
                child_id=entries.loc[unknown, "normalized"].fillna(entries.loc[unknown, "child_id"])
            ),
            "portal_entry_unknown_child",
            "warning",
            "portal entry "
            + entries.loc[unknown, "source_record_id"]
            + " names a Child ID the state does not know (compared without surrounding spaces; leading "
            "zeros count); the day was not coded from it: correct the Child ID in the portal",
        ),
    ]
    candidates = entries[~late & ~unknown]
    voucher = candidates["normalized"].isin(voucher_ids.keys())
    records = candidates[voucher].assign(child_id=candidates.loc[voucher, "normalized"].map(voucher_ids))
    # One entry per child-day once ids are normalized: the one typed last (then the latest entry).
    records = (
        records.sort_values(["entered_at", "source_record_id"])
        .drop_duplicates(["site_id", "child_id", "attendance_date"], keep="last")
        .sort_index()
    )
    return {
        "records": records,
        "dropped": candidates[~voucher],
        "exceptions": pd.concat([e for e in exceptions if len(e)] or [pd.DataFrame(columns=EXCEPTION_COLUMNS)]),
    }


def extract_portal_entries(conn: psycopg.Connection, run: RunContext) -> ExtractSummary:
    """Stage the portal's manual entries for every planned site (used or, under a CCMS, reported)."""
    stage = extract_stage(Source.PPP, PPP_BATCH)
    params = {**run.period_params, "source": str(Source.PPP), "batch_no": PPP_BATCH, "stage": stage}
    as_of, _ = run_clock(conn, run)
    params["as_known_at"] = run_as_known_at(conn, run)
    entries = read_frame(conn, query("ppp_manual_entries"), params)
    state_ids = canonical_ids(read_frame(conn, query("state_children"), params)["child_id"].tolist())
    voucher_ids = canonical_ids(list(reported_children(conn, run)))
    split = usable_entries(entries, state_ids, voucher_ids)
    records = split["records"].assign(
        status=str(AttendanceStatus.ABSENT), check_in=None, check_out=None, absence_reason=None
    )
    sites = read_frame(conn, query("reconcile_inputs_plan"), params)["site_id"]
    # The portal's period submission is PPP's completeness signal (as known at the run's "now").
    submitted_at = sites.map(
        read_frame(conn, query("ppp_submissions"), {**params, "as_of": as_of}).set_index("site_id")["submitted_at"]
    )
    dropped = split["dropped"]
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
