#!/usr/bin/env bash
# The end-to-end tests on one engine of the test bed (classic, containerd, classic28 or sbom;
# default: all, one after the other, sbom last), with the action run on the test bed's Node 24
# (ACTION_NODE), the runtime action.yml declares. Extra arguments go to Jest, e.g. a test file
# pattern.
#   bash scripts/e2e.sh containerd __tests__/e2e/cache.e2e.ts
#   bash scripts/e2e.sh sbom
# The sbom engine (a bridge network of its own, in a network namespace of the test bed's) runs
# the SBOM tests (sbom.e2e.ts), once, and nothing else; no other engine runs them (they have no
# bridge, so BuildKit cannot run an SBOM generator there: the tests of the action's warning about
# it, in supply.e2e.ts, run on them).
# Docker 20.10 (the classic engine) runs the tests where an engine before Docker 25 differs, not
# the whole suite (CI time budget: the classic28 engine covers the same image store):
# the core publish, the registry client's fallback from a push the engine could not finish
# (docker save's legacy format), Docker v2 images published as OCI, set-up and login on an old
# engine (API version pinned), the token registry, cache mounts (ids its frontend leaves as written).
# The workload tests (a C++ workspace compiled under emulation, a long build), whose time goes to
# the compile and not to the image store, run on the containerd engine only (CI time budget).
# Publishing to several registries (registries) is not among them: it runs on the Docker 28
# engines (both image stores), like every test whose engine-specific part classic28 covers.
# E2E_ALL=1 runs everything everywhere.
LEGACY_TESTS=(pipeline faults release setup token mounts)
WORKLOAD_TESTS=(workspace long)
SBOM_TESTS=(sbom)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/testbed.sh env)"
engines="$TESTBED_ENGINES $TESTBED_SBOM_ENGINE"
if [[ $# -gt 0 && " $TESTBED_ENGINES $TESTBED_SBOM_ENGINE " == *" $1 "* ]]; then
  engines=$1
  shift
fi
status=0
for engine in $engines; do
  host_var="TESTBED_DOCKER_HOST_${engine^^}"
  store_var="TESTBED_STORE_${engine^^}"
  echo "--- end-to-end tests on the $engine engine (DOCKER_HOST=${!host_var}, ${!store_var} image store; the action on ${TESTBED_ACTION_NODE:-no Node 24: run scripts/testbed.sh up})"
  # The fault test repeats the 2x2 publish through a flaky proxy, 5 times on each engine (CI time
  # budget: 28 s a run on the containerd store, 35-38 s on the classic ones). On the containerd
  # store the registries fault test below repeats the same publish, through a flaky proxy in
  # front of each of two registries, 10 times: that is where the 10-run figures come from.
  fault_runs=5
  # The same with two registries, each behind a flaky proxy (registries.e2e.ts): 10 runs on the
  # containerd image store, 3 on the classic one. CI time budget: a run takes 35-50 s on either
  # store (measured: 39-50 s containerd, 34-39 s classic28), so 10 more on classic28 would add
  # about 6 minutes; what the classic store changes (how the tested images reach the first
  # registry) is the same in every run, and the copy to the mirror, where the faults bite, does
  # not depend on the store: the figures come from the containerd store's 10.
  registry_fault_runs=10
  [[ ${!store_var} == classic ]] && registry_fault_runs=3
  api_var="TESTBED_DOCKER_API_${engine^^}"
  tests=("$@")
  # Jest options (--json, --outputFile=...) are not test patterns
  patterns=0
  for arg in "$@"; do [[ $arg == -* ]] || patterns=1; done
  if [[ $engine == "$TESTBED_SBOM_ENGINE" && $patterns == 0 ]]; then
    # E2E_ALL=1 too: the rest of the suite expects an engine with no bridge
    sbom=("${SBOM_TESTS[@]/#/__tests__/e2e/}")
    tests=("$@" "${sbom[@]/%/.e2e.ts}")
    echo "    (the SBOM tests only: ${SBOM_TESTS[*]})"
  elif [[ $engine == classic && $patterns == 0 && ${E2E_ALL:-} != 1 ]]; then
    legacy=("${LEGACY_TESTS[@]/#/__tests__/e2e/}")
    tests=("$@" "${legacy[@]/%/.e2e.ts}")
    echo "    (Docker before 25: ${LEGACY_TESTS[*]} only; E2E_ALL=1 for every test)"
  elif [[ $patterns == 0 ]]; then
    # every test but the SBOM ones (the sbom engine's); the workload tests on containerd only
    tests=("$@")
    for file in __tests__/e2e/*.e2e.ts; do
      name=$(basename "$file" .e2e.ts)
      [[ " ${SBOM_TESTS[*]} " == *" $name "* ]] && continue
      if [[ $engine != containerd && ${E2E_ALL:-} != 1 && " ${WORKLOAD_TESTS[*]} " == *" $name "* ]]; then
        continue
      fi
      tests+=("$file")
    done
    [[ $engine == containerd || ${E2E_ALL:-} == 1 ]] ||
      echo "    (${WORKLOAD_TESTS[*]}: on the containerd engine only; E2E_ALL=1 for every test)"
  fi
  env TESTBED_ENGINE="$engine" DOCKER_HOST="${!host_var}" ACTION_NODE="$TESTBED_ACTION_NODE" \
    E2E_FAULT_RUNS="${E2E_FAULT_RUNS:-$fault_runs}" \
    E2E_REGISTRY_FAULT_RUNS="${E2E_REGISTRY_FAULT_RUNS:-$registry_fault_runs}" \
    ${!api_var:+"DOCKER_API_VERSION=${!api_var}"} \
    npm run --silent test:e2e -- "${tests[@]}" || status=1
done
exit "$status"
