# /opt/ros/noetic/setup.sh -- ros-multiarch-action test fixture.
# Debian 12 installs its ROS 1 packages (the noetic-era ROS 1.15) into /usr, so the
# tools are on PATH already. This exports what an official noetic image's setup
# exports, with the values Debian's layout needs (Debian's own catkin env hooks in
# /etc/catkin/profile.d would set ROS_DISTRO=Debian instead). Debian has no
# /usr/share/ros, so ROS_ROOT stays unset, as it is in ROS 1.15's ros_environment.
export ROS_DISTRO=noetic
export ROS_VERSION=1
export ROS_PYTHON_VERSION=3
export ROS_ETC_DIR="${ROS_ETC_DIR:-/etc/ros}"
export ROS_PACKAGE_PATH="${ROS_PACKAGE_PATH:-/usr/share}"
export ROS_MASTER_URI="${ROS_MASTER_URI:-http://localhost:11311}"
export CMAKE_PREFIX_PATH="${CMAKE_PREFIX_PATH:-/usr}"
