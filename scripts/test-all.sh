#!/usr/bin/env bash
# The README's test command: everything a fresh machine needs, then every check and test.
#   npm packages -> lint -> type check -> dist check -> unit tests -> test bed -> end-to-end tests
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

step "npm packages"
bash scripts/npm-deps.sh

step "lint"
npm run --silent lint

step "type check"
npm run --silent typecheck

step "dist check"
bash scripts/check-dist.sh

step "unit tests"
npm run --silent test

if [ "${SKIP_E2E:-}" = "1" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "SKIP_E2E=1 is refused when CI=true: the end-to-end tests are part of CI." >&2
    exit 1
  fi
  echo "SKIP_E2E=1: end-to-end tests NOT run (local shortcut only)." >&2
  exit 0
fi

step "test bed"
bash scripts/testbed.sh up

step "end-to-end tests"
npm run --silent test:e2e
