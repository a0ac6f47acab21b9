"""Task bodies of ``ccms_reference_sync``: find the pending drops, validate them, apply them.

The DAG file only wires these. Each opens its own warehouse connection (``[intake] conn_id``)
and returns a small dict: drop names, digests and row counts, never rows. What reads a drop
(``intake.read``: pandas) is imported inside the tasks, so parsing the DAG file does not import it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from ccms_attendance.intake.errors import IntakeError, Problem
from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.periods import load_pipeline_config
from ccms_attendance.warehouse.sql_files import fetch_one

log = logging.getLogger(__name__)

REFERENCE_ASSET_NAME = "ccms_reference_data"
REFERENCE_ASSET_URI = "ccms://reference"
#: Environment override of ``[intake] location`` (tests and the demo point it at their own folder).
LOCATION_ENV = "CCMS_INTAKE_LOCATION"


def intake_config() -> dict[str, str]:
    section = load_pipeline_config().get("intake", {})
    return {
        "location": str(section.get("location", "var/intake")),
        "conn_id": str(section.get("conn_id", "ccms_reference_sync")),
        "schedule": str(section.get("schedule", "")),
    }


def location_url(param: str | None) -> str:
    """The drop location: the run's Param, else ``CCMS_INTAKE_LOCATION``, else ``[intake] location``."""
    value = (param or os.environ.get(LOCATION_ENV) or intake_config()["location"]).strip()
    if "://" not in value and not os.path.isabs(value):
        value = str(PROJECT_ROOT / value)
    return value


def refused_whole(func):
    """A drop's problems are facts about its files: fail at once (no retry) with the list of problems."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from airflow.sdk.exceptions import AirflowFailException

        try:
            return func(*args, **kwargs)
        except IntakeError as error:
            raise AirflowFailException(str(error)) from None

    return wrapper


def _skip_when_empty(drops: list[dict[str, str]]) -> None:
    if not drops:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException("no pending drop: nothing to validate or apply")


def shown_location(url: str) -> str:
    """The location as logged and reported: any ``user:password@`` part cut out of the URL."""
    return re.sub(r"(://)[^/@]*@", r"\1", url)


def _warehouse():
    from ccms_attendance.hooks.warehouse import WarehouseHook

    return WarehouseHook(postgres_conn_id=intake_config()["conn_id"]).connect(application_name="ccms-reference-sync")


def _params(context: Mapping[str, Any]) -> tuple[str, str]:
    params = context.get("params") or {}
    return location_url(params.get("location")), str(params.get("drop") or "").strip()


@refused_whole
def find_drops(context: Mapping[str, Any]) -> list[dict[str, str]]:
    """The drops not applied yet, oldest name first (or only the Param ``drop``)."""
    from ccms_attendance.intake.read import list_drops, open_drop, storage_path

    url, only = _params(context)
    location = storage_path(url)
    folders = list_drops(location)
    if only:
        folders = [f for f in folders if f.name == only]
        if not folders:
            where = shown_location(url)
            raise IntakeError([Problem(only, None, None, f"no drop of that name (with a manifest) under {where}")])
    pending = []
    with _warehouse() as conn:
        for folder in folders:
            drop = open_drop(folder)
            seen = fetch_one(conn, "intake_drop_applied", {"drop_hash": drop.digest})
            if seen["drop_name"] is None:
                pending.append({"name": drop.name, "hash": drop.digest})  # no URL in XCom (it may hold a user)
            else:
                log.info(
                    "Drop %s (sha256 %s) already applied at %s: skipped",
                    drop.name,
                    drop.digest[:12],
                    seen["applied_at"],
                )
    log.info("Pending drops under %s: %s", shown_location(url), ", ".join(d["name"] for d in pending) or "none")
    return pending


def _open_checked(url: str, entry: Mapping[str, str]):
    from ccms_attendance.intake.read import open_drop, storage_path

    drop = open_drop(storage_path(url) / entry["name"])
    if drop.digest != entry["hash"]:
        raise IntakeError([Problem(drop.name, None, None, "its files changed after it was found; run the sync again")])
    return drop


@refused_whole
def validate_drops(context: Mapping[str, Any], drops: list[dict[str, str]]) -> dict[str, Any]:
    """Check every pending drop against the contract and the warehouse; raise naming file, row, column."""
    _skip_when_empty(drops)
    from ccms_attendance.intake.apply import current_keys
    from ccms_attendance.intake.validate import validate_drop

    url = _params(context)[0]
    checked = {}
    with _warehouse() as conn:
        for entry in drops:
            frames = validate_drop(_open_checked(url, entry), current_keys(conn))
            checked[entry["name"]] = {name: len(f.frame) for name, f in frames.items()}
            log.info("Drop %s valid: %s", entry["name"], checked[entry["name"]])
    return {"drops": checked}


@refused_whole
def apply_drops(context: Mapping[str, Any], drops: list[dict[str, str]], asset: Any = None) -> dict[str, Any]:
    """Apply each pending drop in its own transaction, in order; record the last digest on the Asset event."""
    _skip_when_empty(drops)
    from ccms_attendance.intake.apply import apply_drop
    from ccms_attendance.warehouse.statistics import refresh_statistics

    url, outlet_events = _params(context)[0], context.get("outlet_events")
    results = []
    with _warehouse() as conn:
        for entry in drops:
            result = apply_drop(conn, _open_checked(url, entry))
            verb = "applied" if result.applied else "was already applied"
            log.info("Drop %s %s: %s", result.drop_name, verb, result.entities)
            results.append({"drop": result.drop_name, "hash": result.drop_hash, "applied": result.applied})
        if any(r["applied"] for r in results):
            # The next period run (or backfill) plans against these tables: statistics now, not
            # when autovacuum comes round (migration V019).
            refresh_statistics(conn, "analyze_after_intake", None, "intake: drops applied")
    if outlet_events is not None and asset is not None and results:
        outlet_events[asset].extra = {"drops": [r["drop"] for r in results], "drop_hash": results[-1]["hash"]}
    return {"drops": results}
