"""Finding drops and reading their files (CSV or Parquet) through Airflow's ``ObjectStoragePath``.

A drop is a folder ``<location>/<drop name>/`` holding ``manifest.json`` and one file per entity
(``<entity>.csv`` or ``<entity>.parquet``). Every value is read as text, exactly as exported, so
that validation judges what the state's system wrote, not what a parser guessed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ccms_attendance.intake.contract import FILE_FORMATS, MANIFEST_NAME, ORDER, Manifest, Mode
from ccms_attendance.intake.errors import IntakeError, Problem

MAX_FILE_BYTES = 512 * 1024 * 1024  # a drop is reference data, not attendance; refuse absurd files


def storage_path(url: str) -> Any:
    """An ``ObjectStoragePath`` for a URL or a plain local folder (``file://`` is implied)."""
    from airflow.sdk import ObjectStoragePath

    from ccms_attendance.artifact_store import location_url

    return ObjectStoragePath(location_url(url))


@dataclass(frozen=True)
class DropFiles:
    name: str
    manifest: Manifest
    files: dict[str, Any]  # entity -> ObjectStoragePath of its file
    digest: str  # sha256 over the manifest and every entity file (names and bytes)


def list_drops(location: Any) -> list[Any]:
    """Drop folders under ``location`` (those holding a manifest), in name order."""
    if not location.exists():
        raise IntakeError([Problem(location.name or "location", None, None, "the drop location does not exist")])
    return sorted((p for p in location.iterdir() if p.is_dir() and (p / MANIFEST_NAME).exists()), key=lambda p: p.name)


def parse_manifest(raw: bytes, where: str) -> Manifest:
    def bad(message: str) -> IntakeError:
        return IntakeError([Problem(where, None, None, message)])

    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise bad(f"not valid JSON ({str(error)[:120]})") from None
    if not isinstance(data, dict):
        raise bad("must be a JSON object")
    missing = [k for k in ("mode", "entities", "exported_at") if k not in data]
    if missing:
        raise bad(f"missing key(s): {', '.join(missing)}")
    if data["mode"] not in {m.value for m in Mode}:
        raise bad(f"mode must be 'snapshot' or 'changes', got {str(data['mode'])[:40]!r}")
    entities = data["entities"]
    if not isinstance(entities, list) or not entities or not all(isinstance(e, str) for e in entities):
        raise bad("entities must be a non-empty list of entity names")
    unknown = sorted(set(entities) - set(ORDER))
    if unknown:
        raise bad(f"unknown entities {', '.join(u[:40] for u in unknown)} (known: {', '.join(ORDER)})")
    if len(set(entities)) != len(entities):
        raise bad("entities lists a name twice")
    exported_at = str(data["exported_at"])
    try:
        parsed = dt.datetime.fromisoformat(exported_at)
    except ValueError:
        raise bad(f"exported_at is not an ISO 8601 instant: {exported_at[:40]!r}") from None
    if parsed.tzinfo is None:
        raise bad("exported_at needs a UTC offset (e.g. 2026-11-23T06:00:00Z)")
    extra = {k: v for k, v in data.items() if k not in {"mode", "entities", "exported_at", "source"}}
    ordered = tuple(e for e in ORDER if e in entities)
    return Manifest(Mode(data["mode"]), ordered, exported_at, str(data.get("source", ""))[:80], extra)


def open_drop(folder: Any) -> DropFiles:
    """The drop in ``folder``: its manifest, one file per listed entity, and the drop's digest."""
    manifest_raw = (folder / MANIFEST_NAME).read_bytes()
    manifest = parse_manifest(manifest_raw, f"{folder.name}/{MANIFEST_NAME}")
    problems, files = [], {}
    for name in manifest.entities:
        found = [folder / f"{name}.{fmt}" for fmt in FILE_FORMATS if (folder / f"{name}.{fmt}").exists()]
        if len(found) != 1:
            what = "no file" if not found else "both a .csv and a .parquet file"
            problems.append(
                Problem(f"{folder.name}/{name}.csv", None, None, f"the manifest lists it but there is {what}")
            )
            continue
        files[name] = found[0]
    listed = {f"{n}.{fmt}" for n in manifest.entities for fmt in FILE_FORMATS}
    for path in folder.iterdir():
        _stem, _, fmt = path.name.rpartition(".")
        if fmt in FILE_FORMATS and path.name not in listed:
            problems.append(
                Problem(f"{folder.name}/{path.name}", None, None, "an entity file the manifest does not list")
            )
    if problems:
        raise IntakeError(problems)
    digest = hashlib.sha256(b"manifest\0" + manifest_raw)
    for name in manifest.entities:
        digest.update(f"\0{files[name].name}\0".encode())
        digest.update(files[name].read_bytes())
    return DropFiles(folder.name, manifest, files, digest.hexdigest())


def read_entity_file(path: Any, file_label: str) -> tuple[pd.DataFrame, int]:
    """The file's rows as text (empty cell = ""), and the number of the first data row.

    CSV rows are numbered as lines of the file (the header is line 1, so data starts at 2); Parquet
    rows as records (starting at 1). Errors name these numbers.
    """
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise IntakeError([Problem(file_label, None, None, f"larger than {MAX_FILE_BYTES // 2**20} MiB")])
    if path.name.endswith(".parquet"):
        try:
            frame = pd.read_parquet(io.BytesIO(raw))
        except ImportError:
            raise IntakeError([Problem(file_label, None, None, "Parquet needs pyarrow, not installed here")]) from None
        except Exception as error:
            raise IntakeError(
                [Problem(file_label, None, None, f"not a readable Parquet file ({type(error).__name__})")]
            ) from None
        return frame.map(_as_text).astype(object), 1
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IntakeError([Problem(file_label, None, None, f"not UTF-8 text (byte {error.start})")]) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise IntakeError(
            [Problem(file_label, None, None, f"not a CSV file with a header ({str(error)[:120]})")]
        ) from None
    return frame, 2


def _as_text(value: Any) -> str:
    """A Parquet cell as the text a CSV export would hold (dates ISO, weekday lists space-separated)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)
