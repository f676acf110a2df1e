#include "wattprint/tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "support/temp_tree.h"

namespace wattprint {
namespace {

using namespace std::chrono_literals;

// A counter source whose value the test moves; it records every poll time.
class FakeCounter final : public Source {
 public:
  explicit FakeCounter(std::string id, double range_j = 0.0) {
    ChannelInfo c;
    c.id = id;
    c.device_id = id;
    c.kind = DeviceKind::kCpu;
    c.wrap_range = Energy::Joules(range_j);
    channels_.push_back(c);
  }
  std::string name() const override { return "fake"; }
  const std::vector<ChannelInfo>& channels() const override { return channels_; }
  void Poll(SteadyTime, const ActivitySnapshot&, std::span<Reading> out) override {
    polls.fetch_add(1);
    out[0] = Reading::Of(value.load());
  }
  std::atomic<double> value{0.0};
  std::atomic<int> polls{0};

 private:
  std::vector<ChannelInfo> channels_;
};

// A minimal procfs so the tracker's activity sampler has something to read.
struct FakeProc {
  testing::TempTree tree;
  FakeProc() {
    tree.Write("proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n");
    tree.Write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
  }
  TrackerOptions Options(Duration interval) const {
    TrackerOptions o;
    o.interval = interval;
    o.roots.procfs = tree.Path("proc");
    o.roots.sysfs = tree.Path("sys");
    return o;
  }
};

std::unique_ptr<Tracker> MakeTracker(const FakeProc& p, Duration interval, FakeCounter** out) {
  auto src = std::make_unique<FakeCounter>("pkg");
  *out = src.get();
  std::vector<std::unique_ptr<Source>> v;
  v.push_back(std::move(src));
  return std::make_unique<Tracker>(p.Options(interval), std::move(v));
}

// Time moves only when the test says so; suspend time is staged apart.
class ManualClock final : public Clock {
 public:
  SteadyTime Now() const override { return t; }
  SystemTime WallNow() const override { return wall0 + (t - t0) + suspended; }
  Duration SuspendedSinceBoot() const override { return suspended; }
  void Advance(Duration d) { t += d; }
  const SteadyTime t0 = SteadyTime{} + 1000s;
  const SystemTime wall0 = SystemTime{} + 1'700'000'000s;
  SteadyTime t = t0;
  Duration suspended = 5s;  // since boot, before the test
};

struct ManualRig {
  FakeProc proc;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  FakeCounter* counter = nullptr;
  std::unique_ptr<Tracker> tracker;
  ManualRig(Duration interval, double range_j) {
    auto src = std::make_unique<FakeCounter>("pkg", range_j);
    counter = src.get();
    std::vector<std::unique_ptr<Source>> v;
    v.push_back(std::move(src));
    TrackerOptions o = proc.Options(interval);
    o.sampler_thread = false;
    o.clock = clock;
    tracker = std::make_unique<Tracker>(std::move(o), std::move(v));
  }
  bool Has(LedgerEventKind k) const {
    const auto snap = tracker->Snapshot();
    for (const LedgerEvent& e : snap.ledger->events()) {
      if (e.kind == k) return true;
    }
    return false;
  }
};

TEST(Tracker, ShortRunIsMeasuredExactly) {
  ManualRig r(1s, 0.0);
  r.counter->value = 1000.0;
  ASSERT_TRUE(r.tracker->Start().ok());
  r.clock->Advance(50ms);  // shorter than the interval: nothing is due
  EXPECT_FALSE(r.tracker->PollDue(r.clock->Now()));
  r.counter->value = 1012.5;
  ASSERT_TRUE(r.tracker->Stop().ok());
  auto snap = r.tracker->Snapshot();
  EXPECT_DOUBLE_EQ(snap.ledger->SumAll().channels[0].machine.joules(), 12.5);
  EXPECT_EQ(snap.ledger->num_points(), 2u);  // start and stop only
  EXPECT_EQ(snap.ledger->point_time(1) - snap.ledger->point_time(0), 50ms);
}

TEST(Tracker, StopReturnsWithinMillisecondsWhateverTheInterval) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 3600s, &c);
  ASSERT_TRUE(t->Start().ok());
  auto t0 = SteadyClock::now();
  ASSERT_TRUE(t->Stop().ok());
  EXPECT_LT(SteadyClock::now() - t0, 500ms);
}

TEST(Tracker, BackgroundSamplerPollsAtInterval) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 10ms, &c);
  ASSERT_TRUE(t->Start().ok());
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(t->Stop().ok());
  EXPECT_GE(c->polls.load(), 5);
  EXPECT_EQ(static_cast<int>(t->Snapshot().ledger->num_points()), c->polls.load());
}

TEST(Tracker, TasksAreExactSlices) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 1s, &c);
  c->value = 0;
  ASSERT_TRUE(t->Start().ok());
  c->value = 5;
  ASSERT_TRUE(t->StartTask("load").ok());
  c->value = 25;
  auto task = t->StopTask();
  ASSERT_TRUE(task.ok());
  c->value = 30;
  ASSERT_TRUE(t->StartTask("second").ok());
  c->value = 40;
  ASSERT_TRUE(t->StartTask("third").ok());  // closes "second"
  c->value = 47;
  ASSERT_TRUE(t->Stop().ok());              // closes "third"
  auto snap = t->Snapshot();
  ASSERT_EQ(snap.tasks.size(), 3u);
  auto energy = [&](const TaskRecord& r) {
    return snap.ledger->Sum(r.from_point, r.to_point).channels[0].machine.joules();
  };
  EXPECT_EQ(snap.tasks[0].name, "load");
  EXPECT_DOUBLE_EQ(energy(snap.tasks[0]), 20.0);
  EXPECT_DOUBLE_EQ(energy(snap.tasks[1]), 10.0);
  EXPECT_DOUBLE_EQ(energy(snap.tasks[2]), 7.0);
  EXPECT_DOUBLE_EQ(snap.ledger->SumAll().channels[0].machine.joules(), 47.0);
}

TEST(Tracker, NewTreeRootGetsAnEarlyPoll) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 3600s, &c);
  ASSERT_TRUE(t->Start().ok());
  t->SetTreeRoot(getpid());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(c->polls.load(), 2);  // start + the early poll, not waiting an hour
  ASSERT_TRUE(t->Stop().ok());
}

TEST(Tracker, MisuseIsAnErrorNotACrash) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 1s, &c);
  EXPECT_FALSE(t->Stop().ok());
  EXPECT_FALSE(t->StartTask("x").ok());
  EXPECT_FALSE(t->StopTask().ok());
  ASSERT_TRUE(t->Start().ok());
  EXPECT_FALSE(t->Start().ok());
  EXPECT_FALSE(t->StopTask().ok());
}

TEST(Tracker, FlushTakesAReadingWithoutStopping) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 1s, &c);
  ASSERT_TRUE(t->Start().ok());
  c->value = 9;
  auto snap = t->Flush();
  EXPECT_TRUE(snap.running);
  EXPECT_DOUBLE_EQ(snap.ledger->SumAll().channels[0].machine.joules(), 9.0);
  EXPECT_TRUE(t->running());
}

TEST(Tracker, TwoTrackersInOneProcessAreIndependent) {
  ManualRig a(5ms, 0.0), b(7ms, 0.0);
  ASSERT_TRUE(a.tracker->Start().ok());
  ASSERT_TRUE(b.tracker->Start().ok());
  a.counter->value = 3;
  b.counter->value = 11;
  for (int k = 0; k < 6; ++k) {  // 30 ms of each one's own schedule
    a.clock->Advance(5ms);
    b.clock->Advance(5ms);
    (void)a.tracker->PollDue(a.clock->Now());
    (void)b.tracker->PollDue(b.clock->Now());
  }
  ASSERT_TRUE(a.tracker->Stop().ok());
  b.counter->value = 12;
  b.clock->Advance(1ms);
  ASSERT_TRUE(b.tracker->Stop().ok());
  EXPECT_DOUBLE_EQ(a.tracker->Snapshot().ledger->SumAll().channels[0].machine.joules(), 3.0);
  EXPECT_DOUBLE_EQ(b.tracker->Snapshot().ledger->SumAll().channels[0].machine.joules(), 12.0);
  EXPECT_EQ(a.tracker->Snapshot().ledger->num_points(), 7u);  // start + 6 scheduled (stop at the same instant)
  EXPECT_EQ(b.tracker->Snapshot().ledger->num_points(), 6u);  // start + 4 at 7 ms + stop
}

TEST(Tracker, ConcurrentCallsFromManyThreads) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 1ms, &c);
  ASSERT_TRUE(t->Start().ok());
  std::vector<std::thread> th;
  for (int i = 0; i < 4; ++i) {
    th.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) {
        c->value.fetch_add(1.0);
        if (i == 0) (void)t->Flush();
        if (i == 1) (void)t->Snapshot();
      }
    });
  }
  for (auto& x : th) x.join();
  ASSERT_TRUE(t->Stop().ok());
  EXPECT_DOUBLE_EQ(t->Snapshot().ledger->SumAll().channels[0].machine.joules(), c->value.load());
}

TEST(Tracker, CoalesceKeepsTasksExactAndRefusesToSplitOne) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 1h, &c);
  ASSERT_TRUE(t->Start().ok());  // poll 0
  for (int i = 1; i <= 4; ++i) {  // polls 1..4, 3 J each
    c->value = 3.0 * i;
    (void)t->Flush();
  }
  ASSERT_TRUE(t->StartTask("job").ok());  // poll 5: 12 J
  c->value = 15;
  (void)t->Flush();                        // poll 6: 15 J
  c->value = 40;
  ASSERT_TRUE(t->StopTask().ok());         // poll 7: 40 J
  ASSERT_TRUE(t->StartTask("open").ok());  // poll 8
  c->value = 50;
  (void)t->Flush();                        // poll 9
  EXPECT_FALSE(t->Coalesce(4, 7).ok());    // "job" starts at 5: refused
  EXPECT_FALSE(t->Coalesce(7, 9).ok());    // "open" starts at 8: refused
  ASSERT_TRUE(t->Coalesce(0, 5).ok());     // polls 1..4 go
  ASSERT_TRUE(t->Stop().ok());             // poll 10 -> 6
  const auto snap = t->Snapshot();
  EXPECT_EQ(snap.ledger->num_points(), 7u);
  ASSERT_EQ(snap.tasks.size(), 2u);
  EXPECT_EQ(snap.tasks[0].from_point, 1u);
  EXPECT_EQ(snap.tasks[0].to_point, 3u);
  EXPECT_DOUBLE_EQ(snap.ledger->Sum(1, 3).channels[0].machine.joules(), 28.0);
  EXPECT_EQ(snap.tasks[1].from_point, 4u);
  EXPECT_DOUBLE_EQ(snap.ledger->Sum(snap.tasks[1].from_point, snap.tasks[1].to_point).channels[0].machine.joules(),
                   10.0);
  EXPECT_DOUBLE_EQ(snap.ledger->SumAll().channels[0].machine.joules(), 50.0);
}

int ThreadCount() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(Tracker, CallerDrivenSamplingStartsNoThread) {
  FakeProc p;
  auto src = std::make_unique<FakeCounter>("pkg");
  FakeCounter* c = src.get();
  std::vector<std::unique_ptr<Source>> v;
  v.push_back(std::move(src));
  TrackerOptions o = p.Options(100ms);
  o.sampler_thread = false;
  int samples = 0;
  o.on_sample = [&](const Ledger&) { ++samples; };
  Tracker t(std::move(o), std::move(v));
  EXPECT_EQ(t.NextPoll(), SteadyTime::max());  // not running
  const int threads = ThreadCount();
  const SteadyTime before = SteadyClock::now();
  ASSERT_TRUE(t.Start().ok());
  EXPECT_EQ(ThreadCount(), threads);
  const SteadyTime due = t.NextPoll();
  EXPECT_GE(due - before, 100ms);
  EXPECT_LE(due - SteadyClock::now(), 100ms);
  EXPECT_FALSE(t.PollDue(due - 1ms));  // nothing due yet
  EXPECT_EQ(c->polls.load(), 1);       // the start reading only
  // Far behind: one poll, not a burst, and the schedule moves past now.
  EXPECT_TRUE(t.PollDue(due + 10s));
  EXPECT_EQ(c->polls.load(), 2);
  EXPECT_EQ(samples, 1);
  EXPECT_GT(t.NextPoll(), SteadyClock::now());
  // A new tree root asks for an early poll before the next scheduled one;
  // it is not a scheduled sample (no on_sample).
  t.SetTreeRoot(getpid());
  const SteadyTime early = t.NextPoll();
  EXPECT_LE(early - SteadyClock::now(), 25ms);
  EXPECT_TRUE(t.PollDue(early));
  EXPECT_EQ(c->polls.load(), 3);
  EXPECT_EQ(samples, 1);
  EXPECT_GT(t.NextPoll(), early);
  c->value = 7.0;
  ASSERT_TRUE(t.Stop().ok());
  EXPECT_EQ(t.NextPoll(), SteadyTime::max());
  EXPECT_FALSE(t.PollDue(SteadyClock::now() + 1h));
  EXPECT_DOUBLE_EQ(t.Snapshot().ledger->SumAll().channels[0].machine.joules(), 7.0);
}

TEST(Tracker, IntervalIsCappedAtHalfTheMinimumWrapTime) {
  // 65.7 kJ at the 1000 W CPU default: a wrap every 65.7 s at the most, so
  // `monitor --interval 300` samples every 32.9 s, and says why.
  ManualRig r(300s, 65712.999613);
  EXPECT_NEAR(std::chrono::duration_cast<Seconds>(r.tracker->interval()).count(), 32.856, 1e-3);
  EXPECT_NE(r.tracker->interval_note().find("instead of 300 s"), std::string::npos) << r.tracker->interval_note();
  EXPECT_NE(r.tracker->interval_note().find("pkg"), std::string::npos);
  ManualRig fine(1s, 65712.999613);
  EXPECT_EQ(fine.tracker->interval(), 1s);
  EXPECT_TRUE(fine.tracker->interval_note().empty());
  ManualRig unknown(300s, 0.0);  // no range: nothing to cap for
  EXPECT_EQ(unknown.tracker->interval(), 300s);
}

// A corrupt range (max_energy_range_uj of 1 µJ) must not make the sampler a
// busy loop: the cap never goes below 10 ms.
TEST(Tracker, IntervalCapHasAFloor) {
  ManualRig r(1s, 1e-6);
  EXPECT_EQ(r.tracker->interval(), 10ms);
  ASSERT_TRUE(r.tracker->Start().ok());
  r.clock->Advance(1s);
  EXPECT_TRUE(r.tracker->PollDue(r.clock->Now()));  // returns: one poll, not for ever
  ASSERT_TRUE(r.tracker->Stop().ok());
}

TEST(Tracker, SuspendSeenByTheClocksIsFlagged) {
  ManualRig r(1s, 65712.999613);
  r.counter->value = 100.0;
  ASSERT_TRUE(r.tracker->Start().ok());
  r.clock->Advance(1s);
  r.counter->value = 150.0;
  ASSERT_TRUE(r.tracker->PollDue(r.clock->Now()));
  EXPECT_FALSE(r.Has(LedgerEventKind::kSuspend));
  // The lid closes for an hour: MONOTONIC stops, BOOTTIME does not.
  r.clock->suspended += 3600s;
  r.clock->Advance(1s);
  r.counter->value = 160.0;
  ASSERT_TRUE(r.tracker->PollDue(r.clock->Now()));
  ASSERT_TRUE(r.tracker->Stop().ok());
  EXPECT_TRUE(r.Has(LedgerEventKind::kSuspend));
  const auto snap = r.tracker->Snapshot();
  const Totals all = snap.ledger->SumAll();
  EXPECT_DOUBLE_EQ(all.channels[0].machine.joules(), 60.0);
  EXPECT_TRUE(all.channels[0].lower_bound);
  EXPECT_FALSE(snap.ledger->Sum(0, 1).channels[0].lower_bound);  // before the suspend: exact
  EXPECT_EQ(snap.ledger->intervals()[1].suspended, 3600s);
}

TEST(Tracker, AStoppedSamplerLeavesAStallAndALowerBound) {
  // As after SIGSTOP or a paused VM: the next poll comes 200 s late, longer
  // than the counter's 65.7 s minimum wrap time.
  ManualRig r(1s, 65712.999613);
  ASSERT_TRUE(r.tracker->Start().ok());
  r.clock->Advance(1s);
  r.counter->value = 10.0;
  ASSERT_TRUE(r.tracker->PollDue(r.clock->Now()));
  r.clock->Advance(200s);
  r.counter->value = 20.0;
  ASSERT_TRUE(r.tracker->PollDue(r.clock->Now()));
  EXPECT_TRUE(r.Has(LedgerEventKind::kStall));
  EXPECT_TRUE(r.Has(LedgerEventKind::kLongGap));
  EXPECT_FALSE(r.Has(LedgerEventKind::kSuspend));
  EXPECT_TRUE(r.tracker->Snapshot().ledger->SumAll().channels[0].lower_bound);
  ASSERT_TRUE(r.tracker->Stop().ok());
}

TEST(Tracker, ConcurrentStopsJoinOnce) {
  for (int round = 0; round < 20; ++round) {
    FakeProc p;
    FakeCounter* c;
    auto t = MakeTracker(p, 1ms, &c);
    ASSERT_TRUE(t->Start().ok());
    std::atomic<int> ok{0};
    std::thread a([&] { ok += t->Stop().ok(); });
    std::thread b([&] { ok += t->Stop().ok(); });
    a.join();
    b.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_FALSE(t->running());
  }
}

TEST(Tracker, DestructorStopsARunningTracker) {
  FakeProc p;
  FakeCounter* c;
  auto t = MakeTracker(p, 1ms, &c);
  ASSERT_TRUE(t->Start().ok());
  t.reset();  // must join the sampler, not crash or hang
  SUCCEED();
}

}  // namespace
}  // namespace wattprint
