"""The reports and data docs roots as ObjectStoragePath: configuration, safe joins, uploads, deletes,
on a ``file://`` root away from the current directory and on fsspec's ``memory://`` file system."""

from __future__ import annotations

import os
import uuid

import pytest
from airflow.sdk import ObjectStoragePath

from ccms_attendance import artifact_store
from ccms_attendance.artifact_store import (
    as_store_path,
    child,
    data_docs_root,
    folder_bytes,
    remove_folder,
    reports_root,
    upload_folder,
    write_text,
)
from ccms_attendance.paths import PROJECT_ROOT


@pytest.fixture
def memory_root():
    """A fresh ``memory://`` root: fsspec's memory file system, attached to Airflow's object storage
    (no provider registers it) as a provider's file system would be."""
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    fs = MemoryFileSystem()
    attach("memory", fs=fs)
    bucket = f"ccms-{uuid.uuid4().hex[:8]}"
    yield ObjectStoragePath(f"memory://{bucket}/store")
    if fs.exists(f"/{bucket}"):
        fs.rm(f"/{bucket}", recursive=True)


@pytest.fixture
def file_root(tmp_path, monkeypatch):
    """A ``file://`` root in a temporary folder; the current directory is another one."""
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return ObjectStoragePath(f"file://{tmp_path}/store")


@pytest.fixture(params=["file", "memory"])
def root(request):
    return request.getfixturevalue(f"{request.param}_root")


def test_default_roots_are_the_checkouts_build_folders_whatever_the_current_directory(tmp_path, monkeypatch):
    for name in ("CCMS_REPORTS_URL", "CCMS_REPORTS_DIR", "CCMS_DATA_DOCS_URL", "CCMS_DATA_DOCS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert reports_root().protocol == "file"
    assert reports_root().path == str(PROJECT_ROOT / "build" / "reports")
    assert data_docs_root().path == str(PROJECT_ROOT / "build" / "data_docs")


def test_a_url_in_the_environment_wins_and_may_carry_a_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("CCMS_REPORTS_DIR", str(tmp_path / "dir"))
    monkeypatch.setenv("CCMS_REPORTS_URL", "s3://ccms_artifacts@bucket/ccms/reports")
    root = reports_root()
    assert (root.protocol, root.conn_id, root.bucket, root.key) == ("s3", "ccms_artifacts", "bucket", "ccms/reports")
    monkeypatch.delenv("CCMS_REPORTS_URL")
    assert reports_root().path == str(tmp_path / "dir")  # the local folder override
    monkeypatch.setenv("CCMS_DATA_DOCS_URL", "build/elsewhere")  # a path: relative to the checkout
    assert data_docs_root().path == str(PROJECT_ROOT / "build" / "elsewhere")


def test_the_configured_connection_applies(monkeypatch):
    monkeypatch.setenv("CCMS_DATA_DOCS_URL", "gs://bucket/docs")
    config = {"data_docs": {"location": "ignored", "conn_id": "ccms_docs_gcs"}}
    monkeypatch.setattr("ccms_attendance.periods.load_pipeline_config", lambda: config)
    assert artifact_store.configured_root(artifact_store.DATA_DOCS) == ("gs://bucket/docs", "ccms_docs_gcs")


def test_a_local_path_with_a_space_is_the_same_folder(tmp_path):
    folder = tmp_path / "a b"
    folder.mkdir()
    (folder / "x.html").write_text("x")
    assert (as_store_path(folder) / "x.html").read_text() == "x"


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "a/./b", "/etc/passwd", "a\\..\\b", "a\x00b", "..", "a/.."])
def test_no_way_out_of_a_root(root, relative):
    assert child(root, relative) is None


def test_a_symbolic_link_out_of_a_local_root_is_refused(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", tmp_path / "store" / "link.html")
    root = as_store_path(tmp_path / "store")
    assert child(root, "link.html") is None
    assert child(root, "a/b.html") == root / "a" / "b.html"
    assert child(root, "") == root


def test_write_upload_measure_and_remove(root, tmp_path):
    page = root / "2026-11-08" / "latest.html"
    write_text(page, "<p>report é</p>")
    assert page.read_text(encoding="utf-8") == "<p>report é</p>"
    write_text(page, "<p>again</p>")
    assert page.read_text(encoding="utf-8") == "<p>again</p>"
    assert [p.name for p in page.parent.iterdir()] == ["latest.html"]  # no temporary file left

    built = tmp_path / "built"
    (built / "gx" / "validations").mkdir(parents=True)
    (built / "index.html").write_text("index")
    (built / "gx" / "validations" / "v.html").write_text("12345")
    target = root / "2026-11-08" / "run_1" / "reconciled"
    neighbour = root / "2026-11-08" / "run_1" / "ppp_entries" / "index.html"
    write_text(neighbour, "another suite")
    write_text(target / "stale.html", "from an earlier attempt")

    assert upload_folder(built, target) == 2
    assert (target / "gx" / "validations" / "v.html").read_text() == "12345"
    assert not (target / "stale.html").exists()  # the earlier attempt's page is gone
    assert neighbour.read_text() == "another suite"  # nothing outside the target is touched
    assert folder_bytes(target) == len("index") + 5
    assert folder_bytes(root / "nothing") == 0

    remove_folder(target.parent)
    assert not target.parent.exists()
    assert (root / "2026-11-08").exists()  # its latest.html is still there
    page.unlink()
    remove_folder(root / "2026-11-08" / "gone")  # nothing there; the emptied period folder goes
    assert not (root / "2026-11-08").exists()
