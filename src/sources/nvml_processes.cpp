#include "sources/nvml_processes.h"

#include <charconv>

#include "sources/gpu_ids.h"
#include "sources/nvml_api.h"

namespace wattprint {

namespace {

// NVML's per-process sample period can be longer than the poll: a poll
// without a fresh sample keeps the last shares this long, as the NVML
// source does, then takes the GPU as idle.
constexpr auto kShareCarry = std::chrono::seconds(5);

enum class Method { kNone, kSm, kMemory };

}  // namespace

struct NvmlProcessUse::Gpu {
  std::string device_id;
  nvml::Device handle = nullptr;
  Method method = Method::kNone;
  double memory_total_bytes = 0;
  unsigned long long last_sample_us = 0;
  std::vector<std::pair<int, double>> last;  // the shares from the last fresh samples
  SteadyTime last_fresh{};
};

NvmlProcessUse::NvmlProcessUse(std::shared_ptr<nvml::Library> lib, std::vector<Gpu> gpus)
    : lib_(std::move(lib)), gpus_(std::move(gpus)) {}
NvmlProcessUse::~NvmlProcessUse() = default;

Result<std::unique_ptr<NvmlProcessUse>> NvmlProcessUse::Open(const std::string& library,
                                                             const std::vector<std::string>& device_ids) {
  Result<std::shared_ptr<nvml::Library>> lib = nvml::Load(library);
  if (!lib.ok()) return lib.status();
  const nvml::Api& a = (*lib)->api();
  std::vector<Gpu> gpus;
  for (const std::string& id : device_ids) {
    Gpu g;
    g.device_id = id;
    unsigned int index = 0;
    const bool named = id.starts_with("gpu-") &&
                       std::from_chars(id.data() + 4, id.data() + id.size(), index).ec == std::errc();
    if (named && a.get_handle_by_index(index, &g.handle) == nvml::kSuccess) {
      nvml::ProcessUtilizationSample one{};
      unsigned int n = 1;
      nvml::Memory m{};
      if (a.get_memory_info && a.get_memory_info(g.handle, &m) == nvml::kSuccess) {
        g.memory_total_bytes = static_cast<double>(m.total);
      }
      const nvml::Return rc =
          a.get_process_utilization ? a.get_process_utilization(g.handle, &one, &n, 0) : nvml::kErrorNotSupported;
      if (rc != nvml::kErrorNoPermission && rc != nvml::kErrorNotSupported) {
        g.method = Method::kSm;
      } else if (!a.compute_processes_symbol.empty() && g.memory_total_bytes > 0) {
        g.method = Method::kMemory;
      }
    }
    gpus.push_back(std::move(g));
  }
  return std::unique_ptr<NvmlProcessUse>(new NvmlProcessUse(std::move(lib).value(), std::move(gpus)));
}

std::vector<GpuProcessShares> NvmlProcessUse::Read(SteadyTime now) {
  const nvml::Api& a = lib_->api();
  std::vector<GpuProcessShares> out;
  out.reserve(gpus_.size());
  for (Gpu& g : gpus_) {
    GpuProcessShares s;
    s.device_id = g.device_id;
    bool ok = false;
    if (g.method == Method::kSm) {
      const auto samples = nvml::ProcessSmSamples(a, g.handle, &g.last_sample_us, &ok);
      if (ok && !samples.empty()) {
        g.last = sources::ProcessSmShares(samples);
        g.last_fresh = now;
      } else if (ok && now - g.last_fresh > kShareCarry) {
        g.last.clear();  // no process busy on the GPU: idle, unattributed
      }
      s.known = ok;
      if (ok) s.shares = g.last;
    } else if (g.method == Method::kMemory) {
      const auto procs = nvml::ComputeProcesses(a, g.handle, &ok);
      s.known = ok;
      for (const auto& [pid, bytes] : procs) {
        // All ones (NVML_VALUE_NOT_AVAILABLE) or beyond the GPU: unknown.
        if (!(bytes >= 0.0) || bytes > g.memory_total_bytes) {
          s.known = false;
          break;
        }
        s.shares.emplace_back(pid, bytes / g.memory_total_bytes);
      }
      if (!s.known) s.shares.clear();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace wattprint
