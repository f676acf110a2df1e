// Formatting helpers shared by the outputs (private to src/output).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "wattprint/figures.h"

namespace wattprint {

// "2024-05-01T12:00:00" in UTC (CodeCarbon's layout); with_zone appends "Z".
std::string FormatUtc(SystemTime t, bool with_zone);

// "measured counter", "measured power", "estimated: model", ...
std::string DescribeMethod(const KindFigure& k);

}  // namespace wattprint
