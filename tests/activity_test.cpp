// ActivitySampler on fake procfs trees (exact figures) and on the real /proc.
#include "wattprint/activity.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::TempTree;

// TempTree::Write replaces files by rename, so a handle kept open would keep
// reading the old file. procfs files always show the current state; this
// FileSystem gives fake trees the same behaviour by re-reading the path at
// every Read. It also counts opens, to check that handles are kept.
class LiveFs final : public FileSystem {
 public:
  class Handle final : public FileHandle {
   public:
    Handle(const LiveFs* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
    Status Read(std::string* out) override {
      auto r = fs_->base_->ReadFile(path_);
      if (!r.ok()) return r.status();
      *out = *r;
      return Status::Ok();
    }

   private:
    const LiveFs* fs_;
    std::string path_;
  };

  Result<std::unique_ptr<FileHandle>> Open(const std::string& path) const override {
    ++opens;
    auto r = base_->Open(path);
    if (!r.ok()) return r.status();
    return std::unique_ptr<FileHandle>(new Handle(this, path));
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    ++lists;
    return base_->ListDir(path);
  }
  Result<std::string> ReadLink(const std::string& path) const override { return base_->ReadLink(path); }

  mutable std::atomic<int> opens{0};
  mutable std::atomic<int> lists{0};

 private:
  std::shared_ptr<FileSystem> base_ = PosixFileSystem();
};

const unsigned long long kPage = static_cast<unsigned long long>(sysconf(_SC_PAGESIZE));

// A /proc/PID/stat line with the fields the sampler reads; the others hold
// plausible values.
std::string StatLine(int pid, const std::string& comm, int utime, int stime, int cutime, int cstime,
                     int threads, int rss, char state = 'S') {
  return std::to_string(pid) + " (" + comm + ") " + state + " 1 " + std::to_string(pid) +
         " 1 0 -1 4194560 120 0 0 0 " + std::to_string(utime) + " " + std::to_string(stime) + " " +
         std::to_string(cutime) + " " + std::to_string(cstime) + " 20 0 " + std::to_string(threads) +
         " 0 12345 10485760 " + std::to_string(rss) +
         " 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
}

class FakeProc {
 public:
  FakeProc() {
    SetStat("cpu  100 20 30 400 50 6 7 8 9 10\ncpu0 50 10 15 200 25 3 3 4 4 5\n"
            "cpu1 50 10 15 200 25 3 4 4 5 5\nintr 1 2 3\nctxt 99\n");
    SetMeminfo("MemTotal:       16384 kB\nMemFree:         4096 kB\nMemAvailable:    8192 kB\n");
  }
  void SetStat(const std::string& s) const { t.Write("proc/stat", s); }
  void SetMeminfo(const std::string& s) const { t.Write("proc/meminfo", s); }
  // A single-threaded process.
  void Proc(int pid, const std::string& stat, const std::string& children = "") const {
    t.Write("proc/" + std::to_string(pid) + "/stat", stat);
    t.Write("proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children", children);
  }
  void Task(int pid, int tid, const std::string& children) const {
    t.Write("proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/children", children);
  }
  void Kill(int pid) const { t.Remove("proc/" + std::to_string(pid)); }
  SystemRoots Roots() const {
    SystemRoots r;
    r.procfs = t.Path("proc");
    r.sysfs = t.Path("sys");
    return r;
  }

  TempTree t;
  std::shared_ptr<LiveFs> fs = std::make_shared<LiveFs>();
};

TEST(ActivityTest, ParsesProcStatAndMeminfo) {
  FakeProc p;
  ActivitySampler s(p.Roots(), p.fs, 0);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.ok) << a.error.ToString();
  // user+nice+system+idle+iowait+irq+softirq+steal; guest fields excluded.
  EXPECT_EQ(a.machine_total_ticks, 621u);
  EXPECT_EQ(a.machine_busy_ticks, 171u);  // 621 - idle 400 - iowait 50
  EXPECT_EQ(a.online_cpus, 2);
  EXPECT_EQ(a.mem_total_bytes, 16384u * 1024);
  EXPECT_EQ(a.mem_available_bytes, 8192u * 1024);
  EXPECT_FALSE(a.tree_ok);  // no process tracked
  EXPECT_TRUE(a.error.ok());
  EXPECT_EQ(a.tree_processes, 0);
}

// A meminfo claiming more available than in total (found by fuzz_proc)
// would make the memory in use negative: none is in use.
TEST(ActivityTest, AvailableMemoryNeverExceedsTheTotal) {
  FakeProc p;
  p.SetMeminfo("MemTotal: 2048 kB\nMemFree: 1024 kB\nMemAvailable: 80000006 kB\n");
  ActivitySampler s(p.Roots(), p.fs, 0);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.ok) << a.error.ToString();
  EXPECT_EQ(a.mem_total_bytes, 2048u * 1024);
  EXPECT_EQ(a.mem_available_bytes, a.mem_total_bytes);
}

TEST(ActivityTest, OldKernelStatLineAndMeminfoWithoutMemAvailable) {
  FakeProc p;
  p.SetStat("cpu 10 0 5 85\ncpu0 10 0 5 85\n");
  p.SetMeminfo("MemTotal: 2048 kB\nMemFree: 1024 kB\n");
  ActivitySampler s(p.Roots(), p.fs, 0);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.ok) << a.error.ToString();
  EXPECT_EQ(a.machine_total_ticks, 100u);
  EXPECT_EQ(a.machine_busy_ticks, 15u);
  EXPECT_EQ(a.online_cpus, 1);
  EXPECT_EQ(a.mem_available_bytes, 1024u * 1024);
}

TEST(ActivityTest, ReReadsMachineFilesThroughKeptHandles) {
  FakeProc p;
  ActivitySampler s(p.Roots(), p.fs, 0);
  ASSERT_TRUE(s.Sample().ok);
  const int opens = p.fs->opens;
  p.SetStat("cpu  200 20 30 500 50 6 7 8 9 10\ncpu0 1\ncpu1 1\ncpu2 1\n");
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.machine_total_ticks, 821u);
  EXPECT_EQ(a.online_cpus, 3);
  EXPECT_EQ(p.fs->opens, opens);
}

TEST(ActivityTest, DiscoversTreeThroughChildrenOfEveryThread) {
  FakeProc p;
  p.Proc(100, StatLine(100, "make", 10, 5, 0, 0, 1, 1000), "101 102\n");
  p.Proc(101, StatLine(101, "cc1", 200, 20, 0, 0, 1, 3000), "103");
  p.Proc(103, StatLine(103, "as", 7, 3, 0, 0, 1, 500));
  // 102 has two threads; its child 104 was forked by thread 105.
  p.t.Write("proc/102/stat", StatLine(102, "ld", 30, 10, 0, 0, 2, 2000));
  p.Task(102, 102, "");
  p.Task(102, 105, "104 ");
  p.Proc(104, StatLine(104, "lto", 1, 1, 0, 0, 1, 100));
  p.Proc(999, StatLine(999, "other", 5000, 5000, 0, 0, 1, 99999));  // not in the tree

  ActivitySampler s(p.Roots(), p.fs, 100);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.ok) << a.error.ToString();
  ASSERT_TRUE(a.tree_ok) << a.error.ToString();
  EXPECT_EQ(a.tree_processes, 5);
  EXPECT_EQ(a.tree_ticks, 15u + 220u + 10u + 40u + 2u);
  EXPECT_EQ(a.tree_rss_bytes, (1000u + 3000u + 500u + 2000u + 100u) * kPage);
  ASSERT_FALSE(a.tree_pids.empty());
  EXPECT_EQ(a.tree_pids.front(), 100);  // the root first
  std::vector<int> pids = a.tree_pids;
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(pids, (std::vector<int>{100, 101, 102, 103, 104}));
}

TEST(ActivityTest, ChildrenStartAndExitBetweenSamples) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 0, 0, 0, 1, 100), "101");
  p.Proc(101, StatLine(101, "job", 50, 0, 0, 0, 1, 200));
  ActivitySampler s(p.Roots(), p.fs, 100);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.tree_ok);
  EXPECT_EQ(a.tree_processes, 2);
  EXPECT_EQ(a.tree_ticks, 60u);

  // 101 exits and is reaped by 100 (its 70 ticks move to 100's cutime); a
  // new child 102 starts.
  p.Kill(101);
  p.Proc(100, StatLine(100, "sh", 11, 0, 70, 0, 1, 100), "102");
  p.Proc(102, StatLine(102, "job2", 4, 1, 0, 0, 1, 300));
  a = s.Sample();
  ASSERT_TRUE(a.tree_ok);
  EXPECT_EQ(a.tree_processes, 2);
  EXPECT_EQ(a.tree_ticks, 11u + 70u + 5u);
  EXPECT_EQ(a.tree_rss_bytes, 400u * kPage);

  // A grandchild appears under 102.
  p.Proc(102, StatLine(102, "job2", 8, 2, 0, 0, 1, 300), "103");
  p.Proc(103, StatLine(103, "grandchild", 1, 0, 0, 0, 1, 10));
  a = s.Sample();
  EXPECT_EQ(a.tree_processes, 3);
  EXPECT_EQ(a.tree_ticks, 11u + 70u + 10u + 1u);
}

TEST(ActivityTest, MemberVanishingBeforeItsStatIsReadIsSkipped) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 0, 0, 0, 1, 100), "101 102");
  p.Proc(102, StatLine(102, "job", 5, 0, 0, 0, 1, 100));  // 101 listed but gone
  ActivitySampler s(p.Roots(), p.fs, 100);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.ok);
  ASSERT_TRUE(a.tree_ok) << a.error.ToString();
  EXPECT_EQ(a.tree_processes, 2);
  EXPECT_EQ(a.tree_ticks, 15u);
  std::vector<int> pids = a.tree_pids;
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(pids, (std::vector<int>{100, 102}));  // 101 vanished
}

TEST(ActivityTest, CommWithSpacesAndParentheses) {
  FakeProc p;
  p.Proc(100, StatLine(100, "my (weird) prog) 1 2 3", 12, 34, 5, 6, 1, 77));
  ActivitySampler s(p.Roots(), p.fs, 100);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.ok) << a.error.ToString();
  ASSERT_TRUE(a.tree_ok);
  EXPECT_EQ(a.tree_ticks, 57u);
  EXPECT_EQ(a.tree_rss_bytes, 77u * kPage);
}

TEST(ActivityTest, TreeTicksNeverDecrease) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 0, 0, 0, 1, 100), "101");
  p.Proc(101, StatLine(101, "daemonizer", 40, 0, 0, 0, 1, 100));
  ActivitySampler s(p.Roots(), p.fs, 100);
  EXPECT_EQ(s.Sample().tree_ticks, 50u);
  // 101 is reparented outside the tree: its 40 ticks leave the sum.
  p.Proc(100, StatLine(100, "sh", 12, 0, 0, 0, 1, 100), "");
  ActivitySnapshot a = s.Sample();
  EXPECT_EQ(a.tree_ticks, 50u);
  EXPECT_EQ(a.tree_processes, 1);
  p.Proc(100, StatLine(100, "sh", 60, 0, 0, 0, 1, 100), "");
  EXPECT_EQ(s.Sample().tree_ticks, 60u);
}

TEST(ActivityTest, ZombieMemberIsCounted) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 0, 0, 0, 1, 100), "101");
  // A zombie keeps its stat (rss 0, no threads) and an empty task directory.
  p.t.Write("proc/101/stat", StatLine(101, "done", 30, 3, 0, 0, 0, 0, 'Z'));
  p.t.Mkdir("proc/101/task");
  ActivitySampler s(p.Roots(), p.fs, 100);
  ActivitySnapshot a = s.Sample();
  ASSERT_TRUE(a.tree_ok) << a.error.ToString();
  EXPECT_EQ(a.tree_processes, 2);
  EXPECT_EQ(a.tree_ticks, 43u);
}

TEST(ActivityTest, RootGoneReportsTreeUnavailable) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 0, 0, 0, 1, 100));
  ActivitySampler s(p.Roots(), p.fs, 100);
  ASSERT_TRUE(s.Sample().tree_ok);
  p.Kill(100);
  ActivitySnapshot a = s.Sample();
  EXPECT_TRUE(a.ok);  // machine figures are still good
  EXPECT_FALSE(a.tree_ok);
  EXPECT_EQ(a.error.code(), Status::Code::kNotFound);
  EXPECT_EQ(a.error.message(), "process 100 has exited");
  EXPECT_EQ(a.tree_processes, 0);
}

TEST(ActivityTest, KeepsHandlesOfSingleThreadedMembers) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 0, 0, 0, 1, 100), "101");
  p.Proc(101, StatLine(101, "job", 1, 0, 0, 0, 1, 100));
  ActivitySampler s(p.Roots(), p.fs, 100);
  ASSERT_TRUE(s.Sample().tree_ok);
  const int opens = p.fs->opens;
  const int lists = p.fs->lists;
  p.Proc(101, StatLine(101, "job", 9, 0, 0, 0, 1, 100));
  ActivitySnapshot a = s.Sample();
  EXPECT_EQ(a.tree_ticks, 19u);
  EXPECT_EQ(p.fs->opens, opens);
  EXPECT_EQ(p.fs->lists, lists);
  // A second thread appears in 101: its task list is read again.
  p.Proc(101, StatLine(101, "job", 9, 0, 0, 0, 2, 100));
  p.Task(101, 107, "108");
  p.Proc(108, StatLine(108, "grandchild", 2, 0, 0, 0, 1, 100));
  a = s.Sample();
  EXPECT_EQ(a.tree_processes, 3);
  EXPECT_EQ(a.tree_ticks, 21u);
}

TEST(ActivityTest, SetRootStartsAFreshTree) {
  FakeProc p;
  p.Proc(100, StatLine(100, "a", 500, 0, 0, 0, 1, 100));
  p.Proc(200, StatLine(200, "b", 7, 0, 0, 0, 1, 100));
  ActivitySampler s(p.Roots(), p.fs, 100);
  EXPECT_EQ(s.Sample().tree_ticks, 500u);
  s.SetRoot(200);
  EXPECT_EQ(s.Sample().tree_ticks, 7u);
}

struct MalformedCase {
  const char* name;
  const char* stat;      // /proc/stat (null: the valid one)
  const char* meminfo;   // null: the valid one
  const char* pid_stat;  // /proc/100/stat (null: a valid one)
  const char* children;  // null: ""
};

class ActivityMalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(ActivityMalformedTest, ReportsCorrupt) {
  const MalformedCase& c = GetParam();
  FakeProc p;
  if (c.stat) p.SetStat(c.stat);
  if (c.meminfo) p.SetMeminfo(c.meminfo);
  p.Proc(100, c.pid_stat ? c.pid_stat : StatLine(100, "x", 1, 1, 1, 1, 1, 1), c.children ? c.children : "");
  ActivitySampler s(p.Roots(), p.fs, 100);
  ActivitySnapshot a = s.Sample();
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error.code(), Status::Code::kCorrupt) << a.error.ToString();
  EXPECT_FALSE(a.error.message().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ActivityMalformedTest,
    ::testing::Values(
        MalformedCase{"EmptyStat", "", nullptr, nullptr, nullptr},
        MalformedCase{"NoCpuLine", "intr 1 2\n", nullptr, nullptr, nullptr},
        MalformedCase{"ShortCpuLine", "cpu  1 2 3\ncpu0 1 2 3\n", nullptr, nullptr, nullptr},
        MalformedCase{"TextInCpuLine", "cpu  1 2 x 4 5\ncpu0 1\n", nullptr, nullptr, nullptr},
        MalformedCase{"NoCpuN", "cpu  1 2 3 4 5 6 7 8\nintr 1\n", nullptr, nullptr, nullptr},
        MalformedCase{"NoMemTotal", nullptr, "MemFree: 1 kB\n", nullptr, nullptr},
        MalformedCase{"MemTotalText", nullptr, "MemTotal: lots kB\nMemAvailable: 1 kB\n", nullptr, nullptr},
        MalformedCase{"NoAvailable", nullptr, "MemTotal: 10 kB\n", nullptr, nullptr},
        // 2^64 / 1024 kB and more do not fit in bytes (found by fuzz_proc).
        MalformedCase{"MemTotalOverflows", nullptr, "MemTotal: 18014398509481984 kB\nMemAvailable: 1 kB\n",
                      nullptr, nullptr},
        MalformedCase{"PidStatNoParen", nullptr, nullptr, "100 sh S 1 2 3\n", nullptr},
        MalformedCase{"PidStatTruncated", nullptr, nullptr, "100 (sh) S 1 100 1 0 -1 0 0 0 0 0 5 6\n", nullptr},
        MalformedCase{"PidStatText", nullptr, nullptr,
                      "100 (sh) S 1 100 1 0 -1 0 0 0 0 0 5 abc 0 0 20 0 1 0 1 1 1\n", nullptr},
        MalformedCase{"ChildrenText", nullptr, nullptr, nullptr, "12 abc\n"}),
    [](const ::testing::TestParamInfo<MalformedCase>& i) { return std::string(i.param.name); });

// Every prefix of a valid stat line parses or is Corrupt; none crashes or
// reads past the end.
TEST(ActivityTest, EveryTruncationOfPidStatIsHandled) {
  const std::string full = StatLine(100, "a) (b", 1, 2, 3, 4, 1, 5);
  FakeProc p;
  for (size_t n = 0; n < full.size(); ++n) {
    p.Proc(100, full.substr(0, n));
    ActivitySampler s(p.Roots(), p.fs, 100);
    ActivitySnapshot a = s.Sample();
    if (a.ok && a.tree_ok) {
      EXPECT_EQ(a.tree_ticks, 10u) << n;
    } else if (a.ok) {
      EXPECT_EQ(n, 0u);  // empty stat: the process is treated as gone
    } else {
      EXPECT_EQ(a.error.code(), Status::Code::kCorrupt) << n;
    }
  }
}

// The real /proc, with this test process as the root.
TEST(ActivityRealProcTest, TracksThisProcessAndItsChildren) {
  ActivitySampler s(SystemRoots{}, PosixFileSystem(), getpid());
  EXPECT_GT(s.ticks_per_second(), 0);
  ActivitySnapshot first = s.Sample();
  ASSERT_TRUE(first.ok) << first.error.ToString();
  ASSERT_TRUE(first.tree_ok) << first.error.ToString();
  EXPECT_GE(first.tree_processes, 1);
  EXPECT_GT(first.machine_total_ticks, 0u);
  EXPECT_GE(first.online_cpus, 1);
  EXPECT_GT(first.mem_total_bytes, 0u);
  EXPECT_GT(first.tree_rss_bytes, 0u);

  // Burn ~100 ms of CPU so the tree's ticks move.
  volatile unsigned long x = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
  while (std::chrono::steady_clock::now() < end) x = x + 1;

  pid_t sleeper = fork();
  if (sleeper == 0) {
    pause();
    _exit(0);
  }
  pid_t zombie = fork();
  if (zombie == 0) _exit(0);
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT);  // exited, not reaped

  ActivitySnapshot second = s.Sample();
  ASSERT_TRUE(second.tree_ok) << second.error.ToString();
  EXPECT_GT(second.tree_ticks, 0u);
  EXPECT_GE(second.tree_ticks, first.tree_ticks);
  EXPECT_GE(second.tree_processes, 3);  // this process, the sleeper, the zombie
  EXPECT_GT(second.machine_total_ticks, first.machine_total_ticks);

  kill(sleeper, SIGKILL);
  waitpid(sleeper, nullptr, 0);
  waitpid(zombie, nullptr, 0);
  ActivitySnapshot third = s.Sample();
  ASSERT_TRUE(third.tree_ok);
  EXPECT_EQ(third.tree_processes, first.tree_processes);
  EXPECT_GE(third.tree_ticks, second.tree_ticks);
}

// A child forked by a second thread is listed in that thread's children
// file, not the main thread's.
TEST(ActivityRealProcTest, FindsChildrenOfOtherThreads) {
  ActivitySampler s(SystemRoots{}, PosixFileSystem(), getpid());
  const int before = s.Sample().tree_processes;
  pid_t child = -1;
  std::thread t([&child] {
    child = fork();
    if (child == 0) {
      pause();
      _exit(0);
    }
  });
  t.join();
  // The forking thread has exited: its child was reparented to the main
  // thread. Fork again from a thread that stays alive while sampling.
  pid_t child2 = -1;
  std::atomic<bool> done{false};
  std::atomic<bool> forked{false};
  std::thread live([&] {
    child2 = fork();
    if (child2 == 0) {
      pause();
      _exit(0);
    }
    forked = true;
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!forked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ActivitySnapshot a = s.Sample();
  done = true;
  live.join();
  ASSERT_TRUE(a.tree_ok) << a.error.ToString();
  EXPECT_EQ(a.tree_processes, before + 2);
  kill(child, SIGKILL);
  kill(child2, SIGKILL);
  waitpid(child, nullptr, 0);
  waitpid(child2, nullptr, 0);
}

// A clock the test sets; shared so the test keeps a handle.
struct FakeClockState {
  std::atomic<unsigned long long> ns{0};
  std::atomic<bool> fail{false};
};
class FakeClock final : public TreeCpuClock {
 public:
  explicit FakeClock(std::shared_ptr<FakeClockState> st) : st_(std::move(st)) {}
  Result<unsigned long long> ReadNs() override {
    if (st_->fail) return Status::IOError("counter gone");
    return st_->ns.load();
  }

 private:
  std::shared_ptr<FakeClockState> st_;
};

TEST(ActivityClockTest, ClockGivesTreeCpuAndTheWalkRunsOnItsPeriod) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 0, 0, 0, 1, 100), "101");
  p.Proc(101, StatLine(101, "job", 50, 0, 0, 0, 1, 200));
  auto st = std::make_shared<FakeClockState>();
  st->ns = 2'500'000'000;
  ActivitySampler s(p.Roots(), p.fs, 0);
  s.SetRoot(100, std::make_unique<FakeClock>(st));
  const SteadyTime t0 = SteadyClock::now();
  ActivitySnapshot a = s.Sample(t0);
  ASSERT_TRUE(a.ok) << a.error.ToString();
  ASSERT_TRUE(a.tree_ok);
  EXPECT_TRUE(a.tree_cpu_ns_ok);
  EXPECT_EQ(a.tree_cpu_ns, 2'500'000'000u);
  EXPECT_EQ(a.tree_ticks, static_cast<unsigned long long>(2.5 * s.ticks_per_second()));
  EXPECT_EQ(a.ticks_per_second, s.ticks_per_second());
  EXPECT_EQ(a.tree_processes, 2);
  EXPECT_EQ(a.tree_rss_bytes, 300u * kPage);

  // A new member and more memory: not walked again until the period ends,
  // while the CPU time follows the clock at every sample.
  p.Proc(101, StatLine(101, "job", 60, 0, 0, 0, 1, 900), "102");
  p.Proc(102, StatLine(102, "child", 1, 0, 0, 0, 1, 50));
  p.SetMeminfo("MemTotal:       16384 kB\nMemFree:         1024 kB\nMemAvailable:    2048 kB\n");
  st->ns = 3'000'000'000;
  a = s.Sample(t0 + std::chrono::seconds(1));
  EXPECT_EQ(a.tree_cpu_ns, 3'000'000'000u);
  EXPECT_EQ(a.tree_processes, 2);
  EXPECT_EQ(a.tree_rss_bytes, 300u * kPage);
  EXPECT_EQ(a.mem_available_bytes, 8192u * 1024u);

  a = s.Sample(t0 + kTreeWalkPeriod);
  EXPECT_EQ(a.tree_processes, 3);
  EXPECT_EQ(a.tree_rss_bytes, 1050u * kPage);
  EXPECT_EQ(a.mem_available_bytes, 2048u * 1024u);
  std::vector<int> pids = a.tree_pids;
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(pids, (std::vector<int>{100, 101, 102}));
}

TEST(ActivityClockTest, UnreadableClockFallsBackToTheWalkAtEverySample) {
  FakeProc p;
  p.Proc(100, StatLine(100, "sh", 10, 5, 0, 0, 1, 100));
  auto st = std::make_shared<FakeClockState>();
  st->fail = true;
  ActivitySampler s(p.Roots(), p.fs, 0);
  s.SetRoot(100, std::make_unique<FakeClock>(st));
  const SteadyTime t0 = SteadyClock::now();
  ActivitySnapshot a = s.Sample(t0);
  ASSERT_TRUE(a.tree_ok) << a.error.ToString();
  EXPECT_FALSE(a.tree_cpu_ns_ok);
  EXPECT_EQ(a.tree_ticks, 15u);
  p.Proc(100, StatLine(100, "sh", 30, 5, 0, 0, 1, 100));
  a = s.Sample(t0 + std::chrono::milliseconds(100));
  EXPECT_EQ(a.tree_ticks, 35u);
}

// A root that has exited keeps its CPU time from the clock; it has no
// members or memory left.
TEST(ActivityClockTest, ClockOutlivesTheRoot) {
  FakeProc p;
  auto st = std::make_shared<FakeClockState>();
  st->ns = 40'000'000;
  ActivitySampler s(p.Roots(), p.fs, 0);
  s.SetRoot(4242, std::make_unique<FakeClock>(st));  // no /proc/4242
  ActivitySnapshot a = s.Sample(SteadyClock::now());
  ASSERT_TRUE(a.ok);
  EXPECT_TRUE(a.tree_ok);
  EXPECT_EQ(a.tree_cpu_ns, 40'000'000u);
  EXPECT_EQ(a.tree_processes, 0);
  EXPECT_EQ(a.tree_rss_bytes, 0u);
}

double ChildrenCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void Burn(std::chrono::milliseconds cpu) {
  timespec ts{};
  auto now = [&] {
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  };
  const auto end = now() + cpu;
  while (now() < end) {
  }
}

// The real kernel counter, opened the way `wattprint run` opens it: in a
// child before it forks. It counts that child and a grandchild that
// outlives it (an orphan, reaped here as subreaper).
TEST(ActivityClockTest, InheritedTaskClockCountsDescendantsIncludingOrphans) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const double before = ChildrenCpuSeconds();
  const pid_t child = fork();
  if (child == 0) {
    const int fd = OpenInheritedTaskClock();
    (void)!write(fds[1], &fd, sizeof fd);  // the fd number, or -errno
    if (fd < 0) _exit(0);
    if (fork() == 0) {  // grandchild: outlives its parent
      usleep(50'000);
      Burn(std::chrono::milliseconds(120));
      _exit(0);
    }
    Burn(std::chrono::milliseconds(80));
    const char done = 'd';
    (void)!write(fds[1], &done, 1);
    pause();  // keep the counter's fd open until the test has duplicated it
    _exit(0);
  }
  int child_fd = -1;
  ASSERT_EQ(read(fds[0], &child_fd, sizeof child_fd), static_cast<ssize_t>(sizeof child_fd));
  if (child_fd < 0) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    GTEST_SKIP() << "perf_event_open refused: " << std::strerror(-child_fd);
  }
  // Take the child's descriptor (pidfd_getfd needs Linux 5.6 and ptrace
  // rights over the child, which a parent has).
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  ASSERT_GE(pidfd, 0) << std::strerror(errno);
  const int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, child_fd, 0));
  ASSERT_GE(fd, 0) << std::strerror(errno);
  close(pidfd);
  std::unique_ptr<TreeCpuClock> clock = TaskClockFromFd(fd);
  // Once the child has burnt its share, end it; the grandchild goes on as
  // an orphan.
  char done = 0;
  ASSERT_EQ(read(fds[0], &done, 1), 1);
  Result<unsigned long long> live = clock->ReadNs();
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_GE(*live, 80'000'000u - 2'000'000u);  // living members are summed too
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // Reap the orphan, now our child.
  while (waitpid(-1, nullptr, 0) > 0) {
  }
  const double reaped = ChildrenCpuSeconds() - before;
  Result<unsigned long long> ns = clock->ReadNs();
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  const double counted = static_cast<double>(*ns) / 1e9;
  EXPECT_GE(counted, 0.200 - 0.002);
  // Everything it counted ran in those two processes.
  EXPECT_LE(counted, reaped + 0.005);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace wattprint
