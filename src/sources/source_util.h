// Pieces shared by the sysfs-backed sources (powercap, hwmon) and perf RAPL:
// a Source that polls one sysfs file per channel, and small parsers for
// sysfs names and lists.
//
// Private header: not part of the public API.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wattprint/fs.h"
#include "wattprint/source.h"

namespace wattprint::sources {

// One channel backed by a sysfs file holding one unsigned decimal integer.
// `scale` converts the file's unit to the channel's (1e-6 for µJ -> J and
// µW -> W).
// The machine's CPU busy fraction (0..1) between consecutive activity
// snapshots, for the estimation models. The first snapshot has no
// predecessor and gives the ratio since boot (so the first interval of a run
// has a left-hand power value for the ledger's trapezoid); two snapshots
// within one clock tick repeat the last figure.
class BusyFraction {
 public:
  double Update(const ActivitySnapshot& a);
  double last() const { return last_; }

 private:
  ActivitySnapshot prev_;
  bool have_prev_ = false;
  double last_ = 0.0;
};

struct SysfsChannel {
  ChannelInfo info;
  std::unique_ptr<FileHandle> handle;
  std::string file;  // the file behind `handle`, for error messages
  double scale = 1e-6;
  bool gone = false;  // the path no longer exists: unavailable until it does
};

// Polls every channel by re-reading its open handle from offset 0. A read
// error, an empty or non-numeric value makes that channel's Reading
// unavailable with the reason; it is never reported as 0. A handle whose
// read fails, or whose path names another file (checked every
// kStaleCheckPolls polls: a zone removed and re-created, a file replaced by
// a rename), is opened again through `fs`, so the channel comes back rather
// than freezing; the ledger records it going and coming back.
class SysfsSource final : public Source {
 public:
  static constexpr int kStaleCheckPolls = 16;
  SysfsSource(std::string name, std::vector<SysfsChannel> channels, std::shared_ptr<FileSystem> fs = nullptr);
  std::string name() const override { return name_; }
  const std::vector<ChannelInfo>& channels() const override { return infos_; }
  void Poll(SteadyTime now, const ActivitySnapshot& activity, std::span<Reading> out) override;

 private:
  bool Reopen(SysfsChannel& c);

  std::string name_;
  std::vector<SysfsChannel> channels_;
  std::vector<ChannelInfo> infos_;
  std::string buf_;
  std::shared_ptr<FileSystem> fs_;
  unsigned polls_ = 0;  // wraps harmlessly
};

// Reads one unsigned value through `h` and scales it; the error names `file`.
Result<double> ReadScaled(FileHandle& h, const std::string& file, double scale);

// Reads a small file and trims surrounding whitespace.
Result<std::string> ReadTrimmed(const FileSystem& fs, const std::string& path);

// The decimal numbers separated by `sep` after `prefix` in `name`:
// ("intel-rapl:0:1", "intel-rapl:") -> {0, 1}. Empty when `name` does not
// start with `prefix` or a part is not a number.
std::vector<int> IndicesAfter(std::string_view name, std::string_view prefix, char sep = ':');

// A channel's power ceiling from the hardware: twice the largest value, in
// µW, among `files` that parse (constraint limits, power caps); `from` names
// the file. Zero (the kind's default) when none does.
void SetCeilingFromMicrowatts(const FileSystem& fs, const std::vector<std::string>& files, ChannelInfo* info);

// Reads an opened value file once and checks it holds an unsigned integer,
// so a probe does not report as found a counter that never parses.
Status FirstReadParses(FileHandle& h, const std::string& file);

// Parses a kernel cpu list such as "0,28" or "0-3,8" (cpumask files of
// perf PMUs, /sys/devices/system/cpu/online). Empty or malformed: Corrupt.
Result<std::vector<int>> ParseCpuList(std::string_view text, const std::string& what);

std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// "cpu, dram" for the kinds in `kinds`.
std::string KindList(const std::set<DeviceKind>& kinds);

}  // namespace wattprint::sources
