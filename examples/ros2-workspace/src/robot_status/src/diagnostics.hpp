// Diagnostics of the robot's components: thresholds from a rules text, checked against readings.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace robot_status
{

enum class Level { ok, warn, error };

struct Rule
{
  std::string component;  // e.g. "battery.voltage"
  double warn_below, error_below;
};

/// Rules, one per line: "<component> warn<VALUE error<VALUE" ('#' starts a comment).
std::vector<Rule> parse_rules(const std::string & text);

/// Each component's level for the readings given; a component without a reading is an error.
std::map<std::string, Level> evaluate(
  const std::vector<Rule> & rules, const std::map<std::string, double> & readings);

/// "battery.voltage=OK motor.temp_margin=WARN ..." in component order.
std::string summary(const std::map<std::string, Level> & levels);

}  // namespace robot_status
