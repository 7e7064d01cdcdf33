#include "robot_math/gnss.hpp"

#include <cmath>
#include <cstdio>
#include <regex>
#include <sstream>

#include "rcpputils/split.hpp"

namespace robot_math
{

namespace
{
double degrees(const std::string & value, const std::string & hemisphere)
{
  // ddmm.mmmm (latitude) or dddmm.mmmm (longitude)
  const double raw = std::stod(value);
  const double whole = std::floor(raw / 100);
  const double result = whole + (raw - whole * 100) / 60;
  return hemisphere == "S" || hemisphere == "W" ? -result : result;
}
}  // namespace

std::string nmea_checksum(const std::string & sentence)
{
  const auto start = sentence.find('$');
  const auto end = sentence.find('*');
  unsigned char sum = 0;
  for (auto i = start + 1; i < end && i < sentence.size(); ++i) {sum ^= static_cast<unsigned char>(sentence[i]);}
  char hex[3];
  std::snprintf(hex, sizeof hex, "%02X", sum);
  return hex;
}

std::optional<GnssFix> parse_nmea(const std::string & sentence)
{
  static const std::regex shape(R"(^\$(G[PLANB])(GGA|RMC),([^*]*)\*([0-9A-Fa-f]{2})\s*$)");
  static const std::regex number(R"(^-?\d+(\.\d+)?$)");
  std::smatch m;
  if (!std::regex_match(sentence, m, shape)) {return std::nullopt;}
  std::string given = m[4];
  for (auto & c : given) {c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));}
  if (given != nmea_checksum(sentence)) {return std::nullopt;}
  const auto fields = rcpputils::split(m[3].str(), ',', false);
  const auto numeric = [&](std::size_t i) {
      return i < fields.size() && std::regex_match(fields[i], number);
    };
  GnssFix fix;
  if (m[2] == "GGA") {
    // utc, lat, N/S, lon, E/W, quality, satellites, hdop, altitude, M, ...
    if (fields.size() < 10 || !numeric(1) || !numeric(3) || fields[5] == "0" || fields[5].empty()) {
      return std::nullopt;
    }
    fix.utc = fields[0];
    fix.latitude = degrees(fields[1], fields[2]);
    fix.longitude = degrees(fields[3], fields[4]);
    fix.satellites = numeric(6) ? std::stoi(fields[6]) : 0;
    fix.altitude = numeric(8) ? std::stod(fields[8]) : 0;
  } else {
    // utc, status A/V, lat, N/S, lon, E/W, speed (knots), course, date, ...
    if (fields.size() < 9 || fields[1] != "A" || !numeric(2) || !numeric(4)) {return std::nullopt;}
    fix.utc = fields[0];
    fix.latitude = degrees(fields[2], fields[3]);
    fix.longitude = degrees(fields[4], fields[5]);
    fix.speed = numeric(6) ? std::stod(fields[6]) * 0.514444 : 0;
  }
  return fix;
}

std::vector<GnssFix> parse_nmea_log(const std::string & log)
{
  std::vector<GnssFix> fixes;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (auto fix = parse_nmea(line)) {fixes.push_back(*fix);}
  }
  return fixes;
}

double distance_m(const GnssFix & a, const GnssFix & b)
{
  constexpr double radius = 6371008.8;
  const double rad = M_PI / 180;
  const double dlat = (b.latitude - a.latitude) * rad;
  const double dlon = (b.longitude - a.longitude) * rad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
    std::cos(a.latitude * rad) * std::cos(b.latitude * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * radius * std::asin(std::sqrt(h));
}

}  // namespace robot_math
