#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver for the browser test when either is missing and we
# may (root + apt). Without them the browser test skips with a reason, unless
# GROUNDED_REQUIRE_BROWSER=1 (set by `make test`), which turns the skip into a failure.
set -euo pipefail
has() { command -v "$1" >/dev/null 2>&1; }
if { has chromium || has chromium-browser; } && has chromedriver; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && has apt-get; then
  echo "installing Debian's chromium and chromium-driver for the browser test..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "chromium/chromedriver not found and cannot be installed here (needs root and apt-get)" >&2
fi
