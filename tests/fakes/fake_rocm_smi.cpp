// A fake librocm_smi64 for tests: exports the ROCm SMI functions wattprint
// uses and answers from the scenario file named by $FAKE_ROCM_SMI_SCENARIO,
// read anew at every call ("key value" lines, the last one of a key wins).
//   init_rc N    count N
//   gpuI.name TEXT          gpuI.unique_id N
//   gpuI.energy_count N     gpuI.resolution_uj F   (absent: NOT_SUPPORTED)
//   gpuI.energy_rc N        gpuI.power_uw N (absent: NOT_SUPPORTED)  gpuI.power_rc N
//   gpuI.busy N             gpuI.vram_used N   gpuI.vram_total N   gpuI.cap_uw N
// FAKE_RSMI_NO_ENERGY drops rsmi_dev_energy_count_get.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

constexpr uint32_t kOk = 0, kInvalid = 1, kNotSupported = 2;

using Scenario = std::map<std::string, std::string>;

Scenario Load() {
  Scenario s;
  const char* path = std::getenv("FAKE_ROCM_SMI_SCENARIO");
  FILE* f = path ? std::fopen(path, "r") : nullptr;
  if (!f) return s;
  char line[4096];
  while (std::fgets(line, sizeof line, f)) {
    std::string l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    const size_t sp = l.find(' ');
    if (l.empty() || l[0] == '#' || sp == std::string::npos) continue;
    s[l.substr(0, sp)] = l.substr(sp + 1);
  }
  std::fclose(f);
  return s;
}

std::string Key(uint32_t i, const char* what) { return "gpu" + std::to_string(i) + "." + what; }
bool Has(const Scenario& s, const std::string& k) { return s.count(k) > 0; }
unsigned long long Num(const Scenario& s, const std::string& k, unsigned long long def) {
  auto it = s.find(k);
  return it == s.end() ? def : std::strtoull(it->second.c_str(), nullptr, 10);
}

// The scenario when `i` is a valid device, else empty with *rc set.
bool Valid(uint32_t i, Scenario* s, uint32_t* rc) {
  *s = Load();
  *rc = i < Num(*s, "count", 0) ? kOk : kInvalid;
  return *rc == kOk;
}

// Fills *out from key `k`, or returns the key's _rc / NOT_SUPPORTED.
uint32_t Value(uint32_t i, const char* k, const char* rc_key, uint64_t* out) {
  Scenario s;
  uint32_t rc;
  if (!Valid(i, &s, &rc)) return rc;
  if (rc_key && Has(s, Key(i, rc_key))) return static_cast<uint32_t>(Num(s, Key(i, rc_key), 0));
  if (!Has(s, Key(i, k))) return kNotSupported;
  *out = Num(s, Key(i, k), 0);
  return kOk;
}

}  // namespace

extern "C" {

uint32_t rsmi_init(uint64_t) { return static_cast<uint32_t>(Num(Load(), "init_rc", 0)); }
uint32_t rsmi_shut_down() { return kOk; }

uint32_t rsmi_status_string(uint32_t rc, const char** out) {
  *out = rc == kNotSupported ? "RSMI_STATUS_NOT_SUPPORTED" : rc == 4 ? "RSMI_STATUS_PERMISSION" : "RSMI_STATUS_OTHER";
  return kOk;
}

uint32_t rsmi_num_monitor_devices(uint32_t* n) {
  *n = static_cast<uint32_t>(Num(Load(), "count", 0));
  return kOk;
}

uint32_t rsmi_dev_name_get(uint32_t i, char* buf, size_t len) {
  Scenario s;
  uint32_t rc;
  if (!Valid(i, &s, &rc)) return rc;
  std::snprintf(buf, len, "%s", s[Key(i, "name")].c_str());
  return kOk;
}

uint32_t rsmi_dev_unique_id_get(uint32_t i, uint64_t* id) { return Value(i, "unique_id", nullptr, id); }

#ifndef FAKE_RSMI_NO_ENERGY
uint32_t rsmi_dev_energy_count_get(uint32_t i, uint64_t* count, float* res, uint64_t* ts) {
  Scenario s;
  uint32_t rc;
  if (!Valid(i, &s, &rc)) return rc;
  if (Has(s, Key(i, "energy_rc"))) return static_cast<uint32_t>(Num(s, Key(i, "energy_rc"), 0));
  if (!Has(s, Key(i, "energy_count"))) return kNotSupported;
  *count = Num(s, Key(i, "energy_count"), 0);
  *res = std::strtof(s[Key(i, "resolution_uj")].c_str(), nullptr);
  *ts = 0;
  return kOk;
}
#endif

uint32_t rsmi_dev_power_ave_get(uint32_t i, uint32_t, uint64_t* uw) { return Value(i, "power_uw", "power_rc", uw); }
uint32_t rsmi_dev_power_cap_get(uint32_t i, uint32_t, uint64_t* uw) { return Value(i, "cap_uw", nullptr, uw); }

uint32_t rsmi_dev_busy_percent_get(uint32_t i, uint32_t* busy) {
  uint64_t v = 0;
  const uint32_t rc = Value(i, "busy", nullptr, &v);
  if (rc == kOk) *busy = static_cast<uint32_t>(v);
  return rc;
}

uint32_t rsmi_dev_memory_usage_get(uint32_t i, int, uint64_t* b) { return Value(i, "vram_used", nullptr, b); }
uint32_t rsmi_dev_memory_total_get(uint32_t i, int, uint64_t* b) { return Value(i, "vram_total", nullptr, b); }

}  // extern "C"
