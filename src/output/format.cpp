// Formatting helpers shared by the outputs; see format.h.
#include "output/format.h"

#include <ctime>

namespace wattprint {

std::string FormatUtc(SystemTime t, bool with_zone) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return with_zone ? std::string(buf) + "Z" : std::string(buf);
}

std::string DescribeMethod(const KindFigure& k) {
  if (k.mixed) return "mixed";
  if (!k.method) return "";
  switch (*k.method) {
    case Method::kMeasuredCounter: return "measured counter";
    case Method::kMeasuredPower: return "measured power";
    case Method::kEstimated: return k.model.empty() ? "estimated" : "estimated: " + k.model;
  }
  return "";
}

}  // namespace wattprint
