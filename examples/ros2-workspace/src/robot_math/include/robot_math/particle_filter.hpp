// Monte Carlo localisation in a corridor: particles weighted by range readings to known walls.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace robot_math
{

struct Particle
{
  double x, y, theta, weight;
};

class ParticleFilter
{
public:
  /// Particles spread uniformly over a length x width corridor.
  ParticleFilter(std::size_t count, double length, double width, unsigned seed);

  /// Moves every particle by the odometry step, with noise.
  void move(double forward, double turn);
  /// Weights particles by the measured distance to the corridor's end wall, then resamples.
  void sense(double measured_range, double sigma);
  /// The weighted mean pose.
  Particle estimate() const;
  double spread() const;

private:
  std::vector<Particle> particles_;
  double length_, width_;
  std::mt19937 rng_;
  void resample();
};

}  // namespace robot_math
