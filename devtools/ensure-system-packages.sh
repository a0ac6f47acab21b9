#!/usr/bin/env bash
# The system packages the tests need beyond Python's: Debian's Chromium for the browser tests
# (Playwright's own browser download cannot work offline), and Pango with a font for the outputs'
# PDF letters (WeasyPrint, docs/outputs.md). Install what is missing when we can; otherwise say how.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ldconfig -p | grep -q 'libpango-1.0.so.0' || missing+=(libpango-1.0-0)
ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -q . || missing+=(fonts-dejavu-core)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ${missing[*]} for the browser and PDF tests ..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "WARNING: ${missing[*]} missing; the browser or PDF tests will fail. Install: sudo apt-get install ${missing[*]}" >&2
fi
