#!/usr/bin/env bash
# The README's main-job command: on a fresh machine, set up the test bed, build dist/, and run the
# action from dist/ exactly as the Actions runner would on examples/ros-app: 2 distros x
# linux/amd64 + linux/arm64 (arm64 under QEMU), smoke tests, push to the local registry
# 127.0.0.1:5000 (standing in for Docker Hub), one multi-arch index per tag. It runs once on each
# engine of the test bed: Docker 28.5 with the containerd image store (what Docker 29 and Docker
# Desktop install by default), then Docker 20.10 with the classic image store.
#   bash scripts/example.sh [containerd|classic]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "=== npm packages and dist/ ==="
bash scripts/npm-deps.sh
npm run --silent build >/dev/null

echo "=== test bed (Docker engines, buildx, QEMU, registry, base images) ==="
# The example needs the ROS 2 stand-in bases only: skip the real ROS 1 base (minutes to build).
bash scripts/testbed.sh up --no-ros1
eval "$(bash scripts/testbed.sh env)"

status=0
configs=()
trap 'rm -rf "${configs[@]}"' EXIT
for engine in ${1:-containerd classic}; do
  host_var="TESTBED_DOCKER_HOST_${engine^^}"
  # A Docker config of the run's own: the action logs in and (in its post step) out again.
  DOCKER_CONFIG="$(mktemp -d)"
  configs+=("$DOCKER_CONFIG")
  bash scripts/testbed.sh docker-config "$engine" "$DOCKER_CONFIG"
  echo
  echo "=== ros-multiarch-action on examples/ros-app, $engine engine (DOCKER_HOST=${!host_var}) ==="
  # The test bed's ROS 2 bases are minimal stand-ins without the ros2 CLI, so the built-in ROS 2
  # checks are off here; the example's own smoke.yaml checks the ROS environment and the app.
  api_var="TESTBED_DOCKER_API_${engine^^}"
  env DOCKER_HOST="${!host_var}" DOCKER_CONFIG="$DOCKER_CONFIG" ${!api_var:+"DOCKER_API_VERSION=${!api_var}"} \
    node scripts/runner.mjs \
    --env GITHUB_SHA="$(git rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)" \
    --env GITHUB_RUN_ID="$$" \
    --input distros="humble, jazzy" \
    --input platforms="linux/amd64,linux/arm64" \
    --input image="$TESTBED_REGISTRY/example/ros-app-$engine" \
    --input base-image="$TESTBED_REGISTRY/ros:{distro}-ros-base" \
    --input context=examples/ros-app \
    --input smoke-test-file=examples/ros-app/smoke.yaml \
    --input ros-checks=false \
    --input network=host \
    --input push=true \
    --input username="$TESTBED_USERNAME" \
    --input password="$TESTBED_PASSWORD" || status=1
done
exit "$status"
