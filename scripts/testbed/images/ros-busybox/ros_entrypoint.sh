#!/bin/sh
# ros-multiarch-action test fixture: like the official image's entrypoint,
# set up the ROS environment, then run the command.
set -e
. "/opt/ros/$ROS_DISTRO/setup.sh"
exec "$@"
