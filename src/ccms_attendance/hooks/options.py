"""The connection extras a CCMS hook understands (defaults and meaning: ``docs/vendors.md``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class HookOptions:
    """Transport options and limits; every other extra is the vendor hook's (``vendor``)."""

    page_size: int = 100
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    max_retry_seconds: float = 300.0
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    json_retries: int = 2
    max_response_bytes: int = 50_000_000
    max_pages: int = 10_000
    headers: dict[str, str] = field(default_factory=dict)
    vendor: dict[str, Any] = field(default_factory=dict)  # everything else, for the vendor hook

    _NUMERIC: ClassVar[dict[str, type]] = {
        "page_size": int,
        "connect_timeout": float,
        "read_timeout": float,
        "max_attempts": int,
        "max_retry_seconds": float,
        "backoff_base_seconds": float,
        "backoff_max_seconds": float,
        "json_retries": int,
        "max_response_bytes": int,
        "max_pages": int,
    }
    # Read by HttpHook itself (verify, proxies, cert, ...) or ignored here.
    _PASSTHROUGH: ClassVar[frozenset[str]] = frozenset(
        {"verify", "verify_ssl", "proxies", "proxy", "cert", "trust_env", "stream", "timeout", "check_response"}
    )

    @classmethod
    def from_extra(cls, extra: dict[str, Any], defaults: dict[str, Any]) -> HookOptions:
        values: dict[str, Any] = {}
        vendor: dict[str, Any] = {}
        merged = {**defaults, **(extra or {})}
        for key, value in merged.items():
            if key in cls._NUMERIC:
                try:
                    values[key] = cls._NUMERIC[key](value)
                except (TypeError, ValueError, OverflowError):
                    raise ValueError(f"connection extra {key!r} must be a number") from None
                if values[key] <= 0 and key != "json_retries":
                    raise ValueError(f"connection extra {key!r} must be positive")
            elif key == "headers":
                if not isinstance(value, dict):
                    raise ValueError("connection extra 'headers' must be an object")
                values["headers"] = {str(k): str(v) for k, v in value.items()}
            elif key not in cls._PASSTHROUGH:
                vendor[key] = value
        return cls(**values, vendor=vendor)

    def vendor_number(self, name: str) -> float:
        """A vendor extra that must be a number (its default comes from the hook's ``default_extra``)."""
        try:
            return float(self.vendor[name])
        except (KeyError, TypeError, ValueError, OverflowError):
            raise ValueError(f"connection extra {name!r} must be a number") from None
