"""Where outputs go: pipeline.toml's [outputs], a relative folder resolved in the checkout, any URL."""

from __future__ import annotations

from ccms_attendance.outputs.delivery import OUTPUTS_URL_ENV, OutputsConfig, safe_name
from ccms_attendance.paths import PROJECT_ROOT


def test_the_default_folder_is_build_outputs_in_the_checkout(monkeypatch):
    monkeypatch.delenv(OUTPUTS_URL_ENV, raising=False)
    config = OutputsConfig.load()
    assert config.folder_url == (PROJECT_ROOT / "build" / "outputs").as_uri()
    assert config.folder_conn_id is None
    assert config.smtp_conn_id == "ccms_outputs_smtp"
    assert config.correction_window_days == 60


def test_the_environment_names_any_url(monkeypatch):
    monkeypatch.setenv(OUTPUTS_URL_ENV, "s3://state-bucket/ccms")
    assert OutputsConfig.load().folder_url == "s3://state-bucket/ccms"


def test_run_ids_become_one_folder_name():
    assert safe_name("manual__2026-01-05T00:01:00+00:00") == "manual__2026-01-05T00_01_00_00_00"
    assert "/" not in safe_name("../../etc")
