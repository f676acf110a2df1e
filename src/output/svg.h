// SVG charts for `wattprint report`: line charts (power over time) and
// stacked bar charts (energy per run), private to src/output.
//
// Every chart is one self-contained <svg> element: no scripts, no external
// references, no stylesheet (presentation attributes only), no XML prolog
// and no blank line, so the same bytes work inline in HTML, inline in
// Markdown (a blank line would end the HTML block) and as a .svg file next
// to LaTeX. Series and stack parts differ by more than colour (dash
// pattern and marker shape; hatch patterns and luminance steps), so the
// charts stay readable printed in greyscale. The output is deterministic:
// the same chart gives the same bytes.
//
// Thread safety: pure functions; no shared state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint::svg {

struct Axis {
  std::string label;  // "Time"
  std::string unit;   // "s"; the axis title reads "Time (s)"
  // Values are seconds shown as a clock ("m:ss", "h:mm" or "h:mm:ss", which
  // then replaces the unit in the title). Used for ranges of 2 s or more.
  bool clock = false;
};

struct Point {
  double x = 0, y = 0;
};

// A point with a non-finite x or y is a gap in the line.
struct Series {
  std::string name;
  std::vector<Point> points;
};

struct LineChart {
  std::string title;  // also the <title> of the svg, for accessibility
  Axis x, y;
  std::vector<Series> series;
  // Draw as a step function: y_i holds over [x_i, x_{i+1}) (power per
  // interval). The last point of a run ends the line at its own x.
  bool step = false;
  bool y_from_zero = true;  // the y range includes 0
  int width = 640, height = 300;
  // Prefix of the ids inside the svg. Empty: "wp" + a hash of the chart's
  // markup, so that different charts inlined in one page never share ids.
  std::string id_prefix;
};

// One value per stack part; a non-finite part is not drawn (absent, not 0).
struct Bar {
  std::string label;
  std::vector<double> parts;
};

struct BarChart {
  std::string title;
  Axis y;                               // the value axis
  std::vector<std::string> part_names;  // legend of the stacked parts (shown with 2+ parts)
  std::vector<Bar> bars;
  bool horizontal = true;       // category labels on the left (long run names read well)
  int width = 640, height = 0;  // 0 = grow with the number of bars
  bool show_totals = true;      // print each bar's total at its end
  std::string id_prefix;        // as LineChart::id_prefix
};

// Ticks covering [lo, hi]: values = k * step for consecutive k, with step
// 1, 2 or 5 times a power of ten, the finest such step that needs at most
// `target` intervals (clamped to 1..50). lo/hi are the first/last value.
// lo == hi (or equal to 9 significant digits) widens the range by 10% each
// side ([0, 1] for 0); non-finite bounds are ignored (both non-finite:
// [0, 1]); lo > hi is swapped; bounds are clamped to +-1e100.
struct Ticks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
};
Ticks NiceTicks(double lo, double hi, int target = 5);

// As NiceTicks, for seconds shown as a clock: steps of 1, 2, 5, 10, 15, 30 s,
// 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, then whole days in 1-2-5 steps.
// Ranges under 2 s fall back to NiceTicks.
Ticks NiceClockTicks(double lo, double hi, int target = 5);

// A tick label: the decimals the step needs (0 for steps >= 1, 1 for 0.5,
// 6 for 1e-6, at most 15), thousands separated by commas ("1,000", "-2,500"),
// never "-0", never an exponent; "" for a non-finite value.
std::string FormatTick(double value, double step);

// Seconds as a clock label: "m:ss" ("5:00", "75:30"); with hours,
// "h:mm:ss" ("1:05:00"), or "h:mm" ("1:05") when step is a whole number of
// minutes. Rounded to whole seconds; "-" in front of negative values; ""
// for a non-finite value.
std::string FormatClock(double seconds, bool hours, double step);

// A coordinate: at most 2 decimals, no trailing zeros, no "-0", no
// exponent; non-finite gives "0" (never printed as nan/inf).
std::string FormatCoord(double v);

// XML text and attribute escaping of & < > " ' (as &amp; &lt; &gt; &quot;
// &#39;, valid in both XML and HTML). Control characters, line breaks
// included, become spaces (chart text is one line); invalid UTF-8 becomes
// U+FFFD, so the result is always well-formed.
std::string Escape(std::string_view text);

// At most max_chars code points: longer text keeps max_chars - 1 of them
// and ends with "…". Unescaped in, unescaped out.
std::string Truncate(std::string_view text, std::size_t max_chars);

// Fewer points for drawing `columns` pixel columns over [x_lo, x_hi]: when
// there are more than 4 points per column, each run of points in the same
// column keeps its first, lowest, highest and last point (in their order),
// so peaks and dips survive. Gaps are kept (runs of them merged into one).
std::vector<Point> ReduceForColumns(const std::vector<Point>& points, double x_lo, double x_hi, int columns);

std::string RenderLineChart(const LineChart& chart);
std::string RenderBarChart(const BarChart& chart);

}  // namespace wattprint::svg
