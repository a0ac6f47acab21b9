"""Where period reports and GX data docs are kept: two ``ObjectStoragePath`` roots.

Tasks write them (on any worker, any host) and the UI plugin on the api-server reads them, so both
roots must be storage every one of those processes reaches: a local folder on one host (the default,
``build/reports`` and ``build/data_docs`` of the checkout), a bucket (``s3://``, ``gs://``, through
Airflow's object storage and a connection) or a shared mount (``file://``) when tasks run elsewhere.

Configuration (``config/pipeline.toml``), per root: ``[reports]`` / ``[data_docs]`` ``location`` (a
path relative to the checkout, or a URL) and ``conn_id`` (the Airflow connection of a bucket; a URL
may also carry it as ``s3://<conn id>@bucket/...``). The environment wins: ``CCMS_REPORTS_URL`` /
``CCMS_DATA_DOCS_URL`` (a URL or a path), then ``CCMS_REPORTS_DIR`` / ``CCMS_DATA_DOCS_DIR`` (a
local folder). Relative paths are relative to the checkout, never to the current directory.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ccms_attendance.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


@dataclass(frozen=True, slots=True)
class StoreSetting:
    section: str  # of pipeline.toml
    url_env: str
    dir_env: str
    default: str  # relative to the checkout


REPORTS = StoreSetting("reports", "CCMS_REPORTS_URL", "CCMS_REPORTS_DIR", "build/reports")
DATA_DOCS = StoreSetting("data_docs", "CCMS_DATA_DOCS_URL", "CCMS_DATA_DOCS_DIR", "build/data_docs")


def configured_root(setting: StoreSetting) -> tuple[str, str | None]:
    """(URL, connection id or None) of a root, from the environment or ``pipeline.toml``."""
    from ccms_attendance.periods import load_pipeline_config

    section = load_pipeline_config().get(setting.section, {})
    location = (
        os.environ.get(setting.url_env) or os.environ.get(setting.dir_env) or section.get("location") or setting.default
    )
    return _url(location), section.get("conn_id") or None


def reports_root() -> ObjectStoragePath:
    """Where period reports are written and served from."""
    return as_store_path(*configured_root(REPORTS))


def data_docs_root() -> ObjectStoragePath:
    """Where GX data docs are published and served from."""
    return as_store_path(*configured_root(DATA_DOCS))


def _url(location: str | Path) -> str:
    text = str(location)
    if "://" in text:
        return text
    # "file://" + the path, not Path.as_uri(): ObjectStoragePath does not undo its percent-encoding.
    return "file://" + str((PROJECT_ROOT / text).resolve())


def as_store_path(location: ObjectStoragePath | Path | str, conn_id: str | None = None) -> ObjectStoragePath:
    """``location`` (an ObjectStoragePath, a local path, or a URL) as an ObjectStoragePath."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(location, ObjectStoragePath):
        return location
    return ObjectStoragePath(_url(location), conn_id=conn_id)


def local_path(path: ObjectStoragePath) -> Path | None:
    """The local file system path of ``path`` when it is on the local file system, else None."""
    return Path(path.path) if path.protocol in ("file", "local", "") else None


def child(root: ObjectStoragePath, relative: str) -> ObjectStoragePath | None:
    """``root/relative`` when that names something inside ``root``; None for any way out.

    Object stores do not resolve ``..`` (the key would simply contain it), so every segment is
    checked; on a local root the resolved path must also stay inside (no symbolic link out).
    """
    if "\x00" in relative or "\\" in relative or relative.startswith("/"):
        return None
    parts = [part for part in relative.split("/") if part]
    if any(part in (".", "..") for part in parts):
        return None
    target = root.joinpath(*parts) if parts else root
    base = local_path(root)
    if base is not None:
        resolved = Path(os.path.realpath(Path(target.path)))
        if not resolved.is_relative_to(Path(os.path.realpath(base))):
            return None
    return target


def write_text(path: ObjectStoragePath, text: str) -> None:
    """Write a whole file so a reader never sees half of it.

    An object store's PUT replaces the object at once; a local file is written beside and renamed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    local = local_path(path)
    if local is None:
        path.write_text(text, encoding="utf-8")
        return
    tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, local)


def upload_folder(source: Path, target: ObjectStoragePath) -> int:
    """Copy the files under the local folder ``source`` into ``target``; files of ``target`` that
    ``source`` does not have are removed (a rebuilt folder, e.g. a retried task, keeps no stale page).
    Nothing outside ``target`` is touched. Returns the number of files copied."""
    files = sorted(p for p in source.rglob("*") if p.is_file())
    names = {p.relative_to(source).as_posix() for p in files}
    for path in files:
        destination = target.joinpath(*PurePosixPath(path.relative_to(source).as_posix()).parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())
    if target.exists():
        base = target.path.rstrip("/")
        for found in target.fs.find(target.path):
            name = str(found)[len(base) :].lstrip("/") if str(found).startswith(base) else None
            if name is not None and name not in names:
                target.fs.rm(found)
    return len(files)


def folder_bytes(folder: ObjectStoragePath) -> int:
    """The total size of the files under ``folder`` (0 if it does not exist)."""
    return int(folder.fs.du(folder.path, total=True)) if folder.exists() else 0


def remove_folder(folder: ObjectStoragePath) -> None:
    """Delete ``folder`` and everything under it; then its parent if that is left empty."""
    if folder.exists():
        folder.fs.rm(folder.path, recursive=True)
    parent = folder.parent
    if parent.exists() and not any(parent.iterdir()):
        parent.rmdir()
