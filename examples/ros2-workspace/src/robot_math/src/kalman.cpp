// The small filters: planar (2), spatial (3) and 6-DoF poses, in float and double.
#include "kalman.tpp"

namespace robot_math
{

template class KalmanFilter<float, 4, 2>;
template class KalmanFilter<float, 6, 3>;
template class KalmanFilter<float, 12, 6>;
template class KalmanFilter<double, 4, 2>;
template class KalmanFilter<double, 6, 3>;
template class KalmanFilter<double, 12, 6>;
template float constant_velocity_error<float, 2>(std::size_t, unsigned);
template float constant_velocity_error<float, 3>(std::size_t, unsigned);
template float constant_velocity_error<float, 6>(std::size_t, unsigned);
template double constant_velocity_error<double, 2>(std::size_t, unsigned);
template double constant_velocity_error<double, 3>(std::size_t, unsigned);
template double constant_velocity_error<double, 6>(std::size_t, unsigned);

}  // namespace robot_math
