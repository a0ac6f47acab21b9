"""The launcher: real processes, health-checked startup, connection variables, admin API, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ccms_attendance.canonical import Source
from devtools.vendor_sandboxes import CONN_IDS, SandboxAdminError, SandboxStartError, ScenarioError, launch

PROJECT = Path(__file__).resolve().parents[3]


def test_fleet_runs_three_processes_on_loopback_with_airflow_connections(fleet):
    assert set(fleet.endpoints) == {Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND}
    pids = set()
    for source, url in fleet.endpoints.items():
        assert url.startswith("http://127.0.0.1:")
        health = requests.get(f"{url}/__sandbox__/health", timeout=5).json()
        assert health["vendor"] == str(source)
        pids.add(health["pid"])
    assert len(pids) == 3
    assert os.getpid() not in pids
    env = fleet.airflow_conn_env()
    assert set(env) == {f"AIRFLOW_CONN_{conn_id.upper()}" for conn_id in CONN_IDS.values()}
    for source, conn_id in CONN_IDS.items():
        conn = json.loads(env[f"AIRFLOW_CONN_{conn_id.upper()}"])
        assert conn["conn_type"] == "http"
        assert conn["schema"] == "http"
        assert conn["host"] == "127.0.0.1"
        assert f"http://127.0.0.1:{conn['port']}" == fleet.endpoints[source]
        assert conn["password"]
        assert conn["extra"]["verify"] is True
        assert (source is Source.BRIGHTWHEEL) != bool(conn.get("login"))


def test_airflow_resolves_the_json_connection_outside_a_task(fleet):
    from ccms_attendance.hooks import hook_for_source

    hook = hook_for_source(Source.PLAYGROUND)
    assert hook.http_conn_id == "ccms_playground"
    conn = hook.connection
    assert conn.host == "127.0.0.1"
    assert conn.login == fleet.credentials["PLAYGROUND"]["username"]
    assert hook.options.page_size == 100
    assert hook.options.vendor["export_poll_interval_seconds"] == 0.02


def test_connection_extras_are_not_sent_as_headers(fleet, make_hook, monkeypatch):
    # The session reads the environment once (a CA-bundle variable would become its ``verify``).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    hook = make_hook(Source.ALLIANCE_CORE, client_id=None, some_secret_extra="do-not-send")
    session = hook.get_conn()
    assert "some_secret_extra" not in session.headers
    assert "page_size" not in session.headers
    assert session.verify is True
    assert session.auth is None


def test_the_environment_is_read_into_the_session_once(world, fleet, make_hook, monkeypatch, tmp_path):
    """Proxy and CA-bundle variables are read when the session is made, as requests would read them
    for every request; requests then stops reading the environment (``trust_env`` off)."""
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    hook = make_hook(Source.BRIGHTWHEEL)
    session = hook.get_conn()
    assert session.verify == str(bundle)
    assert session.proxies.get("https") == "http://proxy.invalid:3128"  # the sandbox is http: not used
    assert not session.trust_env
    # Read once: a proxy that appears later is not used (the sandbox answers directly).
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert list(hook.iter_site_period(world.license(Source.BRIGHTWHEEL, "main"), world.JANUARY))
    assert "http" not in session.proxies
    hook.close()
    # NO_PROXY bypasses the proxy for the connection's host, as requests decides it per request.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert "http" not in make_hook(Source.BRIGHTWHEEL).get_conn().proxies
    # An explicit "verify": false is never replaced by the environment's bundle.
    assert make_hook(Source.BRIGHTWHEEL, verify=False).get_conn().verify is False


def test_admin_api_needs_the_admin_token(fleet):
    url = fleet.endpoints[Source.BRIGHTWHEEL]
    assert requests.post(f"{url}/__sandbox__/faults", json=[], timeout=5).status_code == 403
    assert requests.get(f"{url}/__sandbox__/stats", timeout=5).status_code == 403
    with pytest.raises(SandboxAdminError):
        fleet.set_faults([{"kind": "no_such_fault"}], Source.BRIGHTWHEEL)
    fleet.set_faults([{"kind": "http_429", "times": 2, "retry_after": 1}], Source.BRIGHTWHEEL)
    assert fleet.faults(Source.BRIGHTWHEEL)[0]["remaining"] == 2
    fleet.clear_faults()
    assert fleet.faults(Source.BRIGHTWHEEL) == []


def test_scenario_faults_are_active_from_the_start(world, fleet, use_scenario):
    scenario = world.base_scenario()
    scenario["faults"] = [{"kind": "http_5xx", "times": 3}]
    use_scenario(scenario)
    assert fleet.faults(Source.PLAYGROUND)[0]["kind"] == "http_5xx"


def test_invalid_scenario_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sites": [{"vendor": "NOPE", "license_number": "CC-1"}]}))
    with pytest.raises(ScenarioError, match="vendor must be one of"), launch(bad):
        pass


def test_a_sandbox_that_fails_to_start_reports_its_stderr(tmp_path, base_scenario_file, monkeypatch):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'boom: sandbox cannot start' >&2\nexit 3\n")
    fake_python.chmod(0o755)
    monkeypatch.setattr("devtools.vendor_sandboxes.fleet.sys.executable", str(fake_python))
    with (
        pytest.raises(SandboxStartError, match=r"(?s)exited with code 3.*boom: sandbox cannot start"),
        launch(base_scenario_file, startup_timeout=10),
    ):
        pass


def test_each_launch_has_fresh_credentials_and_processes_end_on_exit(base_scenario_file, fleet):
    with launch(base_scenario_file) as second:
        assert (
            second.credentials["ALLIANCE_CORE"]["client_secret"] != fleet.credentials["ALLIANCE_CORE"]["client_secret"]
        )
        assert second.credentials["admin_token"] != fleet.credentials["admin_token"]
        processes = list(second.processes.values())
    assert all(process.poll() is not None for process in processes)


def test_cli_serve_writes_endpoints_and_stops_on_sigterm(tmp_path, base_scenario_file):
    state_dir = tmp_path / "state"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.vendor_sandboxes",
            "serve",
            "--scenario",
            str(base_scenario_file),
            "--state-dir",
            str(state_dir),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        endpoints_file = state_dir / "endpoints.json"
        deadline = time.monotonic() + 30
        while not endpoints_file.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        time.sleep(0.1)
        data = json.loads(endpoints_file.read_text())
        assert set(data["env"]) == {f"AIRFLOW_CONN_{c.upper()}" for c in CONN_IDS.values()}
        for url in data["endpoints"].values():
            assert requests.get(f"{url}/__sandbox__/health", timeout=5).status_code == 200
        assert oct(endpoints_file.stat().st_mode & 0o777) == "0o600"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    for url in data["endpoints"].values():
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/__sandbox__/health", timeout=2)
