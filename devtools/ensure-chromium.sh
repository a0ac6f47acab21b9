#!/usr/bin/env bash
# The browser test drives Debian's Chromium through Playwright (Playwright's own browser download
# cannot work offline). Install it when missing and we can; otherwise say how.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test ..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "WARNING: chromium is missing; the browser test will fail. Install it: sudo apt-get install chromium" >&2
fi
