#include "robot_math/odometry.hpp"

#include <cmath>

namespace robot_math
{

DiffDriveOdometry::DiffDriveOdometry(double wheel_radius, double wheel_base, int ticks_per_revolution)
: wheel_radius_(wheel_radius), wheel_base_(wheel_base), ticks_per_revolution_(ticks_per_revolution)
{
}

void DiffDriveOdometry::update(const WheelTicks & ticks)
{
  if (first_) {
    first_ = false;
    last_ = ticks;
    return;
  }
  const double per_tick = 2 * M_PI * wheel_radius_ / ticks_per_revolution_;
  const double left = (ticks.left - last_.left) * per_tick;
  const double right = (ticks.right - last_.right) * per_tick;
  last_ = ticks;
  const double distance = (left + right) / 2;
  const double turn = (right - left) / wheel_base_;
  // midpoint integration
  pose_.x += distance * std::cos(pose_.theta + turn / 2);
  pose_.y += distance * std::sin(pose_.theta + turn / 2);
  pose_.theta = std::atan2(std::sin(pose_.theta + turn), std::cos(pose_.theta + turn));
}

Pose2D drive_square(double side, int steps_per_side)
{
  const double radius = 0.05, base = 0.3;
  const int ticks = 4096;
  DiffDriveOdometry odom(radius, base, ticks);
  const double ticks_per_metre = ticks / (2 * M_PI * radius);
  double left = 0, right = 0;
  odom.update({0, 0});
  for (int corner = 0; corner < 4; ++corner) {
    for (int i = 0; i < steps_per_side; ++i) {
      left += side / steps_per_side * ticks_per_metre;
      right += side / steps_per_side * ticks_per_metre;
      odom.update({std::llround(left), std::llround(right)});
    }
    // turn 90 degrees on the spot
    const double arc = M_PI / 2 * base / 2 * ticks_per_metre;
    for (int i = 0; i < steps_per_side; ++i) {
      left -= arc / steps_per_side;
      right += arc / steps_per_side;
      odom.update({std::llround(left), std::llround(right)});
    }
  }
  return odom.pose();
}

}  // namespace robot_math
