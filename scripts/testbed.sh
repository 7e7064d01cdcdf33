#!/usr/bin/env bash
# Local test bed for ros-multiarch-action: a real Docker engine, buildx, QEMU
# emulation and an authenticated registry on 127.0.0.1:5000 holding fixture ROS
# base images, all built from Debian 12 packages (nothing is pulled from Docker Hub).
#
#   scripts/testbed.sh up       install what is missing, start dockerd + registry,
#                               build and push the fixture base images (idempotent)
#   scripts/testbed.sh up --no-ros1
#                               the same without the real ROS 1 base (minutes to build)
#   scripts/testbed.sh status   one line per component; non-zero if anything is missing
#   scripts/testbed.sh env      `export` lines for tests (registry, credentials, ...)
#   scripts/testbed.sh down     stop the registry and dockerd started by `up`
#                               (caches, registry data and credentials are kept)
#   scripts/testbed.sh selftest prove login, buildx, QEMU and ROS 1 pub/sub by hand
#   scripts/testbed.sh delete REPO[:TAG]...
#                               delete test pushes from the registry (a whole REPO
#                               when no TAG is given)
#
# State, caches and logs live in ${TESTBED_DIR:-/var/lib/ros-multiarch-testbed},
# outside the repository, so a fresh clone on the same machine reuses them.
# Network: everything stays on 127.0.0.1 (dockerd runs with --bridge=none).
set -Eeuo pipefail

# --- configuration -----------------------------------------------------------

TESTBED_DIR="${TESTBED_DIR:-/var/lib/ros-multiarch-testbed}"
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_USER=rosci
# ROS 2 distros that get a busybox stand-in for ros:<distro>-ros-base (amd64 + arm64).
read -r -a ROS2_DISTROS <<<"${TESTBED_ROS2_DISTROS:-humble jazzy kilted lyrical rolling}"
AMD64_ONLY_IMAGE=osrf/ros:humble-desktop
NOETIC_IMAGE=ros:noetic-ros-base
# Debian 12 ROS 1 packages for the noetic base (rostopic + std_msgs for pub/sub).
NOETIC_PACKAGES=(ros-core rosbash python3-rostopic python3-std-msgs)
NOETIC_SUITE=bookworm
MULTI_PLATFORMS=(linux/amd64 linux/arm64)
# Bump when the way fixtures are built changes, to force a rebuild.
FIXTURE_RECIPE=1
DOCKERD_TIMEOUT=${TESTBED_DOCKERD_TIMEOUT:-90}
REGISTRY_TIMEOUT=${TESTBED_REGISTRY_TIMEOUT:-30}

APT_PACKAGES=(docker.io qemu-user-static binfmt-support docker-registry apache2-utils
  mmdebstrap arch-test curl python3)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ASSETS="$HERE/testbed"
LOG_DIR="$TESTBED_DIR/logs"
RUN_DIR="$TESTBED_DIR/run"
CACHE_DIR="$TESTBED_DIR/cache"
STATE_DIR="$TESTBED_DIR/state"
BUILD_DIR="$TESTBED_DIR/build"
REGISTRY_DIR="$TESTBED_DIR/registry"
CREDENTIALS_FILE="$TESTBED_DIR/credentials.env"
# The test bed's own docker client config (its login), kept apart from ~/.docker
# so that tests start logged out unless they log in themselves.
TESTBED_DOCKER_CONFIG="$TESTBED_DIR/docker-config"
DOCKER_SOCK=/var/run/docker.sock
BINFMT_DIR=/proc/sys/fs/binfmt_misc
MANIFEST_ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'

export DEBIAN_FRONTEND=noninteractive
APT_GET_OPTS=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
  -o Dpkg::Options::=--force-confold --no-install-recommends)

# --- logging and failure -----------------------------------------------------

CURRENT_LOG=""
say() { printf '[testbed] %s\n' "$*" >&2; }

# fail REASON [LOGFILE]: one-line reason on stderr, then the log's tail; exit 1.
fail() {
  trap - ERR
  printf 'testbed: ERROR: %s\n' "$1" >&2
  local log="${2:-}"
  if [[ -n $log && -s $log ]]; then
    printf -- '--- last lines of %s ---\n' "$log" >&2
    tail -n 30 "$log" >&2
  fi
  exit 1
}
trap 'fail "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND" "$CURRENT_LOG"' ERR

# logged LOGFILE WHAT CMD...: run CMD with its output appended to LOGFILE.
logged() {
  local log=$1 what=$2
  shift 2
  CURRENT_LOG=$log
  printf '\n+ [%s] %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
  "$@" >>"$log" 2>&1 || fail "$what failed (log: $log)" "$log"
}

# timed NAME FUNC...: run a phase and report its wall time.
timed() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  say "$name: done in $((SECONDS - start)) s"
}

# spawn_detached LOGFILE PIDFILE CMD...: start a daemon in its own session, with
# no inherited stdin/stdout/stderr nor other descriptors, so callers never wait on it.
spawn_detached() {
  local log=$1 pidfile=$2
  shift 2
  # keep daemon logs bounded across many runs: one previous generation
  if [[ -f $log ]] && (($(stat -c %s "$log") > 20 * 1024 * 1024)); then
    mv -f "$log" "$log.1"
  fi
  printf '\n=== [%s] %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
  (
    # close every inherited descriptor above stderr (the lock, a runner's pipes)
    local f n
    for f in /proc/self/fd/*; do
      n=${f##*/}
      if ((n > 2)); then exec {n}>&-; fi
    done
    exec setsid "$@" </dev/null >>"$log" 2>&1
  ) &
  echo $! >"$pidfile"
}

# pid_of PIDFILE NAME: print the pid if it is alive and its command is NAME.
pid_of() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" || return 1
  echo "$pid"
}

# stop_pid PIDFILE NAME: TERM, wait up to 30 s, then KILL.
stop_pid() {
  local pid i
  if ! pid=$(pid_of "$1" "$2"); then
    say "$2: not running (nothing started by the test bed)"
    rm -f "$1"
    return 0
  fi
  say "$2: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$2: still running after 30 s, killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

sha256_of() { sha256sum | cut -c1-64; }
sanitize() { tr '/:' '__' <<<"$1"; }

init_dirs() {
  mkdir -p "$TESTBED_DIR" "$LOG_DIR" "$RUN_DIR" "$CACHE_DIR" "$STATE_DIR/images" \
    "$BUILD_DIR" "$REGISTRY_DIR/data" "$TESTBED_DOCKER_CONFIG"
  chmod 700 "$TESTBED_DIR"
}

lock_testbed() {
  exec 9>"$TESTBED_DIR/.lock"
  flock -w 3600 9 || fail "another scripts/testbed.sh holds $TESTBED_DIR/.lock"
}

# --- Debian packages ---------------------------------------------------------

APT_UPDATED=0
apt_update_once() {
  ((APT_UPDATED)) && return 0
  say "apt: apt-get update"
  logged "$LOG_DIR/apt.log" "apt-get update" apt-get -q update
  APT_UPDATED=1
}

pkg_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

POLICY_RC_D=/usr/sbin/policy-rc.d
POLICY_RC_D_CREATED=0
cleanup() {
  if ((POLICY_RC_D_CREATED)); then rm -f "$POLICY_RC_D"; fi
}
trap cleanup EXIT

# Debian's maintainer scripts would start docker, containerd and the registry
# with their default settings (bridge networking, registry on all interfaces).
forbid_service_starts() {
  if [[ ! -e $POLICY_RC_D ]]; then
    printf '#!/bin/sh\n# temporary, from scripts/testbed.sh\nexit 101\n' >"$POLICY_RC_D"
    chmod 755 "$POLICY_RC_D"
    POLICY_RC_D_CREATED=1
  fi
}

ensure_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    pkg_installed "$p" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "packages: all installed"
    return 0
  fi
  say "packages: installing ${missing[*]}"
  apt_update_once
  forbid_service_starts
  logged "$LOG_DIR/apt.log" "apt-get install ${missing[*]}" \
    apt-get install "${APT_GET_OPTS[@]}" "${missing[@]}"
  if [[ -d /run/systemd/system ]]; then
    # on a systemd host keep the packaged services off: we run our own daemons
    systemctl disable --now docker-registry.service >>"$LOG_DIR/apt.log" 2>&1 || true
  fi
}

ensure_foreign_arch() {
  if ! dpkg --print-foreign-architectures | grep -qx "$1"; then
    say "apt: dpkg --add-architecture $1"
    dpkg --add-architecture "$1"
    APT_UPDATED=0
  fi
}

# --- QEMU user emulation (binfmt_misc) ----------------------------------------

binfmt_ok() {
  local f=$BINFMT_DIR/qemu-aarch64
  [[ -r $f ]] && grep -qx enabled "$f" && grep -q '^flags:.*F' "$f"
}

ensure_binfmt() {
  if ! mountpoint -q "$BINFMT_DIR"; then
    logged "$LOG_DIR/binfmt.log" "mounting binfmt_misc" \
      mount -t binfmt_misc binfmt_misc "$BINFMT_DIR"
  fi
  if ! binfmt_ok; then
    logged "$LOG_DIR/binfmt.log" "update-binfmts --enable" update-binfmts --enable
  fi
  binfmt_ok || fail "qemu-aarch64 is not registered in $BINFMT_DIR with the F flag: $(tr '\n' ' ' <"$BINFMT_DIR/qemu-aarch64" 2>/dev/null || echo absent)"
  say "qemu: qemu-aarch64 enabled ($(grep '^flags:' "$BINFMT_DIR/qemu-aarch64"))"
}

# --- Docker engine -------------------------------------------------------------

docker_ping() {
  [[ -S $DOCKER_SOCK ]] &&
    [[ $(curl -fsS --max-time 5 --unix-socket "$DOCKER_SOCK" http://localhost/_ping 2>/dev/null) == OK ]]
}

docker_server_api() {
  curl -fsS --max-time 5 --unix-socket "$DOCKER_SOCK" http://localhost/version |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiVersion"])'
}

start_dockerd() {
  local log="$LOG_DIR/dockerd.log" pidfile="$RUN_DIR/dockerd.pid" i
  local args=(--bridge=none --iptables=false --pidfile "$pidfile")
  if dockerd --help 2>&1 | grep -q -- '--ip6tables'; then
    args+=(--ip6tables=false)
  fi
  # a pid file left by a dockerd of an earlier session would block the start
  pid_of "$pidfile" dockerd >/dev/null || rm -f "$pidfile"
  say "dockerd: starting (${args[*]})"
  CURRENT_LOG=$log
  spawn_detached "$log" "$RUN_DIR/dockerd.spawn.pid" dockerd "${args[@]}"
  for ((i = 0; i < DOCKERD_TIMEOUT * 2; i++)); do
    docker_ping && return 0
    kill -0 "$(<"$RUN_DIR/dockerd.spawn.pid")" 2>/dev/null ||
      fail "dockerd exited during start-up (log: $log)" "$log"
    sleep 0.5
  done
  fail "dockerd did not answer on $DOCKER_SOCK within ${DOCKERD_TIMEOUT}s (log: $log)" "$log"
}

# The Docker 28 client at /usr/local/bin/docker negotiates the API version down
# to what the 20.10 daemon speaks; if it ever fails to, pin DOCKER_API_VERSION.
ensure_docker_client() {
  local api
  if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    rm -f "$STATE_DIR/docker-api-version"
  else
    api=$(docker_server_api)
    DOCKER_API_VERSION=$api docker version >/dev/null 2>&1 ||
      fail "the docker client ($(command -v docker)) cannot talk to the daemon, even with DOCKER_API_VERSION=$api"
    echo "$api" >"$STATE_DIR/docker-api-version"
  fi
  load_docker_api_version
  say "docker: client $(docker version --format '{{.Client.Version}}') ($(command -v docker)), daemon $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
}

load_docker_api_version() {
  if [[ -s $STATE_DIR/docker-api-version ]]; then
    DOCKER_API_VERSION=$(<"$STATE_DIR/docker-api-version")
    export DOCKER_API_VERSION
  fi
}

ensure_dockerd() {
  if docker_ping; then
    say "dockerd: already answering on $DOCKER_SOCK, reusing it"
  else
    start_dockerd
  fi
  ensure_docker_client
}

# --- buildx (from Debian 13 trixie, downloaded only) -------------------------------

TRIXIE_APT="$TESTBED_DIR/apt-trixie"

# A private apt configuration whose only source is trixie, derived from the first
# stanza of the machine's own debian.sources; system apt lists stay on bookworm.
trixie_apt() {
  apt-get -q -o Dir::Etc::sourcelist=/dev/null \
    -o Dir::Etc::sourceparts="$TRIXIE_APT/sources.list.d" \
    -o Dir::State::Lists="$TRIXIE_APT/lists" \
    -o Dir::Cache="$TRIXIE_APT/cache" \
    -o Dir::Etc::preferencesparts="$TRIXIE_APT/preferences.d" \
    -o APT::Sandbox::User=root "$@"
}

write_trixie_sources() {
  local src=/etc/apt/sources.list.d/debian.sources out
  mkdir -p "$TRIXIE_APT/sources.list.d" "$TRIXIE_APT/lists/partial" \
    "$TRIXIE_APT/cache/archives/partial" "$TRIXIE_APT/preferences.d"
  out="$TRIXIE_APT/sources.list.d/trixie.sources"
  if [[ -r $src ]]; then
    awk -v arch="$(dpkg --print-architecture)" '
      /^[[:space:]]*$/ { if (seen) exit; next }
      { seen = 1 }
      /^Suites:/ { print "Suites: trixie"; next }
      /^Architectures:/ { next }
      { print }
      END { print "Architectures: " arch }' "$src" >"$out"
  else
    # one-line sources.list style machine: take the first Debian URI from it
    local uri
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
      /etc/apt/sources.list 2>/dev/null)
    printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\nArchitectures: %s\n' \
      "${uri:-http://deb.debian.org/debian}" "$(dpkg --print-architecture)" >"$out"
  fi
  grep -q '^URIs:' "$out" || fail "could not derive a trixie apt source from $src"
}

buildx_ok() { docker buildx version >/dev/null 2>&1; }

ensure_buildx() {
  local deb log="$LOG_DIR/buildx.log"
  if buildx_ok; then
    say "buildx: $(docker buildx version)"
    return 0
  fi
  mkdir -p "$CACHE_DIR/debs"
  deb=$(find "$CACHE_DIR/debs" -name 'docker-buildx_*.deb' | sort | tail -n 1)
  if [[ -z $deb ]]; then
    say "buildx: downloading docker-buildx from trixie (private apt config)"
    write_trixie_sources
    logged "$log" "apt-get update (trixie, private lists)" trixie_apt update
    pushd "$CACHE_DIR/debs" >/dev/null
    logged "$log" "apt-get download docker-buildx (trixie)" trixie_apt download docker-buildx
    popd >/dev/null
    deb=$(find "$CACHE_DIR/debs" -name 'docker-buildx_*.deb' | sort | tail -n 1)
    [[ -n $deb ]] || fail "docker-buildx .deb not found after download" "$log"
  fi
  logged "$log" "dpkg -x $deb /" dpkg -x "$deb" /
  buildx_ok || fail "docker buildx does not run after extracting $deb" "$log"
  say "buildx: installed $(docker buildx version)"
}

ensure_buildx_arm64() {
  local out
  out=$(docker buildx ls 2>&1) || fail "docker buildx ls failed: $out"
  grep -q 'linux/arm64' <<<"$out" ||
    fail "the default buildx builder does not list linux/arm64 (binfmt was set up after dockerd started? run: scripts/testbed.sh down && scripts/testbed.sh up)"
  say "buildx: default builder lists linux/arm64"
}

# --- registry --------------------------------------------------------------------

registry_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$REGISTRY_ADDR/v2/" 2>/dev/null || true
}

load_credentials() {
  [[ -s $CREDENTIALS_FILE ]] || return 1
  # shellcheck disable=SC1090
  . "$CREDENTIALS_FILE"
  [[ -n ${TESTBED_USERNAME:-} && -n ${TESTBED_PASSWORD:-} ]]
}

ensure_credentials() {
  local pass
  if ! load_credentials; then
    say "registry: generating credentials for user $REGISTRY_USER"
    pass=$(head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 32)
    (
      umask 077
      printf '# test registry credentials, generated by scripts/testbed.sh\nTESTBED_USERNAME=%s\nTESTBED_PASSWORD=%s\n' \
        "$REGISTRY_USER" "$pass" >"$CREDENTIALS_FILE"
    )
    rm -f "$REGISTRY_DIR/htpasswd"
    load_credentials
  fi
  chmod 600 "$CREDENTIALS_FILE"
  if ! htpasswd -v -i "$REGISTRY_DIR/htpasswd" "$TESTBED_USERNAME" <<<"$TESTBED_PASSWORD" >/dev/null 2>&1; then
    htpasswd -B -c -i "$REGISTRY_DIR/htpasswd" "$TESTBED_USERNAME" <<<"$TESTBED_PASSWORD" >/dev/null 2>&1 ||
      fail "htpasswd could not write $REGISTRY_DIR/htpasswd"
    chmod 600 "$REGISTRY_DIR/htpasswd"
    REGISTRY_RESTART=1
  fi
}

write_registry_config() {
  local new="$REGISTRY_DIR/config.yml.new"
  cat >"$new" <<EOF
# docker-registry (distribution 2.8) config, generated by scripts/testbed.sh
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: ros-multiarch-testbed
    path: $REGISTRY_DIR/htpasswd
EOF
  if cmp -s "$new" "$REGISTRY_DIR/config.yml"; then
    rm -f "$new"
  else
    mv "$new" "$REGISTRY_DIR/config.yml"
    REGISTRY_RESTART=1
  fi
}

REGISTRY_RESTART=0
ensure_registry() {
  local log="$LOG_DIR/registry.log" pidfile="$RUN_DIR/registry.pid" code i
  ensure_credentials
  write_registry_config
  if ((REGISTRY_RESTART)) && pid_of "$pidfile" docker-registry >/dev/null; then
    say "registry: configuration changed, restarting"
    stop_pid "$pidfile" docker-registry
  fi
  code=$(registry_code)
  if [[ $code == 401 ]]; then
    say "registry: already answering on $REGISTRY_ADDR, reusing it"
  else
    [[ $code == 000 ]] || fail "something else answers on $REGISTRY_ADDR (HTTP $code to /v2/)"
    say "registry: starting on $REGISTRY_ADDR"
    CURRENT_LOG=$log
    spawn_detached "$log" "$pidfile" docker-registry serve "$REGISTRY_DIR/config.yml"
    for ((i = 0; i < REGISTRY_TIMEOUT * 2; i++)); do
      code=$(registry_code)
      [[ $code == 401 ]] && break
      kill -0 "$(<"$pidfile")" 2>/dev/null || fail "docker-registry exited during start-up (log: $log)" "$log"
      sleep 0.5
    done
    [[ $code == 401 ]] ||
      fail "registry did not answer 401 on http://$REGISTRY_ADDR/v2/ within ${REGISTRY_TIMEOUT}s (last: $code)" "$log"
  fi
  registry_login
}

# The test bed's own login, in its own DOCKER_CONFIG.
registry_login() {
  local out
  out=$(DOCKER_CONFIG=$TESTBED_DOCKER_CONFIG docker login "$REGISTRY_ADDR" \
    -u "$TESTBED_USERNAME" --password-stdin <<<"$TESTBED_PASSWORD" 2>&1) ||
    fail "docker login $REGISTRY_ADDR failed: $(tr '\n' ' ' <<<"$out")" "$LOG_DIR/registry.log"
  say "registry: docker login $REGISTRY_ADDR as $TESTBED_USERNAME works"
}

# tb_docker ...: docker with the test bed's login.
tb_docker() { DOCKER_CONFIG=$TESTBED_DOCKER_CONFIG docker "$@"; }

# registry_digest REPO TAG: the manifest digest the registry holds, or nothing.
registry_digest() {
  curl -fsS -I --max-time 10 -K - -H "Accept: $MANIFEST_ACCEPT" \
    "http://$REGISTRY_ADDR/v2/$1/manifests/$2" <<<"user = \"$TESTBED_USERNAME:$TESTBED_PASSWORD\"" 2>/dev/null |
    tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }' || true
}

# --- fixture images: bookkeeping -----------------------------------------------

# image_current REF KEY: the registry still holds what we pushed for this KEY.
image_current() {
  local st repo=${1%:*} tag=${1##*:}
  st="$STATE_DIR/images/$(sanitize "$1")"
  [[ -s $st.key && -s $st.digest && $(<"$st.key") == "$2" ]] || return 1
  [[ $(registry_digest "$repo" "$tag") == "$(<"$st.digest")" ]]
}

record_image() {
  local st digest
  st="$STATE_DIR/images/$(sanitize "$1")"
  digest=$(registry_digest "${1%:*}" "${1##*:}")
  [[ -n $digest ]] || fail "the registry does not hold $REGISTRY_ADDR/$1 right after pushing it"
  echo "$2" >"$st.key"
  echo "$digest" >"$st.digest"
  say "image $REGISTRY_ADDR/$1: $digest"
}

# index_platforms REF: "linux/amd64,linux/arm64" for an index, or "single" for a manifest.
index_platforms() {
  tb_docker buildx imagetools inspect --raw "$REGISTRY_ADDR/$1" | python3 -c '
import json, sys
m = json.load(sys.stdin)
if "manifests" not in m:
    print("single")
else:
    print(",".join(sorted(
        p["os"] + "/" + p["architecture"] + ("/" + p["variant"] if p.get("variant") else "")
        for p in (d.get("platform", {"os": "unknown", "architecture": "unknown"}) for d in m["manifests"]))))'
}

BUILD_FLAGS=()
init_build_flags() {
  BUILD_FLAGS=(--builder default --network host)
  if docker buildx build --help 2>&1 | grep -q -- '--provenance'; then
    BUILD_FLAGS+=(--provenance=false)
  fi
  if docker buildx build --help 2>&1 | grep -q -- '--sbom'; then
    BUILD_FLAGS+=(--sbom=false)
  fi
}

# build_platform CONTEXT PLATFORM LOCAL_TAG [BUILD ARGS...]: one platform, --load.
build_platform() {
  local ctx=$1 platform=$2 tag=$3 arch
  shift 3
  local log
  log="$LOG_DIR/build-$(sanitize "$tag").log"
  : >"$log"
  logged "$log" "docker buildx build $tag ($platform)" \
    docker buildx build "${BUILD_FLAGS[@]}" --platform "$platform" --load -t "$tag" "$@" "$ctx"
  arch=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$tag")
  [[ $arch == "$platform" ]] ||
    fail "built $tag for $platform but the image says $arch" "$log"
}

# push_multiarch REF CONTEXT [BUILD ARGS...]: build each of MULTI_PLATFORMS from
# CONTEXT (CONTEXT/rootfs-<arch>.tar becomes rootfs.tar), push each to a staging
# repository, merge them into one index REF, and check the index.
push_multiarch() {
  local ref=$1 ctx=$2 platform arch stage srcs=() got want
  shift 2
  local log
  log="$LOG_DIR/push-$(sanitize "$ref").log"
  : >"$log"
  for platform in "${MULTI_PLATFORMS[@]}"; do
    arch=${platform#linux/}
    stage="$REGISTRY_ADDR/testbed-staging/${ref%:*}:${ref##*:}-$arch"
    ln -f "$ctx/rootfs-$arch.tar" "$ctx/rootfs.tar"
    build_platform "$ctx" "$platform" "$stage" "$@"
    logged "$log" "docker push $stage" tb_docker push "$stage"
    logged "$log" "docker image rm $stage" docker image rm "$stage"
    srcs+=("$stage")
  done
  rm -f "$ctx/rootfs.tar"
  logged "$log" "docker buildx imagetools create $REGISTRY_ADDR/$ref" \
    tb_docker buildx imagetools create -t "$REGISTRY_ADDR/$ref" "${srcs[@]}"
  got=$(index_platforms "$ref")
  want=$(IFS=,; echo "${MULTI_PLATFORMS[*]}")
  [[ $got == "$want" ]] || fail "$REGISTRY_ADDR/$ref holds [$got], expected exactly [$want]" "$log"
}

# --- fixture images: busybox stand-ins for ROS 2 bases -------------------------

BUSYBOX_ROOTFS_RECIPE=2
# busybox applets left out: a dpkg/rpm that cannot even --print-architecture
# misleads more than a missing command does
BUSYBOX_SKIP_APPLETS=" dpkg dpkg-deb rpm rpm2cpio "

busybox_deb() { find "$CACHE_DIR/busybox" -name "busybox-static_*_$1.deb" 2>/dev/null | sort | tail -n 1; }

ensure_busybox_debs() {
  local arch need=()
  mkdir -p "$CACHE_DIR/busybox"
  for arch in amd64 arm64; do
    [[ -n $(busybox_deb "$arch") ]] || need+=("busybox-static:$arch")
  done
  ((${#need[@]})) || return 0
  ensure_foreign_arch arm64
  apt_update_once
  say "busybox: apt-get download ${need[*]}"
  pushd "$CACHE_DIR/busybox" >/dev/null
  logged "$LOG_DIR/apt.log" "apt-get download ${need[*]}" \
    apt-get -q -o APT::Sandbox::User=root download "${need[@]}"
  popd >/dev/null
}

# busybox_rootfs ARCH: print the path of a cached rootfs tar, making it if needed.
busybox_rootfs() {
  local arch=$1 deb host_deb key out tmp p
  deb=$(busybox_deb "$arch")
  key=$(printf '%s\n' "$BUSYBOX_ROOTFS_RECIPE" "$BUSYBOX_SKIP_APPLETS" "$(basename "$deb")" \
    "$(cat "$ASSETS/images/ros-busybox/bash" "$ASSETS/images/ros-busybox/printenv")" | sha256_of)
  out="$CACHE_DIR/busybox/rootfs-$arch-${key:0:12}.tar"
  if [[ ! -s $out ]]; then
    tmp=$(mktemp -d "$BUILD_DIR/busybox-rootfs.XXXXXX")
    dpkg-deb -x "$deb" "$tmp/deb"
    host_deb=$(busybox_deb "$(dpkg --print-architecture)")
    dpkg-deb -x "$host_deb" "$tmp/host"
    local r="$tmp/root"
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/sbin,etc,root,home,opt,tmp,var/tmp,run,proc,sys,dev}
    install -m 755 "$tmp/deb/bin/busybox" "$r/bin/busybox"
    # applet links, listed by the host-runnable busybox of the same version
    while read -r p; do
      [[ $BUSYBOX_SKIP_APPLETS == *" ${p##*/} "* ]] && continue
      [[ -e $r/$p || -L $r/$p ]] || ln -s /bin/busybox "$r/$p"
    done < <("$tmp/host/bin/busybox" --list-full)
    # shell-script stand-ins for what Debian's busybox lacks
    install -m 755 "$ASSETS/images/ros-busybox/bash" "$r/bin/bash"
    install -m 755 "$ASSETS/images/ros-busybox/printenv" "$r/usr/bin/printenv"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
    printf 'NAME="BusyBox"\nID=busybox\nPRETTY_NAME="BusyBox (ros-multiarch-action test fixture)"\n' >"$r/etc/os-release"
    chmod 1777 "$r/tmp" "$r/var/tmp"
    chmod 700 "$r/root"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$r" -cf "$out.part" .
    mv "$out.part" "$out"
    rm -rf "$tmp"
  fi
  echo "$out"
}

python_for() {
  case $1 in
    humble) echo python3.10 ;;
    *) echo python3.12 ;;
  esac
}

# make_busybox_context DISTRO DIR: Dockerfile, rootfs-<arch>.tar and ros/ tree.
make_busybox_context() {
  local distro=$1 ctx=$2 src="$ASSETS/images/ros-busybox" arch f
  rm -rf "$ctx"
  mkdir -p "$ctx/ros/opt/ros/$distro"/{bin,lib,share}
  cp "$src/Dockerfile" "$ctx/Dockerfile"
  for arch in amd64 arm64; do
    ln -f "${BUSYBOX_ROOTFS[$arch]}" "$ctx/rootfs-$arch.tar"
  done
  for f in setup.sh setup.bash; do
    sed -e "s/@ROS_DISTRO@/$distro/g" -e "s/@PYTHON@/$(python_for "$distro")/g" \
      "$src/$f.in" >"$ctx/ros/opt/ros/$distro/$f"
  done
  install -m 755 "$src/ros_entrypoint.sh" "$ctx/ros/ros_entrypoint.sh"
}

# context_key DIR EXTRA...: a hash of everything that goes into an image.
context_key() {
  local ctx=$1
  shift
  {
    printf '%s\n' "$FIXTURE_RECIPE" "$@"
    # rootfs tars are keyed by their cache file names, passed in EXTRA
    (cd "$ctx" && find . -type f ! -name '*.tar' | LC_ALL=C sort |
      while read -r f; do echo "$f $(stat -c %a "$f") $(sha256sum <"$f" | cut -c1-64)"; done)
  } | sha256_of
}

declare -A BUSYBOX_ROOTFS=()
ensure_busybox_bases() {
  local arch distro ref ctx key
  ensure_busybox_debs
  for arch in amd64 arm64; do
    BUSYBOX_ROOTFS[$arch]=$(busybox_rootfs "$arch")
  done
  for distro in "${ROS2_DISTROS[@]}"; do
    ref="ros:$distro-ros-base"
    ctx="$BUILD_DIR/$(sanitize "$ref")"
    make_busybox_context "$distro" "$ctx"
    key=$(context_key "$ctx" "${MULTI_PLATFORMS[*]}" "$distro" "${BUSYBOX_ROOTFS[@]##*/}")
    if image_current "$ref" "$key"; then
      say "image $REGISTRY_ADDR/$ref: up to date"
      continue
    fi
    say "image $REGISTRY_ADDR/$ref: building (${MULTI_PLATFORMS[*]})"
    push_multiarch "$ref" "$ctx" --build-arg "ROS_DISTRO=$distro"
    record_image "$ref" "$key"
  done
  ensure_amd64_only_base
}

# A single-platform (amd64 only) image, like osrf/ros:<distro>-desktop.
ensure_amd64_only_base() {
  local ref=$AMD64_ONLY_IMAGE distro=humble ctx key got
  local log
  log="$LOG_DIR/push-$(sanitize "$ref").log"
  ctx="$BUILD_DIR/$(sanitize "$ref")"
  make_busybox_context "$distro" "$ctx"
  rm -f "$ctx/rootfs-arm64.tar"
  key=$(context_key "$ctx" linux/amd64 "$distro" desktop "${BUSYBOX_ROOTFS[amd64]##*/}")
  if image_current "$ref" "$key"; then
    say "image $REGISTRY_ADDR/$ref: up to date"
    return 0
  fi
  say "image $REGISTRY_ADDR/$ref: building (linux/amd64 only, single manifest)"
  : >"$log"
  ln -f "$ctx/rootfs-amd64.tar" "$ctx/rootfs.tar"
  build_platform "$ctx" linux/amd64 "$REGISTRY_ADDR/$ref" --build-arg "ROS_DISTRO=$distro" --build-arg ROS_VARIANT=desktop
  rm -f "$ctx/rootfs.tar"
  logged "$log" "docker push $REGISTRY_ADDR/$ref" tb_docker push "$REGISTRY_ADDR/$ref"
  logged "$log" "docker image rm $REGISTRY_ADDR/$ref" docker image rm "$REGISTRY_ADDR/$ref"
  got=$(index_platforms "$ref")
  [[ $got == single ]] || fail "$REGISTRY_ADDR/$ref should be a single-platform manifest, holds [$got]" "$log"
  record_image "$ref" "$key"
}

# --- fixture images: a real ROS 1 base from Debian's packages -----------------

debian_mirror() {
  local uri=""
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  elif [[ -r /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

NOETIC_MMDEBSTRAP_OPTS=(
  --variant=apt
  --aptopt='APT::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --skip=output/dev
  --format=tar
)

noetic_rootfs_path() {
  local key
  key=$(printf '%s\n' "$FIXTURE_RECIPE" "$1" "$NOETIC_SUITE" "$(debian_mirror)" "${NOETIC_PACKAGES[*]}" \
    "${NOETIC_MMDEBSTRAP_OPTS[*]}" | sha256_of)
  echo "$CACHE_DIR/noetic/rootfs-$1-${key:0:12}.tar"
}

# make_noetic_rootfs ARCH OUT: mmdebstrap (arm64 runs its maintainer scripts under QEMU).
make_noetic_rootfs() {
  local arch=$1 out=$2 log="$LOG_DIR/mmdebstrap-$1.log" includes
  includes=$(IFS=,; echo "${NOETIC_PACKAGES[*]}")
  : >"$log"
  logged "$log" "mmdebstrap $arch ROS 1 rootfs" \
    mmdebstrap "${NOETIC_MMDEBSTRAP_OPTS[@]}" --architectures="$arch" --include="$includes" \
    "$NOETIC_SUITE" "$out.part.tar" "$(debian_mirror)"
  mv "$out.part.tar" "$out"
}

ensure_noetic_rootfs() {
  local arch out pids=() archs=() i rc=0 start=$SECONDS
  mkdir -p "$CACHE_DIR/noetic"
  for arch in amd64 arm64; do
    out=$(noetic_rootfs_path "$arch")
    [[ -s $out ]] && continue
    say "noetic: mmdebstrap $arch rootfs (cached afterwards; arm64 takes minutes under QEMU)"
    rm -f "$out.part.tar"
    # both architectures at once: one is mostly downloads, the other emulated CPU
    (make_noetic_rootfs "$arch" "$out") &
    pids+=($!)
    archs+=("$arch")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || rc=1
  done
  ((rc == 0)) || fail "could not build the ROS 1 rootfs for ${archs[*]} (logs: $LOG_DIR/mmdebstrap-*.log)"
  ((${#pids[@]} == 0)) || say "noetic: rootfs for ${archs[*]} built in $((SECONDS - start)) s"
}

ensure_noetic_base() {
  local ref=$NOETIC_IMAGE ctx src="$ASSETS/images/ros-noetic" arch key
  ensure_noetic_rootfs
  ctx="$BUILD_DIR/$(sanitize "$ref")"
  rm -rf "$ctx"
  mkdir -p "$ctx/ros/opt/ros/noetic"
  cp "$src/Dockerfile" "$ctx/Dockerfile"
  cp "$src/setup.sh" "$src/setup.bash" "$ctx/ros/opt/ros/noetic/"
  install -m 755 "$src/ros_entrypoint.sh" "$ctx/ros/ros_entrypoint.sh"
  local tars=()
  for arch in amd64 arm64; do
    tars+=("$(noetic_rootfs_path "$arch")")
    ln -f "${tars[-1]}" "$ctx/rootfs-$arch.tar"
  done
  key=$(context_key "$ctx" "${MULTI_PLATFORMS[*]}" noetic "${tars[@]##*/}")
  if image_current "$ref" "$key"; then
    say "image $REGISTRY_ADDR/$ref: up to date"
    return 0
  fi
  say "image $REGISTRY_ADDR/$ref: building (${MULTI_PLATFORMS[*]})"
  push_multiarch "$ref" "$ctx"
  record_image "$ref" "$key"
}

# --- commands ---------------------------------------------------------------------

cmd_up() {
  local start=$SECONDS with_ros1=1
  [[ ${1:-} == --no-ros1 ]] && with_ros1=0
  [[ $(id -u) == 0 ]] || fail "scripts/testbed.sh up must run as root"
  init_dirs
  lock_testbed
  # the test bed's own docker login and buildx state, apart from ~/.docker
  export DOCKER_CONFIG=$TESTBED_DOCKER_CONFIG
  say "up: state in $TESTBED_DIR"
  timed packages ensure_packages
  timed qemu ensure_binfmt
  timed dockerd ensure_dockerd
  timed buildx ensure_buildx
  ensure_buildx_arm64
  timed registry ensure_registry
  init_build_flags
  timed "ROS 2 stand-in bases" ensure_busybox_bases
  if ((with_ros1)); then
    timed "ROS 1 base" ensure_noetic_base
  else
    say "ROS 1 base: skipped (--no-ros1)"
  fi
  rm -rf "$BUILD_DIR"
  say "up: ready in $((SECONDS - start)) s (registry $REGISTRY_ADDR, user $TESTBED_USERNAME; see: scripts/testbed.sh env)"
}

cmd_down() {
  init_dirs
  lock_testbed
  stop_pid "$RUN_DIR/registry.pid" docker-registry
  stop_pid "$RUN_DIR/dockerd.pid" dockerd
  rm -f "$RUN_DIR/dockerd.spawn.pid"
  say "down: stopped; caches, registry data and credentials kept in $TESTBED_DIR"
}

# status: one line per component; exit 1 if anything is missing.
cmd_status() {
  local bad=0 p v f ref digest pid
  line() { printf '%-44s %s\n' "$1" "$2"; }
  for p in "${APT_PACKAGES[@]}"; do
    if pkg_installed "$p"; then
      line "package $p" "installed ($(dpkg-query -W -f='${Version}' "$p"))"
    else
      line "package $p" "missing"; bad=1
    fi
  done
  f=$BINFMT_DIR/qemu-aarch64
  if binfmt_ok; then
    line "qemu binfmt qemu-aarch64" "enabled ($(grep '^flags:' "$f"))"
  else
    line "qemu binfmt qemu-aarch64" "missing"; bad=1
  fi
  load_docker_api_version
  if docker_ping; then
    if pid=$(pid_of "$RUN_DIR/dockerd.pid" dockerd); then v="pid $pid, started by the test bed"; else v="not started by the test bed"; fi
    line "dockerd" "running ($(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}, client {{.Client.Version}}' 2>&1 | head -n 1); $v)"
  else
    line "dockerd" "missing (not running)"; bad=1
  fi
  if v=$(docker buildx version 2>/dev/null); then
    line "buildx" "installed ($v)"
  else
    line "buildx" "missing"; bad=1
  fi
  if load_credentials 2>/dev/null; then
    line "credentials" "present ($CREDENTIALS_FILE, user $TESTBED_USERNAME)"
  else
    line "credentials" "missing"; bad=1
  fi
  if [[ $(registry_code) == 401 ]]; then
    if pid=$(pid_of "$RUN_DIR/registry.pid" docker-registry); then v="pid $pid"; else v="not started by the test bed"; fi
    line "registry" "running (http://$REGISTRY_ADDR, auth required, $v)"
    for ref in $(fixture_refs); do
      digest=""
      [[ -n ${TESTBED_PASSWORD:-} ]] && digest=$(registry_digest "${ref%:*}" "${ref##*:}")
      if [[ -n $digest ]]; then
        line "image $REGISTRY_ADDR/$ref" "present ($digest)"
      else
        line "image $REGISTRY_ADDR/$ref" "missing"; bad=1
      fi
    done
  else
    line "registry" "missing (not answering on $REGISTRY_ADDR)"; bad=1
  fi
  return "$bad"
}

# fixture_refs: every fixture image (repository:tag, without the registry).
fixture_refs() {
  local d
  for d in "${ROS2_DISTROS[@]}"; do echo "ros:$d-ros-base"; done
  echo "$AMD64_ONLY_IMAGE"
  echo "$NOETIC_IMAGE"
}

cmd_env() {
  load_credentials || fail "no credentials in $CREDENTIALS_FILE: run scripts/testbed.sh up first"
  local bases=() d
  for d in "${ROS2_DISTROS[@]}"; do bases+=("$REGISTRY_ADDR/ros:$d-ros-base"); done
  printf 'export TESTBED_DIR=%q\n' "$TESTBED_DIR"
  printf 'export TESTBED_REGISTRY=%q\n' "$REGISTRY_ADDR"
  printf 'export TESTBED_USERNAME=%q\n' "$TESTBED_USERNAME"
  printf 'export TESTBED_PASSWORD=%q\n' "$TESTBED_PASSWORD"
  printf 'export TESTBED_ROS2_DISTROS=%q\n' "${ROS2_DISTROS[*]}"
  printf 'export TESTBED_ROS2_BASES=%q\n' "${bases[*]}"
  printf 'export TESTBED_AMD64_ONLY_BASE=%q\n' "$REGISTRY_ADDR/$AMD64_ONLY_IMAGE"
  printf 'export TESTBED_ROS1_BASE=%q\n' "$REGISTRY_ADDR/$NOETIC_IMAGE"
  if [[ -s $STATE_DIR/docker-api-version ]]; then
    printf 'export DOCKER_API_VERSION=%q\n' "$(<"$STATE_DIR/docker-api-version")"
  fi
}

# selftest: the by-hand proofs, scripted (login, index, emulation, ROS 1 pub/sub).
cmd_selftest() {
  load_credentials || fail "run scripts/testbed.sh up first"
  load_docker_api_version
  local cfg t platform ros1
  cfg=$(mktemp -d)
  echo "== docker login (fresh DOCKER_CONFIG)"
  DOCKER_CONFIG=$cfg docker login "$REGISTRY_ADDR" -u "$TESTBED_USERNAME" --password-stdin <<<"$TESTBED_PASSWORD"
  echo "== imagetools inspect --raw $REGISTRY_ADDR/ros:humble-ros-base"
  DOCKER_CONFIG=$cfg docker buildx imagetools inspect --raw "$REGISTRY_ADDR/ros:humble-ros-base"
  echo
  for platform in "${MULTI_PLATFORMS[@]}"; do
    echo "== $platform: docker run ros:humble-ros-base uname -m"
    DOCKER_CONFIG=$cfg docker run --rm --pull always --network none --platform "$platform" \
      "$REGISTRY_ADDR/ros:humble-ros-base" sh -c 'echo "$(uname -m) ROS_DISTRO=$ROS_DISTRO ROS_VERSION=$ROS_VERSION"'
    docker image rm "$REGISTRY_ADDR/ros:humble-ros-base" >/dev/null
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

# registry_api METHOD PATH [curl args...]: an authenticated call to the test registry.
registry_api() {
  local method=$1 path=$2
  shift 2
  curl -sS --max-time 30 -K - -X "$method" "$@" "http://$REGISTRY_ADDR/v2/$path" \
    <<<"user = \"$TESTBED_USERNAME:$TESTBED_PASSWORD\""
}

# delete REPO[:TAG]...: remove a tag's manifest (its digest, so every tag on that
# digest goes), or with no TAG every tag of REPO plus the per-platform manifests
# its indexes list. Blobs stay until a registry garbage-collect; that is fine here.
cmd_delete() {
  load_credentials || fail "run scripts/testbed.sh up first"
  (($#)) || fail "usage: scripts/testbed.sh delete REPO[:TAG]..."
  local arg repo tags t digest child code
  for arg in "$@"; do
    repo=${arg%%:*}
    if [[ $arg == *:* ]]; then
      tags=("${arg#*:}")
    else
      mapfile -t tags < <(registry_api GET "$repo/tags/list" | python3 -c '
import json, sys
try:
    print("\n".join(json.load(sys.stdin).get("tags") or []))
except ValueError:
    pass')
    fi
    for t in "${tags[@]}"; do
      digest=$(registry_digest "$repo" "$t")
      [[ -n $digest ]] || continue
      if [[ $arg != *:* ]]; then
        for child in $(registry_api GET "$repo/manifests/$digest" -H "Accept: $MANIFEST_ACCEPT" | python3 -c '
import json, sys
print("\n".join(d["digest"] for d in json.load(sys.stdin).get("manifests", [])))'); do
          registry_api DELETE "$repo/manifests/$child" -o /dev/null || true
        done
      fi
      code=$(registry_api DELETE "$repo/manifests/$digest" -o /dev/null -w '%{http_code}')
      [[ $code == 202 || $code == 404 ]] || fail "DELETE $repo/manifests/$digest answered HTTP $code"
      echo "deleted $REGISTRY_ADDR/$repo:$t ($digest)"
    done
  done
}

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status || exit 1 ;;
    env) cmd_env ;;
    selftest) cmd_selftest ;;
    delete) shift; cmd_delete "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
