"""Telling people what went wrong with a run and what to do: advice, the run's outcome, the alert.

* :mod:`.advice` — what to do, per step and per kind of failure (retry or fail fast);
* :mod:`.outcome` — a run's outcome as the warehouse records it, read by the final ``check_period``
  task, which fails the run when it needs attention;
* :mod:`.notifier` — the DAG's failure notifier (SMTP provider, connection ``ccms_alerts_smtp``).
"""
