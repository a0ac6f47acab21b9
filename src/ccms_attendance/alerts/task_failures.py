"""How a task body fails: one plain "What to do" line, and no retry when trying again cannot help.

Every task body of the DAGs is wrapped in :func:`task_body`; :func:`fail_now` ends a task at once.
The advice itself lives in :mod:`ccms_attendance.alerts.advice`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from ccms_attendance.alerts.advice import step_advice

log = logging.getLogger(__name__)


class ParamsError(ValueError):
    """A manual run's Params name something that does not exist."""


Body = TypeVar("Body", bound=Callable[..., dict[str, Any]])


def task_body(step: str) -> Callable[[Body], Body]:
    """Run a task body so that its failure ends with one plain "What to do" line, and fails at once
    (``AirflowFailException``, no retry) when trying again cannot help.

    The line is logged by the body itself, just before the traceback: Airflow puts everything after
    the exception (callbacks included) in a collapsed "Post Execute" log group.
    """

    def decorate(body: Body) -> Body:
        @functools.wraps(body)
        def run(*args: Any, **kwargs: Any) -> dict[str, Any]:
            from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

            try:
                return body(*args, **kwargs)
            except AirflowSkipException:
                raise  # nothing to do (e.g. an empty batch): not a failure, no advice
            except AirflowFailException as error:
                if not hasattr(error, "advice"):  # fail_now has logged it already
                    log.error("What to do: %s", step_advice(step))
                raise
            except Exception as error:
                advice = getattr(error, "advice", None) or step_advice(step)
                if _retry_cannot_help(error):
                    fail_now(f"{type(error).__name__}: {error}", advice, cause=error)
                log.error("What to do (if the retries fail too): %s", advice)
                raise

        return run  # type: ignore[return-value]

    return decorate


def _retry_cannot_help(error: BaseException) -> bool:
    """Errors that a retry would meet again: refused Params, unusable data, a statement the warehouse
    rejects, a run whose plan is missing. Connection problems and anything unknown are retried."""
    import psycopg

    from ccms_attendance.pipeline.run_context import RunNotPlannedError

    permanent = (ParamsError, RunNotPlannedError, psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError)
    if isinstance(error, permanent):
        return True
    return getattr(error, "retryable", True) is False


def fail_now(message: str, advice: str, cause: BaseException | None = None) -> NoReturn:
    """Fail the task without retrying; the exception carries ``advice`` for the failure callback."""
    from airflow.sdk.exceptions import AirflowFailException

    error = AirflowFailException(f"{message} -- What to do: {advice}")
    error.advice = advice  # type: ignore[attr-defined]
    log.error("What to do: %s", advice)
    if cause is None:
        raise error from None
    raise error from cause
