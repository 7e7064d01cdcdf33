// A* path planning on an occupancy grid.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace robot_math
{

using Cell = std::pair<int, int>;

class OccupancyGrid
{
public:
  /// Rows of '.' (free) and '#' (occupied).
  explicit OccupancyGrid(const std::vector<std::string> & rows);
  /// A width x height grid with a deterministic maze of walls.
  static OccupancyGrid maze(int width, int height, unsigned seed);

  bool free(const Cell & c) const;
  int width() const {return width_;}
  int height() const {return height_;}

private:
  int width_;
  int height_;
  std::vector<bool> occupied_;
};

/// The shortest 8-connected path from start to goal, or nothing when the goal cannot be reached.
std::optional<std::vector<Cell>> plan_path(const OccupancyGrid & grid, Cell start, Cell goal);

double path_length(const std::vector<Cell> & path);

}  // namespace robot_math
