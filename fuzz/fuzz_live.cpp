// The live-intensity parsers: UK Carbon Intensity and Electricity Maps
// answers, ISO 8601 times, and the disk cache. Whatever a server or a disk
// sends, a reading is a finite, non-negative intensity at a time from
// 1970-01-01 up to (not including) 2200-01-01, or an error; never an
// exception or undefined behaviour. Forecasts (UK fw24h, Electricity Maps
// /carbon-intensity/forecast) hold such readings in time order.
//
// Input: the first byte picks the parser, the rest is its text.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.h"
#include "wattprint/live_intensity.h"

using namespace wattprint;

namespace {

const SystemTime kMin = std::chrono::system_clock::from_time_t(0);
// 2200-01-01T00:00:00Z
const SystemTime kMax = std::chrono::system_clock::from_time_t(7258118400);

void CheckTime(SystemTime t) { FUZZ_CHECK(t >= kMin && t < kMax); }

void CheckReading(const Result<LiveReading>& r) {
  if (!r.ok()) {
    FUZZ_CHECK(!r.status().message().empty());
    return;
  }
  const double g = r->point.value.g_per_kwh();
  FUZZ_CHECK(std::isfinite(g) && g >= 0);
  CheckTime(r->point.from);
  FUZZ_CHECK(!r->source.empty());
}

// A forecast: periods sorted, each finite and non-negative, ending by
// `end`; its mean over any window is within its points' range.
void CheckForecast(const Result<LiveForecast>& f) {
  if (!f.ok()) {
    FUZZ_CHECK(!f.status().message().empty());
    return;
  }
  FUZZ_CHECK(!f->points.empty());
  double lo = 1e300, hi = -1;
  for (size_t i = 0; i < f->points.size(); ++i) {
    const double g = f->points[i].value.g_per_kwh();
    FUZZ_CHECK(std::isfinite(g) && g >= 0);
    CheckTime(f->points[i].from);
    if (i > 0) FUZZ_CHECK(f->points[i - 1].from <= f->points[i].from);
    lo = std::min(lo, g), hi = std::max(hi, g);
  }
  FUZZ_CHECK(f->points.back().from <= f->end);
  auto mean = MeanOver(*f, f->points.front().from, f->end);
  if (mean) FUZZ_CHECK(mean->mean.g_per_kwh() >= lo * (1 - 1e-9) && mean->mean.g_per_kwh() <= hi * (1 + 1e-9));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 5:
      CheckForecast(ParseUkForecast(text, false));
      break;
    case 6:
      CheckForecast(ParseUkForecast(text, true));
      break;
    case 7:
      CheckForecast(ParseElectricityMapsForecast(text));
      break;
    case 0:
      CheckReading(ParseUkIntensity(text, false));
      break;
    case 1:
      CheckReading(ParseUkIntensity(text, true));
      break;
    case 2:
      CheckReading(ParseElectricityMapsLatest(text));
      break;
    case 3: {
      Result<SystemTime> t = ParseIsoUtc(text);
      if (t.ok()) CheckTime(*t);
      break;
    }
    default: {
      // The cache, read at a fixed "now" (2026-06-01T00:00:00Z) for the URL
      // the seeds use.
      const SystemTime now = std::chrono::system_clock::from_time_t(1780272000);
      for (LiveProvider p : {LiveProvider::kUk, LiveProvider::kElectricityMaps}) {
        auto c = ParseLiveCache(text, "http://127.0.0.1:1/intensity", now, std::chrono::seconds(1LL << 40), p,
                                false);
        if (!c) continue;
        FUZZ_CHECK(c->fetched_at <= now);
        CheckTime(c->fetched_at);
        CheckReading(c->reading);
      }
      break;
    }
  }
  return 0;
}
