# shellcheck shell=bash
# Test bed: QEMU user emulation and the three Docker engines.
#   classic     Debian 12's docker.io 20.10, classic image store, /var/run/docker.sock, with a
#               data root of its own (not /var/lib/docker), and buildx 0.13 (Debian 13's
#               docker-buildx) as the system CLI plugin.
#   containerd  Debian sid's docker.io 28.5 with the containerd image store, on a containerd
#   classic28   2.1 of its own, with its own socket, data root and exec root; classic28 is the
#               same engine with the containerd snapshotter off (the classic image store, as
#               Docker 25 to 28 have it by default). Both use buildx 0.29 (sid's docker-buildx)
#               from a CLI plugin folder of the test bed's. Nothing of sid is installed
#               system-wide: the packages are unpacked once into the test bed's folder, for both.
# All run with --bridge=none and no iptables: builds and containers use host or none networks.
# A fourth, the sbom engine (sbom.sh), is not one of ENGINES: sid's Docker 28.5 with the containerd
# image store, started by the same functions inside a network namespace of its own, with a bridge.

# engines that run sid's unpacked packages; each has a folder of its own in $TESTBED_DIR/engines
# and $TESTBED_RUN (sockets, containerd's state, exec root)
SID_ENGINES=(containerd classic28)
ENGINES=(classic "${SID_ENGINES[@]}")
BINFMT_DIR=/proc/sys/fs/binfmt_misc
CLASSIC_SOCK=/var/run/docker.sock
CLASSIC_DATA="$TESTBED_DIR/engines/classic/data"
SID_DIR="$TESTBED_DIR/engines/sid"
SID_PLUGINS="$SID_DIR/cli-plugins"
SID_DEBS=(docker.io containerd docker-buildx tini-static)

# engine_store_of ENGINE: the image store the engine is started with.
engine_store_of() {
  case $1 in
    classic | classic28) echo classic ;;
    containerd | sbom) echo containerd ;;
    *) fail "no engine named $1 (engines: ${ENGINES[*]})" ;;
  esac
}

# engine_host ENGINE: the DOCKER_HOST of an engine.
engine_host() {
  case $1 in
    classic) echo "unix://$CLASSIC_SOCK" ;;
    containerd | classic28 | sbom) echo "unix://$TESTBED_RUN/$1/docker.sock" ;;
    *) fail "no engine named $1 (engines: ${ENGINES[*]})" ;;
  esac
}

# engine_plugins ENGINE: the engine's own CLI plugin folder ('' for the system's).
engine_plugins() {
  case $1 in
    classic) echo "" ;;
    containerd | classic28 | sbom) echo "$SID_PLUGINS" ;;
    *) fail "no engine named $1 (engines: ${ENGINES[*]})" ;;
  esac
}

# write_docker_config ENGINE DIR: a docker client config folder DIR whose cli-plugins/ finds
# the engine's buildx, through a link (an install by the action replaces the link, never writes
# through it). Not cliPluginsExtraDirs: the Docker 28 CLI searches those before DIR/cli-plugins.
write_docker_config() {
  local plugins
  plugins=$(engine_plugins "$1")
  mkdir -p "$2/cli-plugins"
  if [[ -n $plugins ]]; then
    # a link left dangling (the engine's folder was removed) is replaced too
    ln -sfn "$plugins/docker-buildx" "$2/cli-plugins/docker-buildx"
  fi
}

# on_engine ENGINE CMD...: run CMD with the engine's DOCKER_HOST and its buildx.
on_engine() {
  local engine=$1 cfg="$TESTBED_DIR/docker-config-$1" host api
  shift
  host=$(engine_host "$engine") || exit 1
  api=$(engine_api "$engine")
  write_docker_config "$engine" "$cfg"
  if [[ -n $api ]]; then
    DOCKER_HOST=$host DOCKER_CONFIG=$cfg DOCKER_API_VERSION=$api "$@"
  else
    DOCKER_HOST=$host DOCKER_CONFIG=$cfg "$@"
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

# --- engine probes ---------------------------------------------------------------

# docker_ping SOCKET: the engine on SOCKET answers.
docker_ping() {
  [[ -S $1 ]] &&
    [[ $(curl -fsS --max-time 5 --unix-socket "$1" http://localhost/_ping 2>/dev/null) == OK ]]
}

# engine_store ENGINE: "containerd" or "classic", as the engine reports its image store.
engine_store() {
  if DOCKER_HOST=$(engine_host "$1") docker info --format '{{json .DriverStatus}}' 2>/dev/null |
    grep -q io.containerd.snapshotter; then
    echo containerd
  else
    echo classic
  fi
}

# engine_check ENGINE: buildx runs on it, lists linux/arm64, and the image store is the expected one.
engine_check() {
  local engine=$1 out store expected
  out=$(on_engine "$engine" docker buildx ls 2>&1) || fail "$engine engine: docker buildx ls failed: $out"
  grep -q 'linux/arm64' <<<"$out" ||
    fail "$engine engine: the default buildx builder does not list linux/arm64 (binfmt was set up after the engine started? run: scripts/testbed.sh down && scripts/testbed.sh up)"
  store=$(engine_store "$engine")
  expected=$(engine_store_of "$engine")
  [[ $store == "$expected" ]] || fail "$engine engine: docker info reports the $store image store, not the $expected one"
  say "$engine engine: $(on_engine "$engine" docker version --format 'Docker {{.Server.Version}} (API {{.Server.APIVersion}})'), $store image store, $(on_engine "$engine" docker buildx version | awk '{ print "buildx " $2 }'), builder lists linux/arm64"
}

# --- engines that were not stopped ------------------------------------------------

# An engine the test bed started and `down` did not stop (killed, or the machine stopped under
# it) may have lost writes that its metadata already counts on: a build cache entry or a layer
# whose files never reached the disk. It happened once: the classic dockerd's last log line was
# a push a minute before the machine stopped, and in the next run every build on a base rebuilt
# in that minute failed ("failed to prepare ...: open .../committed: no such file or
# directory"), a `docker builder prune -af` notwithstanding. What an engine's data root holds is
# a cache of what the registry holds, so such an engine starts empty instead.

# not_stopped PIDFILE NAME: the pid file is there and its daemon is not.
not_stopped() { [[ -e $1 ]] && ! pid_of "$1" "$2" >/dev/null; }

# reset_engine_data WHAT DIR...: unmount what a dead daemon left mounted at or under each DIR
# (dockerd bind-mounts its data root onto itself), then remove it.
reset_engine_data() {
  local what=$1 dir mnt
  shift
  say "$what: was not stopped by 'scripts/testbed.sh down' (killed, or the machine stopped under it); its data may miss writes, so it starts empty (removing $*)"
  for dir; do
    findmnt -rn -o TARGET | awk -v d="$dir" '$0 == d || index($0, d "/") == 1' | sort -r |
      while read -r mnt; do umount -l "$mnt" || true; done
    rm -rf --one-file-system "$dir"
  done
}

# reset_if_not_stopped ENGINE: when the engine's daemons are gone but their pid files are not,
# start it empty (and drop the pid files, which would block a start).
reset_if_not_stopped() {
  case $1 in
    classic)
      if not_stopped "$RUN_DIR/dockerd.pid" dockerd; then
        reset_engine_data "classic engine" "$CLASSIC_DATA"
        rm -f "$RUN_DIR/dockerd.pid" "$RUN_DIR/dockerd.spawn.pid"
      fi
      ;;
    containerd | classic28)
      local d=$RUN_DIR/$1-engine-dockerd.pid c=$RUN_DIR/$1-engine-containerd.pid
      # both daemons gone (never wipe what a live containerd holds), a pid file left
      if { [[ -e $d ]] || [[ -e $c ]]; } &&
        ! pid_of "$d" dockerd >/dev/null && ! pid_of "$c" containerd >/dev/null; then
        reset_engine_data "$1 engine" "$TESTBED_DIR/engines/$1/data" \
          "$TESTBED_DIR/engines/$1/containerd/root" "$TESTBED_RUN/$1/containerd-state"
        rm -f "$d" "$c"
      fi
      ;;
    sbom) sbom_reset_if_not_stopped ;;
  esac
}

# --- the classic engine: Debian 12's docker.io 20.10 ------------------------------

docker_server_api() {
  curl -fsS --max-time 5 --unix-socket "$CLASSIC_SOCK" http://localhost/version |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiVersion"])'
}

start_classic_dockerd() {
  local log="$LOG_DIR/dockerd.log" pidfile="$RUN_DIR/dockerd.pid"
  local args=(--bridge=none --iptables=false --pidfile "$pidfile" --data-root "$CLASSIC_DATA")
  if dockerd --help 2>&1 | grep -q -- '--ip6tables'; then
    args+=(--ip6tables=false)
  fi
  reset_if_not_stopped classic
  mkdir -p "$CLASSIC_DATA"
  say "classic engine: starting dockerd (${args[*]})"
  CURRENT_LOG=$log
  spawn_detached "$log" "$RUN_DIR/dockerd.spawn.pid" dockerd "${args[@]}"
  wait_for "dockerd (classic)" "$DOCKERD_TIMEOUT" "$RUN_DIR/dockerd.spawn.pid" "$log" docker_ping "$CLASSIC_SOCK"
}

# The Docker 28 client at /usr/local/bin/docker negotiates the API version down
# to what the 20.10 daemon speaks; if it ever fails to, pin DOCKER_API_VERSION.
ensure_docker_client() {
  local api
  if DOCKER_HOST=unix://$CLASSIC_SOCK docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    rm -f "$STATE_DIR/docker-api-version"
  else
    api=$(docker_server_api)
    DOCKER_HOST=unix://$CLASSIC_SOCK DOCKER_API_VERSION=$api docker version >/dev/null 2>&1 ||
      fail "the docker client ($(command -v docker)) cannot talk to the daemon, even with DOCKER_API_VERSION=$api"
    echo "$api" >"$STATE_DIR/docker-api-version"
  fi
}

# engine_api ENGINE: the API version a client must pin for the engine ('' to negotiate). Only the
# classic engine ever needs one, so it is never exported for both.
engine_api() {
  if [[ $1 == classic && -s $STATE_DIR/docker-api-version ]]; then
    cat "$STATE_DIR/docker-api-version"
  fi
}

ensure_classic_engine() {
  if docker_ping "$CLASSIC_SOCK"; then
    say "classic engine: already answering on $CLASSIC_SOCK, reusing it"
  else
    start_classic_dockerd
  fi
  ensure_docker_client
}

buildx_ok() { DOCKER_HOST=unix://$CLASSIC_SOCK docker buildx version >/dev/null 2>&1; }

# buildx 0.13 for the classic engine: Debian 13's docker-buildx, unpacked into / (the system
# CLI plugin folder), as the test bed has always had it.
ensure_classic_buildx() {
  local deb
  if buildx_ok; then
    say "classic engine: $(docker buildx version)"
    return 0
  fi
  deb=$(suite_debs trixie docker-buildx)
  logged "$LOG_DIR/buildx.log" "dpkg -x $deb /" dpkg -x "$deb" /
  buildx_ok || fail "docker buildx does not run after extracting $deb" "$LOG_DIR/buildx.log"
  say "classic engine: installed $(docker buildx version)"
}

# --- the engines of sid's docker.io 28.5: containerd (containerd image store), classic28 ----

# containerd_ping ENGINE: the engine's own containerd answers.
containerd_ping() {
  local sock="$TESTBED_RUN/$1/containerd.sock"
  [[ -S $sock ]] && "$SID_DIR/pkg/containerd/usr/bin/ctr" --address "$sock" version >/dev/null 2>&1
}

unpack_sid_packages() {
  local debs deb name
  mapfile -t debs < <(suite_debs sid "${SID_DEBS[@]}")
  for deb in "${debs[@]}"; do
    name=${deb##*/}
    unpack_deb "$deb" "$SID_DIR/pkg/${name%%_*}"
  done
  # sid's dynamic tini and runc need a newer glibc than Debian 12's: the static tini is the
  # engines' docker-init, and the machine's runc (Debian 12's, from docker.io) runs containers.
  mkdir -p "$SID_DIR/bin" "$SID_PLUGINS"
  ln -sfn "$SID_DIR/pkg/tini-static/usr/bin/tini-static" "$SID_DIR/bin/docker-init"
  ln -sfn "$SID_DIR/pkg/docker-buildx/usr/libexec/docker/cli-plugins/docker-buildx" "$SID_PLUGINS/docker-buildx"
  command -v runc >/dev/null || fail "runc is not on PATH (it comes with Debian 12's docker.io)"
}

# write_engine_config ENGINE: its containerd's config and its dockerd's daemon.json.
write_engine_config() {
  local dir="$TESTBED_DIR/engines/$1" run="$TESTBED_RUN/$1" snapshotter=false
  [[ $(engine_store_of "$1") == containerd ]] && snapshotter=true
  mkdir -p "$dir/containerd" "$run"
  cat >"$dir/containerd.toml" <<CONF
# containerd 2.1 of the test bed's $1 engine, generated by scripts/testbed.sh
version = 3
root = "$dir/containerd/root"
state = "$run/containerd-state"
# no Kubernetes here; NRI would take the host's /var/run/nri
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime", "io.containerd.nri.v1.nri"]
[grpc]
  address = "$run/containerd.sock"
[ttrpc]
  address = "$run/containerd.sock.ttrpc"
[debug]
  address = "$run/containerd-debug.sock"
CONF
  printf '{"features": {"containerd-snapshotter": %s}}\n' "$snapshotter" >"$dir/daemon.json"
}

# engine_netns ENGINE: the command prefix that starts a daemon of the engine in its network
# namespace (the sbom engine's; the others run in the machine's).
engine_netns() {
  if [[ $1 == sbom ]]; then printf '%s\0' nsenter "--net=$SBOM_NETNS_PATH" --; fi
}

# start_containerd ENGINE
start_containerd() {
  local log="$LOG_DIR/$1-engine-containerd.log" pidfile="$RUN_DIR/$1-engine-containerd.pid" netns
  mapfile -d '' -t netns < <(engine_netns "$1")
  say "$1 engine: starting containerd $(cut -d_ -f2 <"$SID_DIR/pkg/containerd/.from")"
  CURRENT_LOG=$log
  PATH="$SID_DIR/pkg/containerd/usr/bin:$PATH" spawn_detached "$log" "$pidfile" "${netns[@]}" \
    "$SID_DIR/pkg/containerd/usr/bin/containerd" --config "$TESTBED_DIR/engines/$1/containerd.toml"
  wait_for "containerd ($1 engine)" "$DOCKERD_TIMEOUT" "$pidfile" "$log" containerd_ping "$1"
}

# start_sid_dockerd ENGINE
start_sid_dockerd() {
  local log="$LOG_DIR/$1-engine-dockerd.log" pidfile="$RUN_DIR/$1-engine-dockerd.pid"
  local dir="$TESTBED_DIR/engines/$1" run="$TESTBED_RUN/$1" netns network
  mkdir -p "$dir/data" "$run/exec"
  mapfile -d '' -t netns < <(engine_netns "$1")
  # no bridge, but in the sbom engine's namespace: a bridge on a documentation range (sbom.sh)
  network=(--bridge=none)
  [[ $1 == sbom ]] && network=(--bip "$SBOM_BIP" --default-address-pool "base=$SBOM_POOL,size=26")
  say "$1 engine: starting dockerd $(cut -d_ -f2 <"$SID_DIR/pkg/docker.io/.from") ($(engine_store_of "$1") image store${netns[*]:+, in namespace $SBOM_NETNS, bridge $SBOM_BIP}) on $run/docker.sock"
  # shellcheck disable=SC2034 # read by the ERR trap
  CURRENT_LOG=$log
  PATH="$SID_DIR/bin:$SID_DIR/pkg/containerd/usr/bin:$PATH" spawn_detached "$log" "$pidfile" "${netns[@]}" \
    "$SID_DIR/pkg/docker.io/usr/sbin/dockerd" \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/data" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
    --containerd "$run/containerd.sock" -H "unix://$run/docker.sock" \
    --init-path "$SID_DIR/bin/docker-init" --cgroup-parent "rma-testbed-$1" \
    "${network[@]}" --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false
  wait_for "dockerd ($1 engine)" "$DOCKERD_TIMEOUT" "$pidfile" "$log" docker_ping "$run/docker.sock"
}

# ensure_sid_engine ENGINE: start the engine (and its containerd) unless it answers.
ensure_sid_engine() {
  local engine=$1
  unpack_sid_packages
  if docker_ping "$TESTBED_RUN/$engine/docker.sock"; then
    say "$engine engine: already answering on $TESTBED_RUN/$engine/docker.sock, reusing it"
    return 0
  fi
  write_engine_config "$engine"
  containerd_ping "$engine" || reset_if_not_stopped "$engine"
  if [[ $engine == containerd ]] && ! containerd_ping containerd; then
    # the packages were once unpacked into the containerd engine's folder: gone once nothing
    # runs from there
    rm -rf "$TESTBED_DIR/engines/containerd/pkg" "$TESTBED_DIR/engines/containerd/bin" \
      "$TESTBED_DIR/engines/containerd/cli-plugins"
  fi
  containerd_ping "$engine" || start_containerd "$engine"
  start_sid_dockerd "$engine"
}

stop_engines() {
  local engine
  # a daemon that died on its own leaves data no `down` flushed: start it empty next time
  for engine in "${ENGINES[@]}"; do reset_if_not_stopped "$engine"; done
  for engine in "${SID_ENGINES[@]}"; do
    stop_pid "$RUN_DIR/$engine-engine-dockerd.pid" dockerd
    stop_pid "$RUN_DIR/$engine-engine-containerd.pid" containerd
  done
  stop_pid "$RUN_DIR/dockerd.pid" dockerd
  rm -f "$RUN_DIR/dockerd.spawn.pid"
}
