// The SVG chart writer: tick tables, label formats, escaping, and the charts
// read back structurally (coordinates against the tick scale, legend
// entries, styles per series, well-formed XML).
#include "output/svg.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace wattprint::svg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- reading the markup back ---------------------------------------------

std::size_t Count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

// The values of every attribute that follows `prefix` (e.g. `class="series" d="`).
std::vector<std::string> After(const std::string& s, const std::string& prefix) {
  std::vector<std::string> out;
  for (std::size_t i = s.find(prefix); i != std::string::npos; i = s.find(prefix, i + 1)) {
    const std::size_t start = i + prefix.size();
    out.push_back(s.substr(start, s.find('"', start) - start));
  }
  return out;
}

// The part of s from `<g class="NAME">` to its `</g>` (groups are not nested).
std::string Group(const std::string& s, const std::string& name) {
  const std::size_t start = s.find("<g class=\"" + name + "\"");
  if (start == std::string::npos) return "";
  return s.substr(start, s.find("</g>", start) - start);
}

// The character data of each <text>, without a <title> child.
std::vector<std::string> Texts(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = s.find("<text"); i != std::string::npos; i = s.find("<text", i + 1)) {
    std::size_t start = s.find('>', i) + 1;
    if (s.compare(start, 7, "<title>") == 0) start = s.find("</title>", start) + 8;
    out.push_back(s.substr(start, s.find("</text>", start) - start));
  }
  return out;
}

using Vertex = std::pair<double, double>;

// Vertices of path data made of absolute M, L, H and V commands.
std::vector<Vertex> Vertices(const std::string& d) {
  std::vector<Vertex> v;
  double x = 0, y = 0;
  const char* p = d.c_str();
  const auto num = [&p] {
    char* end = nullptr;
    const double value = std::strtod(p, &end);
    p = end;
    return value;
  };
  while (*p) {
    const char c = *p++;
    if (c == 'M' || c == 'L')
      x = num(), y = num();
    else if (c == 'H')
      x = num();
    else if (c == 'V')
      y = num();
    else
      ADD_FAILURE() << "unexpected path command " << c << " in " << d;
    v.push_back({x, y});
  }
  return v;
}

double LabelValue(std::string label) {
  std::erase(label, ',');
  return std::stod(label);
}

// The pixel position of data values along an axis, from its tick marks and
// labels (tick mark path "M{x} {y}v4" below the x axis, "M{x} {y}h-4" left
// of the y axis).
struct TickScale {
  double v0 = 0, p0 = 0, v1 = 1, p1 = 1;
  double operator()(double v) const { return p0 + (v - v0) / (v1 - v0) * (p1 - p0); }
  std::vector<std::string> labels;
};

TickScale ReadTicks(const std::string& svg, bool x_axis) {
  const std::string g = Group(svg, x_axis ? "xtick" : "ytick");
  TickScale t;
  t.labels = Texts(g);
  std::vector<double> pos;
  for (const std::string& d : After(g, "<path d=\"")) {
    const std::vector<Vertex> v = Vertices(d.substr(0, d.find_first_of("vh")));
    pos.push_back(x_axis ? v.at(0).first : v.at(0).second);
  }
  EXPECT_EQ(pos.size(), t.labels.size());
  if (pos.size() < 2) return t;
  t.v0 = LabelValue(t.labels.front()), t.p0 = pos.front();
  t.v1 = LabelValue(t.labels.back()), t.p1 = pos.back();
  return t;
}

// ---- well-formedness -------------------------------------------------------

// A small XML check: balanced tags, quoted attributes, known entities only,
// no stray '<' or '&', one root element.
bool WellFormed(const std::string& s, std::string* why) {
  std::vector<std::string> open;
  int roots = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      const std::size_t semi = s.find(';', i);
      const std::string ent = s.substr(i, semi - i + 1);
      static const std::set<std::string> kKnown = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
      if (!kKnown.count(ent)) return *why = "entity " + ent, false;
      continue;
    }
    if (s[i] == '>') return *why = "stray > at " + std::to_string(i), false;
    if (s[i] != '<') continue;
    const std::size_t end = s.find('>', i);
    if (end == std::string::npos) return *why = "unclosed tag", false;
    std::string tag = s.substr(i + 1, end - i - 1);
    i = end;
    if (Count(tag, "\"") % 2 != 0 || tag.find('<') != std::string::npos)
      return *why = "bad tag " + tag, false;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return *why = "mismatched </" + tag + ">", false;
      open.pop_back();
      continue;
    }
    if (open.empty()) ++roots;
    if (tag.back() == '/') continue;
    open.push_back(tag.substr(0, tag.find(' ')));
  }
  if (!open.empty()) return *why = "unclosed <" + open.back() + ">", false;
  if (roots != 1) return *why = std::to_string(roots) + " root elements", false;
  return true;
}

// Python's XML parser, over files; skipped where Python is missing.
void ExpectPythonParses(const std::vector<std::string>& docs) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  std::string cmd =
      "/usr/bin/python3 -c 'import sys, xml.dom.minidom\nfor f in sys.argv[1:]: xml.dom.minidom.parse(f)'";
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    paths.push_back(testing::TempDir() + "svg_test_" + std::to_string(getpid()) + "_" + std::to_string(i) +
                    ".svg");
    std::ofstream(paths.back(), std::ios::binary) << docs[i];
    cmd += " " + paths.back();
  }
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const std::string& p : paths) std::remove(p.c_str());
}

// What every chart must satisfy, whatever its data.
void ExpectSound(const std::string& svg) {
  std::string why;
  EXPECT_TRUE(WellFormed(svg, &why)) << why;
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 0), 0u);
  for (const char* bad :
       {"nan", "NaN", "inf", "e+", "e-0", "<script", "href", "<style", "<?xml", "\n\n", "=\"-0\"", " -0 "})
    EXPECT_EQ(svg.find(bad), std::string::npos) << bad;
  const std::vector<std::string> label = After(svg, "aria-labelledby=\"");
  ASSERT_EQ(label.size(), 1u);
  EXPECT_EQ(Count(svg, "<title id=\"" + label[0] + "\">"), 1u);
  EXPECT_NE(svg.find("font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""), std::string::npos);
}

LineChart TwoSeries() {
  LineChart c;
  c.title = "GPU and CPU power";
  c.x = {"Time", "s"};
  c.y = {"Power", "W"};
  c.series.push_back({"GPU 0", {{0, 20}, {10, 100}, {20, 60}, {30, 80}}});
  c.series.push_back({"CPU package", {{0, 15}, {10, 35}, {20, 25}, {30, 40}}});
  return c;
}

// ---- NiceTicks ----------------------------------------------------------

struct TickCase {
  double lo, hi;
  int target;
  double step, first, last;
};

TEST(NiceTicks, Table) {
  const TickCase cases[] = {
      {0, 42, 5, 10, 0, 50},       {0, 100, 5, 20, 0, 100},  {0, 1, 5, 0.2, 0, 1},
      {0, 3, 5, 1, 0, 3},          {17, 23, 5, 2, 16, 24},   {-30, 70, 5, 50, -50, 100},
      {0, 3e-6, 5, 1e-6, 0, 3e-6}, {0, 1e9, 5, 2e8, 0, 1e9}, {0.001, 0.0097, 4, 0.005, 0, 0.01},
      {0, 100, 10, 10, 0, 100},    {0, 7, 1, 10, 0, 10},     {0, 3600, 6, 1000, 0, 4000},
      {100, 0, 5, 20, 0, 100},  // swapped
  };
  for (const TickCase& c : cases) {
    const Ticks t = NiceTicks(c.lo, c.hi, c.target);
    SCOPED_TRACE(testing::Message() << c.lo << ".." << c.hi << " target " << c.target);
    EXPECT_NEAR(t.step, c.step, c.step * 1e-9);
    EXPECT_NEAR(t.lo, c.first, c.step * 1e-9);
    EXPECT_NEAR(t.hi, c.last, c.step * 1e-9);
    EXPECT_DOUBLE_EQ(t.values.front(), t.lo);
    EXPECT_DOUBLE_EQ(t.values.back(), t.hi);
  }
}

// Over many ranges: the ticks cover the range, the step is 1, 2 or 5 times
// a power of ten, there are at most `target` intervals, and the next finer
// 1-2-5 step would need more.
TEST(NiceTicks, PropertiesOverManyRanges) {
  for (double scale : {1e-7, 1e-3, 1.0, 37.0, 1e4, 1e9}) {
    for (double a = -3; a <= 3; a += 0.7) {
      for (double span = 0.013; span < 50; span *= 2.9) {
        for (int target : {2, 4, 5, 8}) {
          const double lo = a * scale, hi = (a + span) * scale;
          const Ticks t = NiceTicks(lo, hi, target);
          SCOPED_TRACE(testing::Message() << lo << ".." << hi << " target " << target);
          EXPECT_LE(t.lo, lo + 1e-9 * t.step);
          EXPECT_GE(t.hi, hi - 1e-9 * t.step);
          const double e = std::floor(std::log10(t.step) + 1e-9);
          const double mantissa = t.step / std::pow(10.0, e);
          EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 ||
                      std::fabs(mantissa - 5) < 1e-9)
              << mantissa;
          const int intervals = static_cast<int>(t.values.size()) - 1;
          EXPECT_GE(intervals, 1);
          EXPECT_LE(intervals, target);
          const double finer = mantissa == 1 ? t.step / 2 : mantissa < 3 ? t.step / 2 : t.step * 0.4;
          const double finer_intervals = std::ceil(hi / finer - 1e-9) - std::floor(lo / finer + 1e-9);
          EXPECT_GT(finer_intervals, target) << "step " << t.step << " is not the finest";
          for (std::size_t i = 1; i < t.values.size(); ++i)
            EXPECT_NEAR(t.values[i] - t.values[i - 1], t.step, t.step * 1e-6);
        }
      }
    }
  }
}

TEST(NiceTicks, DegenerateAndNonFiniteRanges) {
  const std::pair<double, double> ranges[] = {
      {5, 5},    {0, 0},    {-3, -3},      {1e9, 1e9},        {1e-6, 1e-6},   {kNaN, kNaN},
      {kNaN, 4}, {4, kInf}, {-kInf, kInf}, {1e9, 1e9 + 1e-3}, {-1e300, 1e300}};
  for (const auto& [lo, hi] : ranges) {
    const Ticks t = NiceTicks(lo, hi);
    SCOPED_TRACE(testing::Message() << lo << ".." << hi);
    EXPECT_LT(t.lo, t.hi);
    EXPECT_GE(t.values.size(), 2u);
    EXPECT_LE(t.values.size(), 6u);
    for (double v : t.values) EXPECT_TRUE(std::isfinite(v));
    for (double v : {lo, hi}) {
      if (std::isfinite(v) && std::fabs(v) < 1e100) {
        EXPECT_LE(t.lo, v);
        EXPECT_GE(t.hi, v);
      }
    }
  }
  EXPECT_EQ(NiceTicks(0, 0).lo, 0);
  EXPECT_EQ(NiceTicks(0, 0).hi, 1);
  EXPECT_EQ(NiceTicks(kNaN, kNaN).hi, 1);
  EXPECT_EQ(NiceTicks(0, 10, 0).values.size(), 2u);  // target below 1 counts as 1
}

TEST(NiceClockTicks, StepsAreClockUnits) {
  EXPECT_EQ(NiceClockTicks(0, 3600, 6).step, 600);
  EXPECT_EQ(NiceClockTicks(0, 3600, 6).hi, 3600);
  EXPECT_EQ(NiceClockTicks(0, 97, 5).step, 30);
  EXPECT_EQ(NiceClockTicks(0, 5 * 3600, 5).step, 3600);
  EXPECT_EQ(NiceClockTicks(0, 10 * 86400, 5).step, 2 * 86400);
  EXPECT_DOUBLE_EQ(NiceClockTicks(0, 1.5, 5).step, 0.5);  // under 2 s: plain 1-2-5
}

// ---- formats ---------------------------------------------------------------

TEST(FormatTick, Table) {
  const struct {
    double value, step;
    const char* want;
  } cases[] = {
      {1000, 100, "1,000"},
      {1234567, 1, "1,234,567"},
      {-2500, 500, "-2,500"},
      {0.1 * 3, 0.1, "0.3"},
      {-0.0, 1, "0"},
      {-1e-10, 0.1, "0.0"},
      {2.5e-6, 5e-7, "0.0000025"},
      {1e9, 2e8, "1,000,000,000"},
      {0.25, 0.25, "0.25"},
      {12, 2.5, "12.0"},
      {999.5, 0.5, "999.5"},
      {1.0 / 3, 1.0 / 3, "0.3333"},
      {40, 20, "40"},
      {-0.4, 0.2, "-0.4"},
      {100, 0, "100.00"},
      {kNaN, 1, ""},
      {kInf, 1, ""},
      {-kInf, 1, ""},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatTick(c.value, c.step), c.want) << c.value << " step " << c.step;
}

TEST(FormatClock, Table) {
  EXPECT_EQ(FormatClock(0, false, 60), "0:00");
  EXPECT_EQ(FormatClock(90, false, 30), "1:30");
  EXPECT_EQ(FormatClock(4500, false, 300), "75:00");
  EXPECT_EQ(FormatClock(3900, true, 300), "1:05");
  EXPECT_EQ(FormatClock(3905, true, 5), "1:05:05");
  EXPECT_EQ(FormatClock(-30, false, 10), "-0:30");
  EXPECT_EQ(FormatClock(-0.2, false, 10), "0:00");
  EXPECT_EQ(FormatClock(kNaN, false, 10), "");
}

TEST(FormatCoord, ShortFixedNoNegativeZero) {
  EXPECT_EQ(FormatCoord(12.345678), "12.35");
  EXPECT_EQ(FormatCoord(3.1), "3.1");
  EXPECT_EQ(FormatCoord(10), "10");
  EXPECT_EQ(FormatCoord(-7.5), "-7.5");
  EXPECT_EQ(FormatCoord(-0.001), "0");
  EXPECT_EQ(FormatCoord(-0.0), "0");
  EXPECT_EQ(FormatCoord(kNaN), "0");
  EXPECT_EQ(FormatCoord(1e20), "10000000");
}

TEST(Escape, XmlSpecialsControlsAndInvalidUtf8) {
  EXPECT_EQ(Escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
  EXPECT_EQ(Escape("µJ — ü 🌍"), "µJ — ü 🌍");
  EXPECT_EQ(Escape("line\nbreak\t\x01"), "line break  ");
  EXPECT_EQ(Escape("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(Escape("a\xe2\x80"), "a\xEF\xBF\xBD\xEF\xBF\xBD");  // cut sequence
  EXPECT_EQ(Escape("\xed\xa0\x80").size(), 9u);                 // surrogate: 3 x U+FFFD
  EXPECT_EQ(Escape("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");    // overlong '/'
}

TEST(Truncate, CodePointsAndEllipsis) {
  EXPECT_EQ(Truncate("hello", 10), "hello");
  EXPECT_EQ(Truncate("hello", 5), "hello");
  EXPECT_EQ(Truncate("hello world", 5), "hell…");
  EXPECT_EQ(Truncate("ääääää", 3), "ää…");
  EXPECT_EQ(Truncate("abc", 1), "…");
  EXPECT_EQ(Truncate("abc", 0), "");
}

// ---- reduction -------------------------------------------------------------

std::vector<Point> Noisy(std::size_t n, std::size_t spike_at, double spike) {
  std::vector<Point> pts;
  for (std::size_t i = 0; i < n; ++i)
    pts.push_back({i * 0.01, 100 + 20 * std::sin(static_cast<double>(i) * 0.37)});
  pts[spike_at].y = spike;
  return pts;
}

TEST(ReduceForColumns, KeepsPeaksDipsAndGaps) {
  std::vector<Point> pts = Noisy(100000, 54321, 1000);
  pts[70000].y = -50;
  pts[80000].y = kNaN;
  pts[80001].y = kNaN;
  const std::vector<Point> out = ReduceForColumns(pts, 0, 1000, 500);
  EXPECT_LE(out.size(), 4u * 502);
  EXPECT_GT(out.size(), 500u);
  bool peak = false, dip = false;
  int gaps = 0;
  for (const Point& p : out) {
    peak |= p.y == 1000 && p.x == pts[54321].x;
    dip |= p.y == -50;
    gaps += std::isnan(p.y);
  }
  EXPECT_TRUE(peak);
  EXPECT_TRUE(dip);
  EXPECT_EQ(gaps, 1);  // the two gap points merged, and kept
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (std::isfinite(out[i].y) && std::isfinite(out[i - 1].y)) {
      EXPECT_LE(out[i - 1].x, out[i].x);
    }
  }
  const std::vector<Point> few = Noisy(100, 5, 7);
  EXPECT_EQ(ReduceForColumns(few, 0, 1, 500).size(), few.size());
}

// ---- line charts -----------------------------------------------------------

// Every vertex of every series path sits where the tick scales put its data.
TEST(LineChart, VerticesMatchTheTickScales) {
  const LineChart c = TwoSeries();
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  const TickScale sx = ReadTicks(svg, true), sy = ReadTicks(svg, false);
  const std::vector<std::string> paths = After(svg, "class=\"series\" d=\"");
  ASSERT_EQ(paths.size(), 2u);
  for (std::size_t s = 0; s < 2; ++s) {
    const std::vector<Vertex> v = Vertices(paths[s]);
    ASSERT_EQ(v.size(), c.series[s].points.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      EXPECT_NEAR(v[i].first, sx(c.series[s].points[i].x), 0.01);
      EXPECT_NEAR(v[i].second, sy(c.series[s].points[i].y), 0.01);
    }
  }
  // The maximum (100 W) is the top tick: drawn at the top of the plot area.
  EXPECT_EQ(sy.labels.back(), "100");
  EXPECT_EQ(sy.labels.front(), "0");  // y_from_zero
  // The first grid group holds the vertical lines "M{x} {top}V{bottom}".
  const std::string first_grid = After(Group(svg, "grid"), "<path d=\"").at(0);
  const double top = Vertices(first_grid).at(0).second;
  EXPECT_NEAR(Vertices(paths[0]).at(1).second, top, 0.01);
  EXPECT_EQ(Texts(svg).front(), "GPU and CPU power");
}

TEST(LineChart, LegendNamesEverySeriesEscaped) {
  LineChart c = TwoSeries();
  c.series[0].name = "GPU <0> & \"1\"";
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  const std::vector<std::string> legend = Texts(Group(svg, "legend"));
  ASSERT_EQ(legend.size(), 2u);
  EXPECT_EQ(legend[0], "GPU &lt;0&gt; &amp; &quot;1&quot;");
  EXPECT_EQ(legend[1], "CPU package");
  c.series.pop_back();
  EXPECT_EQ(RenderLineChart(c).find("class=\"legend\""), std::string::npos);
}

// Each series differs by dash pattern and by marker shape (the commands of
// its marker path), not only by colour.
TEST(LineChart, SeriesDifferBeyondColour) {
  LineChart c;
  for (int s = 0; s < 6; ++s) c.series.push_back({"s" + std::to_string(s), {{0, 1.0 + s}, {1, 2.0 + s}}});
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  const std::vector<std::string> dashes = After(svg, "stroke-dasharray=\"");
  const std::vector<std::string> series_dashes(dashes.begin(), dashes.begin() + 6);  // before the legend
  EXPECT_EQ(std::set<std::string>(series_dashes.begin(), series_dashes.end()).size(), 6u);
  std::set<std::string> shapes;
  const std::vector<std::string> fills = After(svg, "class=\"markers\" d=\"");
  for (std::size_t s = 0; s < 6; ++s) {
    // After the leading "M x y" a marker is relative moves: its shape alone.
    const std::string& d = fills[s];
    const std::size_t start = d.find_first_of("alhv");
    const std::string shape = d.substr(start, d.find('z') - start);
    const std::string fill = After(svg.substr(svg.find(d)), "fill=\"")[0];
    shapes.insert(shape + (fill == "#ffffff" ? " hollow" : ""));
  }
  EXPECT_EQ(shapes.size(), 6u);
  const std::vector<std::string> strokes = After(svg, "class=\"series\" d=\"");
  EXPECT_EQ(strokes.size(), 6u);
}

TEST(LineChart, StepFunctionAndGaps) {
  LineChart c;
  c.step = true;
  c.series.push_back({"p", {{0, 10}, {1, 20}, {2, 5}, {3, kNaN}, {4, 8}, {5, 8}}});
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  const TickScale sx = ReadTicks(svg, true), sy = ReadTicks(svg, false);
  const std::string d = After(svg, "class=\"series\" d=\"").at(0);
  EXPECT_EQ(Count(d, "M"), 2u);  // the gap lifts the pen
  const std::vector<Vertex> v = Vertices(d);
  const std::vector<Vertex> want = {{0, 10}, {1, 10}, {1, 20}, {2, 20}, {2, 5}, {3, 5}, {4, 8}, {5, 8}};
  ASSERT_EQ(v.size(), want.size()) << d;
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_NEAR(v[i].first, sx(want[i].first), 0.01) << i;
    EXPECT_NEAR(v[i].second, sy(want[i].second), 0.01) << i;
  }
}

TEST(LineChart, EmptyChartsSayNoData) {
  LineChart none;
  none.title = "Power";
  LineChart no_points = none;
  no_points.series.push_back({"a", {}});
  LineChart all_gaps = none;
  all_gaps.series.push_back({"a", {{0, kNaN}, {kInf, 1}}});
  for (const LineChart& c : {none, no_points, all_gaps}) {
    const std::string svg = RenderLineChart(c);
    ExpectSound(svg);
    EXPECT_NE(svg.find(">No data</text>"), std::string::npos);
    EXPECT_NE(svg.find("class=\"frame\""), std::string::npos);
    EXPECT_EQ(svg.find("class=\"series\""), std::string::npos);
  }
}

TEST(LineChart, SinglePointAndFlatSeries) {
  LineChart one;
  one.series.push_back({"a", {{5, 42}}});
  const std::string svg = RenderLineChart(one);
  ExpectSound(svg);
  EXPECT_EQ(Count(svg, "class=\"markers\""), 1u);
  const TickScale sx = ReadTicks(svg, true), sy = ReadTicks(svg, false);
  EXPECT_LT(LabelValue(sx.labels.front()), 5);
  EXPECT_GT(LabelValue(sx.labels.back()), 5);
  const std::vector<Vertex> v = Vertices(After(svg, "class=\"series\" d=\"").at(0));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NEAR(v[0].second, sy(42), 0.01);

  LineChart flat;
  flat.y_from_zero = false;
  flat.series.push_back({"a", {{0, 7}, {1, 7}, {2, 7}}});
  const std::string flat_svg = RenderLineChart(flat);
  ExpectSound(flat_svg);
  const TickScale fy = ReadTicks(flat_svg, false);
  EXPECT_LT(LabelValue(fy.labels.front()), 7);
  EXPECT_GT(LabelValue(fy.labels.back()), 7);
}

TEST(LineChart, NegativeValuesGetAZeroLine) {
  LineChart c;
  c.series.push_back({"net", {{0, -30}, {1, 45}, {2, 10}}});
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  const TickScale sy = ReadTicks(svg, false);
  EXPECT_LE(LabelValue(sy.labels.front()), -30);
  const std::vector<Vertex> v = Vertices(After(svg, "class=\"series\" d=\"").at(0));
  EXPECT_NEAR(v.at(0).second, sy(-30), 0.01);
  const std::vector<Vertex> zero = Vertices(After(svg, "class=\"zero\" d=\"").at(0));
  EXPECT_NEAR(zero.at(0).second, sy(0), 0.01);
}

TEST(LineChart, HugeAndTinyMagnitudesGiveReadableTicks) {
  for (double scale : {1e-6, 1e9}) {
    LineChart c;
    c.series.push_back({"a", {{0, 0.3 * scale}, {1, 2.7 * scale}, {2, 1.1 * scale}}});
    const std::string svg = RenderLineChart(c);
    ExpectSound(svg);
    const TickScale sy = ReadTicks(svg, false);
    ASSERT_GE(sy.labels.size(), 3u);
    EXPECT_LE(sy.labels.size(), 9u);
    std::set<std::string> distinct(sy.labels.begin(), sy.labels.end());
    EXPECT_EQ(distinct.size(), sy.labels.size());
    EXPECT_GE(LabelValue(sy.labels.back()), 2.7 * scale * (1 - 1e-12));
    EXPECT_EQ(sy.labels.back(), scale < 1 ? "0.0000030" : "3,000,000,000");  // step 5e-7, 5e8
  }
}

TEST(LineChart, LongTextIsCutWithTheFullTextOnHover) {
  LineChart c = TwoSeries();
  c.title = std::string(300, 'T') + " & end";
  c.series[0].name = "a very long series name that goes on " + std::string(200, 'x');
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  EXPECT_NE(svg.find("<title>" + std::string(300, 'T') + " &amp; end</title>"), std::string::npos);
  const std::string shown = Texts(svg).front();
  EXPECT_LT(shown.size(), 120u);
  EXPECT_EQ(shown.substr(shown.size() - 3), "…");
  const std::string legend = Texts(Group(svg, "legend")).front();
  EXPECT_EQ(legend.rfind("a very long series", 0), 0u);
  EXPECT_EQ(legend.substr(legend.size() - 3), "…");
}

// 100,000 points are drawn with at most ~4 per pixel column, and the one
// spike still reaches the top of the plot.
TEST(LineChart, ManyPointsAreReducedAndThePeakSurvives) {
  LineChart c;
  c.series.push_back({"gpu", Noisy(100000, 61234, 1000)});
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  EXPECT_LT(svg.size(), 120000u);
  const TickScale sx = ReadTicks(svg, true), sy = ReadTicks(svg, false);
  EXPECT_EQ(sy.labels.back(), "1,000");
  bool peak = false;
  for (const Vertex& v : Vertices(After(svg, "class=\"series\" d=\"").at(0))) {
    peak |= std::fabs(v.second - sy(1000)) < 0.01 && std::fabs(v.first - sx(612.34)) < 1.5;
  }
  EXPECT_TRUE(peak);
}

TEST(LineChart, ClockAxis) {
  LineChart c;
  c.x = {"Time", "s", true};
  c.series.push_back({"a", {{0, 1}, {1800, 2}, {3000, 1}}});
  const std::string svg = RenderLineChart(c);
  ExpectSound(svg);
  const std::vector<std::string> labels = Texts(Group(svg, "xtick"));
  ASSERT_GE(labels.size(), 3u);
  EXPECT_EQ(labels.front(), "0:00");
  EXPECT_NE(labels.back().find(':'), std::string::npos);
  EXPECT_NE(svg.find(">Time (m:ss)</text>"), std::string::npos);
}

TEST(LineChart, DeterministicWithIdsUniquePerChart) {
  const LineChart a = TwoSeries();
  LineChart b = a;
  b.series[1].points[2].y = 26;
  EXPECT_EQ(RenderLineChart(a), RenderLineChart(a));
  const std::string ida = After(RenderLineChart(a), "id=\"").at(0);
  const std::string idb = After(RenderLineChart(b), "id=\"").at(0);
  EXPECT_NE(ida, idb);
  EXPECT_EQ(ida.rfind("wp", 0), 0u);
  LineChart named = a;
  named.id_prefix = "fig 2<x>";
  EXPECT_EQ(After(RenderLineChart(named), "id=\"").at(0), "fig2x-title");
  named.id_prefix = "3";
  EXPECT_EQ(After(RenderLineChart(named), "id=\"").at(0), "wp-3-title");
}

// ---- bar charts ------------------------------------------------------------

BarChart Stacked() {
  BarChart c;
  c.title = "Energy per run";
  c.y = {"Energy", "kJ"};
  c.part_names = {"CPU", "GPU", "DRAM"};
  c.bars = {{"train-resnet50", {12, 30, 3}}, {"eval", {4, 0, 1}}, {"preprocess <big>", {8, 2, kNaN}}};
  return c;
}

TEST(BarChart, StackedPartsAlongTheValueScale) {
  const BarChart c = Stacked();
  const std::string svg = RenderBarChart(c);
  ExpectSound(svg);
  const TickScale sx = ReadTicks(svg, true);
  const std::string bars = Group(svg, "bars");
  const std::vector<std::string> xs = After(bars, "<rect x=\""), ws = After(bars, "\" width=\"");
  ASSERT_EQ(xs.size(), 7u);  // 3 + 2 (zero part skipped) + 2 (NaN part skipped)
  // First bar: parts start at 0, 12 and 42 and end at 45.
  EXPECT_NEAR(std::stod(xs[0]), sx(0), 0.01);
  EXPECT_NEAR(std::stod(xs[1]), sx(12), 0.01);
  EXPECT_NEAR(std::stod(xs[2]), sx(42), 0.01);
  EXPECT_NEAR(std::stod(xs[2]) + std::stod(ws[2]), sx(45), 0.02);
  const std::vector<std::string> texts = Texts(Group(svg, "categories"));
  EXPECT_EQ(texts[0], "train-resnet50");
  EXPECT_EQ(texts[1], "45.0");  // the total
  EXPECT_EQ(texts[3], "5.0");   // with the same decimals as the others
  EXPECT_EQ(texts[4], "preprocess &lt;big&gt;");
  EXPECT_NE(bars.find("<title>train-resnet50, GPU: 30.0 kJ</title>"), std::string::npos);
  EXPECT_NE(svg.find(">Energy (kJ)</text>"), std::string::npos);
}

// Hatched parts refer to patterns defined in the same chart, under ids that
// differ between charts, so several charts can share an HTML page.
TEST(BarChart, PatternsAndLegendGreyscaleSafe) {
  const std::string svg = RenderBarChart(Stacked());
  ExpectSound(svg);
  std::set<std::string> ids;
  for (const std::string& id : After(svg, " id=\"")) EXPECT_TRUE(ids.insert(id).second) << id;
  const std::vector<std::string> refs = After(svg, "fill=\"url(#");
  ASSERT_FALSE(refs.empty());
  for (const std::string& r : refs) EXPECT_TRUE(ids.count(r.substr(0, r.size() - 1))) << r;
  const std::vector<std::string> legend = Texts(Group(svg, "legend"));
  EXPECT_EQ(legend, (std::vector<std::string>{"CPU", "GPU", "DRAM"}));
  std::set<std::string> fills;
  for (const std::string& f : After(Group(svg, "legend"), "fill=\"")) fills.insert(f);
  EXPECT_GE(fills.size(), 3u);  // three distinct swatches (text fill aside)

  BarChart other = Stacked();
  other.title = "Energy per run, again";
  std::set<std::string> other_ids;
  for (const std::string& id : After(RenderBarChart(other), " id=\"")) EXPECT_FALSE(ids.count(id)) << id;

  BarChart single;
  single.bars = {{"a", {3}}, {"b", {5}}};
  const std::string one = RenderBarChart(single);
  ExpectSound(one);
  EXPECT_EQ(one.find("class=\"legend\""), std::string::npos);
}

TEST(BarChart, HeightGrowsWithBarsAndLongLabelsAreCut) {
  BarChart c;
  for (int i = 0; i < 10; ++i) c.bars.push_back({"run " + std::to_string(i), {1.0 + i}});
  const std::string ten = RenderBarChart(c);
  for (int i = 10; i < 20; ++i) c.bars.push_back({"run " + std::to_string(i), {1.0 + i}});
  c.bars.back().label = "an extremely long run name from a parameter sweep " + std::string(200, 'z');
  const std::string twenty = RenderBarChart(c);
  ExpectSound(ten);
  ExpectSound(twenty);
  const int h10 = std::stoi(After(ten, "height=\"").at(0)), h20 = std::stoi(After(twenty, "height=\"").at(0));
  EXPECT_EQ(h20 - h10, 10 * 24);
  EXPECT_NE(twenty.find("<title>an extremely long run name"), std::string::npos);
  EXPECT_NE(twenty.find("…</text>"), std::string::npos);
}

TEST(BarChart, NegativePartsGoBelowZeroAndEmptySaysNoData) {
  BarChart c;
  c.bars = {{"offset", {-20, 50}}};
  c.part_names = {"credit", "use"};
  const std::string svg = RenderBarChart(c);
  ExpectSound(svg);
  const TickScale sx = ReadTicks(svg, true);
  const std::vector<std::string> xs = After(Group(svg, "bars"), "<rect x=\"");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_NEAR(std::stod(xs[0]), sx(-20), 0.01);
  EXPECT_NEAR(std::stod(xs[1]), sx(0), 0.01);
  EXPECT_NEAR(Vertices(After(svg, "class=\"base\" d=\"")
                           .at(0)
                           .substr(0, After(svg, "class=\"base\" d=\"").at(0).find('V')))
                  .at(0)
                  .first,
              sx(0), 0.01);

  BarChart empty;
  BarChart gaps;
  gaps.bars = {{"a", {kNaN}}, {"b", {}}};
  for (const BarChart& e : {empty, gaps}) {
    const std::string s = RenderBarChart(e);
    ExpectSound(s);
    EXPECT_NE(s.find(">No data</text>"), std::string::npos);
  }
}

TEST(BarChart, VerticalBarsRiseFromZero) {
  BarChart c = Stacked();
  c.horizontal = false;
  const std::string svg = RenderBarChart(c);
  ExpectSound(svg);
  const TickScale sy = ReadTicks(svg, false);
  const std::string bars = Group(svg, "bars");
  const std::vector<std::string> ys = After(bars, "\" y=\""), hs = After(bars, "\" height=\"");
  ASSERT_EQ(ys.size(), 7u);
  EXPECT_NEAR(std::stod(ys[0]) + std::stod(hs[0]), sy(0), 0.02);  // first part sits on 0
  EXPECT_NEAR(std::stod(ys[2]), sy(45), 0.01);                    // the stack's top
  EXPECT_EQ(After(svg, "height=\"").at(0), "300");
}

// Random charts from awkward values (deterministic seed): always sound.
TEST(Svg, AwkwardValuesNeverBreakTheMarkup) {
  const double pool[] = {kNaN, kInf, -kInf, 0, -0.0, 1e-300, 1e300, -1e300, -5, 3.3, 1e9, 1e-6, 42, 42};
  std::mt19937 rng(7);
  const auto pick = [&] { return pool[rng() % std::size(pool)]; };
  for (int round = 0; round < 150; ++round) {
    LineChart line;
    line.step = round % 2;
    line.y_from_zero = round % 3 != 0;
    line.x.clock = round % 5 == 0;
    line.width = static_cast<int>(rng() % 900) - 100;
    line.height = static_cast<int>(rng() % 600) - 50;
    BarChart bar;
    bar.horizontal = round % 2;
    bar.width = line.width;
    bar.height = round % 4 ? 0 : line.height;
    for (std::size_t s = 0, n = rng() % 4; s < n; ++s) {
      Series series{"s" + std::to_string(s), {}};
      for (std::size_t i = 0, m = rng() % 6; i < m; ++i) series.points.push_back({pick(), pick()});
      line.series.push_back(series);
      Bar b{"b" + std::to_string(s), {}};
      for (std::size_t i = 0, m = rng() % 4; i < m; ++i) b.parts.push_back(pick());
      bar.bars.push_back(b);
    }
    SCOPED_TRACE(round);
    ExpectSound(RenderLineChart(line));
    ExpectSound(RenderBarChart(bar));
  }
}

// ---- all together ----------------------------------------------------------

std::vector<std::string> AllKinds() {
  LineChart odd = TwoSeries();
  odd.series[0].name = "quotes \" ' & <tags> \xff";
  odd.step = true;
  BarChart vertical = Stacked();
  vertical.horizontal = false;
  return {RenderLineChart(TwoSeries()), RenderLineChart(odd),     RenderLineChart(LineChart{}),
          RenderBarChart(Stacked()),    RenderBarChart(vertical), RenderBarChart(BarChart{})};
}

TEST(Svg, PythonXmlParserAcceptsEveryKind) { ExpectPythonParses(AllKinds()); }

// Examples to look at: WATTPRINT_SVG_EXAMPLES=/tmp/svg_examples svg_test
TEST(Svg, WritesExamplesOnRequest) {
  const char* dir = std::getenv("WATTPRINT_SVG_EXAMPLES");
  if (!dir) GTEST_SKIP() << "set WATTPRINT_SVG_EXAMPLES to a folder";
  LineChart line;
  line.title = "Power during training (node gpu-07)";
  line.x = {"Time", "s", true};
  line.y = {"Power", "W"};
  line.step = true;
  const char* names[] = {"GPU 0", "GPU 1", "CPU package", "DRAM"};
  for (int s = 0; s < 4; ++s) {
    Series series{names[s], {}};
    for (int i = 0; i <= 240; ++i) {
      const double t = i * 15.0;
      const double base = s < 2    ? 180 + 90 * std::sin(t / 400.0 + s)
                          : s == 2 ? 95 + 25 * std::sin(t / 250.0)
                                   : 18;
      series.points.push_back({t, i == 120 && s == 3 ? kNaN : base});
    }
    line.series.push_back(std::move(series));
  }
  BarChart bar = Stacked();
  bar.bars.push_back({"a-very-long-hyperparameter-sweep-run-name-lr-0.001-batch-256-seed-42", {20, 55, 4}});
  LineChart many;
  many.title = "Eight series";
  many.y = {"Power", "W"};
  for (int s = 0; s < 8; ++s) {
    Series series{"series " + std::to_string(s), {}};
    for (int i = 0; i <= 20; ++i) series.points.push_back({i * 1.0, 10.0 * s + 5 * std::sin(i / 3.0 + s)});
    many.series.push_back(std::move(series));
  }
  BarChart parts;
  parts.title = "Six parts";
  parts.y = {"Energy", "Wh"};
  parts.part_names = {"CPU", "GPU", "DRAM", "Disk", "Network", "Other"};
  parts.bars = {{"run a", {5, 9, 2, 1, 1, 3}}, {"run b", {3, 12, 1.5, 2, 0.5, 2}}};
  const std::string d(dir);
  const std::pair<std::string, std::string> files[] = {
      {"line", RenderLineChart(line)},
      {"bar", RenderBarChart(bar)},
      {"many", RenderLineChart(many)},
      {"parts", RenderBarChart(parts)},
      {"empty", RenderLineChart(LineChart{"Nothing measured", {}, {}, {}, false, true, 320, 160, ""})},
      {"bar_vertical", [&] {
         bar.horizontal = false;
         return RenderBarChart(bar);
       }()}};
  std::ofstream page(d + "/page.html", std::ios::binary);
  page << "<!doctype html><html><body style=\"margin:0\">\n";
  for (const auto& [name, svg] : files) {
    std::ofstream(d + "/" + name + ".svg", std::ios::binary) << svg;
    page << svg;
  }
  page << "</body></html>\n";
}

}  // namespace
}  // namespace wattprint::svg
