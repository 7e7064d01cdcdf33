#include "robot_math/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

namespace robot_math
{

Quaternion Quaternion::from_rpy(double roll, double pitch, double yaw)
{
  const double cr = std::cos(roll / 2), sr = std::sin(roll / 2);
  const double cp = std::cos(pitch / 2), sp = std::sin(pitch / 2);
  const double cy = std::cos(yaw / 2), sy = std::sin(yaw / 2);
  return {
    cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy,
    cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy};
}

Quaternion Quaternion::operator*(const Quaternion & o) const
{
  return {
    w * o.w - x * o.x - y * o.y - z * o.z, w * o.x + x * o.w + y * o.z - z * o.y,
    w * o.y - x * o.z + y * o.w + z * o.x, w * o.z + x * o.y - y * o.x + z * o.w};
}

Quaternion Quaternion::normalized() const
{
  const double n = std::sqrt(w * w + x * x + y * y + z * z);
  return {w / n, x / n, y / n, z / n};
}

Matrix<double, 3, 3> Quaternion::rotation_matrix() const
{
  const Quaternion q = normalized();
  return {
    1 - 2 * (q.y * q.y + q.z * q.z), 2 * (q.x * q.y - q.z * q.w), 2 * (q.x * q.z + q.y * q.w),
    2 * (q.x * q.y + q.z * q.w), 1 - 2 * (q.x * q.x + q.z * q.z), 2 * (q.y * q.z - q.x * q.w),
    2 * (q.x * q.z - q.y * q.w), 2 * (q.y * q.z + q.x * q.w), 1 - 2 * (q.x * q.x + q.y * q.y)};
}

void Quaternion::to_rpy(double & roll, double & pitch, double & yaw) const
{
  roll = std::atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  pitch = std::asin(std::clamp(2 * (w * y - z * x), -1.0, 1.0));
  yaw = std::atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

Matrix<double, 3, 1> Pose::apply(const Matrix<double, 3, 1> & p) const
{
  return orientation.rotation_matrix() * p + position;
}

Pose Pose::compose(const Pose & o) const
{
  return {apply(o.position), (orientation * o.orientation).normalized()};
}

Pose Pose::inverse() const
{
  const Quaternion inv = orientation.conjugate();
  return {(inv.rotation_matrix() * position) * -1.0, inv};
}

std::string Pose::str() const
{
  double r, p, y;
  orientation.to_rpy(r, p, y);
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << "xyz=(" << position(0, 0) << ", " << position(1, 0)
     << ", " << position(2, 0) << ") rpy=(" << r << ", " << p << ", " << y << ")";
  return os.str();
}

Pose chain(const std::vector<Pose> & links)
{
  return std::accumulate(
    links.begin(), links.end(), Pose{}, [](const Pose & acc, const Pose & l) {return acc.compose(l);});
}

Quaternion slerp(const Quaternion & a, const Quaternion & b, double t)
{
  double dot = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z;
  Quaternion end = b;
  if (dot < 0) {
    dot = -dot;
    end = {-b.w, -b.x, -b.y, -b.z};
  }
  if (dot > 0.9995) {
    return Quaternion{
      a.w + t * (end.w - a.w), a.x + t * (end.x - a.x), a.y + t * (end.y - a.y),
      a.z + t * (end.z - a.z)}.normalized();
  }
  const double theta = std::acos(dot);
  const double sa = std::sin((1 - t) * theta) / std::sin(theta);
  const double sb = std::sin(t * theta) / std::sin(theta);
  return {sa * a.w + sb * end.w, sa * a.x + sb * end.x, sa * a.y + sb * end.y, sa * a.z + sb * end.z};
}

}  // namespace robot_math
