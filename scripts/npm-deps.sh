#!/usr/bin/env bash
# Install the npm packages exactly as package-lock.json pins them, with `npm ci`.
# The lock records the optional native bindings of every platform (unrs-resolver's, for jest),
# so it installs unchanged on any machine; `npm ci` fails when the lock and package.json differ.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
