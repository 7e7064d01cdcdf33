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
  # The fault test repeats the 2x2 publish through a flaky proxy: 10 times on the containerd
  # engine, 5 on the classic one, where each run takes about twice as long (CI time budget).
  fault_runs=10
  [[ $engine == classic ]] && fault_runs=5
  api_var="TESTBED_DOCKER_API_${engine^^}"
  env TESTBED_ENGINE="$engine" DOCKER_HOST="${!host_var}" \
    E2E_FAULT_RUNS="${E2E_FAULT_RUNS:-$fault_runs}" ${!api_var:+"DOCKER_API_VERSION=${!api_var}"} \
    npm run --silent test:e2e -- "$@" || status=1
done
exit "$status"
