// Time-parameterised trajectories: trapezoidal velocity profiles and cubic splines.
#pragma once

#include <vector>

namespace robot_math
{

struct TrapezoidalProfile
{
  double distance, max_velocity, max_acceleration;

  double duration() const;
  double position(double t) const;
  double velocity(double t) const;
};

/// A natural cubic spline through (t, value) knots.
class CubicSpline
{
public:
  CubicSpline(std::vector<double> t, std::vector<double> values);
  double operator()(double t) const;
  double derivative(double t) const;

private:
  std::vector<double> t_, a_, b_, c_, d_;
  std::size_t segment(double t) const;
};

}  // namespace robot_math
