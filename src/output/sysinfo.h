// System facts for the run metadata: OS string, CPU model and count, RAM
// size, and a fresh run id. Private to the library (src/output).
//
// Every file is read through the FileSystem at the configured procfs root,
// so tests can feed fixture trees. A fact that cannot be read is left at
// its "unknown" value (empty string, 0) and never guessed.
//
// Thread safety: pure functions of their arguments (the run id draws from
// getrandom(2), which is safe to use from several threads).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wattprint/fs.h"
#include "wattprint/report.h"

namespace wattprint {

// Like Python's platform.platform() on Linux:
// "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36". Empty if uname fails.
std::string PlatformString();
// Pure part of PlatformString, for tests.
std::string FormatPlatform(std::string_view sysname, std::string_view release,
                           std::string_view machine, std::string_view libc_version);

// First "model name" in /proc/cpuinfo (x86) or "Model"/"Hardware" (arm);
// empty when absent.
std::string ParseCpuModel(std::string_view cpuinfo);
// Number of "processor" entries in /proc/cpuinfo, i.e. online CPUs.
int ParseCpuCount(std::string_view cpuinfo);
// Distinct "physical id" values in /proc/cpuinfo: the CPU sockets; 0 when
// the kernel writes none (most ARM kernels, some virtual machines).
int ParseCpuSockets(std::string_view cpuinfo);
// MemTotal from /proc/meminfo, in bytes; nullopt when absent or malformed.
std::optional<unsigned long long> ParseMemTotalBytes(std::string_view meminfo);

// A random UUID version 4 (RFC 9562), lower-case hex with dashes.
std::string NewRunId();

// Fills run_id, os, cpu_count, cpu_model, cpu_sockets, ram_total_bytes and
// tool_version.
// Unreadable facts stay empty/0.
RunMetadata CollectMetadata(const SystemRoots& roots, const FileSystem& fs);


}  // namespace wattprint
