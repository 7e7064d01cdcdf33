#include "report.hpp"

#include <sys/utsname.h>

#include <iomanip>
#include <sstream>

#include "diagnostics.hpp"
#include "rcutils/env.h"
#include "robot_math/kalman.hpp"
#include "robot_math/odometry.hpp"
#include "robot_math/planner.hpp"

namespace robot_status
{

std::string status_line()
{
  utsname u{};
  uname(&u);
  const char * distro = nullptr;
  if (rcutils_get_env("ROS_DISTRO", &distro) != nullptr) {distro = nullptr;}
  const auto grid = robot_math::OccupancyGrid::maze(40, 20, 7);
  const auto path = robot_math::plan_path(grid, {0, 0}, {39, 19});
  const auto pose = robot_math::drive_square(2.0, 50);
  const auto health = evaluate(
    parse_rules("battery.voltage warn<23.0 error<21.5\ncpu.temp_margin warn<15 error<5\n"),
    {{"battery.voltage", 24.2}, {"cpu.temp_margin", 31}});
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << "robot_status: " << u.machine << ' '
     << (distro && *distro ? distro : "unknown") << " path=" << (path ? path->size() : 0)
     << " kalman_error=" << robot_math::constant_velocity_error<double, 3>(200, 1)
     << " odom=(" << pose.x << ", " << pose.y << ", " << pose.theta << ") " << summary(health);
  return os.str();
}

}  // namespace robot_status
