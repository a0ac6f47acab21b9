"""Local stand-ins for the three CCMS vendor APIs (our own contracts; see ``docs/vendors.md``).

``launch(scenario_path)`` starts one uvicorn process per vendor on free loopback ports and yields a
:class:`SandboxFleet` with their base URLs, the matching ``AIRFLOW_CONN_*`` variables and the admin
API (faults, scenario reload, stats). ``python -m vendor_sandboxes serve --scenario FILE`` does the
same from a shell.
"""

from devtools.vendor_sandboxes.fleet import CONN_IDS, SandboxAdminError, SandboxFleet, SandboxStartError, launch
from devtools.vendor_sandboxes.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = [
    "CONN_IDS",
    "SandboxAdminError",
    "SandboxFleet",
    "SandboxStartError",
    "Scenario",
    "ScenarioError",
    "launch",
    "load_scenario",
    "parse_scenario",
]
