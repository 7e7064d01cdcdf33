// Differential-drive odometry from wheel encoder ticks.
#pragma once

#include <cstdint>
#include <vector>

namespace robot_math
{

struct Pose2D
{
  double x{0}, y{0}, theta{0};
};

struct WheelTicks
{
  std::int64_t left, right;
};

class DiffDriveOdometry
{
public:
  DiffDriveOdometry(double wheel_radius, double wheel_base, int ticks_per_revolution);
  void update(const WheelTicks & ticks);
  const Pose2D & pose() const {return pose_;}

private:
  double wheel_radius_, wheel_base_;
  int ticks_per_revolution_;
  bool first_{true};
  WheelTicks last_{0, 0};
  Pose2D pose_;
};

/// Drives a square with the given side through simulated encoders; returns the final pose.
Pose2D drive_square(double side, int steps_per_side);

}  // namespace robot_math
