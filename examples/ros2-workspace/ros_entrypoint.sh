#!/bin/bash
set -e
# the workspace's setup chains the ROS underlay (/opt/ros/$ROS_DISTRO) it was built on
# shellcheck source=/dev/null
source /opt/ros_ws/setup.bash --
exec "$@"
