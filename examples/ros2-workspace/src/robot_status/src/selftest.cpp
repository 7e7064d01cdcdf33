// Checks robot_math on this machine's CPU: each result against a known value or bound.
// Prints "selftest ok: ..." and exits 0, or names each failed check and exits 1.
#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "diagnostics.hpp"
#include "robot_math/config.hpp"
#include "robot_math/geometry.hpp"
#include "robot_math/gnss.hpp"
#include "robot_math/kalman.hpp"
#include "robot_math/odometry.hpp"
#include "robot_math/particle_filter.hpp"
#include "robot_math/planner.hpp"
#include "robot_math/trajectory.hpp"

namespace rm = robot_math;

int main()
{
  std::vector<std::pair<std::string, std::function<bool()>>> checks = {
    {"quaternion round trip", [] {
        double r, p, y;
        rm::Quaternion::from_rpy(0.1, -0.2, 0.3).to_rpy(r, p, y);
        return std::abs(r - 0.1) < 1e-9 && std::abs(p + 0.2) < 1e-9 && std::abs(y - 0.3) < 1e-9;
      }},
    {"pose chain and inverse", [] {
        rm::Pose a{{1, 2, 3}, rm::Quaternion::from_rpy(0, 0, M_PI / 2)};
        rm::Pose b{{0.5, 0, 0}, rm::Quaternion::from_rpy(0.3, 0, 0)};
        const rm::Pose c = rm::chain({a, b, b.inverse(), a.inverse()});
        return c.position.norm() < 1e-9 && std::abs(c.orientation.w - 1) < 1e-9;
      }},
    {"slerp halfway", [] {
        const rm::Quaternion q = rm::slerp(
          rm::Quaternion{}, rm::Quaternion::from_rpy(0, 0, 1.0), 0.5);
        double r, p, y;
        q.to_rpy(r, p, y);
        return std::abs(y - 0.5) < 1e-9;
      }},
    {"kalman filter converges (float and double, 2 to 6 dimensions)", [] {
        return rm::constant_velocity_error<float, 2>(300, 3) < 0.2f &&
               rm::constant_velocity_error<double, 3>(300, 4) < 0.2 &&
               rm::constant_velocity_error<double, 6>(300, 5) < 0.3;
      }},
    {"matrix inverse", [] {
        const rm::Matrix<double, 3, 3> m{4, 7, 2, 3, 6, 1, 2, 5, 3};
        return (m * rm::inverse(m) - rm::Matrix<double, 3, 3>::identity()).norm() < 1e-12;
      }},
    {"A* finds the way through the maze", [] {
        const auto grid = rm::OccupancyGrid::maze(40, 20, 7);
        const auto path = rm::plan_path(grid, {0, 0}, {39, 19});
        return path && path->front() == rm::Cell(0, 0) && rm::path_length(*path) >= 39;
      }},
    {"A* knows a wall", [] {
        const rm::OccupancyGrid grid({"..#..", "..#..", "..#.."});
        return !rm::plan_path(grid, {0, 0}, {4, 2});
      }},
    {"trapezoidal profile ends at rest at the distance", [] {
        const rm::TrapezoidalProfile p{2.0, 0.5, 0.25};
        return std::abs(p.position(p.duration()) - 2.0) < 1e-9 && p.velocity(p.duration()) == 0;
      }},
    {"cubic spline passes through its knots", [] {
        const rm::CubicSpline s({0, 1, 2, 3}, {0, 1, 0, 1});
        return std::abs(s(2) - 0) < 1e-12 && std::abs(s(3) - 1) < 1e-12;
      }},
    {"odometry closes the square", [] {
        const rm::Pose2D p = rm::drive_square(2.0, 100);
        return std::hypot(p.x, p.y) < 0.05 && std::abs(p.theta) < 0.05;
      }},
    {"the 15-state IMU error filter: pose updates shrink its uncertainty", [] {
        using M15 = rm::Matrix<double, 15, 15>;
        rm::Matrix<double, 6, 15> h;
        for (std::size_t i = 0; i < 6; ++i) {h(i, i) = 1;}
        rm::KalmanFilter<double, 15, 6> filter(
          M15::identity(), h, M15::identity() * 1e-4, rm::Matrix<double, 6, 6>::identity() * 0.01);
        const double before = filter.covariance()(0, 0);
        for (int k = 0; k < 20; ++k) {
          filter.predict();
          filter.update(rm::Matrix<double, 6, 1>{});
        }
        // observed states become certain; the unobserved biases keep their uncertainty
        return filter.covariance()(0, 0) < 0.05 * before && filter.covariance()(14, 14) > 0.9 * before;
      }},
    {"NMEA: GGA and RMC fixes, a bad checksum refused", [] {
        const auto fixes = rm::parse_nmea_log(
          "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\n"
          "$GPRMC,123520,A,4807.040,N,01131.010,E,022.4,084.4,230394,003.1,W*6E\n"
          "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48\n");
        return fixes.size() == 2 && fixes[0].satellites == 8 &&
               std::abs(fixes[0].latitude - 48.1173) < 1e-4 &&
               rm::distance_m(fixes[0], fixes[1]) > 1 && rm::distance_m(fixes[0], fixes[1]) < 20;
      }},
    {"particle filter localises in the corridor", [] {
        rm::ParticleFilter pf(500, 10.0, 2.0, 9);
        double x = 1.0;
        for (int i = 0; i < 30; ++i) {
          pf.move(0.1, 0);
          x += 0.1;
          pf.sense(10.0 - x, 0.2);
        }
        return std::abs(pf.estimate().x - x) < 0.3 && pf.spread() < 0.5;
      }},
    {"diagnostics rules: levels, and a bad rule refused", [] {
        namespace rs = robot_status;
        const auto rules = rs::parse_rules("# power\nbattery.voltage warn<23 error<21.5\nmotor.margin warn<10 error<2\n");
        const auto levels = rs::evaluate(rules, {{"battery.voltage", 22.0}});
        bool refused = false;
        try {
          rs::parse_rules("battery warn<1 error<5");
        } catch (const std::invalid_argument &) {
          refused = true;
        }
        return refused && rs::summary(levels) == "battery.voltage=WARN motor.margin=ERROR";
      }},
    {"config parses types and comments", [] {
        auto c = rm::Config::parse("wheel_base: 0.3  # metres\nname: 'rover'\nticks: 4096\nsim: false\n");
        return c.get<double>("wheel_base", 0) == 0.3 && c.get<long>("ticks", 0) == 4096 &&
               c.get<std::string>("name", "") == "rover" && !c.get<bool>("sim", true);
      }},
  };
  std::vector<std::string> failed;
  for (const auto & [name, check] : checks) {
    bool ok = false;
    try {
      ok = check();
    } catch (const std::exception & e) {
      std::cerr << name << ": " << e.what() << '\n';
    }
    if (!ok) {failed.push_back(name);}
  }
  for (const auto & name : failed) {std::cout << "FAILED: " << name << '\n';}
  if (!failed.empty()) {return 1;}
  std::cout << "selftest ok: " << checks.size() << " checks passed\n";
  return 0;
}
