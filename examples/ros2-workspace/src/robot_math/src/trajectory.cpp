#include "robot_math/trajectory.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace robot_math
{

double TrapezoidalProfile::duration() const
{
  const double ramp = max_velocity / max_acceleration;
  const double ramp_distance = max_velocity * ramp;
  if (ramp_distance >= distance) {return 2 * std::sqrt(distance / max_acceleration);}
  return 2 * ramp + (distance - ramp_distance) / max_velocity;
}

double TrapezoidalProfile::velocity(double t) const
{
  const double total = duration();
  const double peak = std::min(max_velocity, std::sqrt(distance * max_acceleration));
  const double ramp = peak / max_acceleration;
  if (t <= 0 || t >= total) {return 0;}
  if (t < ramp) {return max_acceleration * t;}
  if (t > total - ramp) {return max_acceleration * (total - t);}
  return peak;
}

double TrapezoidalProfile::position(double t) const
{
  const double total = duration();
  const double peak = std::min(max_velocity, std::sqrt(distance * max_acceleration));
  const double ramp = peak / max_acceleration;
  t = std::clamp(t, 0.0, total);
  if (t < ramp) {return 0.5 * max_acceleration * t * t;}
  const double after_ramp = 0.5 * peak * ramp;
  if (t <= total - ramp) {return after_ramp + peak * (t - ramp);}
  const double left = total - t;
  return distance - 0.5 * max_acceleration * left * left;
}

CubicSpline::CubicSpline(std::vector<double> t, std::vector<double> values)
: t_(std::move(t)), a_(std::move(values))
{
  const std::size_t n = t_.size();
  if (n < 2 || a_.size() != n) {throw std::invalid_argument("CubicSpline: need matching knots");}
  std::vector<double> h(n - 1), alpha(n, 0.0), l(n, 1.0), mu(n, 0.0), z(n, 0.0);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    h[i] = t_[i + 1] - t_[i];
    if (h[i] <= 0) {throw std::invalid_argument("CubicSpline: knots must increase");}
  }
  for (std::size_t i = 1; i + 1 < n; ++i) {
    alpha[i] = 3 / h[i] * (a_[i + 1] - a_[i]) - 3 / h[i - 1] * (a_[i] - a_[i - 1]);
  }
  for (std::size_t i = 1; i + 1 < n; ++i) {
    l[i] = 2 * (t_[i + 1] - t_[i - 1]) - h[i - 1] * mu[i - 1];
    mu[i] = h[i] / l[i];
    z[i] = (alpha[i] - h[i - 1] * z[i - 1]) / l[i];
  }
  b_.assign(n - 1, 0.0);
  c_.assign(n, 0.0);
  d_.assign(n - 1, 0.0);
  for (std::size_t j = n - 1; j-- > 0;) {
    c_[j] = z[j] - mu[j] * c_[j + 1];
    b_[j] = (a_[j + 1] - a_[j]) / h[j] - h[j] * (c_[j + 1] + 2 * c_[j]) / 3;
    d_[j] = (c_[j + 1] - c_[j]) / (3 * h[j]);
  }
}

std::size_t CubicSpline::segment(double t) const
{
  auto it = std::upper_bound(t_.begin(), t_.end(), t);
  const std::size_t i = it == t_.begin() ? 0 : static_cast<std::size_t>(it - t_.begin()) - 1;
  return std::min(i, t_.size() - 2);
}

double CubicSpline::operator()(double t) const
{
  const std::size_t i = segment(t);
  const double dt = t - t_[i];
  return a_[i] + b_[i] * dt + c_[i] * dt * dt + d_[i] * dt * dt * dt;
}

double CubicSpline::derivative(double t) const
{
  const std::size_t i = segment(t);
  const double dt = t - t_[i];
  return b_[i] + 2 * c_[i] * dt + 3 * d_[i] * dt * dt;
}

}  // namespace robot_math
