"""The state's reference and portal data, brought in as drops of files (docs/intake.md) — wiring only."""

from __future__ import annotations

import inspect

from airflow.sdk import Asset, Param, dag, get_current_context, task

from ccms_attendance.intake import tasks as intake
from ccms_attendance.periods import first_period_start

DOC_MD = """
### CCMS reference sync — the state's drops into `ref.*` and `portal.*`

The state's systems (I-LEAD/PPP, licensing, eligibility) export providers, sites, license links,
closures, children, vouchers, Data Entry Settings, period submissions and manual entries as a
**drop**: a folder with `manifest.json` and one CSV (or Parquet) file per entity, a full snapshot
or a change set. The contract — every file, column, key and rule — is `docs/intake.md`.

1. **find_drops** — lists the drops under the location (Param `location`, else `[intake] location`
   in `pipeline.toml`; a local folder or any object-storage URL) not applied yet, oldest first.
2. **validate_drops** — checks each file's header, its GX suite (`intake_<entity>`) and the keys and
   references across files and the warehouse. One bad row refuses the whole drop.
3. **apply_drops** — applies each drop in ONE transaction, recorded in `ref.intake_drop` by its
   sha256: the same drop again changes nothing. Publishes the Asset `ccms://reference` (extra: the
   drop's hash), which the period DAG's runs can wait on.

**Onboarding** a site, license link or voucher: put it in the next drop with its valid date.
"""

REFERENCE = Asset(name=intake.REFERENCE_ASSET_NAME, uri=intake.REFERENCE_ASSET_URI)


@task
def find_drops() -> list[dict[str, str]]:
    """List the drops under the location that are not applied yet (name order).

    **On failure**: the location is unreachable, or a manifest is unreadable (the log names the drop
    and what is wrong). Fix the location/connection or the manifest, then clear this task.
    """
    return intake.find_drops(get_current_context())


@task
def validate_drops(drops: list[dict[str, str]]) -> dict:
    """Validate every pending drop: header, GX suite per entity, keys and references.

    **On failure**: the drop is refused whole and nothing was written. The log lists each problem as
    `drop/file row N column C: what` (bad date, duplicate key, unknown site, wrong header...). Ask
    the exporting system for a corrected drop (a new folder), then run the DAG again.
    """
    return intake.validate_drops(get_current_context(), drops)


@task(outlets=[REFERENCE])
def apply_drops(drops: list[dict[str, str]], checked: dict) -> dict:
    """Apply each drop in one transaction, once per content hash; publish the reference Asset.

    **On failure**: the failing drop's transaction rolled back (drops applied before it stay). Read
    the error, fix, clear this task.
    """
    return intake.apply_drops(get_current_context(), drops, REFERENCE)


# Markdown docs: Airflow keeps a docstring verbatim, and indented it renders as a code block.
find_drops, validate_drops, apply_drops = (
    step.override(doc_md=inspect.cleandoc(step.function.__doc__ or ""))
    for step in (find_drops, validate_drops, apply_drops)
)


@dag(
    dag_id="ccms_reference_sync",
    description="Reference and portal data from the state's drops (docs/intake.md)",
    schedule=intake.intake_config()["schedule"] or None,
    start_date=first_period_start(),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC_MD,
    tags=["ccms", "reference"],
    params={
        "location": Param("", type="string", description="Drop location (folder or URL); empty: [intake] location"),
        "drop": Param("", type="string", description="Only this drop (folder name); empty: every pending drop"),
    },
)
def ccms_reference_sync() -> None:
    drops = find_drops()
    apply_drops(drops, validate_drops(drops))


ccms_reference_sync()
