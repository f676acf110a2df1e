// The few NVML types and functions wattprint uses, declared here so that
// building needs no NVIDIA SDK, and a loader that resolves each symbol on
// its own with dlopen/dlsym.
//
// Facts from NVIDIA's nvml.h (NVML API reference, CUDA 12.x, 2023-2024):
// return codes, struct layouts and prototypes below. Each function pointer
// may be null when the installed driver lacks the symbol; the caller then
// turns that feature off. Newer versioned symbols (_v2, _v3) are preferred
// to the original names, which some drivers keep only for compatibility.
//
// Private header: not part of the public API.
// Thread safety: NVML itself is thread-safe; a loaded library is immutable.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wattprint/status.h"

namespace wattprint::nvml {

using Return = int;  // nvmlReturn_t
constexpr Return kSuccess = 0;
constexpr Return kErrorUninitialized = 1;
constexpr Return kErrorInvalidArgument = 2;
constexpr Return kErrorNotSupported = 3;
constexpr Return kErrorNoPermission = 4;
constexpr Return kErrorNotFound = 6;
constexpr Return kErrorInsufficientSize = 7;
constexpr Return kErrorDriverNotLoaded = 9;
constexpr Return kErrorGpuIsLost = 15;

using Device = struct DeviceOpaque*;  // nvmlDevice_t

struct Memory {  // nvmlMemory_t, bytes
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct Utilization {  // nvmlUtilization_t, percent over the driver's last sample period
  unsigned int gpu;
  unsigned int memory;
};

// nvmlProcessInfo_v1_t (16 bytes): for nvmlDeviceGetComputeRunningProcesses.
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
};

// nvmlProcessInfo_v2_t (24 bytes): for the _v2 and _v3 functions. A few
// CUDA 12.0-12.2 headers briefly gave the _v3 struct an extra 8-byte field
// (usedGpuCcProtectedMemory); the drivers and later headers use this
// 24-byte layout for both.
struct ProcessInfoV2 {
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

// nvmlProcessUtilizationSample_t (32 bytes): per-process utilisation in
// percent, timestamp in µs (CPU clock).
struct ProcessUtilizationSample {
  unsigned int pid;
  unsigned long long timestamp_us;
  unsigned int sm_util;
  unsigned int mem_util;
  unsigned int enc_util;
  unsigned int dec_util;
};

constexpr unsigned int kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned int kUuidBufferSize = 96;  // NVML_DEVICE_UUID_V2_BUFFER_SIZE

// The library's functions; any may be null. `*_name` records which symbol
// was bound, for doctor and the JSON record.
struct Api {
  Return (*init)() = nullptr;              // nvmlInit_v2, else nvmlInit
  Return (*shutdown)() = nullptr;          // nvmlShutdown
  const char* (*error_string)(Return) = nullptr;  // nvmlErrorString
  Return (*get_count)(unsigned int*) = nullptr;   // nvmlDeviceGetCount_v2, else nvmlDeviceGetCount
  Return (*get_handle_by_index)(unsigned int, Device*) = nullptr;  // _v2, else the original
  Return (*get_handle_by_uuid)(const char*, Device*) = nullptr;
  Return (*get_parent_of_mig)(Device, Device*) = nullptr;  // nvmlDeviceGetDeviceHandleFromMigDeviceHandle
  Return (*is_mig_handle)(Device, unsigned int*) = nullptr;  // nvmlDeviceIsMigDeviceHandle
  Return (*get_name)(Device, char*, unsigned int) = nullptr;
  Return (*get_uuid)(Device, char*, unsigned int) = nullptr;
  Return (*get_index)(Device, unsigned int*) = nullptr;
  Return (*get_total_energy)(Device, unsigned long long*) = nullptr;  // mJ since driver load
  Return (*get_power_usage)(Device, unsigned int*) = nullptr;         // mW
  Return (*get_power_limit)(Device, unsigned int*) = nullptr;         // enforced limit, mW
  Return (*get_utilization)(Device, Utilization*) = nullptr;
  Return (*get_memory_info)(Device, Memory*) = nullptr;
  Return (*get_process_utilization)(Device, ProcessUtilizationSample*, unsigned int*,
                                    unsigned long long) = nullptr;
  // One of the three, in this order of preference; the v1 form fills
  // ProcessInfoV1 entries.
  Return (*get_compute_processes_v2)(Device, unsigned int*, ProcessInfoV2*) = nullptr;  // _v3 or _v2
  Return (*get_compute_processes_v1)(Device, unsigned int*, ProcessInfoV1*) = nullptr;
  std::string compute_processes_symbol;  // which one was bound
};

// A loaded and initialised NVML. Shut down and unloaded on destruction.
class Library {
 public:
  Library(void* handle, Api api, std::string path) : handle_(handle), api_(api), path_(std::move(path)) {}
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  const Api& api() const { return api_; }
  const std::string& path() const { return path_; }  // what dlopen was given
  // "Not Supported (3)", from nvmlErrorString when bound.
  std::string ErrorText(Return r) const;
  // NVML return code -> Status with `what` as context.
  Status ToStatus(Return r, const std::string& what) const;

 private:
  void* handle_;
  Api api_;
  std::string path_;
};

// Per-process utilisation samples (pid, SM %) newer than *last_us, which
// moves to the newest; `ok` false when the query failed (NOT_FOUND, no
// process busy since then, is an empty success).
std::vector<std::pair<int, double>> ProcessSmSamples(const Api& a, Device d, unsigned long long* last_us, bool* ok);
// The running compute processes (pid, GPU memory in bytes, all ones when
// NVML does not know); `ok` false when the query failed or is missing.
std::vector<std::pair<int, double>> ComputeProcesses(const Api& a, Device d, bool* ok);

// The names tried when no path is configured: the driver's soname first,
// then the development symlink (NVML API reference, "Linux" notes).
std::vector<std::string> DefaultLibraryNames();

// dlopens `path` (or each default name when empty), binds every symbol it
// can and calls nvmlInit. NotFound when the library cannot be loaded or
// lacks nvmlInit/device enumeration; an nvmlInit failure maps through
// ToStatus (e.g. driver not loaded, no permission).
Result<std::shared_ptr<Library>> Load(const std::string& path);

}  // namespace wattprint::nvml
