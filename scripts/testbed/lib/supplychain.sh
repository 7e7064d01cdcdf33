# shellcheck shell=bash
# Test bed: supply-chain tools, offline.
#   cosign      sid's cosign .deb (3.x; trixie has 2.5), unpacked into $TESTBED_DIR/tools/cosign
#               (nothing installed system-wide), and one cosign key pair with a generated
#               password in $STATE_DIR/cosign (the private key and the password mode 0600).

# Debian 13 (trixie) has cosign 2.5.0; 3.x is in sid. Like the engine's packages, whatever sid
# has at the first `up` is cached in $CACHE_DIR/debs/sid afterwards.
COSIGN_SUITE=sid
COSIGN_MIN_MAJOR=3
COSIGN_DIR="$TESTBED_DIR/tools/cosign"
COSIGN_BIN="$COSIGN_DIR/usr/bin/cosign"
COSIGN_KEY_DIR="$STATE_DIR/cosign"

ensure_cosign() {
  local deb version
  deb=$(suite_debs "$COSIGN_SUITE" cosign)
  version=$(dpkg-deb -f "$deb" Version)
  ((${version%%.*} >= COSIGN_MIN_MAJOR)) ||
    fail "cosign ${version} from $COSIGN_SUITE is older than ${COSIGN_MIN_MAJOR}.x (remove $deb to fetch sid's again)"
  unpack_deb "$deb" "$COSIGN_DIR"
  "$COSIGN_BIN" version >/dev/null 2>&1 || fail "$COSIGN_BIN does not run"
  say "cosign: $COSIGN_BIN ($version, from $COSIGN_SUITE)"
}

cosign_version() { sed -e 's/^cosign_//' -e 's/_[^_]*\.deb$//' "$COSIGN_DIR/.from" 2>/dev/null; }

load_cosign_password() {
  [[ -s $COSIGN_KEY_DIR/password ]] || return 1
  TESTBED_COSIGN_PASSWORD=$(<"$COSIGN_KEY_DIR/password")
}

# cosign_key_ok: the key pair exists and the password opens the private key to the public key.
cosign_key_ok() {
  local pub
  [[ -s $COSIGN_KEY_DIR/cosign.key && -s $COSIGN_KEY_DIR/cosign.pub && -x $COSIGN_BIN ]] || return 1
  load_cosign_password || return 1
  pub=$(COSIGN_PASSWORD=$TESTBED_COSIGN_PASSWORD "$COSIGN_BIN" public-key \
    --key "$COSIGN_KEY_DIR/cosign.key" 2>/dev/null) || return 1
  [[ $pub == "$(<"$COSIGN_KEY_DIR/cosign.pub")" ]]
}

# One key pair, made once; made anew (with a new password) only if a piece is missing or broken.
ensure_cosign_key() {
  local tmp pass
  mkdir -p "$COSIGN_KEY_DIR"
  chmod 700 "$COSIGN_KEY_DIR"
  if cosign_key_ok; then
    chmod 600 "$COSIGN_KEY_DIR/cosign.key" "$COSIGN_KEY_DIR/password"
    say "cosign: key pair in $COSIGN_KEY_DIR works"
    return 0
  fi
  say "cosign: generating a key pair in $COSIGN_KEY_DIR"
  pass=$(head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 32)
  rm -rf "$COSIGN_KEY_DIR"/new.*
  tmp=$(mktemp -d "$COSIGN_KEY_DIR/new.XXXXXX")
  (
    umask 077
    printf '%s' "$pass" >"$tmp/password"
  )
  # cosign writes cosign.key (0600) and cosign.pub into its working directory; the password
  # reaches it through its environment, never its arguments
  pushd "$tmp" >/dev/null || fail "cannot enter $tmp"
  COSIGN_PASSWORD=$pass logged "$LOG_DIR/cosign.log" "cosign generate-key-pair" \
    "$COSIGN_BIN" generate-key-pair
  popd >/dev/null || true
  chmod 600 "$tmp/cosign.key" "$tmp/password"
  chmod 644 "$tmp/cosign.pub"
  mv -f "$tmp/cosign.key" "$tmp/cosign.pub" "$tmp/password" "$COSIGN_KEY_DIR/"
  rmdir "$tmp"
  cosign_key_ok || fail "the new cosign key pair in $COSIGN_KEY_DIR does not open with its password" "$LOG_DIR/cosign.log"
}
