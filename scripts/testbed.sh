#!/usr/bin/env bash
# Local test bed for ros-multiarch-action: three real Docker engines (20.10 with the classic
# image store, 28.5 with the containerd image store, 28.5 with the classic image store), buildx,
# QEMU emulation and an authenticated registry on 127.0.0.1:5000 holding fixture ROS base images
# (beside it: a token-auth registry on the same storage, 127.0.0.1:5001, and the mirror registry,
# with storage and a user of its own, 127.0.0.1:5003), all from Debian packages (nothing is
# pulled from Docker Hub), and the Node 24 the action runs on in the end-to-end tests (npm's
# node-linux-<arch> package). Beside them, for the SBOM tests only, the sbom engine: Docker 28.5
# with the containerd image store and a bridge (198.51.100.1/24), inside a network namespace with
# no link to the host, where a registry on the same storage answers on 127.0.0.1:5000; and a
# stand-in SBOM generator image for it.
#
#   scripts/testbed.sh up       install what is missing, start the engines + registries,
#                               build and push the fixture base images (idempotent)
#   scripts/testbed.sh up --no-ros1
#                               the same without the real ROS 1 base (minutes to build)
#   scripts/testbed.sh packages install the Debian packages only (lint needs shellcheck)
#   scripts/testbed.sh status   one line per component; non-zero if anything is missing
#   scripts/testbed.sh env      `export` lines for tests (registry, credentials, engines, cosign)
#   scripts/testbed.sh docker-config ENGINE DIR
#                               write a docker client config in DIR that uses the
#                               buildx of ENGINE (classic, containerd, classic28 or sbom)
#   scripts/testbed.sh down     stop the registries and the engines started by `up`
#                               (caches, registry data and credentials are kept)
#   scripts/testbed.sh selftest prove login, buildx, QEMU and ROS 1 pub/sub by hand
#   scripts/testbed.sh delete REPO[:TAG]...
#                               delete test pushes from the registry and from the
#                               mirror registry (a whole REPO when no TAG is given)
#
# State, caches and logs live in ${TESTBED_DIR:-/var/lib/ros-multiarch-testbed}, sockets in
# ${TESTBED_RUN:-/run/ros-multiarch-testbed}, outside the repository, so a fresh clone on the
# same machine reuses them. Network: everything stays on 127.0.0.1 (--bridge=none), but for the
# sbom engine's bridge, which stays inside its namespace (scripts/testbed/lib/sbom.sh).
# The parts, by concern, are in scripts/testbed/lib/.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail

LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/testbed/lib"
# shellcheck source=testbed/lib/common.sh
. "$LIB/common.sh"
# shellcheck source=testbed/lib/packages.sh
. "$LIB/packages.sh"
# shellcheck source=testbed/lib/engines.sh
. "$LIB/engines.sh"
# shellcheck source=testbed/lib/registry.sh
. "$LIB/registry.sh"
# shellcheck source=testbed/lib/mirror.sh
. "$LIB/mirror.sh"
# shellcheck source=testbed/lib/bases.sh
. "$LIB/bases.sh"
# shellcheck source=testbed/lib/supplychain.sh
. "$LIB/supplychain.sh"
# shellcheck source=testbed/lib/sbom.sh
. "$LIB/sbom.sh"

trap 'fail "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND" "$CURRENT_LOG"' ERR
trap remove_policy_rc_d EXIT

cmd_up() {
  local start=$SECONDS with_ros1=1
  [[ ${1:-} == --no-ros1 ]] && with_ros1=0
  [[ $(id -u) == 0 ]] || fail "scripts/testbed.sh up must run as root"
  init_dirs
  lock_testbed
  # the test bed's own docker login and buildx state, apart from ~/.docker
  export DOCKER_CONFIG=$TESTBED_DOCKER_CONFIG
  # the checks below log in through the default engine (the classic one), whatever engine the
  # caller's shell points at (the sbom engine reaches no registry but its own 127.0.0.1:5000)
  unset DOCKER_HOST
  say "up: state in $TESTBED_DIR"
  local engine
  timed packages ensure_packages
  timed qemu ensure_binfmt
  timed cosign ensure_cosign
  timed "cosign key" ensure_cosign_key
  timed "classic engine" ensure_classic_engine
  timed "classic engine buildx" ensure_classic_buildx
  for engine in "${SID_ENGINES[@]}"; do
    timed "$engine engine" ensure_sid_engine "$engine"
  done
  timed "Node $ACTION_NODE_VERSION for the action" ensure_action_node
  for engine in "${ENGINES[@]}"; do engine_check "$engine"; done
  timed registry ensure_registry
  timed "token registry" ensure_token_registry
  timed "mirror registry" ensure_mirror_registry
  # needs the registry's htpasswd (its namespace's registry serves the same)
  timed "$SBOM_ENGINE engine (namespace $SBOM_NETNS)" ensure_sbom_engine
  # fixtures are built on the classic engine
  export DOCKER_HOST=unix://$CLASSIC_SOCK
  if [[ -n $(engine_api classic) ]]; then
    DOCKER_API_VERSION=$(engine_api classic)
    export DOCKER_API_VERSION
  fi
  init_build_flags
  timed "Debian rootfs tarballs" ensure_fixture_rootfs "$with_ros1"
  timed "ROS 2 stand-in bases" ensure_busybox_bases
  timed "ROS 2 lower-layers bases" ensure_lower_bases
  if ((with_ros1)); then
    timed "ROS 1 base" ensure_noetic_base
  else
    say "ROS 1 base: skipped (--no-ros1)"
  fi
  timed "SBOM generator stand-in" ensure_sbom_generator
  rm -rf "$BUILD_DIR"
  say "up: ready in $((SECONDS - start)) s (engines: ${ENGINES[*]}, and $SBOM_ENGINE for the SBOM tests; registry $REGISTRY_ADDR, user $TESTBED_USERNAME; see: scripts/testbed.sh env)"
}

cmd_down() {
  init_dirs
  lock_testbed
  stop_pid "$RUN_DIR/token-registry.pid" "docker-registry serve $TOKEN_DIR"
  stop_pid "$RUN_DIR/token-service.pid" token-server.mjs
  stop_pid "$RUN_DIR/registry.pid" "docker-registry serve $REGISTRY_DIR/config.yml"
  stop_pid "$MIRROR_PIDFILE" "$MIRROR_PROC"
  stop_sbom_engine
  stop_engines
  say "down: stopped; caches, registry data and credentials kept in $TESTBED_DIR"
}

# status: one line per component; exit 1 if anything is missing.
cmd_status() {
  local bad=0 p v f ref digest pid engine store
  line() { printf '%-44s %s\n' "$1" "$2"; }
  for p in "${APT_PACKAGES[@]}"; do
    if pkg_installed "$p"; then
      line "package $p" "installed ($(dpkg-query -W -f='${Version}' "$p"))"
    else
      line "package $p" "missing"
      bad=1
    fi
  done
  f=$BINFMT_DIR/qemu-aarch64
  if binfmt_ok; then
    line "qemu binfmt qemu-aarch64" "enabled ($(grep '^flags:' "$f"))"
  else
    line "qemu binfmt qemu-aarch64" "missing"
    bad=1
  fi
  for engine in "${ENGINES[@]}"; do
    if docker_ping "$(engine_host "$engine" | sed 's|^unix://||')"; then
      v=$(on_engine "$engine" docker version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}' 2>&1 | head -n 1)
      store=$(engine_store "$engine")
      if [[ $store == "$(engine_store_of "$engine")" ]]; then
        line "engine $engine" "running ($v, $store image store, $(engine_host "$engine"))"
      else
        line "engine $engine" "wrong image store ($v, $store image store, not $(engine_store_of "$engine"), $(engine_host "$engine"))"
        bad=1
      fi
      if v=$(on_engine "$engine" docker buildx version 2>/dev/null); then
        line "engine $engine buildx" "installed ($v)"
      else
        line "engine $engine buildx" "missing"
        bad=1
      fi
    else
      line "engine $engine" "missing (not answering on $(engine_host "$engine"))"
      bad=1
    fi
  done
  if action_node_ok; then
    line "Node $ACTION_NODE_VERSION (the action's runtime)" "installed ($(action_node_bin))"
  else
    line "Node $ACTION_NODE_VERSION (the action's runtime)" "missing"
    bad=1
  fi
  if cosign_key_ok; then
    line "cosign" "installed ($(cosign_version), $COSIGN_BIN; key pair in $COSIGN_KEY_DIR)"
  elif [[ -x $COSIGN_BIN ]]; then
    line "cosign" "installed ($(cosign_version), $COSIGN_BIN); key pair missing"
    bad=1
  else
    line "cosign" "missing"
    bad=1
  fi
  if load_credentials 2>/dev/null; then
    line "credentials" "present ($CREDENTIALS_FILE, user $TESTBED_USERNAME)"
  else
    line "credentials" "missing"
    bad=1
  fi
  if registry_answers; then
    if pid=$(pid_of "$RUN_DIR/registry.pid" docker-registry); then v="pid $pid"; else v="not started by the test bed"; fi
    line "registry" "running (http://$REGISTRY_ADDR, auth required, $v)"
    for ref in $(fixture_refs); do
      digest=""
      [[ -n ${TESTBED_PASSWORD:-} ]] && digest=$(registry_digest "${ref%:*}" "${ref##*:}")
      if [[ -n $digest ]]; then
        line "image $REGISTRY_ADDR/$ref" "present ($digest)"
      else
        line "image $REGISTRY_ADDR/$ref" "missing"
        bad=1
      fi
    done
  else
    line "registry" "missing (not answering on $REGISTRY_ADDR)"
    bad=1
  fi
  if token_registry_answers && token_service_answers; then
    line "token registry" "running (http://$TOKEN_REGISTRY_ADDR, Bearer tokens from http://$TOKEN_SERVICE_ADDR)"
  else
    line "token registry" "missing (not answering on $TOKEN_REGISTRY_ADDR or $TOKEN_SERVICE_ADDR)"
    bad=1
  fi
  if [[ -s $MIRROR_CREDENTIALS_FILE ]]; then
    line "mirror credentials" "present ($MIRROR_CREDENTIALS_FILE, mode $(stat -c %a "$MIRROR_CREDENTIALS_FILE"), user ${TESTBED_MIRROR_USERNAME:-$MIRROR_USER})"
  else
    line "mirror credentials" "missing"
  fi
  mirror_status || bad=1
  sbom_status || bad=1
  return "$bad"
}

cmd_env() {
  load_credentials || fail "no credentials in $CREDENTIALS_FILE: run scripts/testbed.sh up first"
  local bases=() d engine upper
  for d in "${ROS2_DISTROS[@]}"; do bases+=("$REGISTRY_ADDR/ros:$d-ros-base"); done
  printf 'export TESTBED_DIR=%q\n' "$TESTBED_DIR"
  printf 'export TESTBED_REGISTRY=%q\n' "$REGISTRY_ADDR"
  printf 'export TESTBED_USERNAME=%q\n' "$TESTBED_USERNAME"
  printf 'export TESTBED_PASSWORD=%q\n' "$TESTBED_PASSWORD"
  printf 'export TESTBED_TOKEN_REGISTRY=%q\n' "$TOKEN_REGISTRY_ADDR"
  printf 'export TESTBED_PULL_USERNAME=%q\n' "${TESTBED_PULL_USERNAME:-}"
  printf 'export TESTBED_PULL_PASSWORD=%q\n' "${TESTBED_PULL_PASSWORD:-}"
  # the mirror registry (empty credentials until `up` made them)
  load_mirror_credentials 2>/dev/null || true
  printf 'export TESTBED_MIRROR_REGISTRY=%q\n' "$MIRROR_ADDR"
  printf 'export TESTBED_MIRROR_USERNAME=%q\n' "${TESTBED_MIRROR_USERNAME:-}"
  printf 'export TESTBED_MIRROR_PASSWORD=%q\n' "${TESTBED_MIRROR_PASSWORD:-}"
  printf 'export TESTBED_ROS2_DISTROS=%q\n' "${ROS2_DISTROS[*]}"
  printf 'export TESTBED_ROS2_BASES=%q\n' "${bases[*]}"
  printf 'export TESTBED_AMD64_ONLY_BASE=%q\n' "$REGISTRY_ADDR/$AMD64_ONLY_IMAGE"
  printf 'export TESTBED_ROS1_BASE=%q\n' "$REGISTRY_ADDR/$NOETIC_IMAGE"
  printf 'export TESTBED_ROS2_LOWER_DISTROS=%q\n' "${LOWER_DISTROS[*]}"
  printf 'export TESTBED_ROS2_LOWER_BASE=%q\n' "$REGISTRY_ADDR/ros:{distro}-$LOWER_TAG_SUFFIX"
  printf 'export TESTBED_ENGINES=%q\n' "${ENGINES[*]}"
  for engine in "${ENGINES[@]}"; do
    upper=${engine^^}
    printf 'export TESTBED_DOCKER_HOST_%s=%q\n' "$upper" "$(engine_host "$engine")"
    printf 'export TESTBED_CLI_PLUGINS_%s=%q\n' "$upper" "$(engine_plugins "$engine")"
    printf 'export TESTBED_STORE_%s=%q\n' "$upper" "$(engine_store_of "$engine")"
  done
  for engine in "${ENGINES[@]}"; do
    printf 'export TESTBED_DOCKER_API_%s=%q\n' "${engine^^}" "$(engine_api "$engine")"
  done
  # the Node the end-to-end tests run the action on (empty until `up` installed it)
  local node=""
  action_node_ok && node=$(action_node_bin)
  printf 'export TESTBED_ACTION_NODE=%q\n' "$node"
  # supply chain: cosign and its key pair (empty until `up` made them)
  local cosign="" key="" pub="" pass=""
  [[ -x $COSIGN_BIN ]] && cosign=$COSIGN_BIN
  if load_cosign_password 2>/dev/null && [[ -s $COSIGN_KEY_DIR/cosign.key && -s $COSIGN_KEY_DIR/cosign.pub ]]; then
    key=$COSIGN_KEY_DIR/cosign.key pub=$COSIGN_KEY_DIR/cosign.pub pass=$TESTBED_COSIGN_PASSWORD
  fi
  printf 'export TESTBED_COSIGN=%q\n' "$cosign"
  printf 'export TESTBED_COSIGN_KEY=%q\n' "$key"
  printf 'export TESTBED_COSIGN_PUB=%q\n' "$pub"
  printf 'export TESTBED_COSIGN_PASSWORD=%q\n' "$pass"
  # the sbom engine (not in TESTBED_ENGINES) and its generator stand-in
  sbom_env
}

cmd_docker_config() {
  (($# == 2)) || fail "usage: scripts/testbed.sh docker-config ENGINE DIR"
  write_docker_config "$1" "$2"
}

# selftest: the by-hand proofs, scripted (login, index, emulation, ROS 1 pub/sub).
cmd_selftest() {
  load_credentials || fail "run scripts/testbed.sh up first"
  local cfg t platform ros1
  cfg=$(mktemp -d)
  echo "== docker login (fresh DOCKER_CONFIG)"
  DOCKER_CONFIG=$cfg docker login "$REGISTRY_ADDR" -u "$TESTBED_USERNAME" --password-stdin <<<"$TESTBED_PASSWORD"
  echo "== imagetools inspect --raw $REGISTRY_ADDR/ros:humble-ros-base"
  DOCKER_CONFIG=$cfg docker buildx imagetools inspect --raw "$REGISTRY_ADDR/ros:humble-ros-base"
  echo
  local engine
  for engine in "${ENGINES[@]}"; do
    for platform in "${MULTI_PLATFORMS[@]}"; do
      echo "== $engine engine, $platform: docker run ros:humble-ros-base uname -m"
      DOCKER_HOST=$(engine_host "$engine") DOCKER_CONFIG=$cfg docker run --rm --pull always --network none --platform "$platform" \
        "$REGISTRY_ADDR/ros:humble-ros-base" sh -c 'echo "$(uname -m) ROS_DISTRO=$ROS_DISTRO ROS_VERSION=$ROS_VERSION"'
      DOCKER_HOST=$(engine_host "$engine") docker image rm "$REGISTRY_ADDR/ros:humble-ros-base" >/dev/null
    done
  done
  # shellcheck disable=SC2016 # expanded in the container
  ros1='rosversion -d
export ROS_MASTER_URI=http://127.0.0.1:11311 ROS_HOSTNAME=127.0.0.1
roscore >/tmp/roscore.log 2>&1 &
for i in $(seq 1 120); do rostopic list >/dev/null 2>&1 && break; sleep 0.5; done
rostopic echo -n 1 /smoke >/tmp/echo.log 2>&1 &
echo_pid=$!
# the echo node is up (and polling for /smoke) once the master lists it
for i in $(seq 1 120); do rosnode list 2>/dev/null | grep -q "^/rostopic_" && break; sleep 0.5; done
rostopic pub -1 /smoke std_msgs/String "data: hello" >/dev/null
wait $echo_pid
cat /tmp/echo.log'
  for platform in "${MULTI_PLATFORMS[@]}"; do
    echo "== $platform: ROS 1 roscore + rostopic pub/echo round trip in $NOETIC_IMAGE"
    DOCKER_CONFIG=$cfg docker pull -q --platform "$platform" "$REGISTRY_ADDR/$NOETIC_IMAGE" >/dev/null
    t=$SECONDS
    DOCKER_CONFIG=$cfg docker run --rm --network none --platform "$platform" \
      "$REGISTRY_ADDR/$NOETIC_IMAGE" bash -c "uname -m; $ros1"
    echo "(round trip on $platform: $((SECONDS - t)) s)"
    docker image rm "$REGISTRY_ADDR/$NOETIC_IMAGE" >/dev/null
  done
  DOCKER_CONFIG=$cfg docker logout "$REGISTRY_ADDR" >/dev/null
  rm -rf "$cfg"
  echo "selftest: OK"
}

cmd_delete() {
  load_credentials || fail "run scripts/testbed.sh up first"
  (($#)) || fail "usage: scripts/testbed.sh delete REPO[:TAG]..."
  delete_repos "$@"
  # the same repositories in the mirror registry, which has storage of its own
  if load_mirror_credentials && mirror_answers; then
    mirror_delete_repos "$@"
  else
    say "delete: the mirror registry ($MIRROR_ADDR) is not up: nothing deleted there"
  fi
}

usage() {
  sed -n '2,34p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  case "${1:-}" in
    up)
      shift
      cmd_up "$@"
      ;;
    packages)
      [[ $(id -u) == 0 ]] || fail "scripts/testbed.sh packages must run as root"
      init_dirs
      lock_testbed
      ensure_packages
      ;;
    down) cmd_down ;;
    status) cmd_status || exit 1 ;;
    env) cmd_env ;;
    docker-config)
      shift
      cmd_docker_config "$@"
      ;;
    selftest) cmd_selftest ;;
    delete)
      shift
      cmd_delete "$@"
      ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
