#include "robot_math/planner.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace robot_math
{

OccupancyGrid::OccupancyGrid(const std::vector<std::string> & rows)
: width_(rows.empty() ? 0 : static_cast<int>(rows.front().size())),
  height_(static_cast<int>(rows.size())),
  occupied_(static_cast<std::size_t>(width_ * height_))
{
  for (int y = 0; y < height_; ++y) {
    if (static_cast<int>(rows[y].size()) != width_) {
      throw std::invalid_argument("OccupancyGrid: rows differ in width");
    }
    for (int x = 0; x < width_; ++x) {occupied_[y * width_ + x] = rows[y][x] == '#';}
  }
}

OccupancyGrid OccupancyGrid::maze(int width, int height, unsigned seed)
{
  std::vector<std::string> rows(height, std::string(width, '.'));
  std::mt19937 rng(seed);
  // vertical walls every 4 columns, each with one gap
  for (int x = 3; x < width - 1; x += 4) {
    const int gap = std::uniform_int_distribution<int>(0, height - 1)(rng);
    for (int y = 0; y < height; ++y) {
      if (std::abs(y - gap) > 0) {rows[y][x] = '#';}
    }
  }
  return OccupancyGrid(rows);
}

bool OccupancyGrid::free(const Cell & c) const
{
  return c.first >= 0 && c.second >= 0 && c.first < width_ && c.second < height_ &&
         !occupied_[c.second * width_ + c.first];
}

namespace
{
struct CellHash
{
  std::size_t operator()(const Cell & c) const
  {
    return std::hash<long long>()((static_cast<long long>(c.first) << 32) ^ c.second);
  }
};

double octile(const Cell & a, const Cell & b)
{
  const double dx = std::abs(a.first - b.first), dy = std::abs(a.second - b.second);
  return std::max(dx, dy) + (std::sqrt(2.0) - 1) * std::min(dx, dy);
}
}  // namespace

std::optional<std::vector<Cell>> plan_path(const OccupancyGrid & grid, Cell start, Cell goal)
{
  if (!grid.free(start) || !grid.free(goal)) {return std::nullopt;}
  using Entry = std::pair<double, Cell>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> open;
  std::unordered_map<Cell, double, CellHash> cost{{start, 0.0}};
  std::unordered_map<Cell, Cell, CellHash> came_from;
  open.push({octile(start, goal), start});
  while (!open.empty()) {
    const Cell current = open.top().second;
    open.pop();
    if (current == goal) {
      std::vector<Cell> path{goal};
      while (path.back() != start) {path.push_back(came_from.at(path.back()));}
      std::reverse(path.begin(), path.end());
      return path;
    }
    for (int dx = -1; dx <= 1; ++dx) {
      for (int dy = -1; dy <= 1; ++dy) {
        if (dx == 0 && dy == 0) {continue;}
        const Cell next{current.first + dx, current.second + dy};
        if (!grid.free(next)) {continue;}
        // no cutting corners past an obstacle
        if (dx != 0 && dy != 0 &&
          (!grid.free({current.first + dx, current.second}) ||
          !grid.free({current.first, current.second + dy})))
        {
          continue;
        }
        const double step = (dx != 0 && dy != 0) ? std::sqrt(2.0) : 1.0;
        const double g = cost[current] + step;
        auto it = cost.find(next);
        if (it == cost.end() || g < it->second) {
          cost[next] = g;
          came_from[next] = current;
          open.push({g + octile(next, goal), next});
        }
      }
    }
  }
  return std::nullopt;
}

double path_length(const std::vector<Cell> & path)
{
  double length = 0;
  for (std::size_t i = 1; i < path.size(); ++i) {
    length += std::hypot(path[i].first - path[i - 1].first, path[i].second - path[i - 1].second);
  }
  return length;
}

}  // namespace robot_math
