// Text and number helpers of the SVG charts (see svg.h): tick choice, tick
// and coordinate labels, XML escaping, truncation, and the thinning of
// long series to what the pixel columns can show.
#include "output/svg.h"
#include "output/svg_internal.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <utility>

namespace wattprint::svg {
namespace {

constexpr double kMaxBound = 1e100;  // tick bounds are clamped here so steps never overflow

using internal::Valid;

// The code point at s[i] and its length in *len (1 for an invalid byte, -1
// returned). Overlong forms, surrogates and U+FFFE/U+FFFF are invalid (the
// last two are not allowed in XML).
int32_t DecodeUtf8(std::string_view s, std::size_t i, std::size_t* len) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned c = byte(0);
  *len = 1;
  if (c < 0x80) return static_cast<int32_t>(c);
  std::size_t extra = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF)
    extra = 1, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    extra = 2, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    extra = 3, cp = c & 0x07;
  else
    return -1;
  if (i + extra >= s.size()) return -1;
  for (std::size_t k = 1; k <= extra; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (byte(k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
    return -1;
  *len = extra + 1;
  return static_cast<int32_t>(cp);
}

// ---- ticks -----------------------------------------------------------------

// Finite, ordered, non-degenerate bounds (see NiceTicks in svg.h).
void Sanitize(double& lo, double& hi) {
  const bool lo_ok = std::isfinite(lo), hi_ok = std::isfinite(hi);
  if (!lo_ok && !hi_ok) {
    lo = 0, hi = 1;
    return;
  }
  if (!lo_ok) lo = hi;
  if (!hi_ok) hi = lo;
  for (double* v : {&lo, &hi}) {
    *v = std::clamp(*v, -kMaxBound, kMaxBound);
    if (std::fabs(*v) < 1e-100) *v = 0;
  }
  if (lo > hi) std::swap(lo, hi);
  const double mag = std::max(std::fabs(lo), std::fabs(hi));
  if (hi - lo > mag * 1e-9) return;
  // Equal bounds (or equal to 9 digits, beyond what labels could show).
  const double mid = lo / 2 + hi / 2;
  if (mid == 0)
    lo = 0, hi = 1;
  else
    lo = mid - std::fabs(mid) * 0.1, hi = mid + std::fabs(mid) * 0.1;
}

double FirstK(double lo, double step) { return std::floor(lo / step + 1e-9); }
double LastK(double hi, double step) { return std::ceil(hi / step - 1e-9); }

double Intervals(double lo, double hi, double step) {
  return std::max(1.0, LastK(hi, step) - FirstK(lo, step));
}

Ticks BuildTicks(double lo, double hi, double step) {
  Ticks t;
  t.step = step;
  const double first = FirstK(lo, step), last = first + Intervals(lo, hi, step);
  for (double k = first; k <= last; ++k) {
    const double v = k * step;
    t.values.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  t.lo = t.values.front();
  t.hi = t.values.back();
  return t;
}

int DecimalsFor(double step) {
  step = std::fabs(step);
  if (!std::isfinite(step) || step == 0) return 2;
  const int cap = std::clamp(3 - static_cast<int>(std::floor(std::log10(step))), 0, 15);
  double scaled = step;
  for (int d = 0; d < cap; ++d, scaled *= 10) {
    if (std::round(scaled) >= 1 && std::fabs(scaled - std::round(scaled)) <= 1e-6 * scaled) return d;
  }
  return cap;
}

// "1234567.5" -> "1,234,567.5"
std::string GroupThousands(std::string digits) {
  const std::size_t dot = std::min(digits.find('.'), digits.size());
  for (std::size_t i = dot; i > 3; i -= 3) digits.insert(i - 3, ",");
  return digits;
}

}  // namespace

namespace internal {

std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0, len = 0; i < s.size(); i += len, ++n) DecodeUtf8(s, i, &len);
  return n;
}

}  // namespace internal

Ticks NiceTicks(double lo, double hi, int target) {
  Sanitize(lo, hi);
  target = std::clamp(target, 1, 50);
  const double base = std::pow(10.0, std::floor(std::log10((hi - lo) / target)));
  static constexpr double kMultiples[] = {1, 2, 5};
  for (int i = 0; i < 18; ++i) {
    const double step = base * kMultiples[i % 3] * std::pow(10.0, i / 3);
    if (Intervals(lo, hi, step) <= target) return BuildTicks(lo, hi, step);
  }
  return BuildTicks(lo, hi, hi - lo);  // not reached: the 18th step exceeds any span
}

Ticks NiceClockTicks(double lo, double hi, int target) {
  Sanitize(lo, hi);
  if (hi - lo < 2) return NiceTicks(lo, hi, target);
  target = std::clamp(target, 1, 50);
  static constexpr double kSteps[] = {1,   2,   5,    10,   15,   30,    60,    120,  300,
                                      600, 900, 1800, 3600, 7200, 10800, 21600, 43200};
  for (double step : kSteps) {
    if (Intervals(lo, hi, step) <= target) return BuildTicks(lo, hi, step);
  }
  const Ticks days = NiceTicks(lo / 86400, hi / 86400, target);
  return BuildTicks(lo, hi, std::max(1.0, std::round(days.step)) * 86400);
}

std::string FormatTick(double value, double step) {
  if (!std::isfinite(value)) return "";
  const std::string digits = fmt::format("{:.{}f}", std::fabs(value), DecimalsFor(step));
  const bool negative = value < 0 && digits.find_first_not_of("0.") != std::string::npos;
  return (negative ? "-" : "") + GroupThousands(digits);
}

std::string FormatClock(double seconds, bool hours, double step) {
  if (!std::isfinite(seconds)) return "";
  const bool minutes_only = hours && std::isfinite(step) && step >= 60 && std::fmod(step, 60) == 0;
  const double unit = minutes_only ? 60 : 1;
  const auto total = static_cast<int64_t>(std::min(std::round(std::fabs(seconds) / unit), 1e15));
  const char* sign = seconds < 0 && total != 0 ? "-" : "";
  // Minutes and seconds, or hours and minutes.
  if (minutes_only || !hours) return fmt::format("{}{}:{:02}", sign, total / 60, total % 60);
  return fmt::format("{}{}:{:02}:{:02}", sign, total / 3600, total / 60 % 60, total % 60);
}

std::string FormatCoord(double v) {
  if (!std::isfinite(v)) return "0";
  const double r = std::round(std::clamp(v, -1e7, 1e7) * 100) / 100;
  if (r == 0) return "0";
  std::string s = fmt::format("{:.2f}", r);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0, len = 0; i < text.size(); i += len) {
    const int32_t cp = DecodeUtf8(text, i, &len);
    if (cp < 0)
      out += "\xEF\xBF\xBD";
    else if (cp < 0x20 || cp == 0x7F)
      out += ' ';
    else if (cp == '&')
      out += "&amp;";
    else if (cp == '<')
      out += "&lt;";
    else if (cp == '>')
      out += "&gt;";
    else if (cp == '"')
      out += "&quot;";
    else if (cp == '\'')
      out += "&#39;";
    else
      out.append(text.substr(i, len));
  }
  return out;
}

std::string Truncate(std::string_view text, std::size_t max_chars) {
  if (max_chars == 0) return "";
  std::size_t count = 0, cut = 0, i = 0;
  for (std::size_t len = 0; i < text.size(); i += len, ++count) {
    if (count + 1 == max_chars) cut = i;
    DecodeUtf8(text, i, &len);
  }
  if (count <= max_chars) return std::string(text);
  return std::string(text.substr(0, cut)) + "\xE2\x80\xA6";
}

namespace {

long Column(double x, double x_lo, double x_hi, int columns) {
  const double c = std::floor((x - x_lo) / (x_hi - x_lo) * columns);
  return static_cast<long>(std::clamp(c, -1.0, static_cast<double>(columns)));
}

// Appends points first..last of a run, keeping the first, lowest, highest
// and last in their original order.
void AppendRun(std::vector<Point>& out, const std::vector<Point>& pts, std::size_t first, std::size_t last) {
  std::size_t low = first, high = first;
  for (std::size_t k = first; k <= last; ++k) {
    if (pts[k].y < pts[low].y) low = k;
    if (pts[k].y > pts[high].y) high = k;
  }
  std::size_t keep[] = {first, low, high, last};
  std::sort(std::begin(keep), std::end(keep));
  for (std::size_t k = 0; k < 4; ++k) {
    if (k == 0 || keep[k] != keep[k - 1]) out.push_back(pts[keep[k]]);
  }
}

}  // namespace

std::vector<Point> ReduceForColumns(const std::vector<Point>& points, double x_lo, double x_hi, int columns) {
  if (columns < 1 || points.size() <= 4 * static_cast<std::size_t>(columns) || !std::isfinite(x_hi - x_lo) ||
      !(x_hi > x_lo))
    return points;
  std::vector<Point> out;
  for (std::size_t i = 0; i < points.size();) {
    if (!Valid(points[i])) {
      if (out.empty() || Valid(out.back())) out.push_back(points[i]);
      ++i;
      continue;
    }
    const long col = Column(points[i].x, x_lo, x_hi, columns);
    std::size_t j = i + 1;
    while (j < points.size() && Valid(points[j]) && Column(points[j].x, x_lo, x_hi, columns) == col) ++j;
    AppendRun(out, points, i, j - 1);
    i = j;
  }
  return out;
}

}  // namespace wattprint::svg
