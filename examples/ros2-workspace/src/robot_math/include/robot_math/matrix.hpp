// Fixed-size matrices for small state estimators (header-only templates; the Kalman filter
// instantiates them for the state sizes it supports).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <ostream>
#include <stdexcept>

namespace robot_math
{

template<typename T, std::size_t R, std::size_t C>
class Matrix
{
public:
  Matrix() { data_.fill(T{}); }
  Matrix(std::initializer_list<T> values)
  {
    if (values.size() != R * C) {throw std::invalid_argument("Matrix: wrong number of values");}
    std::size_t i = 0;
    for (T v : values) {data_[i++] = v;}
  }

  static Matrix identity()
  {
    static_assert(R == C, "identity needs a square matrix");
    Matrix m;
    for (std::size_t i = 0; i < R; ++i) {m(i, i) = T{1};}
    return m;
  }

  T & operator()(std::size_t r, std::size_t c) {return data_[r * C + c];}
  const T & operator()(std::size_t r, std::size_t c) const {return data_[r * C + c];}
  static constexpr std::size_t rows() {return R;}
  static constexpr std::size_t cols() {return C;}

  Matrix operator+(const Matrix & o) const
  {
    Matrix m;
    for (std::size_t i = 0; i < R * C; ++i) {m.data_[i] = data_[i] + o.data_[i];}
    return m;
  }
  Matrix operator-(const Matrix & o) const
  {
    Matrix m;
    for (std::size_t i = 0; i < R * C; ++i) {m.data_[i] = data_[i] - o.data_[i];}
    return m;
  }
  Matrix operator*(T s) const
  {
    Matrix m;
    for (std::size_t i = 0; i < R * C; ++i) {m.data_[i] = data_[i] * s;}
    return m;
  }

  template<std::size_t K>
  Matrix<T, R, K> operator*(const Matrix<T, C, K> & o) const
  {
    Matrix<T, R, K> m;
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t k = 0; k < K; ++k) {
        T sum{};
        for (std::size_t c = 0; c < C; ++c) {sum += (*this)(r, c) * o(c, k);}
        m(r, k) = sum;
      }
    }
    return m;
  }

  Matrix<T, C, R> transpose() const
  {
    Matrix<T, C, R> m;
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t c = 0; c < C; ++c) {m(c, r) = (*this)(r, c);}
    }
    return m;
  }

  T norm() const
  {
    T sum{};
    for (T v : data_) {sum += v * v;}
    return std::sqrt(sum);
  }

private:
  std::array<T, R * C> data_;
};

/// Gauss-Jordan inverse with partial pivoting; throws on a singular matrix.
template<typename T, std::size_t N>
Matrix<T, N, N> inverse(const Matrix<T, N, N> & a)
{
  Matrix<T, N, N> m = a;
  Matrix<T, N, N> inv = Matrix<T, N, N>::identity();
  for (std::size_t col = 0; col < N; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < N; ++r) {
      if (std::abs(m(r, col)) > std::abs(m(pivot, col))) {pivot = r;}
    }
    if (std::abs(m(pivot, col)) < T(1e-12)) {throw std::runtime_error("inverse: singular matrix");}
    for (std::size_t c = 0; c < N; ++c) {
      std::swap(m(col, c), m(pivot, c));
      std::swap(inv(col, c), inv(pivot, c));
    }
    const T d = m(col, col);
    for (std::size_t c = 0; c < N; ++c) {
      m(col, c) /= d;
      inv(col, c) /= d;
    }
    for (std::size_t r = 0; r < N; ++r) {
      if (r == col) {continue;}
      const T f = m(r, col);
      for (std::size_t c = 0; c < N; ++c) {
        m(r, c) -= f * m(col, c);
        inv(r, c) -= f * inv(col, c);
      }
    }
  }
  return inv;
}

template<typename T, std::size_t R, std::size_t C>
std::ostream & operator<<(std::ostream & os, const Matrix<T, R, C> & m)
{
  for (std::size_t r = 0; r < R; ++r) {
    os << (r == 0 ? "[" : " ");
    for (std::size_t c = 0; c < C; ++c) {os << (c ? ", " : "") << m(r, c);}
    os << (r + 1 == R ? "]" : ";\n");
  }
  return os;
}

}  // namespace robot_math
