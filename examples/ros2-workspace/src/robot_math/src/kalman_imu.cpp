// The larger filters: a 9-state position/velocity/acceleration filter and the 15-state error-state
// filter of an IMU (position, velocity, attitude, accelerometer and gyroscope biases) corrected
// by 6-D pose measurements. Fixed-size matrices this large are where compile time goes.
#include "kalman.tpp"

namespace robot_math
{

template class KalmanFilter<float, 9, 3>;
template class KalmanFilter<double, 9, 3>;
template class KalmanFilter<float, 15, 6>;
template class KalmanFilter<double, 15, 6>;
template float constant_velocity_error<float, 4>(std::size_t, unsigned);
template double constant_velocity_error<double, 4>(std::size_t, unsigned);

}  // namespace robot_math
