"""One vendor sandbox process: ``python -m vendor_sandboxes.server --vendor V --scenario F --fd N``.

Started by :func:`vendor_sandboxes.launch`, which binds the listening socket on a free loopback port
and hands it over as an inherited file descriptor (no port race). Credentials arrive in the
``CCMS_SANDBOX_CREDENTIALS`` environment variable, never on the command line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import threading
import time
from pathlib import Path

import uvicorn

from devtools.vendor_sandboxes.common import SandboxState, TransportMiddleware

MODULES = {"ALLIANCE_CORE": "alliance_core", "BRIGHTWHEEL": "brightwheel", "PLAYGROUND": "playground"}


def build_app(vendor: str, scenario: Path):
    module = importlib.import_module(f"devtools.vendor_sandboxes.{MODULES[vendor]}")
    state = SandboxState.from_environment(vendor, scenario)
    return TransportMiddleware(module.create_app(state))


def _exit_with_parent(parent_pid: int) -> None:
    """Never outlive the launcher (e.g. a test run killed with SIGKILL)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devtools.vendor_sandboxes.server")
    parser.add_argument("--vendor", required=True, choices=sorted(MODULES))
    parser.add_argument("--scenario", required=True, type=Path)
    parser.add_argument("--fd", type=int, help="inherited listening socket")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--watch-parent", action="store_true")
    args = parser.parse_args(argv)
    app = build_app(args.vendor, args.scenario)
    if args.watch_parent:
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    if args.fd is not None:
        server.run(sockets=[socket.socket(fileno=args.fd)])
    else:
        sock = socket.create_server((args.host, args.port))
        server.run(sockets=[sock])


if __name__ == "__main__":
    main()
