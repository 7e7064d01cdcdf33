#!/usr/bin/env bash
# The end-to-end tests on one engine of the test bed (classic or containerd; default: both, one
# after the other). Extra arguments go to Jest, e.g. a test file pattern.
#   bash scripts/e2e.sh containerd __tests__/e2e/cache.e2e.ts
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/testbed.sh env)"
engines=$TESTBED_ENGINES
if [[ $# -gt 0 && " $TESTBED_ENGINES " == *" $1 "* ]]; then
  engines=$1
  shift
fi
status=0
for engine in $engines; do
  host_var="TESTBED_DOCKER_HOST_${engine^^}"
  echo "--- end-to-end tests on the $engine engine (DOCKER_HOST=${!host_var})"
  TESTBED_ENGINE=$engine DOCKER_HOST=${!host_var} \
    npm run --silent test:e2e -- "$@" || status=1
done
exit "$status"
