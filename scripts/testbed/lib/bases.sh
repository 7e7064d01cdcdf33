# shellcheck shell=bash
# Test bed: the fixture base images in the registry, built on the classic engine from Debian's
# packages (nothing can be pulled from Docker Hub here):
#   ros:{humble,jazzy,kilted,lyrical,rolling}-ros-base  busybox stand-ins, amd64 + arm64, no ROS 2
#   osrf/ros:humble-desktop                              the same, amd64 only (single manifest)
#   ros:noetic-ros-base                                  real ROS 1 from Debian 12's packages
#   ros:{humble,jazzy}-lower-layers                      ROS 2's lower layers from Debian 13's
#                                                        packages + a ros2 CLI stand-in; amd64 + arm64

# ROS 2 distros that get a busybox stand-in for ros:<distro>-ros-base (amd64 + arm64).
read -r -a ROS2_DISTROS <<<"${TESTBED_ROS2_DISTROS:-humble jazzy kilted lyrical rolling}"
AMD64_ONLY_IMAGE=osrf/ros:humble-desktop
NOETIC_IMAGE=ros:noetic-ros-base
# Debian 12 ROS 1 packages for the noetic base (rostopic + std_msgs for pub/sub).
NOETIC_PACKAGES=(ros-core rosbash python3-rostopic python3-std-msgs)
NOETIC_SUITE=bookworm
# ROS 2's lower layers from Debian 13 for ros:<distro>-lower-layers (amd64 + arm64): a build
# base for C++ workspaces, with a ros2 stand-in. humble and jazzy: the two discovery settings
# the built-in ROS 2 checks export (ROS_LOCALHOST_ONLY, ROS_AUTOMATIC_DISCOVERY_RANGE).
LOWER_DISTROS=(humble jazzy)
LOWER_TAG_SUFFIX=lower-layers
LOWER_SUITE=trixie
LOWER_PACKAGES=(colcon python3-colcon-ros python3-colcon-cmake python3-colcon-package-selection
  python3-colcon-parallel-executor python3-colcon-library-path python3-colcon-output
  python3-colcon-bash ament-cmake librcutils-dev librcpputils-dev cyclonedds-dev cyclonedds-tools
  g++ cmake make ccache)
MULTI_PLATFORMS=(linux/amd64 linux/arm64)
ASSETS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- fixture images: bookkeeping -----------------------------------------------

# image_current REF KEY: the registry still holds what we pushed for this KEY.
image_current() {
  local st why repo=${1%:*} tag=${1##*:}
  st="$STATE_DIR/images/$(sanitize "$1")"
  [[ -s $st.key && -s $st.digest && $(<"$st.key") == "$2" ]] || return 1
  [[ $(registry_digest "$repo" "$tag") == "$(<"$st.digest")" ]] || return 1
  why=$(registry_complete "$repo" "$tag" 2>&1) && return 0
  say "image $REGISTRY_ADDR/$1: the registry lacks part of it ($why)"
  return 1
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

# publish_fixture REF CONTEXT KEY NOTE [BUILD ARGS...]: build REF for MULTI_PLATFORMS from CONTEXT
# and push it, unless the registry still holds what was pushed for KEY. NOTE ends the log line.
publish_fixture() {
  local ref=$1 ctx=$2 key=$3 note=$4
  shift 4
  if image_current "$ref" "$key"; then
    say "image $REGISTRY_ADDR/$ref: up to date"
    return 0
  fi
  say "image $REGISTRY_ADDR/$ref: building (${MULTI_PLATFORMS[*]}$note)"
  push_multiarch "$ref" "$ctx" "$@"
  record_image "$ref" "$key"
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
  pushd "$CACHE_DIR/busybox" >/dev/null || fail "cannot enter $CACHE_DIR/busybox"
  logged "$LOG_DIR/apt.log" "apt-get download ${need[*]}" \
    apt-get -q -o APT::Sandbox::User=root download "${need[@]}"
  popd >/dev/null || true
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
    # on disk before it gets its cached name: a machine stopping right after must not leave a
    # cached name on an empty file
    sync -- "$out.part"
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
    # symbolic links by their targets (the lower-layers bases' /opt/ros tree has some)
    (cd "$ctx" && find . -type l | LC_ALL=C sort | while read -r f; do echo "$f -> $(readlink "$f")"; done)
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
    publish_fixture "$ref" "$ctx" "$key" "" --build-arg "ROS_DISTRO=$distro"
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

# --- fixture images: Debian rootfs tarballs (mmdebstrap), cached on disk ----------

DEBIAN_MMDEBSTRAP_OPTS=(
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

# debian_rootfs_path NAME SUITE ARCH PACKAGE...: the cache file of that rootfs (keyed by
# everything that goes into it).
debian_rootfs_path() {
  local name=$1 suite=$2 arch=$3 key
  shift 3
  key=$(printf '%s\n' "$FIXTURE_RECIPE" "$arch" "$suite" "$(debian_mirror)" "$*" \
    "${DEBIAN_MMDEBSTRAP_OPTS[*]}" | sha256_of)
  echo "$CACHE_DIR/$name/rootfs-$arch-${key:0:12}.tar"
}

# ensure_debian_rootfs NAME SUITE PACKAGE...: mmdebstrap a rootfs of SUITE with PACKAGE... for
# each of amd64 and arm64 that is not cached yet, both at once (one is mostly downloads, the
# other emulated CPU: arm64's maintainer scripts run under QEMU).
ensure_debian_rootfs() {
  local name=$1 suite=$2 arch out pids=() archs=() i rc=0 start=$SECONDS includes
  shift 2
  includes=$(IFS=,; echo "$*")
  mkdir -p "$CACHE_DIR/$name"
  for arch in amd64 arm64; do
    out=$(debian_rootfs_path "$name" "$suite" "$arch" "$@")
    [[ -s $out ]] && continue
    say "$name: mmdebstrap $suite $arch rootfs (cached afterwards; arm64 takes minutes under QEMU)"
    rm -f "$out.part.tar"
    (
      log="$LOG_DIR/mmdebstrap-$name-$arch.log"
      : >"$log"
      logged "$log" "mmdebstrap $name $arch rootfs" \
        mmdebstrap "${DEBIAN_MMDEBSTRAP_OPTS[@]}" --architectures="$arch" --include="$includes" \
        "$suite" "$out.part.tar" "$(debian_mirror)"
      sync -- "$out.part.tar" # on disk before it gets its cached name (as busybox_rootfs)
      mv "$out.part.tar" "$out"
    ) &
    pids+=($!)
    archs+=("$arch")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || rc=1
  done
  ((rc == 0)) || fail "could not build the $name rootfs for ${archs[*]} (logs: $LOG_DIR/mmdebstrap-$name-*.log)"
  ((${#pids[@]} == 0)) || say "$name: rootfs for ${archs[*]} built in $((SECONDS - start)) s"
}

# ensure_fixture_rootfs WITH_ROS1: the ROS 2 lower-layers rootfs and (WITH_ROS1=1) the ROS 1 one,
# all four (two sets x amd64 + arm64) at once: the two emulated arm64 installs, mostly one core
# each, share the machine's cores, so a fresh machine waits for the longest instead of the sum.
ensure_fixture_rootfs() {
  local pids=() rc=0 p
  if (($1)); then
    (ensure_debian_rootfs noetic "$NOETIC_SUITE" "${NOETIC_PACKAGES[@]}") &
    pids+=($!)
  fi
  (ensure_debian_rootfs ros2-lower "$LOWER_SUITE" "${LOWER_PACKAGES[@]}") &
  pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || fail "could not build the fixture rootfs tarballs (logs: $LOG_DIR/mmdebstrap-*.log)"
}

# link_rootfs_tars NAME SUITE CONTEXT PACKAGE...: CONTEXT/rootfs-<arch>.tar for each platform;
# prints the cache file names (for the image key).
link_rootfs_tars() {
  local name=$1 suite=$2 ctx=$3 arch tar
  shift 3
  for arch in amd64 arm64; do
    tar=$(debian_rootfs_path "$name" "$suite" "$arch" "$@")
    ln -f "$tar" "$ctx/rootfs-$arch.tar"
    echo "${tar##*/}"
  done
}

# --- fixture images: a real ROS 1 base from Debian ----------------------------

ensure_noetic_base() {
  local ref=$NOETIC_IMAGE ctx src="$ASSETS/images/ros-noetic" key tars=()
  ensure_debian_rootfs noetic "$NOETIC_SUITE" "${NOETIC_PACKAGES[@]}"
  ctx="$BUILD_DIR/$(sanitize "$ref")"
  rm -rf "$ctx"
  mkdir -p "$ctx/ros/opt/ros/noetic"
  cp "$src/Dockerfile" "$ctx/Dockerfile"
  cp "$src/setup.sh" "$src/setup.bash" "$ctx/ros/opt/ros/noetic/"
  install -m 755 "$src/ros_entrypoint.sh" "$ctx/ros/ros_entrypoint.sh"
  mapfile -t tars < <(link_rootfs_tars noetic "$NOETIC_SUITE" "$ctx" "${NOETIC_PACKAGES[@]}")
  ((${#tars[@]} == 2)) || fail "the ROS 1 rootfs tarballs are missing in $CACHE_DIR/noetic"
  key=$(context_key "$ctx" "${MULTI_PLATFORMS[*]}" noetic "${tars[@]}")
  publish_fixture "$ref" "$ctx" "$key" ""
}

# --- fixture images: ROS 2's lower layers from Debian 13, with a ros2 stand-in ---

# make_lower_context DISTRO DIR: Dockerfile, ros2 stand-in sources and the /opt/ros tree.
make_lower_context() {
  local distro=$1 ctx=$2 src="$ASSETS/images/ros2-lower" f opt
  rm -rf "$ctx"
  opt="$ctx/ros/opt/ros/$distro"
  mkdir -p "$opt/bin" "$opt/share"
  cp "$src/Dockerfile" "$ctx/Dockerfile"
  cp -r "$src/ros2-standin" "$ctx/ros2-standin"
  for f in setup.sh setup.bash local_setup.sh local_setup.bash; do
    sed -e "s/@ROS_DISTRO@/$distro/g" "$src/$f.in" >"$opt/$f"
  done
  ln -s /usr/lib/ros2-standin/ros2 "$opt/bin/ros2"
  ln -s /usr/share/ament_index "$opt/share/ament_index"
  install -m 755 "$ASSETS/images/ros-noetic/ros_entrypoint.sh" "$ctx/ros/ros_entrypoint.sh"
}

ensure_lower_bases() {
  local distro ref ctx key tars=()
  ensure_debian_rootfs ros2-lower "$LOWER_SUITE" "${LOWER_PACKAGES[@]}"
  for distro in "${LOWER_DISTROS[@]}"; do
    ref="ros:$distro-$LOWER_TAG_SUFFIX"
    ctx="$BUILD_DIR/$(sanitize "$ref")"
    make_lower_context "$distro" "$ctx"
    mapfile -t tars < <(link_rootfs_tars ros2-lower "$LOWER_SUITE" "$ctx" "${LOWER_PACKAGES[@]}")
    ((${#tars[@]} == 2)) || fail "the ROS 2 lower-layers rootfs tarballs are missing in $CACHE_DIR/ros2-lower"
    key=$(context_key "$ctx" "${MULTI_PLATFORMS[*]}" "$distro" "${tars[@]}")
    publish_fixture "$ref" "$ctx" "$key" "; the ros2 stand-in compiles under QEMU for arm64" \
      --build-arg "ROS_DISTRO=$distro"
  done
}

# fixture_refs: every fixture image (repository:tag, without the registry).
fixture_refs() {
  local d
  for d in "${ROS2_DISTROS[@]}"; do echo "ros:$d-ros-base"; done
  echo "$AMD64_ONLY_IMAGE"
  echo "$NOETIC_IMAGE"
  for d in "${LOWER_DISTROS[@]}"; do echo "ros:$d-$LOWER_TAG_SUFFIX"; done
}
