#include "robot_math/config.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "rcpputils/env.hpp"
#include "rcpputils/find_and_replace.hpp"
#include "rcpputils/split.hpp"

namespace robot_math
{

namespace
{
Value typed(const std::string & raw)
{
  static const std::regex integer(R"(^[-+]?\d+$)");
  static const std::regex real(R"(^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$)");
  if (raw == "true" || raw == "false") {return raw == "true";}
  if (std::regex_match(raw, integer)) {return std::stol(raw);}
  if (std::regex_match(raw, real)) {return std::stod(raw);}
  std::string s = raw;
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}
}  // namespace

Config Config::parse(const std::string & text)
{
  static const std::regex line(R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$)");
  Config config;
  int number = 0;
  for (const std::string & raw : rcpputils::split(text, '\n', true)) {
    ++number;
    const std::string content = raw.substr(0, raw.find('#'));
    if (std::all_of(content.begin(), content.end(), [](unsigned char c) {return std::isspace(c);})) {
      continue;
    }
    std::smatch m;
    if (!std::regex_match(content, m, line)) {
      throw std::invalid_argument("config line " + std::to_string(number) + ": expected 'key: value'");
    }
    config.values_[m[1]] = typed(m[2]);
  }
  return config;
}

void Config::apply_environment()
{
  for (auto & [key, value] : values_) {
    std::string name = "ROBOT_" + key;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {return std::toupper(c);});
    const std::string env = rcpputils::get_env_var(name.c_str());
    if (!env.empty()) {value = typed(env);}
  }
}

std::string Config::describe() const
{
  std::ostringstream os;
  for (const auto & [key, value] : values_) {
    os << key << '=';
    std::visit([&os](const auto & v) {os << v;}, value);
    os << ' ';
  }
  return rcpputils::find_and_replace(os.str(), "_", "-");
}

}  // namespace robot_math
