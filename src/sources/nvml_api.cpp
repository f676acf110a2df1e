// dlopen-based NVML loader; see nvml_api.h.
#include "sources/nvml_api.h"

#include <dlfcn.h>

#include <algorithm>

#include <fmt/format.h>

namespace wattprint::nvml {
namespace {

// Binds the first of `names` the library exports; leaves *fn null when none.
template <typename Fn>
const char* Bind(void* handle, Fn* fn, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (void* p = dlsym(handle, n)) {
      *fn = reinterpret_cast<Fn>(p);
      return n;
    }
  }
  *fn = nullptr;
  return nullptr;
}

Api BindAll(void* h) {
  Api a;
  Bind(h, &a.init, {"nvmlInit_v2", "nvmlInit"});
  Bind(h, &a.shutdown, {"nvmlShutdown"});
  Bind(h, &a.error_string, {"nvmlErrorString"});
  Bind(h, &a.get_count, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  Bind(h, &a.get_handle_by_index, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  Bind(h, &a.get_handle_by_uuid, {"nvmlDeviceGetHandleByUUID"});
  Bind(h, &a.get_parent_of_mig, {"nvmlDeviceGetDeviceHandleFromMigDeviceHandle"});
  Bind(h, &a.is_mig_handle, {"nvmlDeviceIsMigDeviceHandle"});
  Bind(h, &a.get_name, {"nvmlDeviceGetName"});
  Bind(h, &a.get_uuid, {"nvmlDeviceGetUUID"});
  Bind(h, &a.get_index, {"nvmlDeviceGetIndex"});
  Bind(h, &a.get_total_energy, {"nvmlDeviceGetTotalEnergyConsumption"});
  Bind(h, &a.get_power_usage, {"nvmlDeviceGetPowerUsage"});
  Bind(h, &a.get_power_limit, {"nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetPowerManagementLimit"});
  Bind(h, &a.get_utilization, {"nvmlDeviceGetUtilizationRates"});
  Bind(h, &a.get_memory_info, {"nvmlDeviceGetMemoryInfo"});
  Bind(h, &a.get_process_utilization, {"nvmlDeviceGetProcessUtilization"});
  const char* v2 = Bind(h, &a.get_compute_processes_v2,
                        {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"});
  if (v2 != nullptr) {
    a.compute_processes_symbol = v2;
  } else if (Bind(h, &a.get_compute_processes_v1, {"nvmlDeviceGetComputeRunningProcesses"})) {
    a.compute_processes_symbol = "nvmlDeviceGetComputeRunningProcesses";
  }
  return a;
}

struct Opened {
  void* handle = nullptr;
  std::string path;
  std::string errors;
};

Opened Open(const std::string& path) {
  Opened o;
  std::vector<std::string> names = path.empty() ? DefaultLibraryNames() : std::vector<std::string>{path};
  for (const std::string& n : names) {
    // RTLD_LOCAL: NVML's symbols must not interpose on anything else.
    o.handle = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (o.handle) {
      o.path = n;
      return o;
    }
    const char* e = dlerror();
    o.errors += (o.errors.empty() ? "" : "; ") + std::string(e ? e : n + ": cannot load");
  }
  return o;
}

}  // namespace

std::vector<std::string> DefaultLibraryNames() { return {"libnvidia-ml.so.1", "libnvidia-ml.so"}; }

Library::~Library() {
  if (api_.shutdown) api_.shutdown();
  if (handle_) dlclose(handle_);
}

std::string Library::ErrorText(Return r) const {
  const char* s = api_.error_string ? api_.error_string(r) : nullptr;
  return fmt::format("{} ({})", s ? s : "NVML error", r);
}

Status Library::ToStatus(Return r, const std::string& what) const {
  const std::string m = what + ": " + ErrorText(r);
  switch (r) {
    case kSuccess: return Status::Ok();
    case kErrorNotSupported: return Status::NotSupported(m);
    case kErrorNoPermission: return Status::PermissionDenied(m);
    case kErrorNotFound: return Status::NotFound(m);
    case kErrorInvalidArgument: return Status::InvalidArgument(m);
    default: return Status::IOError(m);
  }
}

Result<std::shared_ptr<Library>> Load(const std::string& path) {
  Opened o = Open(path);
  if (!o.handle) return Status::NotFound("NVML library not found: " + o.errors);
  Api api = BindAll(o.handle);
  if (!api.init || !api.get_count || !api.get_handle_by_index) {
    dlclose(o.handle);
    return Status::NotFound(o.path + " lacks nvmlInit, nvmlDeviceGetCount or nvmlDeviceGetHandleByIndex");
  }
  const Return r = api.init();
  if (r != kSuccess) {
    // No nvmlShutdown after a failed nvmlInit; the library is unloaded.
    api.shutdown = nullptr;
    Library failed(o.handle, api, o.path);
    return failed.ToStatus(r, "nvmlInit");
  }
  return std::make_shared<Library>(o.handle, api, o.path);
}

std::vector<std::pair<int, double>> ProcessSmSamples(const Api& a, Device d, unsigned long long* last_us, bool* ok) {
  *ok = false;
  if (a.get_process_utilization == nullptr) return {};
  std::vector<ProcessUtilizationSample> buf(64);
  for (int attempt = 0; attempt < 3; ++attempt) {
    unsigned int n = static_cast<unsigned int>(buf.size());
    const Return rc = a.get_process_utilization(d, buf.data(), &n, *last_us);
    if (rc == kErrorInsufficientSize) {
      buf.resize(std::max<size_t>(n, buf.size() * 2));
      continue;
    }
    // NOT_FOUND: no process used the GPU since the last timestamp.
    *ok = rc == kSuccess || rc == kErrorNotFound;
    std::vector<std::pair<int, double>> out;
    if (rc != kSuccess) return out;
    for (unsigned int i = 0; i < n && i < buf.size(); ++i) {
      out.emplace_back(static_cast<int>(buf[i].pid), static_cast<double>(buf[i].sm_util));
      *last_us = std::max(*last_us, buf[i].timestamp_us);
    }
    return out;
  }
  return {};
}

namespace {

template <typename Info, typename Fn>
std::vector<std::pair<int, double>> ListProcesses(Fn fn, Device d, bool* ok) {
  std::vector<Info> buf(64);
  for (int attempt = 0; attempt < 3; ++attempt) {
    unsigned int n = static_cast<unsigned int>(buf.size());
    const Return rc = fn(d, &n, buf.data());
    if (rc == kErrorInsufficientSize) {
      buf.resize(std::max<size_t>(n, buf.size() * 2));
      continue;
    }
    *ok = rc == kSuccess;
    std::vector<std::pair<int, double>> out;
    for (unsigned int i = 0; *ok && i < n && i < buf.size(); ++i) {
      out.emplace_back(static_cast<int>(buf[i].pid), static_cast<double>(buf[i].used_gpu_memory));
    }
    return out;
  }
  *ok = false;
  return {};
}

}  // namespace

std::vector<std::pair<int, double>> ComputeProcesses(const Api& a, Device d, bool* ok) {
  *ok = false;
  if (a.get_compute_processes_v2) return ListProcesses<ProcessInfoV2>(a.get_compute_processes_v2, d, ok);
  if (a.get_compute_processes_v1) return ListProcesses<ProcessInfoV1>(a.get_compute_processes_v1, d, ok);
  return {};
}

}  // namespace wattprint::nvml
