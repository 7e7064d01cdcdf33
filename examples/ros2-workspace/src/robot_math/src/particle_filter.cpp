#include "robot_math/particle_filter.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace robot_math
{

ParticleFilter::ParticleFilter(std::size_t count, double length, double width, unsigned seed)
: length_(length), width_(width), rng_(seed)
{
  std::uniform_real_distribution<double> along(0, length), across(0, width), heading(-0.1, 0.1);
  particles_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    particles_.push_back({along(rng_), across(rng_), heading(rng_), 1.0 / count});
  }
}

void ParticleFilter::move(double forward, double turn)
{
  std::normal_distribution<double> step(0, 0.02), twist(0, 0.01);
  for (auto & p : particles_) {
    p.theta += turn + twist(rng_);
    const double d = forward + step(rng_);
    p.x = std::clamp(p.x + d * std::cos(p.theta), 0.0, length_);
    p.y = std::clamp(p.y + d * std::sin(p.theta), 0.0, width_);
  }
}

void ParticleFilter::sense(double measured_range, double sigma)
{
  double total = 0;
  for (auto & p : particles_) {
    const double expected = length_ - p.x;
    const double error = (measured_range - expected) / sigma;
    p.weight = std::exp(-0.5 * error * error) + 1e-300;
    total += p.weight;
  }
  for (auto & p : particles_) {p.weight /= total;}
  resample();
}

void ParticleFilter::resample()
{
  // low-variance (systematic) resampling
  std::vector<Particle> next;
  next.reserve(particles_.size());
  const double step = 1.0 / particles_.size();
  double position = std::uniform_real_distribution<double>(0, step)(rng_);
  double cumulative = particles_.front().weight;
  std::size_t i = 0;
  for (std::size_t k = 0; k < particles_.size(); ++k) {
    while (position > cumulative && i + 1 < particles_.size()) {cumulative += particles_[++i].weight;}
    next.push_back(particles_[i]);
    next.back().weight = step;
    position += step;
  }
  particles_ = std::move(next);
}

Particle ParticleFilter::estimate() const
{
  Particle mean{0, 0, 0, 1};
  double s = 0, c = 0;
  for (const auto & p : particles_) {
    mean.x += p.weight * p.x;
    mean.y += p.weight * p.y;
    s += p.weight * std::sin(p.theta);
    c += p.weight * std::cos(p.theta);
  }
  mean.theta = std::atan2(s, c);
  return mean;
}

double ParticleFilter::spread() const
{
  const Particle mean = estimate();
  const double var = std::accumulate(
    particles_.begin(), particles_.end(), 0.0,
    [&mean](double acc, const Particle & p) {return acc + p.weight * (p.x - mean.x) * (p.x - mean.x);});
  return std::sqrt(var);
}

}  // namespace robot_math
