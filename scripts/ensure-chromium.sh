#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test when it is missing and we may (root + apt).
# Without it the browser test skips with a reason; everything else still runs.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser test..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium not found and cannot be installed here: the browser test will be skipped" >&2
fi
