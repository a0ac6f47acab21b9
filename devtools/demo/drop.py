"""The demo's state as an intake drop (docs/intake.md): what the state's systems would export.

``make demo`` writes the generated state as a snapshot drop and loads it through the
``ccms_reference_sync`` DAG, so the demo exercises the production path. ``devtools/demo/drop/``
holds the default period's drop (the repo's sample drop); a unit test keeps it equal to this writer.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ccms_attendance.intake.contract import BY_NAME, ENTITIES, MANIFEST_NAME
from devtools.demo.state import GeneratedState

SAMPLE_DROP_ROOT = Path(__file__).with_name("drop")
#: Warehouse table -> intake entity (the contract's entity names its table).
ENTITY_BY_TABLE = {e.table: e.name for e in ENTITIES}


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive instant {value} in the demo state")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def drop_name(exported_at: dt.datetime, mode: str = "snapshot") -> str:
    """``<exported_at as UTC, YYYYMMDDTHHMMSSZ>-<mode>``: names sort in export order."""
    return f"{exported_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{mode}"


def exported_at_for(state: GeneratedState) -> dt.datetime:
    """A fixed export instant per demo period (so the same state is the same drop, byte for byte)."""
    from devtools.demo.state import _local

    return _local(state.period.end + dt.timedelta(days=4), 6, 0)


def write_drop(state: GeneratedState, root: Path, exported_at: dt.datetime | None = None, emails: bool = True) -> Path:
    """Write ``state`` as a snapshot drop under ``root``; return the drop's folder.

    ``exported_at`` defaults to a fixed instant per period (the sample drop); the demo passes "now",
    so that its drop is new each run and the sync brings the warehouse back to the demo state.
    """
    exported_at = exported_at or exported_at_for(state)
    folder = root / drop_name(exported_at)
    folder.mkdir(parents=True, exist_ok=True)
    entities = []
    for table, frame in state.tables.items():
        name = ENTITY_BY_TABLE[table]
        entity = BY_NAME[name]
        frame = frame.copy()
        if name == "providers" and emails:
            frame["email"] = [f"office@{p.lower()}.example.org" for p in frame["provider_id"]]
        columns = [c for c in entity.column_names if c in frame.columns]
        with (folder / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for record in frame[columns].itertuples(index=False, name=None):
                writer.writerow([_cell(v) for v in record])
        entities.append(name)
    manifest = {
        "mode": "snapshot",
        "entities": [e.name for e in ENTITIES if e.name in entities],
        "exported_at": exported_at.isoformat(),
        "source": "ccms-attendance demo",
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


if __name__ == "__main__":  # regenerate the sample drop: python -m devtools.demo.drop
    import shutil

    from ccms_attendance.periods import load_calendar
    from devtools.demo.__main__ import DEMO_DAY
    from devtools.demo.state import generate_state

    calendar = load_calendar()
    shutil.rmtree(SAMPLE_DROP_ROOT, ignore_errors=True)
    print(write_drop(generate_state(calendar, calendar.period_containing(DEMO_DAY)), SAMPLE_DROP_ROOT))
