// perf_event_open(2) behind PerfEventApi. glibc has no wrapper for the
// system call, so it is made through syscall(2).
#include "sources/perf_event_api.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace wattprint {
namespace {

std::string Describe(uint32_t type, uint64_t config, int cpu) {
  return "perf_event_open(type=" + std::to_string(type) + ", config=" + std::to_string(config) +
         ", cpu=" + std::to_string(cpu) + ")";
}

class RealPerfEvents final : public PerfEventApi {
 public:
  Result<int> Open(uint32_t type, uint64_t config, int cpu) override {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    // Counting starts at open; RAPL events support neither sampling nor
    // per-task mode, so pid must be -1 and the event system-wide on `cpu`.
    long fd = ::syscall(SYS_perf_event_open, &attr, -1 /*pid*/, cpu, -1 /*group*/,
                        PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, Describe(type, config, cpu));
    return static_cast<int>(fd);
  }

  Result<uint64_t> ReadCounter(int fd) override {
    uint64_t count = 0;
    for (;;) {
      ssize_t n = ::read(fd, &count, sizeof count);
      if (n == static_cast<ssize_t>(sizeof count)) return count;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno(errno, "read(perf event fd " + std::to_string(fd) + ")");
      return Status::IOError("read(perf event fd " + std::to_string(fd) + "): short read of " +
                             std::to_string(n) + " bytes");
    }
  }

  void Close(int fd) override { ::close(fd); }
};

}  // namespace

std::shared_ptr<PerfEventApi> RealPerfEventApi() {
  static const std::shared_ptr<PerfEventApi> api = std::make_shared<RealPerfEvents>();  // stateless
  return api;
}

}  // namespace wattprint
