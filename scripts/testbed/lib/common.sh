# shellcheck shell=bash
# Test bed: configuration, logging, failure, daemons and bookkeeping shared by every part.
# Sourced by scripts/testbed.sh; defines functions and variables only.

TESTBED_DIR="${TESTBED_DIR:-/var/lib/ros-multiarch-testbed}"
# Sockets, pid files and the second engine's exec root: short paths (a unix socket path has at
# most 107 bytes), on a tmpfs that a reboot empties (every start recreates them).
TESTBED_RUN="${TESTBED_RUN:-/run/ros-multiarch-testbed}"
# Bump when the way fixtures are built changes, to force a rebuild.
# shellcheck disable=SC2034 # read by the other parts
FIXTURE_RECIPE=1
# shellcheck disable=SC2034 # read by the other parts
DOCKERD_TIMEOUT=${TESTBED_DOCKERD_TIMEOUT:-90}
# shellcheck disable=SC2034 # read by the other parts
REGISTRY_TIMEOUT=${TESTBED_REGISTRY_TIMEOUT:-30}

LOG_DIR="$TESTBED_DIR/logs"
RUN_DIR="$TESTBED_DIR/run"
CACHE_DIR="$TESTBED_DIR/cache"
STATE_DIR="$TESTBED_DIR/state"
BUILD_DIR="$TESTBED_DIR/build"
# The test bed's own docker client config (its login), kept apart from ~/.docker
# so that tests start logged out unless they log in themselves.
TESTBED_DOCKER_CONFIG="$TESTBED_DIR/docker-config"

export DEBIAN_FRONTEND=noninteractive

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

# logged LOGFILE WHAT CMD...: run CMD with its output appended to LOGFILE.
logged() {
  local log=$1 what=$2
  shift 2
  # shellcheck disable=SC2034 # read by the ERR trap
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

# wait_for WHAT SECONDS PIDFILE LOG CHECK...: poll CHECK every 0.5 s until it succeeds; fail
# when the daemon of PIDFILE exits or the time is up.
wait_for() {
  local what=$1 secs=$2 pidfile=$3 log=$4 i
  shift 4
  for ((i = 0; i < secs * 2; i++)); do
    "$@" && return 0
    kill -0 "$(<"$pidfile")" 2>/dev/null || fail "$what exited during start-up (log: $log)" "$log"
    sleep 0.5
  done
  fail "$what did not answer within ${secs}s (log: $log)" "$log"
}

sha256_of() { sha256sum | cut -c1-64; }
sanitize() { tr '/:' '__' <<<"$1"; }

init_dirs() {
  mkdir -p "$TESTBED_DIR" "$LOG_DIR" "$RUN_DIR" "$CACHE_DIR" "$STATE_DIR/images" \
    "$BUILD_DIR" "$REGISTRY_DIR/data" "$TESTBED_DOCKER_CONFIG" "$TESTBED_RUN"
  chmod 700 "$TESTBED_DIR"
}

lock_testbed() {
  exec 9>"$TESTBED_DIR/.lock"
  flock -w 3600 9 || fail "another scripts/testbed.sh holds $TESTBED_DIR/.lock"
}
