// Machine and process-tree activity from procfs. See
// include/wattprint/activity.h for the contract and docs/ATTRIBUTION.md for
// how the figures are used.
//
// Cost: a sample is one pread of /proc/stat and either one read of the tree
// CPU clock or, without one, the walk: per tree member, one pread of
// /proc/PID/stat plus one of each thread's /proc/PID/task/TID/children.
// /proc/meminfo (and, with a clock, the walk) is read every kTreeWalkPeriod.
// Every file stays open across samples and the read buffer is reused; a
// member's thread list is re-listed only when its thread count says it may
// have changed.
#include "wattprint/activity.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wattprint {
namespace {

// Parses the next unsigned decimal field separated by spaces. Returns false
// at the end of the line or on a non-numeric field.
bool NextUnsigned(std::string_view* s, unsigned long long* v) {
  size_t i = 0;
  while (i < s->size() && (*s)[i] == ' ') ++i;
  s->remove_prefix(i);
  if (s->empty() || s->front() == '\n') return false;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), *v);
  if (ec != std::errc()) return false;
  s->remove_prefix(static_cast<size_t>(p - s->data()));
  return s->empty() || s->front() == ' ' || s->front() == '\n';
}

// Skips one space-separated field (any content).
bool SkipField(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && s->at(i) == ' ') ++i;
  if (i == s->size() || s->at(i) == '\n') return false;
  while (i < s->size() && s->at(i) != ' ' && s->at(i) != '\n') ++i;
  s->remove_prefix(i);
  return true;
}

struct MachineCpu {
  unsigned long long total = 0;
  unsigned long long busy = 0;
  int online = 0;
};

// /proc/stat: the aggregate "cpu" line (user nice system idle iowait irq
// softirq steal guest guest_nice, in ticks) and one "cpuN" line per online
// CPU. guest and guest_nice are already included in user and nice, so only
// the first 8 fields are summed. Kernels before 2.6.11 lack steal and before
// 2.5.41 iowait; at least the first four fields are required.
Result<MachineCpu> ParseProcStat(std::string_view text) {
  if (text.substr(0, 4) != "cpu ") return Status::Corrupt("first line is not \"cpu \"");
  std::string_view line = text.substr(4);
  unsigned long long f[8] = {};
  int n = 0;
  while (n < 8 && NextUnsigned(&line, &f[n])) ++n;
  if (n < 4) return Status::Corrupt("fewer than 4 fields on the cpu line");
  MachineCpu m;
  for (int i = 0; i < n; ++i) m.total += f[i];
  const unsigned long long idle = f[3] + f[4];  // idle + iowait
  m.busy = m.total >= idle ? m.total - idle : 0;
  size_t pos = 0;
  while ((pos = text.find("\ncpu", pos)) != std::string_view::npos) {
    pos += 4;
    if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++m.online;
  }
  if (m.online == 0) return Status::Corrupt("no cpuN lines");
  return m;
}

// The value of "Key:   123 kB" in /proc/meminfo, in bytes. false if absent
// or malformed.
bool MeminfoBytes(std::string_view text, std::string_view key, unsigned long long* bytes) {
  size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = text.substr(pos, text.find('\n', pos) - pos);
    pos += line.size() + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    std::string_view rest = line.substr(key.size() + 1);
    unsigned long long kb = 0;
    // A figure that would not fit in bytes is not a real one.
    if (!NextUnsigned(&rest, &kb) || kb > std::numeric_limits<unsigned long long>::max() / 1024) return false;
    *bytes = kb * 1024;  // the kernel's "kB" is KiB
    return true;
  }
  return false;
}

struct PidStat {
  unsigned long long ticks = 0;  // utime+stime+cutime+cstime
  unsigned long long rss_pages = 0;
  unsigned long long threads = 0;
};

// /proc/PID/stat. comm (field 2) is in parentheses and may itself contain
// spaces and ')', so parsing starts after the LAST ')'. Fields used: 14
// utime, 15 stime, 16 cutime, 17 cstime (ticks), 20 num_threads, 24 rss
// (pages). cutime/cstime are printed as signed but never negative.
Result<PidStat> ParsePidStat(std::string_view text) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return Status::Corrupt("no ')' after comm");
  std::string_view s = text.substr(close + 1);
  PidStat st;
  unsigned long long v = 0;
  // Field 3 (state) to 13 (cmajflt): skip 11 fields.
  for (int field = 3; field <= 13; ++field) {
    if (!SkipField(&s)) return Status::Corrupt("truncated before utime");
  }
  for (int field = 14; field <= 17; ++field) {
    if (!NextUnsigned(&s, &v)) return Status::Corrupt("field " + std::to_string(field) + " is not a tick count");
    st.ticks += v;
  }
  for (int field = 18; field <= 19; ++field) {  // priority, nice (signed)
    if (!SkipField(&s)) return Status::Corrupt("truncated before num_threads");
  }
  if (!NextUnsigned(&s, &st.threads)) return Status::Corrupt("num_threads is not a number");
  for (int field = 21; field <= 23; ++field) {
    if (!SkipField(&s)) return Status::Corrupt("truncated before rss");
  }
  if (!NextUnsigned(&s, &st.rss_pages)) return Status::Corrupt("rss is not a page count");
  return st;
}

// Appends the pids in a children file ("12 345 678 ") to *out. Non-numeric
// content is Corrupt.
bool ParseChildren(std::string_view text, std::vector<pid_t>* out) {
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\n') { ++i; continue; }
    int pid = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), pid);
    if (ec != std::errc() || pid <= 0) return false;
    out->push_back(pid);
    i = static_cast<size_t>(p - text.data());
  }
  return true;
}

}  // namespace

struct ActivitySampler::Impl {
  struct Task {
    pid_t tid = 0;
    std::unique_ptr<FileHandle> children;
  };
  struct Member {
    std::unique_ptr<FileHandle> stat;
    std::vector<Task> tasks;
    unsigned long long threads_listed = 0;  // num_threads when tasks was listed
    unsigned long long seen = 0;            // the sample that last reached it
  };

  SystemRoots roots;
  std::shared_ptr<FileSystem> fs;
  pid_t root = 0;
  long clk_tck = 100;
  unsigned long long page_size = 4096;

  std::unique_ptr<FileHandle> proc_stat;
  std::unique_ptr<FileHandle> meminfo;
  std::optional<SteadyTime> meminfo_at;  // last good read of meminfo
  unsigned long long mem_total = 0;
  unsigned long long mem_available = 0;

  // The tree CPU clock, and the last walk's results it is paired with.
  std::unique_ptr<TreeCpuClock> clock;
  std::optional<SteadyTime> walked_at;
  ActivitySnapshot walked;  // tree_ok, rss, processes and pids of that walk
  std::unordered_map<pid_t, Member> members;
  std::vector<pid_t> queue;  // breadth-first walk, reused
  std::string buf;           // read buffer, reused
  unsigned long long sample_no = 0;
  unsigned long long max_tree_ticks = 0;

  Status ReadKept(std::unique_ptr<FileHandle>* h, const std::string& path);
  Status ReadMachine(ActivitySnapshot* snap, SteadyTime now);
  Status ReadMeminfo();
  void ReadTree(ActivitySnapshot* snap);
  void ReadTreeWithClock(ActivitySnapshot* snap, SteadyTime now);
  // Reads one member's stat, adds it to the sums and queues its children.
  // NotFound: it vanished.
  Status Visit(pid_t pid, unsigned long long* ticks, unsigned long long* rss, int* count);
  bool OpenStat(pid_t pid, Member* m);
  void RefreshTasks(pid_t pid, Member* m);
  Status QueueChildren(pid_t pid, Member* m);
};

// Reads a kept handle, opening it on first use. A failed read closes the
// handle so the next sample reopens it.
Status ActivitySampler::Impl::ReadKept(std::unique_ptr<FileHandle>* h, const std::string& path) {
  if (!*h) {
    auto r = fs->Open(path);
    if (!r.ok()) return r.status();
    *h = std::move(r).value();
  }
  Status s = (*h)->Read(&buf);
  if (!s.ok()) h->reset();
  return s;
}

namespace {
// Due when never read, or kTreeWalkPeriod after the last read.
bool Due(const std::optional<SteadyTime>& last, SteadyTime now) {
  return !last || now - *last >= kTreeWalkPeriod || now < *last;
}
}  // namespace

Status ActivitySampler::Impl::ReadMachine(ActivitySnapshot* snap, SteadyTime now) {
  if (Status s = ReadKept(&proc_stat, roots.Proc("stat")); !s.ok()) return s;
  auto cpu = ParseProcStat(buf);
  if (!cpu.ok()) return Status::Corrupt(roots.Proc("stat") + ": " + cpu.status().message());
  snap->machine_total_ticks = cpu->total;
  snap->machine_busy_ticks = cpu->busy;
  snap->online_cpus = cpu->online;
  snap->ticks_per_second = clk_tck;

  if (Due(meminfo_at, now)) {
    if (Status s = ReadMeminfo(); !s.ok()) return s;
    meminfo_at = now;
  }
  snap->mem_total_bytes = mem_total;
  snap->mem_available_bytes = mem_available;
  return Status::Ok();
}

Status ActivitySampler::Impl::ReadMeminfo() {
  if (Status s = ReadKept(&meminfo, roots.Proc("meminfo")); !s.ok()) return s;
  unsigned long long total = 0;
  unsigned long long available = 0;
  if (!MeminfoBytes(buf, "MemTotal", &total) || total == 0) {
    return Status::Corrupt(roots.Proc("meminfo") + ": no valid MemTotal");
  }
  // MemAvailable appeared in Linux 3.14; before it, MemFree is the closest
  // (lower) figure.
  if (!MeminfoBytes(buf, "MemAvailable", &available) &&
      !MeminfoBytes(buf, "MemFree", &available)) {
    return Status::Corrupt(roots.Proc("meminfo") + ": neither MemAvailable nor MemFree");
  }
  mem_total = total;
  // More available than there is (a corrupted or faked file) would make the
  // memory in use negative: none is in use.
  mem_available = std::min(available, total);
  return Status::Ok();
}

bool ActivitySampler::Impl::OpenStat(pid_t pid, Member* m) {
  auto r = fs->Open(roots.Proc(std::to_string(pid) + "/stat"));
  if (!r.ok()) return false;
  m->stat = std::move(r).value();
  return true;
}

// Lists /proc/PID/task when the member is new, multi-threaded, or its thread
// count changed: a single-threaded member's only task cannot change without
// the count changing, so the common case skips the directory walk.
void ActivitySampler::Impl::RefreshTasks(pid_t pid, Member* m) {
  const std::string dir = roots.Proc(std::to_string(pid) + "/task");
  auto tids = fs->ListDir(dir);
  if (!tids.ok()) return;  // it is exiting; its children are reparented
  std::vector<Task> fresh;
  for (const std::string& name : *tids) {
    int tid = 0;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), tid);
    if (ec != std::errc() || p != name.data() + name.size()) continue;
    Task t{tid, nullptr};
    for (Task& old : m->tasks) {
      if (old.tid == tid) t.children = std::move(old.children);
    }
    if (!t.children) {
      auto h = fs->Open(dir + "/" + name + "/children");
      if (h.ok()) t.children = std::move(h).value();
    }
    if (t.children) fresh.push_back(std::move(t));
  }
  m->tasks = std::move(fresh);
}

Status ActivitySampler::Impl::QueueChildren(pid_t pid, Member* m) {
  for (Task& t : m->tasks) {
    if (!t.children->Read(&buf).ok()) continue;  // the thread exited
    if (!ParseChildren(buf, &queue)) {
      return Status::Corrupt(roots.Proc(std::to_string(pid) + "/task/" + std::to_string(t.tid) +
                                        "/children") + ": not a list of pids");
    }
  }
  return Status::Ok();
}

Status ActivitySampler::Impl::Visit(pid_t pid, unsigned long long* ticks, unsigned long long* rss,
                                    int* count) {
  auto [it, fresh] = members.try_emplace(pid);
  Member& m = it->second;
  if (m.seen == sample_no) return Status::Ok();  // reached twice (pid reuse race)
  m.seen = sample_no;
  // A kept handle of a pid that died fails with ESRCH even when the pid has
  // been reused, so a failed read reopens once.
  bool read = (m.stat || OpenStat(pid, &m)) && m.stat->Read(&buf).ok() && !buf.empty();
  if (!read && !fresh) {
    m.tasks.clear();  // the old process's threads are gone too
    read = OpenStat(pid, &m) && m.stat->Read(&buf).ok() && !buf.empty();
  }
  if (!read) {
    members.erase(it);
    return Status::NotFound("process " + std::to_string(pid) + " has exited");
  }
  auto st = ParsePidStat(buf);
  if (!st.ok()) return Status::Corrupt(roots.Proc(std::to_string(pid) + "/stat") + ": " + st.status().message());
  *ticks += st->ticks;
  *rss += st->rss_pages * page_size;
  ++*count;
  if (fresh || st->threads != 1 || m.threads_listed != st->threads || m.tasks.empty()) {
    RefreshTasks(pid, &m);
    m.threads_listed = st->threads;
  }
  return QueueChildren(pid, &m);
}

void ActivitySampler::Impl::ReadTree(ActivitySnapshot* snap) {
  ++sample_no;
  queue.clear();
  queue.push_back(root);
  unsigned long long ticks = 0;
  unsigned long long rss = 0;
  int count = 0;
  for (size_t i = 0; i < queue.size(); ++i) {
    Status s = Visit(queue[i], &ticks, &rss, &count);
    if (s.code() == Status::Code::kCorrupt) {
      snap->ok = false;
      snap->error = std::move(s);
      return;
    }
    if (!s.ok()) {
      if (i == 0) {
        snap->error = std::move(s);
        return;  // the root is gone: tree_ok stays false
      }
      // A member that vanished between listing and reading is skipped.
    }
  }
  // Forget members that left the tree, closing their files.
  std::erase_if(members, [this](const auto& kv) { return kv.second.seen != sample_no; });
  max_tree_ticks = std::max(max_tree_ticks, ticks);
  snap->tree_ok = true;
  snap->tree_ticks = max_tree_ticks;
  snap->tree_rss_bytes = rss;
  snap->tree_processes = count;
  std::vector<int> pids;
  pids.reserve(members.size() + 1);
  pids.push_back(root);
  for (const auto& [pid, m] : members) {
    if (pid != root) pids.push_back(pid);
  }
  snap->tree_pids = std::move(pids);
}

// CPU time from the clock at every sample; membership and RSS from the last
// walk, refreshed when due. An unreadable clock falls back to the walk.
void ActivitySampler::Impl::ReadTreeWithClock(ActivitySnapshot* snap, SteadyTime now) {
  Result<unsigned long long> ns = clock->ReadNs();
  if (!ns.ok()) {
    clock.reset();
    ReadTree(snap);
    return;
  }
  if (Due(walked_at, now)) {
    ActivitySnapshot w;
    w.ok = true;
    ReadTree(&w);
    if (!w.ok) {  // corrupt procfs content: report it like the walk does
      snap->ok = false;
      snap->error = std::move(w.error);
      return;
    }
    walked = std::move(w);
    walked_at = now;
  }
  snap->tree_ok = true;
  snap->tree_cpu_ns_ok = true;
  snap->tree_cpu_ns = *ns;
  // Ticks are derived so consumers of tick counts see the same figure.
  snap->tree_ticks = static_cast<unsigned long long>(
      static_cast<long double>(*ns) * clk_tck / 1e9L);
  snap->tree_rss_bytes = walked.tree_ok ? walked.tree_rss_bytes : 0;
  snap->tree_processes = walked.tree_ok ? walked.tree_processes : 0;
  snap->tree_pids = walked.tree_ok ? walked.tree_pids : PidList{};  // shared, not copied
}

ActivitySampler::ActivitySampler(SystemRoots roots, std::shared_ptr<FileSystem> fs, pid_t root_pid)
    : impl_(std::make_unique<Impl>()) {
  impl_->roots = std::move(roots);
  impl_->fs = fs ? std::move(fs) : PosixFileSystem();
  impl_->root = root_pid;
  const long tck = ::sysconf(_SC_CLK_TCK);
  if (tck > 0) impl_->clk_tck = tck;
  const long page = ::sysconf(_SC_PAGESIZE);
  if (page > 0) impl_->page_size = static_cast<unsigned long long>(page);
  impl_->buf.reserve(4096);
  impl_->queue.reserve(64);
}

ActivitySampler::~ActivitySampler() = default;

void ActivitySampler::SetRoot(pid_t root_pid, std::unique_ptr<TreeCpuClock> clock) {
  impl_->clock = std::move(clock);
  impl_->walked_at.reset();
  impl_->walked = ActivitySnapshot{};
  if (root_pid == impl_->root) return;
  impl_->root = root_pid;
  impl_->members.clear();
  impl_->max_tree_ticks = 0;
}

ActivitySnapshot ActivitySampler::Sample(SteadyTime now) {
  ActivitySnapshot snap;
  Status s = impl_->ReadMachine(&snap, now);
  if (!s.ok()) {
    snap.error = std::move(s);
    return snap;
  }
  snap.ok = true;
  if (impl_->root <= 0) return snap;
  if (impl_->clock) {
    impl_->ReadTreeWithClock(&snap, now);
  } else {
    impl_->ReadTree(&snap);
  }
  return snap;
}

long ActivitySampler::ticks_per_second() const { return impl_->clk_tck; }

}  // namespace wattprint
