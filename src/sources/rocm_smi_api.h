// The few ROCm SMI types and functions wattprint uses, declared here so
// that building needs no ROCm, and a loader that resolves each symbol on
// its own with dlopen/dlsym.
//
// Facts from AMD's rocm_smi/rocm_smi.h (rocm_smi_lib, ROCm 5.x-6.x,
// 2022-2024): status codes and prototypes below. Energy:
// rsmi_dev_energy_count_get gives a raw accumulator and its resolution in
// µJ per count; power figures are in µW. Any function pointer may be null
// when the installed library lacks the symbol.
//
// Private header: not part of the public API.
// Thread safety: ROCm SMI is thread-safe; a loaded library is immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "wattprint/status.h"

namespace wattprint::rsmi {

using Return = uint32_t;  // rsmi_status_t
constexpr Return kSuccess = 0;
constexpr Return kInvalidArgs = 1;
constexpr Return kNotSupported = 2;
constexpr Return kFileError = 3;
constexpr Return kPermission = 4;
constexpr Return kInitError = 8;
constexpr Return kNotYetImplemented = 9;
constexpr Return kNotFound = 10;

constexpr int kMemTypeVram = 0;  // RSMI_MEM_TYPE_VRAM

struct Api {
  Return (*init)(uint64_t) = nullptr;       // rsmi_init(flags = 0)
  Return (*shut_down)() = nullptr;          // rsmi_shut_down
  Return (*status_string)(Return, const char**) = nullptr;
  Return (*num_devices)(uint32_t*) = nullptr;            // rsmi_num_monitor_devices
  Return (*name)(uint32_t, char*, size_t) = nullptr;     // rsmi_dev_name_get
  Return (*unique_id)(uint32_t, uint64_t*) = nullptr;    // rsmi_dev_unique_id_get
  // counts, µJ per count, timestamp ns
  Return (*energy_count)(uint32_t, uint64_t*, float*, uint64_t*) = nullptr;
  Return (*power_ave)(uint32_t, uint32_t, uint64_t*) = nullptr;  // sensor 0, µW
  Return (*power_cap)(uint32_t, uint32_t, uint64_t*) = nullptr;  // sensor 0, µW
  Return (*busy_percent)(uint32_t, uint32_t*) = nullptr;
  Return (*memory_usage)(uint32_t, int, uint64_t*) = nullptr;  // bytes
  Return (*memory_total)(uint32_t, int, uint64_t*) = nullptr;  // bytes
};

// A loaded and initialised ROCm SMI, shut down and unloaded on destruction.
class Library {
 public:
  Library(void* handle, Api api, std::string path) : handle_(handle), api_(api), path_(std::move(path)) {}
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  const Api& api() const { return api_; }
  const std::string& path() const { return path_; }
  std::string ErrorText(Return r) const;  // "RSMI_STATUS_NOT_SUPPORTED ... (2)"
  Status ToStatus(Return r, const std::string& what) const;

 private:
  void* handle_;
  Api api_;
  std::string path_;
};

// dlopens `path`, or librocm_smi64.so.1 / librocm_smi64.so (also under
// /opt/rocm/lib) when empty, binds what it can and calls rsmi_init(0).
Result<std::shared_ptr<Library>> Load(const std::string& path);

}  // namespace wattprint::rsmi
