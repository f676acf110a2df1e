// The pieces of the SVG charts (output/svg.h) that both the chart
// rendering (svg.cpp) and the text and number helpers (svg_text.cpp) use;
// private to src/output.
//
// Thread safety: pure functions.
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>

#include "output/svg.h"

namespace wattprint::svg::internal {

// A point that is drawn; a non-finite x or y makes it a gap in the line.
inline bool Valid(const Point& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

// The number of code points in UTF-8 text, each invalid byte counting as
// one (as Escape turns it into one U+FFFD).
std::size_t CodePoints(std::string_view s);

}  // namespace wattprint::svg::internal
