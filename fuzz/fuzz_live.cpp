// The live-intensity parsers: UK Carbon Intensity and Electricity Maps
// answers, ISO 8601 times, and the disk cache. Whatever a server or a disk
// sends, a reading is a finite, non-negative intensity at a time from
// 1970-01-01 up to (not including) 2200-01-01, or an error; never an
// exception or undefined behaviour.
//
// Input: the first byte picks the parser, the rest is its text.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
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
