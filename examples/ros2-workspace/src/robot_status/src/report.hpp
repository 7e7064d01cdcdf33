// One line about this robot, built from robot_math's results.
#pragma once

#include <string>

namespace robot_status
{

/// "robot_status: <machine> <distro> path=<cells> ..." (what the publisher sends).
std::string status_line();

}  // namespace robot_status
