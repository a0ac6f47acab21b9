"""``python -m vendor_sandboxes serve --scenario FILE [--state-dir DIR]``: run the sandboxes until killed."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from devtools.vendor_sandboxes.fleet import launch


def _serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    state_dir = Path(args.state_dir) if args.state_dir else Path.cwd() / ".run" / "sandboxes"
    with launch(Path(args.scenario), state_dir=state_dir) as fleet:
        env = fleet.airflow_conn_env()
        endpoints = {
            "endpoints": {str(source): url for source, url in fleet.endpoints.items()},
            "env": env,
        }
        out = state_dir / "endpoints.json"
        out.write_text(json.dumps(endpoints, indent=2))
        out.chmod(0o600)
        for source, url in fleet.endpoints.items():
            print(f"{source:<14} {url}")
        print(f"\nConnection variables (sandbox-only credentials) written to {out}:")
        for name, value in env.items():
            print(f"export {name}='{value}'")
        print("\nServing; press Ctrl-C to stop.", flush=True)
        stop.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vendor_sandboxes", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start all three vendor sandboxes")
    serve.add_argument("--scenario", required=True, help="scenario JSON file (docs/vendors.md)")
    serve.add_argument("--state-dir", help="where logs and endpoints.json go (default ./.run/sandboxes)")
    args = parser.parse_args(argv)
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
