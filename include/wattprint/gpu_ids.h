// GPU lists: --gpu-ids / gpu_ids and CUDA_VISIBLE_DEVICES, parsed once (by
// the config) into selectors that the GPU sources resolve against the
// devices they enumerate.
//
// Thread safety: pure functions, value types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wattprint/status.h"

namespace wattprint {

// One entry of a GPU list: an index ("0"), a GPU UUID or unique prefix of
// one ("GPU-5d1d8b2e"), or a MIG device UUID ("MIG-...", or the older
// "MIG-GPU-<uuid>/<gi>/<ci>" form).
struct GpuSelector {
  enum class Kind { kIndex, kGpuUuid, kMigUuid } kind = Kind::kIndex;
  unsigned int index = 0;
  std::string uuid;
  std::string text;  // as written
};

// --gpu-ids: comma-separated entries, spaces around them ignored. Any
// entry that is not an index, GPU-... or MIG-... is InvalidArgument.
Result<std::vector<GpuSelector>> ParseGpuIds(std::string_view text);

// CUDA_VISIBLE_DEVICES as the CUDA runtime reads it: entries up to the
// first invalid one ("-1" included) are used and the rest ignored, so ""
// and "-1" select no GPU (CUDA C Programming Guide, "CUDA Environment
// Variables", 2024).
std::vector<GpuSelector> ParseCudaVisibleDevices(std::string_view text);

}  // namespace wattprint
