#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing.
# Playwright's own browser download cannot work here, so the tests drive /usr/bin/chromium.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "chromium is missing and this user cannot install it; the browser tests will be skipped" >&2
        echo "(run: apt-get install -y chromium)" >&2
        exit 0
    fi
fi
echo "Installing chromium from Debian's packages for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
