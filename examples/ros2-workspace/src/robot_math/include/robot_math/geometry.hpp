// Rigid transforms: quaternions and 3-D poses.
#pragma once

#include <string>
#include <vector>

#include "robot_math/matrix.hpp"

namespace robot_math
{

struct Quaternion
{
  double w{1}, x{0}, y{0}, z{0};

  static Quaternion from_rpy(double roll, double pitch, double yaw);
  Quaternion operator*(const Quaternion & o) const;
  Quaternion conjugate() const {return {w, -x, -y, -z};}
  Quaternion normalized() const;
  Matrix<double, 3, 3> rotation_matrix() const;
  void to_rpy(double & roll, double & pitch, double & yaw) const;
};

struct Pose
{
  Matrix<double, 3, 1> position;
  Quaternion orientation;

  Pose compose(const Pose & o) const;
  Pose inverse() const;
  Matrix<double, 3, 1> apply(const Matrix<double, 3, 1> & p) const;
  std::string str() const;
};

/// Composes a chain of joint poses (base to tool), like a TF tree lookup along one branch.
Pose chain(const std::vector<Pose> & links);

/// Spherical linear interpolation between two orientations.
Quaternion slerp(const Quaternion & a, const Quaternion & b, double t);

}  // namespace robot_math
