// dlopen-based ROCm SMI loader; see rocm_smi_api.h.
#include "sources/rocm_smi_api.h"

#include <dlfcn.h>

#include <vector>

#include <fmt/format.h>

namespace wattprint::rsmi {
namespace {

template <typename Fn>
void Bind(void* handle, Fn* fn, const char* name) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
}

Api BindAll(void* h) {
  Api a;
  Bind(h, &a.init, "rsmi_init");
  Bind(h, &a.shut_down, "rsmi_shut_down");
  Bind(h, &a.status_string, "rsmi_status_string");
  Bind(h, &a.num_devices, "rsmi_num_monitor_devices");
  Bind(h, &a.name, "rsmi_dev_name_get");
  Bind(h, &a.unique_id, "rsmi_dev_unique_id_get");
  Bind(h, &a.energy_count, "rsmi_dev_energy_count_get");
  Bind(h, &a.power_ave, "rsmi_dev_power_ave_get");
  Bind(h, &a.power_cap, "rsmi_dev_power_cap_get");
  Bind(h, &a.busy_percent, "rsmi_dev_busy_percent_get");
  Bind(h, &a.memory_usage, "rsmi_dev_memory_usage_get");
  Bind(h, &a.memory_total, "rsmi_dev_memory_total_get");
  return a;
}

}  // namespace

Library::~Library() {
  if (api_.shut_down) api_.shut_down();
  if (handle_) dlclose(handle_);
}

std::string Library::ErrorText(Return r) const {
  const char* s = nullptr;
  if (api_.status_string && api_.status_string(r, &s) != kSuccess) s = nullptr;
  return fmt::format("{} ({})", s ? s : "ROCm SMI error", r);
}

Status Library::ToStatus(Return r, const std::string& what) const {
  const std::string m = what + ": " + ErrorText(r);
  switch (r) {
    case kSuccess: return Status::Ok();
    case kNotSupported:
    case kNotYetImplemented: return Status::NotSupported(m);
    case kPermission: return Status::PermissionDenied(m);
    case kNotFound: return Status::NotFound(m);
    case kInvalidArgs: return Status::InvalidArgument(m);
    default: return Status::IOError(m);
  }
}

Result<std::shared_ptr<Library>> Load(const std::string& path) {
  const std::vector<std::string> names =
      path.empty() ? std::vector<std::string>{"librocm_smi64.so.1", "librocm_smi64.so",
                                              "/opt/rocm/lib/librocm_smi64.so.1"}
                   : std::vector<std::string>{path};
  std::string errors;
  for (const std::string& n : names) {
    void* h = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      errors += (errors.empty() ? "" : "; ") + std::string(e ? e : n + ": cannot load");
      continue;
    }
    Api api = BindAll(h);
    if (!api.init || !api.num_devices) {
      dlclose(h);
      return Status::NotFound(n + " lacks rsmi_init or rsmi_num_monitor_devices");
    }
    const Return r = api.init(0);
    if (r != kSuccess) {
      api.shut_down = nullptr;  // nothing to shut down after a failed init
      Library failed(h, api, n);
      return failed.ToStatus(r, "rsmi_init");
    }
    return std::make_shared<Library>(h, api, n);
  }
  return Status::NotFound("ROCm SMI library not found: " + errors);
}

}  // namespace wattprint::rsmi
