"""Compare ``constraints.txt`` with Airflow's official constraints file, and adopt its pins.

    python -m devtools.constraints constraints-3.11.txt          # the pins that differ
    python -m devtools.constraints constraints-3.11.txt --write  # take Airflow's, keep ours for the rest

Airflow's file pins what Airflow and its providers need; a package it does not pin (Great
Expectations and its own dependencies, the tools) keeps the project's pin. docs/development.md says
when to run this and what to do next.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ccms_attendance.paths import PROJECT_ROOT

CONSTRAINTS = PROJECT_ROOT / "constraints.txt"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> dict[str, tuple[str, str]]:
    """``name==version`` lines by canonical name: (name as written, version)."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        name, sep, version = line.partition("==")
        if sep:
            pins[canonical(name)] = (name.strip(), version.strip())
    return pins


def differences(ours: str, official: str) -> list[tuple[str, str, str]]:
    """(name, our version, Airflow's version) for each package both pin differently."""
    mine, theirs = read_pins(ours), read_pins(official)
    return [
        (mine[key][0], mine[key][1], theirs[key][1]) for key in mine if key in theirs and mine[key][1] != theirs[key][1]
    ]


def adopt(ours: str, official: str) -> str:
    """``ours`` with Airflow's version wherever Airflow pins the package (lines and order kept)."""
    theirs = read_pins(official)
    lines = []
    for line in ours.splitlines():
        name, sep, _version = line.partition("==")
        key = canonical(name)
        lines.append(f"{name}=={theirs[key][1]}" if sep and key in theirs else line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("official", type=Path, help="Airflow's constraints-<python>.txt for our Airflow version")
    parser.add_argument("--write", action="store_true", help="adopt Airflow's pins into constraints.txt")
    args = parser.parse_args(argv)
    ours, official = CONSTRAINTS.read_text(), args.official.read_text()
    for name, mine, theirs in differences(ours, official):
        print(f"{name}: ours {mine}, Airflow's {theirs}")
    if args.write:
        CONSTRAINTS.write_text(adopt(ours, official))
        print("constraints.txt now has Airflow's pins; run `make venv && make test`")


if __name__ == "__main__":
    main()
