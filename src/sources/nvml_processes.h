// Which processes use each NVIDIA GPU, for `monitor --attribute cgroups`:
// per poll, each process's share of every GPU the monitor measures, by the
// rule the NVML source uses for `run --scope process` (docs/ATTRIBUTION.md):
// its mean SM busy fraction over NVML's samples since the last poll, or,
// where NVML has no per-process utilisation, its GPU memory over the
// GPU's. Idle stays unattributed.
//
// Private header: not part of the public API.
// Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wattprint/clock.h"
#include "wattprint/status.h"

namespace wattprint::nvml {
class Library;
}

namespace wattprint {

struct GpuProcessShares {
  std::string device_id;  // "gpu-0", as the NVML source's channel
  // false: NVML could not say (MIG, the query failed); the GPU's energy
  // stays unattributed for the interval.
  bool known = false;
  std::vector<std::pair<int, double>> shares;  // (pid, 0..1)
};

class NvmlProcessUse {
 public:
  // Loads NVML (`library`, or the default names) and finds the GPUs of
  // these channels ("gpu-0", ...). NotFound when NVML cannot be loaded.
  static Result<std::unique_ptr<NvmlProcessUse>> Open(const std::string& library,
                                                      const std::vector<std::string>& device_ids);
  ~NvmlProcessUse();

  // Each GPU's per-process shares since the last call.
  std::vector<GpuProcessShares> Read(SteadyTime now);

  struct Gpu;

 private:
  NvmlProcessUse(std::shared_ptr<nvml::Library> lib, std::vector<Gpu> gpus);
  std::shared_ptr<nvml::Library> lib_;
  std::vector<Gpu> gpus_;
};

}  // namespace wattprint
