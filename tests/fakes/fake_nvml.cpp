// A fake libnvidia-ml for tests: exports the NVML functions wattprint uses
// and answers from a scenario file named by $FAKE_NVML_SCENARIO, read anew
// at every call so a test (or the tracked command) can change it mid-run.
//
// Scenario: one "key value" per line; a later line overrides an earlier one
// with the same key, so appending a line is enough to move a counter.
//   init_rc N             nvmlInit's return code (default 0)
//   count N               number of GPUs
//   handle_rc N           nvmlDeviceGetHandleByIndex's return code
//   gpuI.name TEXT        gpuI.uuid TEXT
//   gpuI.energy_mj N      (absent: NOT_SUPPORTED)   gpuI.energy_rc N
//   gpuI.power_mw N       (absent: NOT_SUPPORTED)   gpuI.power_rc N
//   gpuI.util N           gpuI.mem_used N   gpuI.mem_total N   gpuI.limit_mw N
//   gpuI.lost 1           every call on the device returns GPU_IS_LOST (15)
//   gpuI.samples PID:SM,...   per-process utilisation samples, stamped
//   gpuI.samples_ts N         with this µs timestamp (default 1000)
//   gpuI.proc_util_rc N       nvmlDeviceGetProcessUtilization's return code
//   gpuI.procs PID:BYTES,...  running compute processes  gpuI.procs_rc N
//   gpuI.mig UUID             a MIG instance on GPU I
// Compile definitions drop symbols: FAKE_NVML_NO_ENERGY (no
// nvmlDeviceGetTotalEnergyConsumption), FAKE_NVML_LEGACY (only the
// unversioned nvmlInit/nvmlDeviceGetCount/HandleByIndex and the v1
// process list, as old drivers export).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr int kOk = 0, kInvalid = 2, kNotSupported = 3, kNotFound = 6, kInsufficient = 7, kLost = 15;
constexpr int kMaxGpus = 16;
int g_slots[kMaxGpus];
int g_mig_slots[kMaxGpus];

using Scenario = std::map<std::string, std::string>;

Scenario Load() {
  Scenario s;
  const char* path = std::getenv("FAKE_NVML_SCENARIO");
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

bool Has(const Scenario& s, const std::string& k) { return s.count(k) > 0; }
long long Num(const Scenario& s, const std::string& k, long long def) {
  auto it = s.find(k);
  return it == s.end() ? def : std::atoll(it->second.c_str());
}
std::string Key(int i, const char* what) { return "gpu" + std::to_string(i) + "." + what; }

// Index of a GPU handle, or -1.
int IndexOf(void* d) {
  for (int i = 0; i < kMaxGpus; ++i)
    if (d == &g_slots[i]) return i;
  return -1;
}

// The device's GPU index and scenario, or an error code in *rc.
int Device(void* d, Scenario* s, int* rc) {
  *s = Load();
  const int i = IndexOf(d);
  if (i < 0 || i >= Num(*s, "count", 0)) {
    *rc = kInvalid;
    return -1;
  }
  *rc = Num(*s, Key(i, "lost"), 0) ? kLost : kOk;
  return i;
}

std::vector<std::pair<unsigned, unsigned long long>> Pairs(const Scenario& s, const std::string& k) {
  std::vector<std::pair<unsigned, unsigned long long>> out;
  auto it = s.find(k);
  if (it == s.end()) return out;
  const char* p = it->second.c_str();
  while (*p) {
    char* end = nullptr;
    unsigned pid = static_cast<unsigned>(std::strtoul(p, &end, 10));
    if (*end != ':') break;
    unsigned long long v = std::strtoull(end + 1, &end, 10);
    out.emplace_back(pid, v);
    p = *end == ',' ? end + 1 : end;
    if (*end != ',') break;
  }
  return out;
}

int CopyText(const std::string& v, char* buf, unsigned len) {
  if (v.size() + 1 > len) return kInsufficient;
  std::memcpy(buf, v.c_str(), v.size() + 1);
  return kOk;
}

struct Memory { unsigned long long total, free, used; };
struct Utilization { unsigned gpu, memory; };
struct ProcV1 { unsigned pid; unsigned long long mem; };
struct ProcV2 { unsigned pid; unsigned long long mem; unsigned gi, ci; };
struct Sample { unsigned pid; unsigned long long ts; unsigned sm, mem, enc, dec; };

template <typename P>
int Processes(void* d, unsigned* n, P* out) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc != kOk) return rc;
  if (Has(s, Key(i, "procs_rc"))) return static_cast<int>(Num(s, Key(i, "procs_rc"), 0));
  auto procs = Pairs(s, Key(i, "procs"));
  if (procs.size() > *n) {
    *n = static_cast<unsigned>(procs.size());
    return kInsufficient;
  }
  *n = static_cast<unsigned>(procs.size());
  for (size_t k = 0; k < procs.size(); ++k) {
    out[k] = P{};
    out[k].pid = procs[k].first;
    out[k].mem = procs[k].second;
  }
  return kOk;
}

int CountImpl(unsigned* n) {
  *n = static_cast<unsigned>(Num(Load(), "count", 0));
  return kOk;
}

int HandleImpl(unsigned i, void** d) {
  Scenario s = Load();
  if (Has(s, "handle_rc")) return static_cast<int>(Num(s, "handle_rc", 0));
  if (i >= static_cast<unsigned>(Num(s, "count", 0)) || i >= kMaxGpus) return kInvalid;
  *d = &g_slots[i];
  return kOk;
}

}  // namespace

extern "C" {

#ifdef FAKE_NVML_LEGACY
int nvmlInit() { return static_cast<int>(Num(Load(), "init_rc", 0)); }
int nvmlDeviceGetCount(unsigned* n) { return CountImpl(n); }
int nvmlDeviceGetHandleByIndex(unsigned i, void** d) { return HandleImpl(i, d); }
int nvmlDeviceGetComputeRunningProcesses(void* d, unsigned* n, ProcV1* p) { return Processes(d, n, p); }
#else
int nvmlInit_v2() { return static_cast<int>(Num(Load(), "init_rc", 0)); }
int nvmlDeviceGetCount_v2(unsigned* n) { return CountImpl(n); }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** d) { return HandleImpl(i, d); }
int nvmlDeviceGetComputeRunningProcesses_v3(void* d, unsigned* n, ProcV2* p) { return Processes(d, n, p); }
#endif

int nvmlShutdown() { return kOk; }

const char* nvmlErrorString(int rc) {
  switch (rc) {
    case kOk: return "Success";
    case kNotSupported: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case kNotFound: return "Not Found";
    case kLost: return "GPU is lost";
    default: return "Unknown Error";
  }
}

int nvmlDeviceGetHandleByUUID(const char* uuid, void** d) {
  Scenario s = Load();
  for (int i = 0; i < Num(s, "count", 0) && i < kMaxGpus; ++i) {
    if (Has(s, Key(i, "uuid")) && s[Key(i, "uuid")] == uuid) {
      *d = &g_slots[i];
      return kOk;
    }
    if (Has(s, Key(i, "mig")) && s[Key(i, "mig")] == uuid) {
      *d = &g_mig_slots[i];
      return kOk;
    }
  }
  return kNotFound;
}

int nvmlDeviceGetDeviceHandleFromMigDeviceHandle(void* mig, void** parent) {
  for (int i = 0; i < kMaxGpus; ++i) {
    if (mig == &g_mig_slots[i]) {
      *parent = &g_slots[i];
      return kOk;
    }
  }
  return kInvalid;
}

int nvmlDeviceGetName(void* d, char* buf, unsigned len) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  return rc != kOk ? rc : CopyText(s[Key(i, "name")], buf, len);
}

int nvmlDeviceGetUUID(void* d, char* buf, unsigned len) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  return rc != kOk ? rc : CopyText(s[Key(i, "uuid")], buf, len);
}

int nvmlDeviceGetIndex(void* d, unsigned* index) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc == kOk) *index = static_cast<unsigned>(i);
  return rc;
}

#ifndef FAKE_NVML_NO_ENERGY
int nvmlDeviceGetTotalEnergyConsumption(void* d, unsigned long long* mj) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc != kOk) return rc;
  if (Has(s, Key(i, "energy_rc"))) return static_cast<int>(Num(s, Key(i, "energy_rc"), 0));
  if (!Has(s, Key(i, "energy_mj"))) return kNotSupported;
  *mj = static_cast<unsigned long long>(Num(s, Key(i, "energy_mj"), 0));
  return kOk;
}
#endif

int nvmlDeviceGetPowerUsage(void* d, unsigned* mw) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc != kOk) return rc;
  if (Has(s, Key(i, "power_rc"))) return static_cast<int>(Num(s, Key(i, "power_rc"), 0));
  if (!Has(s, Key(i, "power_mw"))) return kNotSupported;
  *mw = static_cast<unsigned>(Num(s, Key(i, "power_mw"), 0));
  return kOk;
}

int nvmlDeviceGetEnforcedPowerLimit(void* d, unsigned* mw) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc != kOk) return rc;
  if (!Has(s, Key(i, "limit_mw"))) return kNotSupported;
  *mw = static_cast<unsigned>(Num(s, Key(i, "limit_mw"), 0));
  return kOk;
}

int nvmlDeviceGetUtilizationRates(void* d, Utilization* u) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc != kOk) return rc;
  if (!Has(s, Key(i, "util"))) return kNotSupported;
  u->gpu = static_cast<unsigned>(Num(s, Key(i, "util"), 0));
  u->memory = 0;
  return kOk;
}

int nvmlDeviceGetMemoryInfo(void* d, Memory* m) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc != kOk) return rc;
  m->total = static_cast<unsigned long long>(Num(s, Key(i, "mem_total"), 0));
  m->used = static_cast<unsigned long long>(Num(s, Key(i, "mem_used"), 0));
  m->free = m->total - m->used;
  return kOk;
}

int nvmlDeviceGetProcessUtilization(void* d, Sample* out, unsigned* n, unsigned long long last_seen) {
  Scenario s;
  int rc;
  const int i = Device(d, &s, &rc);
  if (rc != kOk) return rc;
  if (Has(s, Key(i, "proc_util_rc"))) return static_cast<int>(Num(s, Key(i, "proc_util_rc"), 0));
  const unsigned long long ts = static_cast<unsigned long long>(Num(s, Key(i, "samples_ts"), 1000));
  auto samples = Pairs(s, Key(i, "samples"));
  if (samples.empty() || ts <= last_seen) return kNotFound;
  if (samples.size() > *n) {
    *n = static_cast<unsigned>(samples.size());
    return kInsufficient;
  }
  *n = static_cast<unsigned>(samples.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    out[k] = Sample{samples[k].first, ts, static_cast<unsigned>(samples[k].second), 0, 0, 0};
  }
  return kOk;
}

}  // extern "C"
