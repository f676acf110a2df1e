// SVG charts for the reports; see svg.h.
//
// Markup is built with a placeholder byte (kIdMark) wherever an id prefix
// goes; once the chart is complete the placeholder is replaced by the
// caller's prefix or by a hash of the markup itself. That keeps ids unique
// between different charts on one page without a counter (which would be
// mutable state and would break byte-identical output).
#include "output/svg.h"
#include "output/svg_internal.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>

namespace wattprint::svg {
namespace {

constexpr char kIdMark = '\x01';
constexpr double kCharEm = 0.62;  // mean glyph width of DejaVu Sans, in em, rounded up
constexpr double kTickFont = 11, kTitleFont = 14;

template <typename... A>
void Put(std::string& out, fmt::format_string<A...> f, A&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<A>(args)...);
}

std::string N(double v) { return FormatCoord(v); }

using internal::Valid;

// Estimated rendered width; generous, since the viewer's font is unknown.
double TextWidth(std::string_view s, double font_size) {
  return static_cast<double>(internal::CodePoints(s)) * font_size * kCharEm;
}

std::size_t CharsFor(double px, double font_size) {
  return static_cast<std::size_t>(std::max(4.0, std::floor(px / (font_size * kCharEm))));
}

// The precision of bar values: three significant digits of the largest
// magnitude in the chart, so that all totals share their decimals.
double ValueStep(double largest) {
  if (!(largest > 0) || !std::isfinite(largest)) return 1;
  return std::pow(10.0, std::floor(std::log10(largest)) - 2);
}

// ---- styles ----------------------------------------------------------------

constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
constexpr double kPad = 12, kLegendRow = 18, kSwatch = 30;

// Okabe-Ito-based colours (colour-blind safe) at distinct grey levels (luma
// 0.23, 0.44, 0.13, 0.56, 0.30, 0.48), each with its own dash pattern; the
// marker shape changes too, so a greyscale print tells series apart.
struct LineStyle {
  const char* colour;
  const char* dash;
};
constexpr LineStyle kLineStyles[] = {{"#1f3a93", "none"},    {"#d55e00", "6 3"}, {"#222222", "2 2"},
                                     {"#cc79a7", "8 3 2 3"}, {"#6a3d9a", "4 2"}, {"#009e73", "10 2 2 2 2 2"}};
constexpr std::size_t kNumLineStyles = std::size(kLineStyles);

enum class Shape { kCircle, kSquare, kTriangle, kDiamond, kTriangleDown, kRing };
constexpr std::size_t kNumShapes = 6;

// Past the sixth series the shape shifts by one per round, so series i and
// i + 6 share colour and dash but not the marker.
Shape ShapeOf(std::size_t series) {
  return static_cast<Shape>((series + series / kNumLineStyles) % kNumShapes);
}

// Stack parts alternate solid tones (dark, mid, light) with hatches, so
// neighbours differ in greyscale by tone and by texture. Past eight parts
// the fills repeat.
enum class Hatch { kNone, kDiagonal, kCross, kDots, kBackDiagonal, kHorizontal };
struct BarFill {
  const char* background;
  Hatch hatch;
  const char* ink;
};
constexpr BarFill kBarFills[] = {{"#26456e", Hatch::kNone, ""},
                                 {"#f6d8c4", Hatch::kDiagonal, "#b04a0a"},
                                 {"#7f9cc4", Hatch::kNone, ""},
                                 {"#ffffff", Hatch::kCross, "#3b6b3b"},
                                 {"#d9d9d9", Hatch::kNone, ""},
                                 {"#ffffff", Hatch::kDots, "#6a3d9a"},
                                 {"#bfbfbf", Hatch::kBackDiagonal, "#222222"},
                                 {"#ffffff", Hatch::kHorizontal, "#444444"}};
constexpr std::size_t kNumBarFills = std::size(kBarFills);

std::string FillOf(std::size_t part) {
  const std::size_t k = part % kNumBarFills;
  if (kBarFills[k].hatch == Hatch::kNone) return kBarFills[k].background;
  return fmt::format("url(#{}-p{})", kIdMark, k);
}

void PutPattern(std::string& out, std::size_t k) {
  const BarFill& f = kBarFills[k];
  if (f.hatch == Hatch::kNone) return;
  const char* rotate = f.hatch == Hatch::kDiagonal || f.hatch == Hatch::kCross
                           ? " patternTransform=\"rotate(45)\""
                       : f.hatch == Hatch::kBackDiagonal ? " patternTransform=\"rotate(-45)\""
                                                         : "";
  std::string ink;
  switch (f.hatch) {
    case Hatch::kDots:
      ink = fmt::format("<circle cx=\"3\" cy=\"3\" r=\"1.3\" fill=\"{}\"/>", f.ink);
      break;
    case Hatch::kCross:
      ink = fmt::format("<path d=\"M3 0V6M0 3H6\" stroke=\"{}\"/>", f.ink);
      break;
    case Hatch::kHorizontal:
      ink = fmt::format("<path d=\"M0 3H6\" stroke=\"{}\" stroke-width=\"1.4\"/>", f.ink);
      break;
    default:
      ink = fmt::format("<path d=\"M3 0V6\" stroke=\"{}\" stroke-width=\"1.6\"/>", f.ink);
      break;
  }
  Put(out,
      "<pattern id=\"{}-p{}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\"{}>"
      "<rect width=\"6\" height=\"6\" fill=\"{}\"/>{}</pattern>\n",
      kIdMark, k, rotate, f.background, ink);
}

// ---- geometry and text -----------------------------------------------------

struct Frame {  // the plot area, in px
  double x, y, w, h;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

struct Scale {  // linear map of data [d0, d1] onto pixels [p0, p1]; d0 != d1 (ticks)
  double d0, d1, p0, p1;
  double operator()(double v) const {
    // Data lie inside [d0, d1] by construction; the clamp keeps a stray value
    // (a gap's x in step mode) on the plot.
    return std::clamp(p0 + (v - d0) / (d1 - d0) * (p1 - p0), std::min(p0, p1), std::max(p0, p1));
  }
};

struct TextAttrs {
  double size = kTickFont;
  const char* anchor = "middle";
  const char* fill = "#333333";
  const char* extra = "";  // further attributes, with a leading space
};

// Text cut to max_px with an ellipsis; the full text stays in a <title>
// child, which viewers show on hover.
void PutText(std::string& out, double x, double y, std::string_view text, double max_px, const TextAttrs& a) {
  const std::string shown = Truncate(text, CharsFor(max_px, a.size));
  Put(out, "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\"{}>", N(x), N(y),
      N(a.size), a.anchor, a.fill, a.extra);
  if (shown != text) Put(out, "<title>{}</title>", Escape(text));
  Put(out, "{}</text>\n", Escape(shown));
}

std::string AxisTitle(const std::string& label, const std::string& unit) {
  if (unit.empty()) return label;
  if (label.empty()) return unit;
  return label + " (" + unit + ")";
}

struct AxisTicks {
  Ticks ticks;
  std::vector<std::string> labels;
  std::string title;
  double max_label_w = 0;
};

AxisTicks MakeAxisTicks(const Axis& axis, double lo, double hi, int target) {
  AxisTicks a;
  a.ticks = axis.clock ? NiceClockTicks(lo, hi, target) : NiceTicks(lo, hi, target);
  const bool clock = axis.clock && a.ticks.step >= 1;
  const bool hours = clock && std::max(std::fabs(a.ticks.lo), std::fabs(a.ticks.hi)) >= 3600;
  for (double v : a.ticks.values) {
    a.labels.push_back(clock ? FormatClock(v, hours, a.ticks.step) : FormatTick(v, a.ticks.step));
    a.max_label_w = std::max(a.max_label_w, TextWidth(a.labels.back(), kTickFont));
  }
  const bool whole_minutes = a.ticks.step >= 60 && std::fmod(a.ticks.step, 60) == 0;
  const std::string unit = !clock ? axis.unit : !hours ? "m:ss" : whole_minutes ? "h:mm" : "h:mm:ss";
  a.title = AxisTitle(axis.label, unit);
  return a;
}

// Ticks for a horizontal axis of length_px: as many as fit side by side.
AxisTicks FitAlong(const Axis& axis, double lo, double hi, double length_px) {
  int target = std::clamp(static_cast<int>(length_px / 70), 2, 12);
  AxisTicks a = MakeAxisTicks(axis, lo, hi, target);
  while (target > 1 && length_px / static_cast<double>(a.ticks.values.size() - 1) < a.max_label_w + 10)
    a = MakeAxisTicks(axis, lo, hi, --target);
  return a;
}

// Ticks up an axis: one per ~32 px (tick labels are one line high).
int TargetDown(double length_px) { return std::clamp(static_cast<int>(length_px / 32), 2, 8); }

// ---- document --------------------------------------------------------------

void OpenSvg(std::string& out, int w, int h, const std::string& name) {
  Put(out,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" aria-labelledby=\"{2}-title\" font-family=\"{3}\" "
      "font-size=\"12\">\n<title id=\"{2}-title\">{4}</title>\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n",
      w, h, kIdMark, kFont, Escape(name));
}

bool IdChar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
         ch == '_';
}

std::string IdPrefix(const std::string& requested, const std::string& markup) {
  std::string p;
  std::copy_if(requested.begin(), requested.end(), std::back_inserter(p), IdChar);
  if (!p.empty()) return (p[0] >= '0' && p[0] <= '9') || p[0] == '-' ? "wp-" + p : p;
  uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bit
  for (unsigned char ch : markup) h = (h ^ ch) * 1099511628211ull;
  return fmt::format("wp{:010x}", h & 0xFFFFFFFFFFull);
}

std::string Finish(std::string out, const std::string& id_prefix) {
  out += "</svg>\n";
  const std::string prefix = IdPrefix(id_prefix, out);
  std::string result;
  result.reserve(out.size() + 64 * prefix.size());
  for (char ch : out) ch == kIdMark ? result += prefix : result += ch;
  return result;
}

double TitleBottom(const std::string& title) { return title.empty() ? 10 : 34; }

void PutTitle(std::string& out, const std::string& title, int w) {
  if (title.empty()) return;
  PutText(out, kPad, 24, title, w - 2 * kPad,
          {.size = kTitleFont, .anchor = "start", .fill = "#111111", .extra = " font-weight=\"bold\""});
}

std::string NameOr(const std::string& title, const std::string& fallback) {
  return title.empty() ? (fallback.empty() ? std::string("Chart") : fallback) : title;
}

std::string RenderNoData(int w, int h, const std::string& title, const std::string& name,
                         const std::string& id_prefix) {
  std::string out;
  OpenSvg(out, w, h, name + ": no data");
  PutTitle(out, title, w);
  const double top = TitleBottom(title);
  const Frame f{kPad, top, w - 2 * kPad, std::max(20.0, h - top - kPad)};
  Put(out,
      "<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"#999999\"/>\n",
      N(f.x), N(f.y), N(f.w), N(f.h));
  PutText(out, f.x + f.w / 2, f.y + f.h / 2 + 5, "No data", f.w,
          {.size = 14, .anchor = "middle", .fill = "#555555"});
  return Finish(std::move(out), id_prefix);
}

// ---- legend ----------------------------------------------------------------

struct LegendSlot {
  double x, y, max_px;  // y: text baseline
  std::string name;
};
struct Legend {
  std::vector<LegendSlot> slots;
  double height = 0;
};

// Items left to right, wrapping into rows; none for fewer than two names.
Legend LayoutLegend(const std::vector<std::string>& names, double top, int w) {
  Legend lg;
  if (names.size() < 2) return lg;
  const double max_px = std::min(48 * kTickFont * kCharEm, w - 2 * kPad - kSwatch - 6);
  double x = kPad;
  int rows = 1;
  for (const std::string& name : names) {
    const double text_w = std::min(max_px, TextWidth(name, kTickFont));
    const double item_w = kSwatch + 6 + text_w + 16;
    if (x > kPad && x + item_w > w - kPad) x = kPad, ++rows;
    lg.slots.push_back({x, top + rows * kLegendRow - 5, max_px, name});
    x += item_w;
  }
  lg.height = rows * kLegendRow + 4;
  return lg;
}

std::string MarkerPath(Shape shape, double x, double y) {
  constexpr double r = 3.3;
  switch (shape) {
    case Shape::kSquare:
      return fmt::format("M{} {}h{}v{}h{}z", N(x - 0.9 * r), N(y - 0.9 * r), N(1.8 * r), N(1.8 * r),
                         N(-1.8 * r));
    case Shape::kTriangle:
      return fmt::format("M{} {}l{} {}h{}z", N(x), N(y - 1.2 * r), N(1.1 * r), N(1.9 * r), N(-2.2 * r));
    case Shape::kTriangleDown:
      return fmt::format("M{} {}l{} {}h{}z", N(x), N(y + 1.2 * r), N(1.1 * r), N(-1.9 * r), N(-2.2 * r));
    case Shape::kDiamond:
      return fmt::format("M{} {}l{} {}l{} {}l{} {}z", N(x), N(y - 1.3 * r), N(1.3 * r), N(1.3 * r),
                         N(-1.3 * r), N(1.3 * r), N(-1.3 * r), N(-1.3 * r));
    default:  // circles, filled or ring
      return fmt::format("M{} {}a{} {} 0 1 0 {} 0a{} {} 0 1 0 {} 0z", N(x - r), N(y), N(r), N(r), N(2 * r),
                         N(r), N(r), N(-2 * r));
  }
}

void PutMarkers(std::string& out, std::size_t series, const std::string& d) {
  if (d.empty()) return;
  const LineStyle& st = kLineStyles[series % kNumLineStyles];
  Put(out, "<path class=\"markers\" d=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1.2\"/>\n", d,
      ShapeOf(series) == Shape::kRing ? "#ffffff" : st.colour, st.colour);
}

void PutLineLegend(std::string& out, const Legend& lg) {
  if (lg.slots.empty()) return;
  out += "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < lg.slots.size(); ++i) {
    const LegendSlot& s = lg.slots[i];
    const LineStyle& st = kLineStyles[i % kNumLineStyles];
    const double y = s.y - 4;
    Put(out, "<path d=\"M{} {}H{}\" stroke=\"{}\" stroke-width=\"1.8\" stroke-dasharray=\"{}\"/>\n", N(s.x),
        N(y), N(s.x + kSwatch), st.colour, st.dash);
    PutMarkers(out, i, MarkerPath(ShapeOf(i), s.x + kSwatch / 2, y));
    PutText(out, s.x + kSwatch + 6, s.y, s.name, s.max_px, {.anchor = "start", .fill = "#222222"});
  }
  out += "</g>\n";
}

void PutBarLegend(std::string& out, const Legend& lg) {
  if (lg.slots.empty()) return;
  out += "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < lg.slots.size(); ++i) {
    const LegendSlot& s = lg.slots[i];
    Put(out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"11\" fill=\"{}\" stroke=\"#222222\" "
        "stroke-width=\"0.6\"/>\n",
        N(s.x + 8), N(s.y - 10), N(kSwatch - 8), FillOf(i));
    PutText(out, s.x + kSwatch + 6, s.y, s.name, s.max_px, {.anchor = "start", .fill = "#222222"});
  }
  out += "</g>\n";
}

// ---- axes ------------------------------------------------------------------

void PutXGrid(std::string& out, const Frame& f, const AxisTicks& a, const Scale& s) {
  out += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"0.8\">\n";
  for (double v : a.ticks.values) Put(out, "<path d=\"M{0} {1}V{2}\"/>\n", N(s(v)), N(f.y), N(f.bottom()));
  out += "</g>\n";
}

void PutYGrid(std::string& out, const Frame& f, const AxisTicks& a, const Scale& s) {
  out += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"0.8\">\n";
  for (double v : a.ticks.values) Put(out, "<path d=\"M{0} {1}H{2}\"/>\n", N(f.x), N(s(v)), N(f.right()));
  out += "</g>\n";
}

// A darker line at value 0 when the range crosses it (negative values).
void PutZeroLine(std::string& out, const Frame& f, const Ticks& t, const Scale& s, bool vertical) {
  if (!(t.lo < 0 && t.hi > 0)) return;
  if (vertical)
    Put(out, "<path class=\"zero\" d=\"M{} {}V{}\" stroke=\"#555555\"/>\n", N(s(0)), N(f.y), N(f.bottom()));
  else
    Put(out, "<path class=\"zero\" d=\"M{} {}H{}\" stroke=\"#555555\"/>\n", N(f.x), N(s(0)), N(f.right()));
}

void PutXLabels(std::string& out, const Frame& f, const AxisTicks& a, const Scale& s, int w) {
  Put(out, "<path class=\"axis\" d=\"M{} {}H{}\" stroke=\"#444444\"/>\n", N(f.x), N(f.bottom()),
      N(f.right()));
  out += "<g class=\"xtick\">\n";
  for (std::size_t i = 0; i < a.labels.size(); ++i) {
    const double x = s(a.ticks.values[i]);
    const bool overflows = x + TextWidth(a.labels[i], kTickFont) / 2 > w - 2;
    Put(out, "<path d=\"M{} {}v4\" stroke=\"#444444\"/>\n", N(x), N(f.bottom()));
    PutText(out, x, f.bottom() + 16, a.labels[i], 1e6, {.anchor = overflows ? "end" : "middle"});
  }
  out += "</g>\n";
  PutText(out, f.x + f.w / 2, f.bottom() + 36, a.title, f.w, {.size = 12, .fill = "#222222"});
}

void PutYLabels(std::string& out, const Frame& f, const AxisTicks& a, const Scale& s) {
  Put(out, "<path class=\"axis\" d=\"M{} {}V{}\" stroke=\"#444444\"/>\n", N(f.x), N(f.y), N(f.bottom()));
  out += "<g class=\"ytick\">\n";
  for (std::size_t i = 0; i < a.labels.size(); ++i) {
    const double y = s(a.ticks.values[i]);
    Put(out, "<path d=\"M{} {}h-4\" stroke=\"#444444\"/>\n", N(f.x), N(y));
    PutText(out, f.x - 6, y + 4, a.labels[i], 1e6, {.anchor = "end"});
  }
  out += "</g>\n";
  const double x = kPad + 10, y = f.y + f.h / 2;
  const std::string rotate = fmt::format(" transform=\"rotate(-90 {} {})\"", N(x), N(y));
  PutText(out, x, y, a.title, f.h, {.size = 12, .fill = "#222222", .extra = rotate.c_str()});
}

}  // namespace

// ---- line charts -----------------------------------------------------------

namespace {

struct Extent {
  double x_lo = HUGE_VAL, x_hi = -HUGE_VAL, y_lo = HUGE_VAL, y_hi = -HUGE_VAL;
  bool any = false;
};

Extent DataExtent(const LineChart& c) {
  Extent e;
  for (const Series& s : c.series) {
    for (const Point& p : s.points) {
      if (!Valid(p)) continue;
      e.any = true;
      e.x_lo = std::min(e.x_lo, p.x), e.x_hi = std::max(e.x_hi, p.x);
      e.y_lo = std::min(e.y_lo, p.y), e.y_hi = std::max(e.y_hi, p.y);
    }
  }
  return e;
}

struct LinePlan {
  Frame f{};
  AxisTicks xt, yt;
  Legend legend;
  int height = 0;
};

LinePlan PlanLineChart(const LineChart& c, const Extent& e, int w, int h) {
  LinePlan p;
  std::vector<std::string> names;
  for (const Series& s : c.series) names.push_back(s.name);
  p.legend = LayoutLegend(names, TitleBottom(c.title), w);
  const double top = TitleBottom(c.title) + p.legend.height + 8;
  const double bottom = 8 + 18 + 20;  // tick labels, axis title
  const double plot_h = std::max(60.0, h - top - bottom);
  const double y_lo = c.y_from_zero ? std::min(e.y_lo, 0.0) : e.y_lo;
  const double y_hi = c.y_from_zero ? std::max(e.y_hi, 0.0) : e.y_hi;
  p.yt = MakeAxisTicks(c.y, y_lo, y_hi, TargetDown(plot_h));
  const double left = kPad + (p.yt.title.empty() ? 0 : 20) + p.yt.max_label_w + 8;
  const double plot_w = std::max(60.0, w - left - 20);
  p.xt = FitAlong(c.x, e.x_lo, e.x_hi, plot_w);
  p.f = {left, top, plot_w, plot_h};
  p.height = std::max(h, static_cast<int>(std::ceil(top + plot_h + bottom)));
  return p;
}

// Path data; a non-finite point lifts the pen. In step mode y_i holds until
// x_{i+1}, also when point i+1 is a gap with a known x.
std::string LinePath(const std::vector<Point>& pts, const Scale& sx, const Scale& sy, bool step) {
  std::string d, last_x, last_y;
  bool pen = false;
  for (const Point& p : pts) {
    if (!Valid(p)) {
      if (step && pen && std::isfinite(p.x)) d += "H" + N(sx(p.x));
      pen = false;
      continue;
    }
    std::string x = N(sx(p.x)), y = N(sy(p.y));
    if (!pen)
      d += "M" + x + " " + y;
    else if (step)
      d += (x != last_x ? "H" + x : "") + (y != last_y ? "V" + y : "");
    else if (x != last_x || y != last_y)
      d += "L" + x + " " + y;
    pen = true;
    last_x = std::move(x), last_y = std::move(y);
  }
  return d;
}

// Every point of a short series; about ten of a long one (staggered per
// series so markers of different series do not sit on each other), plus
// isolated points, which have no line to show them.
std::vector<std::size_t> MarkerIndices(const std::vector<Point>& pts, std::size_t series) {
  std::vector<std::size_t> valid, out;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    if (Valid(pts[i])) valid.push_back(i);
  }
  if (valid.size() <= 40) return valid;
  constexpr int kMarks = 10;
  const double phase = (static_cast<double>(series * 3 % 7) + 0.5) / 7;
  for (int k = 0; k < kMarks; ++k)
    out.push_back(valid[static_cast<std::size_t>((k + phase) * static_cast<double>(valid.size()) / kMarks)]);
  for (std::size_t i : valid) {
    const bool prev = i > 0 && Valid(pts[i - 1]), next = i + 1 < pts.size() && Valid(pts[i + 1]);
    if (!prev && !next) out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void PutSeries(std::string& out, const std::vector<Point>& pts, std::size_t index, const Scale& sx,
               const Scale& sy, bool step) {
  const LineStyle& st = kLineStyles[index % kNumLineStyles];
  const std::string d = LinePath(pts, sx, sy, step);
  if (!d.empty())
    Put(out,
        "<path class=\"series\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" "
        "stroke-dasharray=\"{}\" stroke-linejoin=\"round\"/>\n",
        d, st.colour, st.dash);
  std::string marks;
  for (std::size_t i : MarkerIndices(pts, index))
    marks += MarkerPath(ShapeOf(index), sx(pts[i].x), sy(pts[i].y));
  PutMarkers(out, index, marks);
}

}  // namespace

std::string RenderLineChart(const LineChart& c) {
  const int w = std::clamp(c.width, 200, 4000), h = std::clamp(c.height, 150, 4000);
  const std::string name = NameOr(c.title, AxisTitle(c.y.label, c.y.unit));
  const Extent e = DataExtent(c);
  if (!e.any) return RenderNoData(w, h, c.title, name, c.id_prefix);
  const LinePlan p = PlanLineChart(c, e, w, h);
  const Scale sx{p.xt.ticks.lo, p.xt.ticks.hi, p.f.x, p.f.right()};
  const Scale sy{p.yt.ticks.lo, p.yt.ticks.hi, p.f.bottom(), p.f.y};
  std::string out;
  OpenSvg(out, w, p.height, name);
  PutTitle(out, c.title, w);
  PutXGrid(out, p.f, p.xt, sx);
  PutYGrid(out, p.f, p.yt, sy);
  PutZeroLine(out, p.f, p.yt.ticks, sy, false);
  const int columns = static_cast<int>(std::ceil(p.f.w));
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const auto pts = ReduceForColumns(c.series[i].points, p.xt.ticks.lo, p.xt.ticks.hi, columns);
    PutSeries(out, pts, i, sx, sy, c.step);
  }
  PutXLabels(out, p.f, p.xt, sx, w);
  PutYLabels(out, p.f, p.yt, sy);
  PutLineLegend(out, p.legend);
  return Finish(std::move(out), c.id_prefix);
}

// ---- bar charts ------------------------------------------------------------

namespace {

struct Stack {  // a bar's parts, summed apart by sign (negatives stack below 0)
  double neg = 0, pos = 0;
  bool any = false;
};

std::vector<Stack> Stacks(const BarChart& c) {
  std::vector<Stack> out;
  for (const Bar& b : c.bars) {
    Stack s;
    for (double v : b.parts) {
      if (!std::isfinite(v)) continue;
      s.any = true;
      (v < 0 ? s.neg : s.pos) += v;
    }
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> PartNames(const BarChart& c) {
  std::size_t n = c.part_names.size();
  for (const Bar& b : c.bars) n = std::max(n, b.parts.size());
  std::vector<std::string> names;
  for (std::size_t k = 0; k < n; ++k)
    names.push_back(k < c.part_names.size() ? c.part_names[k] : fmt::format("Part {}", k + 1));
  return names;
}

struct BarPlan {
  Frame f{};
  AxisTicks vt;  // the value axis
  Legend legend;
  int height = 0;
  double slot = 0, thickness = 0, label_px = 0;  // per bar, across the value axis
  double lo = 0, hi = 0;                         // the stacks' extent, 0 included
  double value_step = 1;                         // precision of printed values
};

BarPlan StartPlan(const BarChart& c, const std::vector<Stack>& stacks, int w) {
  BarPlan p;
  p.legend = LayoutLegend(PartNames(c), TitleBottom(c.title), w);
  for (const Stack& s : stacks) p.lo = std::min(p.lo, s.neg), p.hi = std::max(p.hi, s.pos);
  p.value_step = ValueStep(std::max(p.hi, -p.lo));
  return p;
}

double TotalsWidth(const BarChart& c, const std::vector<Stack>& stacks, double value_step) {
  double width = 0;
  for (const Stack& s : stacks) {
    if (c.show_totals && s.any)
      width = std::max(width, TextWidth(FormatTick(s.pos + s.neg, value_step), kTickFont) + 6);
  }
  return width;
}

BarPlan PlanHorizontal(const BarChart& c, const std::vector<Stack>& stacks, int w) {
  BarPlan p = StartPlan(c, stacks, w);
  const double top = TitleBottom(c.title) + p.legend.height + 8, bottom = 8 + 18 + 20;
  for (const Bar& b : c.bars) p.label_px = std::max(p.label_px, TextWidth(b.label, kTickFont));
  p.label_px = std::min(p.label_px, 0.4 * w);
  const double left = kPad + p.label_px + 8, right = 16 + TotalsWidth(c, stacks, p.value_step);
  const double n = static_cast<double>(c.bars.size());
  p.slot = c.height > 0 ? std::max(8.0, (c.height - top - bottom) / n) : 24;
  p.thickness = std::min(p.slot * 0.62, 28.0);
  p.f = {left, top, std::max(60.0, w - left - right), p.slot * n};
  p.height = std::max(c.height, static_cast<int>(std::ceil(top + p.f.h + bottom)));
  p.vt = FitAlong(c.y, p.lo, p.hi, p.f.w);
  return p;
}

BarPlan PlanVertical(const BarChart& c, const std::vector<Stack>& stacks, int w) {
  BarPlan p = StartPlan(c, stacks, w);
  const int h = c.height > 0 ? std::clamp(c.height, 150, 4000) : 300;
  const double top = TitleBottom(c.title) + p.legend.height + 8 + (c.show_totals ? 14 : 0);
  const double bottom = 8 + 18;
  const double plot_h = std::max(60.0, h - top - bottom);
  p.vt = MakeAxisTicks(c.y, p.lo, p.hi, TargetDown(plot_h));
  const double left = kPad + (p.vt.title.empty() ? 0 : 20) + p.vt.max_label_w + 8;
  p.f = {left, top, std::max(60.0, w - left - 16), plot_h};
  p.slot = p.f.w / static_cast<double>(c.bars.size());
  p.thickness = std::min(p.slot * 0.62, 48.0);
  p.label_px = p.slot - 4;
  p.height = std::max(h, static_cast<int>(std::ceil(top + plot_h + bottom)));
  return p;
}

// One stack part spanning values [a, b] in bar slot i, with its value on hover.
void PutBarPart(std::string& out, const BarPlan& p, bool horizontal, const Scale& s, std::size_t i, double a,
                double b, std::size_t part, const std::string& hover) {
  const double c0 = s(a), c1 = s(b), lo = std::min(c0, c1), len = std::fabs(c1 - c0);
  if (len == 0) return;
  const double across =
      (horizontal ? p.f.y : p.f.x) + (static_cast<double>(i) + 0.5) * p.slot - p.thickness / 2;
  const double x = horizontal ? lo : across, y = horizontal ? across : lo;
  Put(out,
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#222222\" "
      "stroke-width=\"0.6\"><title>{}</title></rect>\n",
      N(x), N(y), N(horizontal ? len : p.thickness), N(horizontal ? p.thickness : len), FillOf(part),
      Escape(hover));
}

void PutBars(std::string& out, const BarChart& c, const BarPlan& p, const Scale& s) {
  const std::vector<std::string> names = PartNames(c);
  const std::string unit = c.y.unit.empty() ? "" : " " + c.y.unit;
  out += "<g class=\"bars\">\n";
  for (std::size_t i = 0; i < c.bars.size(); ++i) {
    double pos = 0, neg = 0;
    for (std::size_t k = 0; k < c.bars[i].parts.size(); ++k) {
      const double v = c.bars[i].parts[k];
      if (!std::isfinite(v)) continue;
      const std::string part = names.size() > 1 ? ", " + names[k] : "";
      const std::string hover = c.bars[i].label + part + ": " + FormatTick(v, p.value_step) + unit;
      const double from = v < 0 ? neg : pos;
      PutBarPart(out, p, c.horizontal, s, i, from, from + v, k, hover);
      (v < 0 ? neg : pos) += v;
    }
  }
  out += "</g>\n";
}

void PutCategories(std::string& out, const BarChart& c, const BarPlan& p, const Scale& s,
                   const std::vector<Stack>& stacks) {
  out += "<g class=\"categories\">\n";
  for (std::size_t i = 0; i < c.bars.size(); ++i) {
    const double mid = (c.horizontal ? p.f.y : p.f.x) + (static_cast<double>(i) + 0.5) * p.slot;
    if (c.horizontal)
      PutText(out, p.f.x - 6, mid + 4, c.bars[i].label, p.label_px, {.anchor = "end", .fill = "#222222"});
    else
      PutText(out, mid, p.f.bottom() + 16, c.bars[i].label, p.label_px, {.fill = "#222222"});
    if (!c.show_totals || !stacks[i].any) continue;
    const std::string total = FormatTick(stacks[i].pos + stacks[i].neg, p.value_step);
    if (c.horizontal)
      PutText(out, s(stacks[i].pos) + 4, mid + 4, total, 1e6, {.anchor = "start"});
    else
      PutText(out, mid, s(stacks[i].pos) - 4, total, 1e6, {});
  }
  out += "</g>\n";
}

}  // namespace

std::string RenderBarChart(const BarChart& c) {
  const int w = std::clamp(c.width, 200, 4000);
  const std::string name = NameOr(c.title, AxisTitle(c.y.label, c.y.unit));
  const std::vector<Stack> stacks = Stacks(c);
  if (std::none_of(stacks.begin(), stacks.end(), [](const Stack& s) { return s.any; }))
    return RenderNoData(w, c.height > 0 ? std::clamp(c.height, 120, 4000) : 120, c.title, name, c.id_prefix);
  const BarPlan p = c.horizontal ? PlanHorizontal(c, stacks, w) : PlanVertical(c, stacks, w);
  const Scale s = c.horizontal ? Scale{p.vt.ticks.lo, p.vt.ticks.hi, p.f.x, p.f.right()}
                               : Scale{p.vt.ticks.lo, p.vt.ticks.hi, p.f.bottom(), p.f.y};
  std::string out;
  OpenSvg(out, w, p.height, name);
  out += "<defs>\n";
  for (std::size_t k = 0; k < std::min(PartNames(c).size(), kNumBarFills); ++k) PutPattern(out, k);
  out += "</defs>\n";
  PutTitle(out, c.title, w);
  c.horizontal ? PutXGrid(out, p.f, p.vt, s) : PutYGrid(out, p.f, p.vt, s);
  PutBars(out, c, p, s);
  // The base line of the bars: value 0, dark, over the bars' edges.
  const Frame& f = p.f;
  if (c.horizontal)
    Put(out, "<path class=\"base\" d=\"M{} {}V{}\" stroke=\"#444444\"/>\n", N(s(0)), N(f.y), N(f.bottom()));
  else
    Put(out, "<path class=\"base\" d=\"M{} {}H{}\" stroke=\"#444444\"/>\n", N(f.x), N(s(0)), N(f.right()));
  c.horizontal ? PutXLabels(out, p.f, p.vt, s, w) : PutYLabels(out, p.f, p.vt, s);
  PutCategories(out, c, p, s, stacks);
  PutBarLegend(out, p.legend);
  return Finish(std::move(out), c.id_prefix);
}

}  // namespace wattprint::svg
