// The spool is a directory of one file per record, `<run id>.json`. Writes
// go to tmp/ first and are renamed into place after fsync, so a reader only
// ever sees whole records; a sender claims one by renaming it into
// sending/ (two agents replaying at once never send the same file twice at
// the same moment, and a crash mid-send leaves it in sending/, where the
// next replay takes it back).
#include "wattprint/upload.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "net/http.h"
#include "wattprint/live_intensity.h"

namespace wattprint {

namespace {

Status MakeDirs(const std::string& path) {
  std::string at;
  std::stringstream parts(path);
  std::string part;
  if (!path.empty() && path[0] == '/') at = "/";
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    at += part + "/";
    if (mkdir(at.c_str(), 0700) != 0 && errno != EEXIST) return Status::FromErrno(errno, "mkdir " + at);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, dir);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  return rc == 0 ? Status::Ok() : Status::FromErrno(err, "fsync " + dir);
}

// Writes path whole or not at all: tmp file, fsync, rename, fsync the dir.
Status WriteDurably(const std::string& dir, const std::string& name, const std::string& text) {
  if (Status s = MakeDirs(dir + "/tmp"); !s.ok()) return s;
  const std::string tmp = dir + "/tmp/" + name + "." + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, tmp);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status::FromErrno(err, "write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno(err, "fsync " + tmp);
  }
  if (rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno(err, "rename into " + dir);
  }
  return SyncDir(dir);
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(errno, path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Names safe as a file name: a run id is a UUID, but the record comes from
// a file anyone may have edited.
// One name per id: letters, digits and '-' as they are, any other byte as
// _XX; a long id is cut and keeps a hash of the whole (FNV-1a, stable across
// builds) so two long ids never share a file.
std::string FileName(const std::string& run_id) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : run_id) {
    if (std::isalnum(c) || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '_';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (out.empty() || out.size() > 100) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : run_id) h = (h ^ c) * 1099511628211ULL;
    char tail[24];
    std::snprintf(tail, sizeof tail, "%016llx", static_cast<unsigned long long>(h));
    out = out.substr(0, 64) + "_" + tail;
  }
  return out + ".json";
}

std::vector<std::string> JsonFiles(const std::string& dir) {
  std::vector<std::pair<long long, std::string>> found;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return {};
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() < 6 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
    struct stat st {};
    if (stat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    found.emplace_back(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec, name);
  }
  closedir(d);
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [t, name] : found) out.push_back(std::move(name));
  return out;
}

// Claims a spooled record for sending; false when another agent has it.
bool Claim(const std::string& dir, const std::string& name) {
  if (MakeDirs(dir + "/sending").code() != Status::Code::kOk) return false;
  const std::string claimed = dir + "/sending/" + name;
  if (rename((dir + "/" + name).c_str(), claimed.c_str()) != 0) return false;
  // The claim's age is its time in sending/ (Recover).
  utimensat(AT_FDCWD, claimed.c_str(), nullptr, 0);
  return true;
}

void Unclaim(const std::string& dir, const std::string& name) {
  rename((dir + "/sending/" + name).c_str(), (dir + "/" + name).c_str());
}

void Reject(const std::string& dir, const std::string& from, const std::string& name, const std::string& why) {
  if (!MakeDirs(dir + "/rejected").ok()) return;
  rename(from.c_str(), (dir + "/rejected/" + name).c_str());
  (void)WriteDurably(dir + "/rejected", name + ".reason", why + "\n");
}

// Records a crashed sender left in sending/ go back to the spool.
void Recover(const std::string& dir) {
  for (const std::string& name : JsonFiles(dir + "/sending")) {
    struct stat st {};
    const std::string path = dir + "/sending/" + name;
    // A live sender holds its claim for one request, seconds at most.
    if (stat(path.c_str(), &st) == 0 && time(nullptr) - st.st_mtim.tv_sec > 60) Unclaim(dir, name);
  }
}

}  // namespace

std::string DefaultSpoolDir() {
  const char* state = std::getenv("XDG_STATE_HOME");
  if (state != nullptr && state[0] == '/') return std::string(state) + "/wattprint/spool";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') return std::string(home) + "/.local/state/wattprint/spool";
  return "/tmp/wattprint-spool-" + std::to_string(getuid());
}

namespace {

SendResult Post(const UploadOptions& o, const std::string& path, std::string body,
                std::chrono::milliseconds timeout) {
  net::HttpRequest req;
  req.method = "POST";
  std::string base = o.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + path;
  req.body = std::move(body);
  req.headers = {{"Content-Type", "application/json"}, {"Expect", ""}};
  if (!o.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + o.token);
  req.connect_timeout = std::min(timeout, std::chrono::milliseconds(1000));
  req.timeout = timeout;
  Result<net::HttpResponse> r = net::HttpFetch(req);
  if (!r.ok()) return {SendOutcome::kRetryLater, r.status().message()};
  std::string said = r->body.substr(0, 200);
  std::replace(said.begin(), said.end(), '\n', ' ');
  const std::string detail = "HTTP " + std::to_string(r->status) + (said.empty() ? "" : ": " + said);
  if (r->status == 200 || r->status == 201) return {SendOutcome::kStored, detail};
  if (r->status == 429 || r->status == 408 || r->status >= 500) return {SendOutcome::kRetryLater, detail};
  return {SendOutcome::kRejected, detail};
}

}  // namespace

SendResult SendRecord(const UploadOptions& o, const std::string& record, std::chrono::milliseconds timeout) {
  return Post(o, "/api/v1/runs", record, timeout);
}

std::string IntervalText(const CsvRecord& row, int64_t seq, SystemTime end) {
  auto value = [&](const char* column) -> nlohmann::json {
    for (size_t i = 0; i < kCsvColumns.size() && i < row.values.size(); ++i) {
      if (kCsvColumns[i] != column) continue;
      if (const auto* d = std::get_if<double>(&row.values[i])) return *d;
      if (const auto* n = std::get_if<long long>(&row.values[i])) return *n;
      return nullptr;
    }
    return nullptr;
  };
  auto number = [&](const char* column) {
    nlohmann::json v = value(column);
    return v.is_number() ? v.get<double>() : 0.0;
  };
  const double duration = number("duration");
  const auto start = end - std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(duration));
  nlohmann::json j = {{"seq", seq},
                      {"start", FormatIsoUtc(start)},
                      {"end", FormatIsoUtc(end)},
                      {"duration_s", duration},
                      {"cpu_energy_kwh", number("cpu_energy")},
                      {"gpu_energy_kwh", number("gpu_energy")},
                      {"ram_energy_kwh", number("ram_energy")},
                      {"energy_kwh", number("energy_consumed")},
                      {"emissions_kg", number("emissions")},
                      {"water_l", number("water_consumed")},
                      {"cpu_power_w", number("cpu_power")},
                      {"gpu_power_w", number("gpu_power")},
                      {"ram_power_w", number("ram_power")},
                      {"cpu_utilization", value("cpu_utilization_percent")},
                      {"gpu_utilization", value("gpu_utilization_percent")},
                      {"ram_utilization", value("ram_utilization_percent")}};
  return j.dump();
}

IntervalStream::IntervalStream(UploadOptions o, std::string run_id)
    : options_(std::move(o)), run_id_(std::move(run_id)) {}

void IntervalStream::Add(const std::string& metadata, std::string interval) {
  metadata_ = metadata;
  if (pending_.size() >= kMaxPending) {
    pending_.erase(pending_.begin());
    ++dropped_;
  }
  pending_.push_back(std::move(interval));
}

SendResult IntervalStream::Flush() {
  // Batches of at most kBatch intervals (about 2 MB), far under the
  // collector's 8 MiB limit, however many piled up while it was away.
  constexpr size_t kBatch = 5000;
  SendResult r{SendOutcome::kStored, "nothing to send"};
  while (!pending_.empty()) {
    const size_t n = std::min(kBatch, pending_.size());
    std::string body = "{\"metadata\":" + metadata_ + ",\"intervals\":[";
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) body += ',';
      body += pending_[i];
    }
    body += "]}";
    r = Post(options_, "/api/v1/runs/" + run_id_ + "/intervals", std::move(body), options_.wait);
    if (r.outcome == SendOutcome::kRetryLater || r.detail.rfind("HTTP 413", 0) == 0) break;  // kept
    // Stored, or refused for good: either way these are not sent again.
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return r;
}

Result<std::string> DeliverRecord(const UploadOptions& o, const std::string& run_id, const std::string& record) {
  const std::string name = FileName(run_id);
  if (Status s = MakeDirs(o.spool_dir); !s.ok()) return s;
  if (Status s = WriteDurably(o.spool_dir, name, record); !s.ok()) return s;
  if (!Claim(o.spool_dir, name)) return std::string("the record was spooled; another agent is sending it");
  const SendResult sent = SendRecord(o, record, o.wait);
  const std::string claimed = o.spool_dir + "/sending/" + name;
  switch (sent.outcome) {
    case SendOutcome::kStored:
      unlink(claimed.c_str());
      (void)SyncDir(o.spool_dir + "/sending");
      return std::string();
    case SendOutcome::kRejected:
      Reject(o.spool_dir, claimed, name, sent.detail);
      return "the collector refused the record (" + sent.detail + "); it is kept in " + o.spool_dir + "/rejected";
    case SendOutcome::kRetryLater:
      Unclaim(o.spool_dir, name);
      return "the collector did not take the record (" + sent.detail + "); it is spooled in " + o.spool_dir +
             " and sent by the next run or `wattprint upload`";
  }
  return std::string();
}

ReplayCounts ReplaySpool(const UploadOptions& o, std::chrono::steady_clock::time_point deadline,
                         const std::atomic<int64_t>* later_deadline) {
  ReplayCounts counts;
  Recover(o.spool_dir);
  const std::vector<std::string> names = JsonFiles(o.spool_dir);
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (later_deadline != nullptr) {
      deadline = std::min(deadline, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(later_deadline->load())));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      counts.kept += static_cast<int>(names.size() - i);
      break;
    }
    if (!Claim(o.spool_dir, name)) continue;
    const std::string claimed = o.spool_dir + "/sending/" + name;
    Result<std::string> record = ReadAll(claimed);
    if (!record.ok()) {
      Unclaim(o.spool_dir, name);
      ++counts.kept;
      continue;
    }
    const SendResult sent = SendRecord(o, *record, std::min(left, std::max(o.wait, std::chrono::milliseconds(100))));
    if (sent.outcome == SendOutcome::kStored) {
      unlink(claimed.c_str());
      ++counts.stored;
    } else if (sent.outcome == SendOutcome::kRejected) {
      Reject(o.spool_dir, claimed, name, sent.detail);
      ++counts.rejected;
    } else {
      Unclaim(o.spool_dir, name);
      counts.kept += static_cast<int>(names.size() - i);
      break;
    }
  }
  return counts;
}

std::vector<std::string> SpooledRecords(const std::string& spool_dir) { return JsonFiles(spool_dir); }

namespace {

int64_t SteadyNs(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

BackgroundReplay::BackgroundReplay(UploadOptions o)
    : options_(std::move(o)), deadline_ns_(SteadyNs(std::chrono::steady_clock::now() + std::chrono::hours(24))) {
  thread_ = std::thread([this] {
    counts_ = ReplaySpool(options_, std::chrono::steady_clock::now() + std::chrono::hours(24), &deadline_ns_);
  });
}

BackgroundReplay::~BackgroundReplay() { Finish(); }

ReplayCounts BackgroundReplay::Finish() {
  const int64_t at = SteadyNs(std::chrono::steady_clock::now() + options_.wait);
  if (at < deadline_ns_.load()) deadline_ns_ = at;
  if (thread_.joinable()) thread_.join();
  return counts_;
}

}  // namespace wattprint
