#include "diagnostics.hpp"

#include <regex>
#include <sstream>
#include <stdexcept>

namespace robot_status
{

std::vector<Rule> parse_rules(const std::string & text)
{
  static const std::regex rule(
    R"(^\s*([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)\s+warn<(-?\d+(?:\.\d+)?)\s+error<(-?\d+(?:\.\d+)?)\s*$)");
  static const std::regex blank(R"(^\s*$)");
  std::vector<Rule> rules;
  std::istringstream in(text);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    line = line.substr(0, line.find('#'));
    if (std::regex_match(line, blank)) {continue;}
    std::smatch m;
    if (!std::regex_match(line, m, rule)) {
      throw std::invalid_argument("rules line " + std::to_string(number) + ": " + line);
    }
    const double warn = std::stod(m[2]), error = std::stod(m[3]);
    if (error > warn) {
      throw std::invalid_argument("rules line " + std::to_string(number) + ": error above warn");
    }
    rules.push_back({m[1], warn, error});
  }
  return rules;
}

std::map<std::string, Level> evaluate(
  const std::vector<Rule> & rules, const std::map<std::string, double> & readings)
{
  std::map<std::string, Level> levels;
  for (const auto & r : rules) {
    const auto it = readings.find(r.component);
    if (it == readings.end() || it->second < r.error_below) {
      levels[r.component] = Level::error;
    } else if (it->second < r.warn_below) {
      levels[r.component] = Level::warn;
    } else {
      levels[r.component] = Level::ok;
    }
  }
  return levels;
}

std::string summary(const std::map<std::string, Level> & levels)
{
  static const std::map<Level, std::string> names{
    {Level::ok, "OK"}, {Level::warn, "WARN"}, {Level::error, "ERROR"}};
  std::ostringstream os;
  for (const auto & [component, level] : levels) {
    os << (os.tellp() > 0 ? " " : "") << component << '=' << names.at(level);
  }
  return os.str();
}

}  // namespace robot_status
