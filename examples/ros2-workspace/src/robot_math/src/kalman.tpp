// The Kalman filter's member definitions, included by the files that instantiate it.
#pragma once

#include "robot_math/kalman.hpp"

#include <random>

namespace robot_math
{

template<typename T, std::size_t N, std::size_t M>
KalmanFilter<T, N, M>::KalmanFilter(
  const Matrix<T, N, N> & transition, const Matrix<T, M, N> & observation,
  const Matrix<T, N, N> & process_noise, const Matrix<T, M, M> & measurement_noise)
: f_(transition), h_(observation), q_(process_noise), r_(measurement_noise),
  p_(Matrix<T, N, N>::identity())
{
}

template<typename T, std::size_t N, std::size_t M>
void KalmanFilter<T, N, M>::predict()
{
  x_ = f_ * x_;
  p_ = f_ * p_ * f_.transpose() + q_;
}

template<typename T, std::size_t N, std::size_t M>
void KalmanFilter<T, N, M>::update(const Measurement & z)
{
  const Matrix<T, M, 1> innovation = z - h_ * x_;
  const Matrix<T, M, M> s = h_ * p_ * h_.transpose() + r_;
  const Matrix<T, N, M> gain = p_ * h_.transpose() * inverse(s);
  x_ = x_ + gain * innovation;
  p_ = (Matrix<T, N, N>::identity() - gain * h_) * p_;
}

template<typename T, std::size_t D>
T constant_velocity_error(std::size_t steps, unsigned seed)
{
  constexpr std::size_t N = 2 * D;
  const T dt = T(0.1);
  Matrix<T, N, N> f = Matrix<T, N, N>::identity();
  Matrix<T, D, N> h;
  for (std::size_t i = 0; i < D; ++i) {
    f(i, D + i) = dt;
    h(i, i) = T(1);
  }
  KalmanFilter<T, N, D> filter(
    f, h, Matrix<T, N, N>::identity() * T(1e-4), Matrix<T, D, D>::identity() * T(0.05));
  std::mt19937 rng(seed);
  std::normal_distribution<T> noise(T(0), T(0.2));
  Matrix<T, D, 1> truth;
  for (std::size_t k = 0; k < steps; ++k) {
    for (std::size_t i = 0; i < D; ++i) {truth(i, 0) += dt * T(i + 1);}
    Matrix<T, D, 1> z = truth;
    for (std::size_t i = 0; i < D; ++i) {z(i, 0) += noise(rng);}
    filter.predict();
    filter.update(z);
  }
  Matrix<T, D, 1> estimate;
  for (std::size_t i = 0; i < D; ++i) {estimate(i, 0) = filter.state()(i, 0);}
  return (estimate - truth).norm();
}

}  // namespace robot_math
