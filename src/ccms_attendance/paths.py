"""Where the project's files are, so nothing depends on the current directory."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout (the package is installed editable from ``src/``): dags/, plugins/, build/.
PROJECT_ROOT = PACKAGE_DIR.parent.parent
SQL_DIR = PACKAGE_DIR / "sql"
CONFIG_DIR = PACKAGE_DIR / "config"
EXPECTATIONS_DIR = PACKAGE_DIR / "validation" / "expectations"
CONTRACTS_DIR = PACKAGE_DIR / "hooks" / "contracts"
DAGS_DIR = PROJECT_ROOT / "dags"
PLUGINS_DIR = PROJECT_ROOT / "plugins"


def run_folder(run_id: str) -> str:
    """A DAG run id as a folder name (reports and data docs of a run live under it)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


#: In a run's data docs folder: the validation outcomes kept for its ``data_docs`` task, one JSON
#: file per site to build (removed once built); the sites themselves are the other folders.
KEPT_OUTCOMES_DIR = "_outcomes"
