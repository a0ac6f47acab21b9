"""Debian's Chromium driven by Playwright, for tests that look at pages (never Playwright's download)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
INSTALL_HINT = (
    "Install Debian's chromium (`bash devtools/ensure-system-packages.sh` as root) and the venv's playwright."
)


def sync_playwright():
    """Playwright's sync entry point, or a test failure that says what to install."""
    try:
        from playwright.sync_api import sync_playwright as entry
    except ImportError as error:
        pytest.fail(f"Playwright is not installed ({error}). {INSTALL_HINT}")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} does not exist. {INSTALL_HINT}")
    return entry
