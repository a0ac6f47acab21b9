"""Airflow processes of a deployment exit without a last garbage collection of all they imported.

When a Python process exits normally, the interpreter's finalization runs the cyclic garbage
collector over every object still alive, only to drop them all a moment later. A process that
imported Airflow, Great Expectations and pandas holds millions of them: ``airflow dags test`` of
a statewide period spent ~3 s after its last task before it exited (1.4 s for a process that only
imported them). :func:`skip_exit_collection` registers ``gc.freeze()`` to run at exit: every live
object moves to the permanent generation, which the collector skips, and the process exits at once.

Airflow's task processes are not concerned (the supervisor ends them with ``os._exit``). What a
frozen exit leaves undone is a finalizer (``__del__``) of an object that only a reference cycle keeps
alive; the project closes its connections and files with context managers, and logging flushes its
handlers in its own exit handler, which runs after this one (exit handlers run last-registered first).
"""

from __future__ import annotations

import atexit
import gc


def skip_exit_collection() -> None:
    """From ``airflow_local_settings``: freeze the live objects when the process exits (idempotent)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
