// Robot configuration read from "key: value" lines (a tiny YAML subset) and the environment.
#pragma once

#include <map>
#include <string>
#include <variant>

namespace robot_math
{

using Value = std::variant<bool, long, double, std::string>;

class Config
{
public:
  /// Parses "key: value" lines; '#' starts a comment. Throws std::invalid_argument on a bad line.
  static Config parse(const std::string & text);

  /// ROBOT_<KEY> environment variables override the parsed values.
  void apply_environment();

  template<typename T>
  T get(const std::string & key, T fallback) const
  {
    auto it = values_.find(key);
    if (it == values_.end()) {return fallback;}
    if (auto v = std::get_if<T>(&it->second)) {return *v;}
    return fallback;
  }
  std::string describe() const;

private:
  std::map<std::string, Value> values_;
};

}  // namespace robot_math
