// What the collector reads from a request body: a wattprint record, a
// record's metadata, an interval of a live run, and times. Bad input is a
// BadField naming the field (answered 422), never a crash; what is
// accepted is a run or an interval whose times are in order and whose
// figures are finite and non-negative.
//
// Input: the first byte picks the reader (record, metadata, interval,
// time), the rest is the JSON (or the time's text).
#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "check.h"
#include "collector/api.h"

using namespace wattprint;
using wattprint::collector::BadField;

namespace {

bool Fine(double v) { return std::isfinite(v) && v >= 0; }

void CheckFigures(const store::Figures& f) {
  FUZZ_CHECK(Fine(f.cpu_kwh) && Fine(f.gpu_kwh) && Fine(f.ram_kwh) && Fine(f.energy_kwh));
  FUZZ_CHECK(Fine(f.emissions_kg) && Fine(f.water_l));
  FUZZ_CHECK(Fine(f.duration_s) && f.duration_s <= 1e9);
}

void CheckRun(const store::Run& r, bool whole) {
  FUZZ_CHECK(!r.id.empty());
  FUZZ_CHECK(r.end_us >= r.start_us);
  FUZZ_CHECK(r.complete == whole);
  if (!whole) return;
  CheckFigures(r.figures);
  FUZZ_CHECK(!r.intensity_g_per_kwh || Fine(*r.intensity_g_per_kwh));
  FUZZ_CHECK(r.intensity_year == 0 || (r.intensity_year >= 1900 && r.intensity_year <= 9999));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 4;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (which == 3) {
    Result<int64_t> t = collector::ParseTime(text);
    FUZZ_CHECK(t.ok() || !t.status().message().empty());
    return 0;
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    if (which == 0) CheckRun(collector::RunFromRecord(j), true);
    if (which == 1) CheckRun(collector::RunFromMetadata(j), false);
    if (which == 2) {
      const store::Interval iv = collector::IntervalFrom(j);
      FUZZ_CHECK(iv.seq >= 0 && iv.end_us >= iv.start_us);
      CheckFigures(iv.figures);
    }
  } catch (const BadField& b) {
    FUZZ_CHECK(!b.field.empty() && !b.message.empty());
  }
  return 0;
}
