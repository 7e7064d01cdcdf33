#!/usr/bin/env bash
# The README's main-job command: on a fresh machine, set up the test bed, build dist/, and run the
# action from dist/ exactly as the Actions runner would on examples/ros2-workspace, a colcon
# workspace of C++ compiled in the Dockerfile: humble and jazzy x linux/amd64 + linux/arm64 (arm64
# compiled under QEMU), the built-in ROS 2 checks and the example's smoke tests (a real DDS round
# trip each), push to the local registry 127.0.0.1:5000 (standing in for Docker Hub), one
# multi-arch index per tag. The bases are the test bed's ros:<distro>-lower-layers: ROS 2's lower
# layers from Debian 13 with a ros2 CLI stand-in (no real ROS 2: see the README). It runs on one
# engine of the test bed, by default Docker 28.5 with the containerd image store (what Docker 29
# and Docker Desktop install by default); name another (classic: Docker 20.10, classic28: Docker
# 28.5 with the classic image store) or `all` for each in turn. The action runs on the test bed's
# Node 24, as action.yml declares. With cache: registry, the layer cache and the workspace's ccache
# mount are kept in the registry (tags buildcache-... and mountcache-...): a second run restores
# them into the builder.
#   bash scripts/example.sh [containerd|classic|classic28|all]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "=== npm packages and dist/ ==="
bash scripts/npm-deps.sh
npm run --silent build >/dev/null

echo "=== test bed (Docker engines, buildx, QEMU, registry, base images) ==="
# The example needs the ROS 2 lower-layers bases only: skip the real ROS 1 base (minutes to build).
bash scripts/testbed.sh up --no-ros1
eval "$(bash scripts/testbed.sh env)"

engines=${1:-containerd}
[[ $engines == all ]] && engines=$TESTBED_ENGINES
for engine in $engines; do
  [[ " $TESTBED_ENGINES " == *" $engine "* ]] ||
    { echo "no engine named $engine (engines: $TESTBED_ENGINES, or all)" >&2 && exit 2; }
done

status=0
configs=()
trap 'rm -rf "${configs[@]}"' EXIT
for engine in $engines; do
  host_var="TESTBED_DOCKER_HOST_${engine^^}"
  # A Docker config of the run's own: the action logs in and (in its post step) out again.
  DOCKER_CONFIG="$(mktemp -d)"
  configs+=("$DOCKER_CONFIG")
  bash scripts/testbed.sh docker-config "$engine" "$DOCKER_CONFIG"
  echo
  echo "=== ros-multiarch-action on examples/ros2-workspace, $engine engine (DOCKER_HOST=${!host_var}) ==="
  api_var="TESTBED_DOCKER_API_${engine^^}"
  env DOCKER_HOST="${!host_var}" DOCKER_CONFIG="$DOCKER_CONFIG" ACTION_NODE="$TESTBED_ACTION_NODE" \
    ${!api_var:+"DOCKER_API_VERSION=${!api_var}"} \
    node scripts/runner.mjs \
    --env GITHUB_SHA="$(git rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)" \
    --env GITHUB_RUN_ID="$$" \
    --input distros="humble, jazzy" \
    --input platforms="linux/amd64,linux/arm64" \
    --input image="$TESTBED_REGISTRY/example/ros2-workspace-$engine" \
    --input base-image="$TESTBED_ROS2_LOWER_BASE" \
    --input context=examples/ros2-workspace \
    --input smoke-test-file=examples/ros2-workspace/smoke.yaml \
    --input cache=registry \
    --input network=host \
    --input push=true \
    --input username="$TESTBED_USERNAME" \
    --input password="$TESTBED_PASSWORD" || status=1
done
exit "$status"
