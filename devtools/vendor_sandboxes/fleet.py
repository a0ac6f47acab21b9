"""Start the three vendor sandboxes as real processes and hand out their Airflow connections."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ccms_attendance.canonical import Source
from devtools.vendor_sandboxes.common import ADMIN_HEADER, ADMIN_PREFIX, CREDENTIALS_ENV
from devtools.vendor_sandboxes.scenario import load_scenario

#: Airflow connection id per vendor (the hooks' ``default_conn_name``).
CONN_IDS = {
    Source.ALLIANCE_CORE: "ccms_alliance_core",
    Source.BRIGHTWHEEL: "ccms_brightwheel",
    Source.PLAYGROUND: "ccms_playground",
}
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SandboxStartError(RuntimeError):
    """A sandbox process did not come up; the message carries its log output."""


class SandboxAdminError(RuntimeError):
    pass


def _generate_credentials() -> dict[str, Any]:
    """Throwaway, sandbox-only secrets: new for every launch, never written into code."""
    return {
        "admin_token": secrets.token_urlsafe(16),
        "ALLIANCE_CORE": {"client_id": "sandbox-" + secrets.token_hex(4), "client_secret": secrets.token_urlsafe(24)},
        "BRIGHTWHEEL": {"api_key": "sbx_" + secrets.token_urlsafe(24)},
        "PLAYGROUND": {"username": "sandbox-" + secrets.token_hex(4), "password": secrets.token_urlsafe(18)},
    }


@dataclass
class SandboxFleet:
    endpoints: dict[Source, str]
    credentials: dict[str, Any] = field(repr=False)
    state_dir: Path
    processes: dict[Source, subprocess.Popen] = field(repr=False)

    # --- Airflow connections ---------------------------------------------------------------------

    def connection(self, source: Source, extra: dict | None = None) -> dict[str, Any]:
        """Airflow's JSON connection form for ``source``; ``extra`` entries override the defaults."""
        host, port = self.endpoints[source].removeprefix("http://").rsplit(":", 1)
        creds = self.credentials[str(source)]
        if source is Source.ALLIANCE_CORE:
            login, password, extras = creds["client_id"], creds["client_secret"], {"page_size": 100}
        elif source is Source.BRIGHTWHEEL:
            login, password, extras = None, creds["api_key"], {"page_size": 100, "api_key_header": "X-Api-Key"}
        else:
            login, password = creds["username"], creds["password"]
            extras = {"page_size": 100, "export_poll_interval_seconds": 0.2}
        extras |= {"connect_timeout": 5, "read_timeout": 30, "backoff_base_seconds": 0.5, "verify": True}
        extras |= extra or {}
        conn: dict[str, Any] = {
            "conn_type": "http",
            "host": host,
            "port": int(port),
            "schema": "http",
            "password": password,
            "extra": extras,
        }
        if login:
            conn["login"] = login
        return conn

    def airflow_conn_env(self, extra: dict | None = None) -> dict[str, str]:
        """``AIRFLOW_CONN_CCMS_<VENDOR>`` variables (JSON connection form) for all three vendors."""
        return {
            f"AIRFLOW_CONN_{CONN_IDS[source].upper()}": json.dumps(self.connection(source, extra))
            for source in self.endpoints
        }

    # --- admin API -------------------------------------------------------------------------------

    def _admin(self, source: Source, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = requests.request(
            method,
            f"{self.endpoints[source]}{ADMIN_PREFIX}{path}",
            json=body,
            params=params or None,
            headers={ADMIN_HEADER: self.credentials["admin_token"]},
            timeout=10,
        )
        if response.status_code >= 400:
            raise SandboxAdminError(
                f"{source} sandbox {method} {path}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json()

    def _targets(self, source: Source | None) -> list[Source]:
        return [source] if source is not None else list(self.endpoints)

    def set_faults(self, faults: list[dict], source: Source | None = None) -> None:
        """Replace the active faults (on every sandbox, or only ``source``'s)."""
        for target in self._targets(source):
            self._admin(target, "POST", "/faults", {"faults": faults})

    def clear_faults(self, source: Source | None = None) -> None:
        for target in self._targets(source):
            self._admin(target, "DELETE", "/faults")

    def faults(self, source: Source) -> list[dict]:
        return self._admin(source, "GET", "/faults")["faults"]

    def reload_scenario(self, path: Path | str) -> None:
        load_scenario(path)  # fail here, with the file's problem, rather than in three servers
        for target in self.endpoints:
            self._admin(target, "POST", "/scenario", {"path": str(Path(path).resolve())})

    def stats(self, source: Source, *, log: bool = False) -> dict:
        return self._admin(source, "GET", "/stats", log=str(log).lower())

    def issued_tokens(self, source: Source) -> list[str]:
        """The bearer tokens ``source``'s sandbox has issued so far (none for API-key vendors)."""
        return self._admin(source, "GET", "/tokens")["tokens"]

    def secrets(self) -> dict[str, str]:
        """Every secret of this fleet by name: client secret, API key, password, admin token, tokens."""
        found = {
            "admin_token": self.credentials["admin_token"],
            "alliance_core client_secret": self.credentials["ALLIANCE_CORE"]["client_secret"],
            "brightwheel api_key": self.credentials["BRIGHTWHEEL"]["api_key"],
            "playground password": self.credentials["PLAYGROUND"]["password"],
        }
        for source in self.endpoints:
            for n, token in enumerate(self.issued_tokens(source)):
                found[f"{source} token {n}"] = token
        return found

    def reset_stats(self, source: Source | None = None) -> None:
        for target in self._targets(source):
            self._admin(target, "POST", "/stats/reset")


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:].strip() or "(no output)"
    except OSError:
        return "(no log)"


def _wait_healthy(source: Source, url: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SandboxStartError(
                f"{source} sandbox exited with code {process.returncode} during startup; its stderr:\n{_tail(log)}"
            )
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}{ADMIN_PREFIX}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise SandboxStartError(f"{source} sandbox at {url} did not answer its health check; its stderr:\n{_tail(log)}")


def _stop(processes: dict[Source, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def launch(
    scenario_path: Path | str, *, state_dir: Path | None = None, startup_timeout: float = 30.0
) -> Iterator[SandboxFleet]:
    """Run the three vendor sandboxes on free loopback ports for the duration of the ``with`` block."""
    scenario_path = Path(scenario_path).resolve()
    load_scenario(scenario_path)
    own_dir = state_dir is None
    state_dir = Path(tempfile.mkdtemp(prefix="ccms-sandboxes-")) if state_dir is None else Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    credentials = _generate_credentials()
    env = dict(os.environ)
    env[CREDENTIALS_ENV] = json.dumps(credentials)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
    processes: dict[Source, subprocess.Popen] = {}
    endpoints: dict[Source, str] = {}
    logs: dict[Source, Path] = {}
    try:
        for source in CONN_IDS:
            sock = socket.create_server(("127.0.0.1", 0), backlog=128)
            sock.set_inheritable(True)
            port = sock.getsockname()[1]
            logs[source] = state_dir / f"{source.lower()}.log"
            with logs[source].open("w") as log_file:
                processes[source] = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "devtools.vendor_sandboxes.server",
                        "--vendor",
                        str(source),
                        "--scenario",
                        str(scenario_path),
                        "--fd",
                        str(sock.fileno()),
                        "--watch-parent",
                    ],
                    pass_fds=(sock.fileno(),),
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            sock.close()  # the child holds its own copy
            endpoints[source] = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + startup_timeout
        for source, url in endpoints.items():
            _wait_healthy(source, url, processes[source], logs[source], deadline)
        yield SandboxFleet(endpoints=endpoints, credentials=credentials, state_dir=state_dir, processes=processes)
    finally:
        _stop(processes)
        if own_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
