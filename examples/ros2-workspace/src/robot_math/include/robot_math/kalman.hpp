// A linear Kalman filter over N states and M measurements.
#pragma once

#include <cstddef>

#include "robot_math/matrix.hpp"

namespace robot_math
{

template<typename T, std::size_t N, std::size_t M>
class KalmanFilter
{
public:
  using State = Matrix<T, N, 1>;
  using Measurement = Matrix<T, M, 1>;

  KalmanFilter(
    const Matrix<T, N, N> & transition, const Matrix<T, M, N> & observation,
    const Matrix<T, N, N> & process_noise, const Matrix<T, M, M> & measurement_noise);

  void predict();
  void update(const Measurement & z);
  const State & state() const {return x_;}
  const Matrix<T, N, N> & covariance() const {return p_;}

private:
  Matrix<T, N, N> f_;
  Matrix<T, M, N> h_;
  Matrix<T, N, N> q_;
  Matrix<T, M, M> r_;
  State x_;
  Matrix<T, N, N> p_;
};

/// A constant-velocity filter in D dimensions (state: D positions, D velocities) that reads
/// noisy positions; returns the position error after `steps` updates.
template<typename T, std::size_t D>
T constant_velocity_error(std::size_t steps, unsigned seed);

}  // namespace robot_math
