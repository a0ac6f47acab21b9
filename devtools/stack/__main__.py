"""``python -m devtools.stack start|stop|status [--dir .stack]`` (``make stack`` / ``make stop-stack``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ccms_attendance.paths import PROJECT_ROOT
from devtools.stack.run import DAG_ID, StackError, StackInfo, load_info, running, start, stop

DEFAULT_DIR = PROJECT_ROOT / ".stack"


def describe(info: StackInfo) -> str:
    """What a newcomer needs after ``make stack``: where to look, how to log in, what to type next."""
    periods = info.service_periods
    latest, past = periods[-1], periods[:-1]
    cli = info.paths.airflow_cli.relative_to(PROJECT_ROOT) if info.paths.root.is_relative_to(PROJECT_ROOT) else None
    cli_text = str(cli or info.paths.airflow_cli)
    three = past[-3:]
    lines = [
        f"Airflow UI:        {info.api_url}   (login: {info.login} / {info.password})",
        f"Scheduler logs:    served on 127.0.0.1:{info.log_server_port}; process logs in {info.paths.logs}",
        f"Databases:         warehouse {info.warehouse_db}, Airflow metadata {info.metadata_db}"
        f" on {info.server['host']}:{info.server['port'] or ''}",
        f"Demo data:         periods {periods[0].start} .. {latest.end} ({len(periods)} periods)",
        f"Scheduled run:     {DAG_ID} is unpaused; it runs {latest} now (provisional__{latest.start}).",
    ]
    if three:
        lines += [
            f"Backfill {len(three)} past periods ({three[0].start} .. {three[-1].end}), one at a time:",
            f"  {cli_text} backfill create --dag-id {DAG_ID} --from-date {three[0].start}"
            f" --to-date {three[-1].end} --max-active-runs 1",
        ]
    lines += [f"Airflow CLI:       {cli_text} <command>   (the stack's environment: {info.paths.env_file})"]
    lines += ["Stop:              make stop-stack"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.stack", description=__doc__)
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the stack's folder (default .stack/)")
    parser.add_argument("--past-periods", type=int, default=4, help="periods of demo data before the latest")
    args = parser.parse_args(argv)
    root = args.dir.resolve()
    if args.command == "start":
        print(f"Starting the stack in {root} (PostgreSQL, vendor sandboxes, api-server, dag-processor, scheduler) ...")
        try:
            info = start(root, past_periods=args.past_periods)
        except StackError as error:
            print(error, file=sys.stderr)
            return 1
        print(describe(info))
        return 0
    if args.command == "stop":
        stopped = stop(root)
        print(f"Stopped: {', '.join(stopped)}" if stopped else f"Nothing from {root} was running.")
        return 0
    alive = running(root)
    info = load_info(root)
    if not alive:
        print(f"No stack is running from {root}.")
        return 1
    print(f"Running: {', '.join(r.name for r in alive)}")
    if info is not None:
        print(describe(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
