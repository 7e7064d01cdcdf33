# /opt/ros/noetic/setup.bash -- ros-multiarch-action test fixture.
. /opt/ros/noetic/setup.sh
# Debian's rosbash shell functions (roscd, rosls, ...); never fatal under `set -e`
if [ -r /usr/share/bash-completion/completions/rosbash ]; then
  . /usr/share/bash-completion/completions/rosbash || true
fi
