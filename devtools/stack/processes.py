"""Background processes that outlive the command that started them, recorded in pid files.

``make stack`` returns while its processes keep running, so ``make stop-stack`` (another process)
must find them again and stop exactly those: each pid file holds the pid and the process's start
time (``/proc/<pid>/stat``), so a pid reused by an unrelated process after a reboot is never
signalled. Every process leads its own session and process group; stopping it stops the group
(the scheduler's task processes, the sandboxes' servers) — TERM, then KILL after a grace period.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it, so stacks never clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ")".
    return stat.rsplit(")", 1)[1].split()[19]


@dataclass(frozen=True)
class Recorded:
    """One started process as its pid file records it."""

    name: str
    pid: int
    started: str | None
    log: Path

    def alive(self) -> bool:
        """Still the same process (same pid *and* start time) and not a zombie."""
        if self.started is None or _start_time(self.pid) != self.started:
            return False
        with contextlib.suppress(OSError):
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            return state != "Z"
        return False

    def group_alive(self) -> bool:
        """Whether any process of its group (it leads one) is left."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def start_detached(
    name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_dir: Path, pid_dir: Path
) -> Recorded:
    """Start ``argv`` in a new session, output appended to ``log_dir/<name>.log``; write its pid file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    pid_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    record = Recorded(name=name, pid=process.pid, started=_start_time(process.pid), log=log)
    (pid_dir / f"{name}.pid").write_text(
        json.dumps({"pid": record.pid, "started": record.started, "log": str(log), "argv": list(argv)})
    )
    # The child is reaped by whoever stops it (or by init once this process exits); keep no handle.
    process.returncode = 0
    return record


def recorded(pid_dir: Path) -> list[Recorded]:
    """Every process the pid files in ``pid_dir`` name (alive or not)."""
    found = []
    for path in sorted(pid_dir.glob("*.pid")):
        with contextlib.suppress(OSError, ValueError, KeyError):
            data = json.loads(path.read_text())
            found.append(Recorded(path.stem, int(data["pid"]), data.get("started"), Path(data["log"])))
    return found


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our own child (when started by this process)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop_recorded(pid_dir: Path, order: Sequence[str] = (), grace_seconds: float = 15) -> list[str]:
    """Stop the recorded processes (``order`` first, then the rest), each with its whole group.

    Only processes whose start time still matches their pid file are signalled. Returns the names
    of the processes that were running. Pid files are removed once their process is gone.
    """
    records = recorded(pid_dir)
    rank = {name: n for n, name in enumerate(order)}
    records.sort(key=lambda r: rank.get(r.name, len(rank)))
    running = [r for r in records if r.alive()]
    for record in running:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGTERM)
        time.sleep(0.2)  # the scheduler goes first: nothing new starts while the rest stops
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(r.alive() for r in running):
        for record in running:
            _reap(record.pid)
        time.sleep(0.2)
    for record in running:
        # Task processes or servers may outlive their leader: whatever is left of the group goes.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGKILL)
        _reap(record.pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(r.group_alive() for r in running):
        for record in running:
            _reap(record.pid)  # a leader started by this very process stays a zombie until reaped
        time.sleep(0.1)
    for record in records:
        if not record.alive():
            (pid_dir / f"{record.name}.pid").unlink(missing_ok=True)
    return [r.name for r in running]
