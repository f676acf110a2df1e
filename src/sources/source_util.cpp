#include "sources/source_util.h"

#include <charconv>

namespace wattprint::sources {

SysfsSource::SysfsSource(std::string name, std::vector<SysfsChannel> channels, std::shared_ptr<FileSystem> fs)
    : name_(std::move(name)), channels_(std::move(channels)), fs_(std::move(fs)) {
  infos_.reserve(channels_.size());
  for (const SysfsChannel& c : channels_) infos_.push_back(c.info);
}

bool SysfsSource::Reopen(SysfsChannel& c) {
  if (!fs_) return false;
  Result<std::unique_ptr<FileHandle>> h = fs_->Open(c.file);
  if (!h.ok()) return false;
  c.handle = std::move(h).value();
  return true;
}

void SysfsSource::Poll(SteadyTime, const ActivitySnapshot&, std::span<Reading> out) {
  const bool check_stale = ++polls_ % kStaleCheckPolls == 0;
  for (size_t i = 0; i < channels_.size() && i < out.size(); ++i) {
    SysfsChannel& c = channels_[i];
    if ((c.gone || (check_stale && c.handle->Stale())) && fs_) {
      c.gone = !Reopen(c);
      if (c.gone) {
        out[i] = Reading::Unavailable(Status::NotFound(c.file + ": removed"));
        continue;
      }
    }
    Result<double> v = ReadScaled(*c.handle, c.file, c.scale);
    if (!v.ok() && Reopen(c)) v = ReadScaled(*c.handle, c.file, c.scale);
    out[i] = v.ok() ? Reading::Of(*v) : Reading::Unavailable(v.status());
  }
}

Result<double> ReadScaled(FileHandle& h, const std::string& file, double scale) {
  std::string buf;
  Status s = h.Read(&buf);
  if (!s.ok()) return s;
  Result<unsigned long long> raw = ParseUnsigned(buf, file);
  if (!raw.ok()) return raw.status();
  return static_cast<double>(*raw) * scale;
}

Result<std::string> ReadTrimmed(const FileSystem& fs, const std::string& path) {
  Result<std::string> r = fs.ReadFile(path);
  if (!r.ok()) return r.status();
  return std::string(Trim(*r));
}

namespace {

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

}  // namespace

std::vector<int> IndicesAfter(std::string_view name, std::string_view prefix, char sep) {
  if (!name.starts_with(prefix)) return {};
  name.remove_prefix(prefix.size());
  std::vector<int> out;
  for (;;) {
    size_t end = name.find(sep);
    int v = 0;
    if (!ParseInt(name.substr(0, end), &v)) return {};
    out.push_back(v);
    if (end == std::string_view::npos) return out;
    name.remove_prefix(end + 1);
  }
}

namespace {
constexpr int kMaxCpus = 8192;
}  // namespace

Result<std::vector<int>> ParseCpuList(std::string_view text, const std::string& what) {
  std::string_view t = Trim(text);
  if (t.empty()) return Status::Corrupt(what + ": empty cpu list");
  std::vector<int> cpus;
  while (!t.empty()) {
    size_t comma = t.find(',');
    std::string_view item = t.substr(0, comma);
    size_t dash = item.find('-');
    int lo = 0;
    int hi = 0;
    bool ok = dash == std::string_view::npos
                  ? ParseInt(item, &lo) && ParseInt(item, &hi)
                  : ParseInt(item.substr(0, dash), &lo) && ParseInt(item.substr(dash + 1), &hi);
    if (!ok || hi < lo || lo < 0) {
      return Status::Corrupt(what + ": malformed cpu list \"" + std::string(Trim(text).substr(0, 64)) + "\"");
    }
    // Linux's NR_CPUS is at most 8192: a list naming more CPUs than that is
    // corrupt, not a reason to allocate gigabytes.
    if (hi >= kMaxCpus || cpus.size() + static_cast<size_t>(hi - lo) + 1 > static_cast<size_t>(kMaxCpus)) {
      return Status::Corrupt(what + ": cpu list names more than " + std::to_string(kMaxCpus) + " CPUs");
    }
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
    if (comma == std::string_view::npos) break;
    t.remove_prefix(comma + 1);
  }
  return cpus;
}

void SetCeilingFromMicrowatts(const FileSystem& fs, const std::vector<std::string>& files, ChannelInfo* info) {
  double most_uw = 0.0;
  std::string from;
  for (const std::string& file : files) {
    Result<std::string> text = fs.ReadFile(file);
    if (!text.ok()) continue;
    Result<unsigned long long> uw = ParseUnsigned(*text, file);
    if (!uw.ok() || static_cast<double>(*uw) <= most_uw) continue;
    most_uw = static_cast<double>(*uw);
    from = file;
  }
  if (most_uw <= 0.0) return;
  info->power_ceiling = Power::Microwatts(2.0 * most_uw);
  info->power_ceiling_source = "2 x " + from;
}

Status FirstReadParses(FileHandle& h, const std::string& file) {
  std::string text;
  Status st = h.Read(&text);
  if (!st.ok()) return st;
  Result<unsigned long long> v = ParseUnsigned(text, file);
  return v.ok() ? Status::Ok() : v.status();
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string KindList(const std::set<DeviceKind>& kinds) {
  std::vector<std::string> names;
  for (DeviceKind k : kinds) names.emplace_back(ToString(k));
  return Join(names, ", ");
}

double BusyFraction::Update(const ActivitySnapshot& a) {
  unsigned long long total = a.machine_total_ticks;
  unsigned long long busy = a.machine_busy_ticks;
  if (have_prev_) {
    if (total <= prev_.machine_total_ticks) return last_;
    total -= prev_.machine_total_ticks;
    busy = busy >= prev_.machine_busy_ticks ? busy - prev_.machine_busy_ticks : 0;
  }
  prev_ = a;
  have_prev_ = true;
  if (total == 0) return last_;
  const double u = static_cast<double>(busy) / static_cast<double>(total);
  last_ = u < 0.0 ? 0.0 : (u > 1.0 ? 1.0 : u);
  return last_;
}

}  // namespace wattprint::sources
