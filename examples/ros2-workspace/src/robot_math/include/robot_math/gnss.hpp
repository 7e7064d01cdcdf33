// GNSS receivers' NMEA 0183 sentences (GGA and RMC) to positions, with checksum checks.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace robot_math
{

struct GnssFix
{
  double latitude{0}, longitude{0};  // degrees, north and east positive
  double altitude{0};  // metres (GGA only)
  int satellites{0};  // GGA only
  double speed{0};  // metres per second (RMC only)
  std::string utc;  // hhmmss.ss
};

/// The fix in one NMEA sentence ("$GPGGA,...*hh" or "$GNRMC,...*hh"), or nothing when the
/// sentence is malformed, of another type, has a wrong checksum or reports no fix.
std::optional<GnssFix> parse_nmea(const std::string & sentence);

/// The sentence's checksum, as two upper-case hex digits.
std::string nmea_checksum(const std::string & sentence);

/// Every fix in a receiver's output, one sentence per line; other lines are skipped.
std::vector<GnssFix> parse_nmea_log(const std::string & log);

/// Distance in metres between two fixes (haversine, mean Earth radius).
double distance_m(const GnssFix & a, const GnssFix & b);

}  // namespace robot_math
