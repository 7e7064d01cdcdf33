#!/usr/bin/env bash
# Install the npm packages exactly as package-lock.json pins them, and fail if the lock drifts.
# (`npm ci` is not used: npm 11 records only this platform's optional native bindings in the
# lock and then refuses its own lock in `npm ci`; `npm install` reproduces the lock byte for byte.)
set -euo pipefail
cd "$(dirname "$0")/.."
before="$(sha256sum package-lock.json)"
npm install --no-audit --no-fund --loglevel=error
if [ "$(sha256sum package-lock.json)" != "$before" ]; then
  echo "package-lock.json changed during npm install: it does not match package.json; commit the updated lock." >&2
  exit 1
fi
