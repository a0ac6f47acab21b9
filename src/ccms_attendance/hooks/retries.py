"""The retry policy of one vendor request, as tenacity arguments for ``HttpHook.run_with_advanced_retry``.

Retried: 5xx and 429 (``Retryable``), connection errors, timeouts, bodies cut off while reading, and
invalid JSON up to ``json_retries`` times. Never retried: TLS verification failures, other 4xx,
responses that arrived whole but cannot be used (``VendorDataError``), anything unexpected. Waits
are exponential with "equal jitter", ``Retry-After`` is honoured, and both the attempts and the
total time are bounded. Attempts are counted here (``Attempts``), not read back from tenacity.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import tenacity

from ccms_attendance.hooks.errors import BadJson, Retryable
from ccms_attendance.hooks.options import HookOptions


@dataclass
class Attempts:
    """How often one request was sent, and how many of its answers were invalid JSON."""

    sent: int = 0
    bad_json: int = 0


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds from now; ``None`` if unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


def retry_arguments(
    options: HookOptions, attempts: Attempts, on_retry: Callable[[BaseException | None, int, float], None]
) -> dict[str, Any]:
    """Tenacity arguments for one request; ``on_retry(error, attempt, wait)`` runs before each wait."""

    def should_retry(error: BaseException) -> bool:
        if isinstance(error, requests.exceptions.SSLError):
            return False
        if isinstance(error, Retryable | requests.ConnectionError | requests.Timeout):
            return True
        if isinstance(error, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
            return True
        if isinstance(error, BadJson):
            attempts.bad_json += 1
            return attempts.bad_json <= options.json_retries
        return False

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after + random.uniform(0, 0.1)
        ceiling = min(options.backoff_max_seconds, options.backoff_base_seconds * 2 ** (state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter"

    def stop(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= options.max_attempts:
            return True
        return (state.seconds_since_start or 0.0) + state.upcoming_sleep > options.max_retry_seconds

    def before(_state: tenacity.RetryCallState) -> None:
        attempts.sent += 1

    def before_sleep(state: tenacity.RetryCallState) -> None:
        on_retry(state.outcome.exception() if state.outcome else None, state.attempt_number, state.upcoming_sleep)

    return {
        "retry": tenacity.retry_if_exception(should_retry),
        "wait": wait,
        "stop": stop,
        "before": before,
        "before_sleep": before_sleep,
        "reraise": True,
    }
