"""The local Airflow stack of ``make stack`` / ``make stop-stack`` (and of the end-to-end tests)."""

from devtools.stack.config import StackPaths, stack_env
from devtools.stack.run import DAG_ID, StackError, StackInfo, load_info, running, start, stop

__all__ = ["DAG_ID", "StackError", "StackInfo", "StackPaths", "load_info", "running", "stack_env", "start", "stop"]
