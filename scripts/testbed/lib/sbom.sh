# shellcheck shell=bash
# Test bed: the sbom engine (issue 31), and the SBOM generator stand-in it runs.
#
# BuildKit runs an SBOM generator on the engine's default `bridge` network, which the other
# engines do not have (--bridge=none). This engine has one, inside a network namespace of the
# test bed's own, and nothing links that namespace to the machine:
#   namespace   $SBOM_NETNS (`ip netns add`): lo, and once dockerd runs, its docker0 bridge on
#               198.51.100.1/24 (TEST-NET-2, a documentation range, never a private one) and the
#               veths of its own containers; no veth to the host, no route out (no default route,
#               no gateway), and any other network the engine makes comes from 203.0.113.0/24
#               (TEST-NET-3). `up` checks all of it each time.
#   registry    a docker-registry started inside the namespace on its own 127.0.0.1:5000, over
#               the first registry's storage and htpasswd: an image name means the same
#               repository inside the namespace and outside (the engine pulls and pushes inside,
#               the action's registry client and cosign read and write outside). Nothing else of
#               the test bed (token registry, mirror registry) is reachable from inside.
#   engine      Docker 28.5 of sid's unpacked packages with the containerd image store, started
#               like the containerd engine (a containerd, data root, exec root, pid files and
#               cgroup parent of its own) but inside the namespace (nsenter --net, not
#               `ip netns exec`, which would also make a mount namespace of its own: the engine's
#               mounts stay visible to the reset after an unclean stop), with --bip instead of
#               --bridge=none; still no iptables, no IP forwarding, no masquerading. Its socket
#               is a file, so tests drive it from outside.
#   generator   $SBOM_GENERATOR_IMAGE: a stand-in for BuildKit's default generator
#               (docker/buildkit-syft-scanner), from images/sbom-standin/.
# The engine is not one of ENGINES (the engines the whole e2e suite runs on): the supply-chain
# e2e tests for SBOMs use it, nothing else.

SBOM_ENGINE=sbom
SBOM_NETNS=rma-testbed-sbom
SBOM_NETNS_PATH=/run/netns/$SBOM_NETNS
SBOM_BIP=198.51.100.1/24
SBOM_SUBNET=198.51.100.0/24
# the pool of any network other than `bridge` the engine is asked to make (size /26: four)
# shellcheck disable=SC2034 # read by engines.sh
SBOM_POOL=203.0.113.0/24
SBOM_DIR="$TESTBED_DIR/engines/$SBOM_ENGINE"
SBOM_RUN="$TESTBED_RUN/$SBOM_ENGINE"
SBOM_SOCK="$SBOM_RUN/docker.sock"
SBOM_DOCKERD_PIDFILE="$RUN_DIR/$SBOM_ENGINE-engine-dockerd.pid"
SBOM_CONTAINERD_PIDFILE="$RUN_DIR/$SBOM_ENGINE-engine-containerd.pid"
SBOM_REGISTRY_PIDFILE="$RUN_DIR/$SBOM_ENGINE-registry.pid"
SBOM_REGISTRY_CONFIG="$SBOM_DIR/registry.yml"
SBOM_REGISTRY_LOG="$LOG_DIR/$SBOM_ENGINE-registry.log"
# what pid_of matches in the process's command line: this registry, not the others
SBOM_REGISTRY_PROC="docker-registry serve $SBOM_REGISTRY_CONFIG"
SBOM_GENERATOR_IMAGE=testbed/sbom-standin:1
# Bump when the way the generator image is made changes, to force a rebuild.
SBOM_GENERATOR_RECIPE=1
# busybox applets the generator's scripts use
SBOM_GENERATOR_APPLETS=(sh awk sed date uname sha256sum cut cat grep basename dirname readlink)

# in_sbom_ns CMD...: CMD in the namespace's network (only: same mounts, same everything else).
in_sbom_ns() { nsenter --net="$SBOM_NETNS_PATH" -- "$@"; }

# sbom_netns_ok: the namespace exists, i.e. its name is an nsfs mount (a plain file left there by
# a reboot, when /run is no tmpfs, or by a failed delete, is not one).
sbom_netns_ok() { [[ $(findmnt -n -o FSTYPE --mountpoint "$SBOM_NETNS_PATH" 2>/dev/null) == nsfs ]]; }

# sbom_in_netns PID: the process's network namespace is the test bed's.
sbom_in_netns() {
  [[ -e /proc/$1/ns/net ]] && sbom_netns_ok &&
    [[ $(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null) == "$(stat -L -c %i "$SBOM_NETNS_PATH" 2>/dev/null)" ]]
}

sbom_registry_code() {
  if sbom_netns_ok; then
    in_sbom_ns curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$REGISTRY_ADDR/v2/" 2>/dev/null || true
  else
    echo 000
  fi
}
sbom_registry_answers() { [[ $(sbom_registry_code) == 401 ]]; }

# --- reset after an unclean stop --------------------------------------------------------------

# sbom_reset_if_not_stopped: like the other engines (reset_if_not_stopped): when both daemons are
# gone but a pid file or the namespace is not, what they left is removed and the engine starts
# empty: the namespace's registry (it holds nothing of its own), any process left in the
# namespace (a killed containerd's shims and their containers, by pid, only ever in the test
# bed's namespace), what they left mounted (container namespaces under the exec root, the data
# root's own bind mount), the data, pid files and sockets, and the namespace itself.
sbom_reset_if_not_stopped() {
  local d=$SBOM_DOCKERD_PIDFILE c=$SBOM_CONTAINERD_PIDFILE pid i
  if { [[ -e $d || -e $c || -e $SBOM_REGISTRY_PIDFILE ]] || sbom_netns_ok; } &&
    ! pid_of "$d" dockerd >/dev/null && ! pid_of "$c" containerd >/dev/null; then
    stop_pid "$SBOM_REGISTRY_PIDFILE" "$SBOM_REGISTRY_PROC"
    if sbom_netns_ok; then
      for pid in $(ip netns pids "$SBOM_NETNS" 2>/dev/null); do
        say "$SBOM_ENGINE engine: killing pid $pid, left in namespace $SBOM_NETNS ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100))"
        kill -KILL "$pid" 2>/dev/null || true
      done
      for ((i = 0; i < 20; i++)); do
        [[ -z $(ip netns pids "$SBOM_NETNS" 2>/dev/null) ]] && break
        sleep 0.5
      done
    fi
    reset_engine_data "$SBOM_ENGINE engine" "$SBOM_DIR/data" "$SBOM_DIR/containerd/root" \
      "$SBOM_RUN/containerd-state" "$SBOM_RUN/exec"
    rm -f "$d" "$c" "$SBOM_REGISTRY_PIDFILE" "$SBOM_RUN/dockerd.pid" "$SBOM_SOCK" \
      "$SBOM_RUN/containerd.sock" "$SBOM_RUN/containerd.sock.ttrpc" "$SBOM_RUN/containerd-debug.sock"
    if sbom_netns_ok; then
      ip netns del "$SBOM_NETNS" || fail "ip netns del $SBOM_NETNS failed"
      say "$SBOM_ENGINE engine: namespace $SBOM_NETNS deleted"
    fi
  fi
  # a name in /run/netns that is no namespace
  if [[ -e $SBOM_NETNS_PATH ]] && ! sbom_netns_ok; then
    say "$SBOM_ENGINE engine: removing $SBOM_NETNS_PATH, which is no network namespace (left by a reboot or a failed delete)"
    umount "$SBOM_NETNS_PATH" 2>/dev/null || true
    rm -f "$SBOM_NETNS_PATH"
  fi
}

# --- up ---------------------------------------------------------------------------------------

ensure_sbom_netns() {
  if ! sbom_netns_ok; then
    say "$SBOM_ENGINE engine: creating network namespace $SBOM_NETNS (no link to the host)"
    ip netns add "$SBOM_NETNS" || fail "ip netns add $SBOM_NETNS failed"
  fi
  ip -n "$SBOM_NETNS" link set lo up
}

# The namespace's registry: the first registry's storage and htpasswd, its own 127.0.0.1:5000.
write_sbom_registry_config() {
  local new="$SBOM_REGISTRY_CONFIG.new"
  mkdir -p "$SBOM_DIR"
  {
    echo "# docker-registry (distribution 2.8) inside network namespace $SBOM_NETNS: the storage and"
    echo "# htpasswd of the registry on $REGISTRY_ADDR (as the token registry shares its storage),"
    echo '# generated by scripts/testbed.sh'
    first_registry_config
  } >"$new"
  if cmp -s "$new" "$SBOM_REGISTRY_CONFIG"; then rm -f "$new"; else mv "$new" "$SBOM_REGISTRY_CONFIG"; fi
}

# what the running namespace registry read at its start (distribution 2.8 reads its htpasswd once)
sbom_registry_key() { cat "$SBOM_REGISTRY_CONFIG" "$REGISTRY_DIR/htpasswd" | sha256_of; }

ensure_sbom_registry() {
  local code pid key
  write_sbom_registry_config
  key=$(sbom_registry_key)
  if pid=$(pid_of "$SBOM_REGISTRY_PIDFILE" "$SBOM_REGISTRY_PROC"); then
    if [[ $(cat "$SBOM_REGISTRY_PIDFILE.key" 2>/dev/null) != "$key" ]]; then
      say "$SBOM_ENGINE registry: configuration or users changed, restarting"
      stop_pid "$SBOM_REGISTRY_PIDFILE" "$SBOM_REGISTRY_PROC"
    elif ! sbom_in_netns "$pid"; then
      fail "the registry of pid $pid is not in namespace $SBOM_NETNS (was the namespace deleted under it?): run scripts/testbed.sh down && scripts/testbed.sh up"
    fi
  fi
  code=$(sbom_registry_code)
  if [[ $code == 000 ]] && pid=$(pid_of "$SBOM_REGISTRY_PIDFILE" "$SBOM_REGISTRY_PROC"); then
    say "$SBOM_ENGINE registry: pid $pid is alive but does not answer, restarting it"
    stop_pid "$SBOM_REGISTRY_PIDFILE" "$SBOM_REGISTRY_PROC"
  fi
  if [[ $code == 401 ]]; then
    say "$SBOM_ENGINE registry: already answering on $REGISTRY_ADDR in $SBOM_NETNS, reusing it"
    return 0
  fi
  [[ $code == 000 ]] || fail "something else answers on $REGISTRY_ADDR in namespace $SBOM_NETNS (HTTP $code to /v2/)"
  say "$SBOM_ENGINE registry: starting on $REGISTRY_ADDR in namespace $SBOM_NETNS (storage $REGISTRY_DIR/data)"
  # shellcheck disable=SC2034 # read by the ERR trap
  CURRENT_LOG=$SBOM_REGISTRY_LOG
  spawn_detached "$SBOM_REGISTRY_LOG" "$SBOM_REGISTRY_PIDFILE" \
    nsenter --net="$SBOM_NETNS_PATH" -- docker-registry serve "$SBOM_REGISTRY_CONFIG"
  echo "$key" >"$SBOM_REGISTRY_PIDFILE.key"
  wait_for "docker-registry (namespace $SBOM_NETNS)" "$REGISTRY_TIMEOUT" "$SBOM_REGISTRY_PIDFILE" \
    "$SBOM_REGISTRY_LOG" sbom_registry_answers
}

# ensure_sbom_engine: the namespace, its registry, and the engine (after an unclean stop: empty).
ensure_sbom_engine() {
  unpack_sid_packages
  containerd_ping "$SBOM_ENGINE" || sbom_reset_if_not_stopped
  ensure_sbom_netns
  ensure_sbom_registry
  if docker_ping "$SBOM_SOCK"; then
    say "$SBOM_ENGINE engine: already answering on $SBOM_SOCK, reusing it"
  else
    write_engine_config "$SBOM_ENGINE"
    containerd_ping "$SBOM_ENGINE" || start_containerd "$SBOM_ENGINE"
    start_sid_dockerd "$SBOM_ENGINE"
  fi
  sbom_engine_check
}

# sbom_links_to_host: host interfaces whose peer is in the namespace (a veth's other end; by the
# namespace's name, or by the id the host knows it by).
sbom_links_to_host() {
  local id
  id=$(ip netns list | awk -v n="$SBOM_NETNS" '$1 == n && $2 == "(id:" { sub(/\)/, "", $3); print $3 }')
  ip -o link show | awk -v n="$SBOM_NETNS" -v id="${id:-none}" '{
    for (i = 1; i < NF; i++)
      if (($i == "link-netns" && $(i + 1) == n) || ($i == "link-netnsid" && $(i + 1) == id)) { print $2; break }
  }'
}

# sbom_foreign_links: links in the namespace that are not lo, docker0, or a veth (of a container
# of the engine's: a veth to the host shows in sbom_links_to_host).
sbom_foreign_links() {
  local name
  while read -r name; do
    case $name in
      lo | docker0) ;;
      veth*) ip -n "$SBOM_NETNS" -d -o link show dev "$name" | grep -q ' veth ' || echo "$name" ;;
      *) echo "$name" ;;
    esac
  done < <(ip -n "$SBOM_NETNS" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')
}

# in_documentation_range CIDR: a subnet inside 198.51.100.0/24 or 203.0.113.0/24.
in_documentation_range() {
  [[ $1 =~ ^(198\.51\.100|203\.0\.113)\.[0-9]+/(2[4-9]|3[0-2])$ ]]
}

# sbom_engine_check: the engine as every engine (buildx, arm64, image store), then the namespace
# rules: the daemons in the namespace, the bridge on the documentation range, no link to the
# host, no route out.
sbom_engine_check() {
  local daemon pid networks subnets s links routes
  engine_check "$SBOM_ENGINE"
  for daemon in "$SBOM_DOCKERD_PIDFILE:dockerd" "$SBOM_CONTAINERD_PIDFILE:containerd" \
    "$SBOM_REGISTRY_PIDFILE:$SBOM_REGISTRY_PROC"; do
    pid=$(pid_of "${daemon%%:*}" "${daemon#*:}") ||
      fail "$SBOM_ENGINE engine: ${daemon#*:} answers but was not started by the test bed (no live pid in ${daemon%%:*}): run scripts/testbed.sh down && scripts/testbed.sh up"
    sbom_in_netns "$pid" ||
      fail "$SBOM_ENGINE engine: ${daemon#*:} (pid $pid) is not in namespace $SBOM_NETNS: run scripts/testbed.sh down && scripts/testbed.sh up"
  done
  s=$(on_engine "$SBOM_ENGINE" docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' bridge 2>&1) ||
    fail "$SBOM_ENGINE engine: it has no bridge network: $s"
  [[ $s == "$SBOM_SUBNET ${SBOM_BIP%/*}" ]] ||
    fail "$SBOM_ENGINE engine: its bridge network is '$s', not $SBOM_SUBNET with gateway ${SBOM_BIP%/*}"
  [[ $(ip -n "$SBOM_NETNS" -4 -o addr show dev docker0 2>/dev/null | awk '{ print $4 }') == "$SBOM_BIP" ]] ||
    fail "$SBOM_ENGINE engine: docker0 in $SBOM_NETNS is not $SBOM_BIP"
  # every network it has on a bridge, in a documentation range
  mapfile -t networks < <(on_engine "$SBOM_ENGINE" docker network ls -q --filter driver=bridge)
  subnets=$(on_engine "$SBOM_ENGINE" docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "${networks[@]}")
  for s in $subnets; do
    in_documentation_range "$s" || fail "$SBOM_ENGINE engine: a network on $s, outside the documentation ranges"
  done
  links=$(sbom_links_to_host)
  [[ -z $links ]] || fail "host interfaces linked to namespace $SBOM_NETNS: $(tr '\n' ' ' <<<"$links")"
  links=$(sbom_foreign_links)
  [[ -z $links ]] || fail "namespace $SBOM_NETNS has links other than lo, docker0 and container veths: $(tr '\n' ' ' <<<"$links")"
  routes=$( {
    ip -n "$SBOM_NETNS" -4 route show table all
    ip -n "$SBOM_NETNS" -6 route show table all
  } | grep -E '^default|^unreachable default| via ' || true)
  [[ -z $routes ]] || fail "namespace $SBOM_NETNS has a route out: $(tr '\n' ' ' <<<"$routes")"
  say "$SBOM_ENGINE engine: in namespace $SBOM_NETNS: docker0 $SBOM_BIP, links $(ip -n "$SBOM_NETNS" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); printf "%s ", $2 }')(none to the host), no route out, registry $REGISTRY_ADDR over the first registry's storage"
}

# --- down -------------------------------------------------------------------------------------

stop_sbom_engine() {
  local left pid
  # a daemon that died on its own leaves data no `down` flushed: start it empty next time
  sbom_reset_if_not_stopped
  stop_pid "$SBOM_DOCKERD_PIDFILE" dockerd
  stop_pid "$SBOM_CONTAINERD_PIDFILE" containerd
  stop_pid "$SBOM_REGISTRY_PIDFILE" "$SBOM_REGISTRY_PROC"
  rm -f "$SBOM_REGISTRY_PIDFILE.key"
  if sbom_netns_ok; then
    # what the engine's containerd left (shims of containers still running when it stopped)
    left=$(ip netns pids "$SBOM_NETNS" 2>/dev/null || true)
    for pid in $left; do
      say "$SBOM_ENGINE engine: killing pid $pid, left in namespace $SBOM_NETNS ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100))"
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$SBOM_NETNS" || fail "ip netns del $SBOM_NETNS failed"
    say "$SBOM_ENGINE engine: namespace $SBOM_NETNS deleted"
  fi
}

# --- the SBOM generator stand-in --------------------------------------------------------------

# sbom_generator_key: a hash of everything that goes into the generator image.
sbom_generator_key() {
  local src="$ASSETS/images/sbom-standin" arch
  {
    printf '%s\n' "$FIXTURE_RECIPE" "$SBOM_GENERATOR_RECIPE" "${MULTI_PLATFORMS[*]}" "${SBOM_GENERATOR_APPLETS[*]}"
    for arch in amd64 arm64; do basename "$(busybox_deb "$arch")"; done
    (cd "$src" && for f in Dockerfile sbom-standin spdx.awk; do echo "$f $(sha256_of <"$f")"; done)
  } | sha256_of
}

# make_sbom_generator_context DIR: the Dockerfile and rootfs-<arch>.tar (busybox-static, its
# applets the scripts use, the scripts).
make_sbom_generator_context() {
  local ctx=$1 src="$ASSETS/images/sbom-standin" arch r a
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$src/Dockerfile" "$ctx/Dockerfile"
  for arch in amd64 arm64; do
    r="$ctx/root-$arch"
    mkdir -p "$r/bin" "$r/usr/bin" "$r/usr/share/sbom-standin" "$r/tmp"
    dpkg-deb --fsys-tarfile "$(busybox_deb "$arch")" | tar -x -C "$r" ./bin/busybox ||
      fail "cannot extract busybox from $(busybox_deb "$arch")"
    for a in "${SBOM_GENERATOR_APPLETS[@]}"; do ln -s busybox "$r/bin/$a"; done
    install -m 0755 "$src/sbom-standin" "$r/usr/bin/sbom-standin"
    install -m 0644 "$src/spdx.awk" "$r/usr/share/sbom-standin/spdx.awk"
    chmod 1777 "$r/tmp"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$r" -cf "$ctx/rootfs-$arch.tar" .
    rm -rf "$r"
  done
}

# ensure_sbom_generator: the stand-in in the registry (amd64 + arm64: BuildKit runs it on the
# build's own platform), built on the classic engine like the fixture bases, unless the registry
# still holds what was pushed for its inputs; then the namespace's registry must serve the very
# same index (the same storage).
ensure_sbom_generator() {
  local ref=$SBOM_GENERATOR_IMAGE key ctx inside outside
  ensure_busybox_debs
  key=$(sbom_generator_key)
  if image_current "$ref" "$key"; then
    say "image $REGISTRY_ADDR/$ref: up to date"
  else
    say "image $REGISTRY_ADDR/$ref: building (${MULTI_PLATFORMS[*]}; the SBOM generator stand-in)"
    ctx="$BUILD_DIR/$(sanitize "$ref")"
    make_sbom_generator_context "$ctx"
    push_multiarch "$ref" "$ctx"
    record_image "$ref" "$key"
  fi
  outside=$(registry_digest "${ref%:*}" "${ref##*:}")
  inside=$(in_sbom_ns curl -sS --max-time 30 -K - -I -H "Accept: $MANIFEST_ACCEPT" \
    "http://$REGISTRY_ADDR/v2/${ref%:*}/manifests/${ref##*:}" <<<"user = \"$TESTBED_USERNAME:$TESTBED_PASSWORD\"" |
    tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }')
  [[ -n $outside && $inside == "$outside" ]] ||
    fail "the registry in namespace $SBOM_NETNS serves $ref as '${inside:-nothing}', the one outside as '$outside'"
  say "$SBOM_ENGINE registry: serves $ref as $inside, as the registry outside the namespace does"
}

# --- status and env ---------------------------------------------------------------------------

# sbom_status: lines for cmd_status's `line`; non-zero when something is missing.
sbom_status() {
  local bad=0 v pid digest links
  if sbom_netns_ok; then
    links=$(ip -n "$SBOM_NETNS" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); printf "%s ", $2 }')
    if [[ -n $(sbom_links_to_host) ]]; then
      line "netns $SBOM_NETNS" "WRONG: host interfaces linked to it ($(sbom_links_to_host | tr '\n' ' '))"
      bad=1
    else
      line "netns $SBOM_NETNS" "present (links: ${links% }; none to the host)"
    fi
  else
    line "netns $SBOM_NETNS" "missing"
    bad=1
  fi
  if sbom_registry_answers; then
    if pid=$(pid_of "$SBOM_REGISTRY_PIDFILE" "$SBOM_REGISTRY_PROC"); then v="pid $pid"; else v="not started by the test bed"; fi
    line "registry in $SBOM_NETNS" "running (http://$REGISTRY_ADDR inside the namespace, storage $REGISTRY_DIR/data, $v)"
  else
    line "registry in $SBOM_NETNS" "missing (not answering on $REGISTRY_ADDR inside the namespace)"
    bad=1
  fi
  if docker_ping "$SBOM_SOCK"; then
    v=$(on_engine "$SBOM_ENGINE" docker version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}' 2>&1 | head -n 1)
    line "engine $SBOM_ENGINE" "running ($v, $(engine_store "$SBOM_ENGINE") image store, bridge $(ip -n "$SBOM_NETNS" -4 -o addr show dev docker0 2>/dev/null | awk '{ print $4 }') in $SBOM_NETNS, $(engine_host "$SBOM_ENGINE"))"
    [[ $(engine_store "$SBOM_ENGINE") == containerd ]] || bad=1
    if v=$(on_engine "$SBOM_ENGINE" docker buildx version 2>/dev/null); then
      line "engine $SBOM_ENGINE buildx" "installed ($v)"
    else
      line "engine $SBOM_ENGINE buildx" "missing"
      bad=1
    fi
  else
    line "engine $SBOM_ENGINE" "missing (not answering on $(engine_host "$SBOM_ENGINE"))"
    bad=1
  fi
  digest=""
  [[ -n ${TESTBED_PASSWORD:-} ]] && digest=$(registry_digest "${SBOM_GENERATOR_IMAGE%:*}" "${SBOM_GENERATOR_IMAGE##*:}")
  if [[ -n $digest ]]; then
    line "image $REGISTRY_ADDR/$SBOM_GENERATOR_IMAGE" "present ($digest; SBOM generator stand-in)"
  else
    line "image $REGISTRY_ADDR/$SBOM_GENERATOR_IMAGE" "missing"
    bad=1
  fi
  return "$bad"
}

sbom_env() {
  local upper=${SBOM_ENGINE^^}
  printf 'export TESTBED_SBOM_ENGINE=%q\n' "$SBOM_ENGINE"
  printf 'export TESTBED_DOCKER_HOST_%s=%q\n' "$upper" "$(engine_host "$SBOM_ENGINE")"
  printf 'export TESTBED_CLI_PLUGINS_%s=%q\n' "$upper" "$(engine_plugins "$SBOM_ENGINE")"
  printf 'export TESTBED_STORE_%s=%q\n' "$upper" "$(engine_store_of "$SBOM_ENGINE")"
  printf 'export TESTBED_DOCKER_API_%s=%q\n' "$upper" ""
  printf 'export TESTBED_SBOM_NETNS=%q\n' "$SBOM_NETNS"
  printf 'export TESTBED_SBOM_SUBNET=%q\n' "$SBOM_SUBNET"
  printf 'export TESTBED_SBOM_GENERATOR=%q\n' "$REGISTRY_ADDR/$SBOM_GENERATOR_IMAGE"
}
