#!/usr/bin/env bash
# Rebuild dist/ from src/ and fail when it differs from what is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build >/dev/null
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "dist/ differs from a fresh build of src/: run 'npm run build' and commit dist/." >&2
  git status --short -- dist >&2
  git --no-pager diff --stat -- dist >&2
  exit 1
fi
echo "dist/ matches a fresh build."
