#include "wattprint/ledger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "wattprint/emissions.h"

namespace wattprint {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

ChannelInfo Counter(std::string id, DeviceKind kind, double range_j) {
  ChannelInfo c;
  c.id = id;
  c.device_id = id;
  c.kind = kind;
  c.type = ChannelType::kEnergyCounter;
  c.wrap_range = Energy::Joules(range_j);
  return c;
}

// For the emissions arithmetic, which books kWh per second: no ceiling in
// the way.
ChannelInfo Unbounded(ChannelInfo c) {
  c.power_ceiling = Power::Watts(1e12);
  return c;
}

ChannelInfo PowerCh(std::string id, DeviceKind kind) {
  ChannelInfo c = Counter(std::move(id), kind, 0);
  c.type = ChannelType::kPower;
  c.method = Method::kMeasuredPower;
  return c;
}

ActivitySnapshot Act(unsigned long long total, unsigned long long busy, unsigned long long tree,
                     unsigned long long rss = 0) {
  ActivitySnapshot a;
  a.ok = true;
  a.machine_total_ticks = total;
  a.machine_busy_ticks = busy;
  a.tree_ok = true;
  a.tree_ticks = tree;
  a.tree_rss_bytes = rss;
  a.mem_total_bytes = 1000;
  a.mem_available_bytes = 600;
  return a;
}

struct Clock {
  SteadyTime t0 = SteadyTime{} + seconds(1000);
  SystemTime w0 = SystemTime{} + seconds(1'700'000'000);
  SteadyTime T(double s) const { return t0 + std::chrono::duration_cast<Duration>(Seconds(s)); }
  SystemTime W(double s) const {
    return w0 + std::chrono::duration_cast<SystemTime::duration>(Seconds(s));
  }
};

TEST(Ledger, CounterTotalIsLastMinusFirstWhateverTheInterval) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  const double values[] = {100.0, 100.5, 107.25, 107.25, 250.125};
  for (int i = 0; i < 5; ++i) {
    Reading r = Reading::Of(values[i]);
    l.Add(k.T(0.01 * i * i), k.W(0.01 * i * i), {&r, 1}, Act(100 * i, 50 * i, 10 * i));
  }
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 150.125);
  EXPECT_EQ(t.channels[0].ok_intervals, 4);
  EXPECT_EQ(l.intervals().size(), 4u);
}

TEST(Ledger, WrapUsesRange) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 1000.0)});
  Reading a = Reading::Of(990.0), b = Reading::Of(5.0);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0));
  l.Add(k.T(1), k.W(1), {&b, 1}, Act(100, 50, 10));
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 15.0);
  EXPECT_EQ(t.channels[0].wraps, 1);
}

// The DRAM range of a Skylake server (max_energy_range_uj 65712999613).
constexpr double kDramRangeJ = 65712.999613;

bool HasEvent(const Ledger& l, LedgerEventKind k) {
  return std::any_of(l.events().begin(), l.events().end(), [&](const LedgerEvent& e) { return e.kind == k; });
}

TEST(Ledger, ResetIsNotAWrap) {
  // 3 J -> 1 J in a second: a wrap would mean 65,711 J in 1 s (65 kW on a
  // DRAM domain). The counter was reset; nothing is invented.
  Clock k;
  Ledger l({Counter("dram", DeviceKind::kDram, kDramRangeJ)});
  const double values[] = {2.0, 3.0, 1.0, 4.5};
  for (int i = 0; i < 4; ++i) {
    Reading r = Reading::Of(values[i]);
    l.Add(k.T(i), k.W(i), {&r, 1}, Act(100 * i, 50 * i, 10 * i));
  }
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 1.0 + 3.5);  // 2->3 and 1->4.5; the reset dropped
  EXPECT_EQ(t.channels[0].wraps, 0);
  EXPECT_EQ(t.channels[0].resets, 1);
  EXPECT_EQ(t.channels[0].missing_intervals, 1);
  EXPECT_TRUE(t.channels[0].lower_bound);
  EXPECT_TRUE(HasEvent(l, LedgerEventKind::kReset));
  EXPECT_FALSE(HasEvent(l, LedgerEventKind::kWrap));
}

TEST(Ledger, AWrapThatFitsUnderTheCeilingIsStillAWrap) {
  Clock k;
  ChannelInfo c = Counter("dram", DeviceKind::kDram, kDramRangeJ);
  Ledger l({c});
  Reading a = Reading::Of(kDramRangeJ - 20.0), b = Reading::Of(30.0);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0));
  l.Add(k.T(1), k.W(1), {&b, 1}, Act(100, 50, 10));
  Totals t = l.SumAll();
  EXPECT_NEAR(t.channels[0].machine.joules(), 50.0, 1e-6);
  EXPECT_EQ(t.channels[0].wraps, 1);
  EXPECT_FALSE(t.channels[0].lower_bound);
}

TEST(Ledger, HardwareCeilingDecidesBetweenWrapAndReset) {
  // 900 J in 1 s: a wrap under the 1000 W default CPU ceiling, a reset under
  // a package that says it cannot draw more than 200 W.
  Clock k;
  ChannelInfo c = Counter("pkg", DeviceKind::kCpu, 1000.0);
  ChannelInfo small = c;
  small.power_ceiling = Power::Watts(200);
  Ledger dflt({c}), capped({small});
  Reading a = Reading::Of(500.0), b = Reading::Of(400.0);
  for (Ledger* l : {&dflt, &capped}) {
    l->Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0));
    l->Add(k.T(1), k.W(1), {&b, 1}, Act(100, 50, 10));
  }
  EXPECT_EQ(dflt.SumAll().channels[0].wraps, 1);
  EXPECT_DOUBLE_EQ(dflt.SumAll().channels[0].machine.joules(), 900.0);
  EXPECT_EQ(capped.SumAll().channels[0].resets, 1);
  EXPECT_DOUBLE_EQ(capped.SumAll().channels[0].machine.joules(), 0.0);
}

TEST(Ledger, ForwardJumpOverTheCeilingIsDropped) {
  // 200 kJ in one second on one package (200 kW): dropped, then the counter
  // is followed from its new value.
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 262143.328850)});
  const double values[] = {10.0, 60.0, 200060.0, 200100.0};
  for (int i = 0; i < 4; ++i) {
    Reading r = Reading::Of(values[i]);
    l.Add(k.T(i), k.W(i), {&r, 1}, Act(100 * i, 50 * i, 10 * i));
  }
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 50.0 + 40.0);
  EXPECT_EQ(t.channels[0].resets, 1);
  EXPECT_TRUE(t.channels[0].lower_bound);
  EXPECT_TRUE(HasEvent(l, LedgerEventKind::kJump));
}

TEST(Ledger, PowerReadingOverTheCeilingIsIgnored) {
  Clock k;
  ChannelInfo c = PowerCh("gpu", DeviceKind::kGpu);
  c.power_ceiling = Power::Watts(800);
  Ledger l({c});
  Reading a = Reading::Of(100.0), glitch = Reading::Of(65535.0), b = Reading::Of(100.0);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0));
  l.Add(k.T(1), k.W(1), {&glitch, 1}, Act(100, 50, 10));
  l.Add(k.T(2), k.W(2), {&b, 1}, Act(200, 100, 20));
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 200.0);  // 100 W over 2 s, the glitch skipped
  EXPECT_TRUE(HasEvent(l, LedgerEventKind::kJump));
}

TEST(Ledger, GapLongerThanTheMinimumWrapTimeIsALowerBound) {
  // AMD Zen: 2^32 x 15.3 uJ = 65.7 kJ; at the 1000 W default CPU ceiling a
  // wrap can come every 65.7 s. A 300 s gap may hide whole wraps.
  Clock k;
  ChannelInfo c = Counter("pkg", DeviceKind::kCpu, 65712.999613);
  EXPECT_NEAR(std::chrono::duration_cast<Seconds>(MinWrapTime(c)).count(), 65.713, 1e-3);
  Ledger l({c});
  Reading a = Reading::Of(100.0), b = Reading::Of(200.0), d = Reading::Of(210.0);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0));
  l.Add(k.T(300), k.W(300), {&b, 1}, Act(100, 50, 10));
  l.Add(k.T(301), k.W(301), {&d, 1}, Act(200, 100, 20));
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 110.0);  // kept, but flagged
  EXPECT_TRUE(t.channels[0].lower_bound);
  EXPECT_EQ(t.channels[0].missing_intervals, 0);
  EXPECT_TRUE(l.intervals()[0].channels[0].lower_bound);
  EXPECT_FALSE(l.intervals()[1].channels[0].lower_bound);
  EXPECT_TRUE(HasEvent(l, LedgerEventKind::kLongGap));
  // Only the second interval: exact.
  EXPECT_FALSE(l.Sum(1, 2).channels[0].lower_bound);
}

TEST(Ledger, SuspendFlagsTheIntervalAndCountsTowardsTheGap) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 65712.999613), PowerCh("gpu", DeviceKind::kGpu)});
  Reading a[] = {Reading::Of(100.0), Reading::Of(50.0)};
  Reading b[] = {Reading::Of(150.0), Reading::Of(50.0)};
  l.Add(k.T(0), k.W(0), a, Act(0, 0, 0));
  PollTiming slept;
  slept.suspended = std::chrono::seconds(3600);
  l.Add(k.T(1), k.W(3601), b, Act(100, 50, 10), slept);
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 50.0);
  EXPECT_TRUE(t.channels[0].lower_bound);
  EXPECT_TRUE(t.channels[1].lower_bound);
  EXPECT_DOUBLE_EQ(t.channels[1].machine.joules(), 50.0);  // power x the monotonic second
  EXPECT_EQ(l.intervals()[0].suspended, std::chrono::seconds(3600));
  EXPECT_TRUE(HasEvent(l, LedgerEventKind::kSuspend));
  EXPECT_TRUE(HasEvent(l, LedgerEventKind::kLongGap));  // 3601 s > 65.7 s
  for (const LedgerEvent& e : l.events()) {
    if (e.kind == LedgerEventKind::kSuspend) {
      EXPECT_EQ(e.channel, kAllChannels);
    }
  }
}

// A counter that restarted across a suspend is a reset, not a wrap paid
// for by crediting the sleep with the ceiling's power (a 5-minute suspend
// would otherwise admit a 261 kJ "wrap").
TEST(Ledger, AResetAcrossASuspendIsNotAWrap) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 262143.328850)});
  Reading a = Reading::Of(1000.0), b = Reading::Of(50.0);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0));
  PollTiming slept;
  slept.suspended = std::chrono::seconds(300);
  l.Add(k.T(1), k.W(301), {&b, 1}, Act(100, 50, 10), slept);
  Totals t = l.SumAll();
  EXPECT_EQ(t.channels[0].wraps, 0);
  EXPECT_EQ(t.channels[0].resets, 1);
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 0.0);
}

// Merging intervals keeps the process bounds exact: each interval's bounds
// times its own share, not the merged share.
TEST(Ledger, CoalesceKeepsProcessBounds) {
  Clock k;
  ChannelInfo ram = PowerCh("ram", DeviceKind::kDram);
  ram.method = Method::kEstimated;
  Ledger l({ram});
  Reading r[] = {Reading::Estimate(10, 2, 20), Reading::Estimate(10, 2, 20), Reading::Estimate(10, 8, 20)};
  r[0].process_share = r[1].process_share = 1.0;
  r[2].process_share = 0.0;
  for (int i = 0; i < 3; ++i) l.Add(k.T(i), k.W(i), {&r[i], 1}, Act(100 * i, 50 * i, 10 * i));
  const double before_low = l.SumAll().channels[0].process_low.joules();
  l.Coalesce(0, 2);
  EXPECT_DOUBLE_EQ(l.SumAll().channels[0].process_low.joules(), before_low);
}

TEST(Ledger, ALateScheduledPollIsAStall) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  PollTiming every;
  every.expected = std::chrono::milliseconds(100);
  Reading a = Reading::Of(1.0), b = Reading::Of(2.0), c = Reading::Of(3.0);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0), every);
  l.Add(k.T(0.1), k.W(0.1), {&b, 1}, Act(10, 5, 1), every);
  EXPECT_FALSE(HasEvent(l, LedgerEventKind::kStall));
  l.Add(k.T(5.1), k.W(5.1), {&c, 1}, Act(510, 250, 50), every);  // SIGSTOP for 5 s
  EXPECT_TRUE(HasEvent(l, LedgerEventKind::kStall));
  EXPECT_DOUBLE_EQ(l.SumAll().channels[0].machine.joules(), 2.0);
}

TEST(Ledger, CoalescedIntervalKeepsTheLowerBound) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 65712.999613)});
  const double t_s[] = {0, 1, 200, 201};
  for (int i = 0; i < 4; ++i) {
    Reading r = Reading::Of(10.0 * i);
    l.Add(k.T(t_s[i]), k.W(t_s[i]), {&r, 1}, Act(100 * i, 50 * i, 10 * i));
  }
  l.Coalesce(0, 3);
  ASSERT_EQ(l.intervals().size(), 1u);
  EXPECT_TRUE(l.intervals()[0].channels[0].lower_bound);
  EXPECT_TRUE(l.SumAll().channels[0].lower_bound);
}

TEST(Ledger, BackwardsWithoutRangeDropsIntervalNeverNegative) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading v[] = {Reading::Of(500), Reading::Of(100), Reading::Of(130)};
  for (int i = 0; i < 3; ++i) l.Add(k.T(i), k.W(i), {&v[i], 1}, Act(100 * i, 0, 0));
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 30.0);
  EXPECT_EQ(t.channels[0].missing_intervals, 1);
  ASSERT_FALSE(l.events().empty());
  EXPECT_NE(l.events().back().what.find("backwards"), std::string::npos);
  EXPECT_EQ(l.events().back().kind, LedgerEventKind::kReset);
}

TEST(Ledger, FailedReadCarriesEnergyToNextGoodReading) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading v[] = {Reading::Of(10), Reading::Unavailable(Status::IOError("EIO")), Reading::Of(40)};
  for (int i = 0; i < 3; ++i) l.Add(k.T(i), k.W(i), {&v[i], 1}, Act(100 * i, 0, 0));
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 30.0);
  EXPECT_FALSE(l.intervals()[0].channels[0].ok);
  EXPECT_TRUE(l.intervals()[1].channels[0].ok);
  EXPECT_EQ(l.last_status()[0].code(), Status::Code::kOk);
}

TEST(Ledger, UnavailableChannelIsNeverZeroEnergy) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading bad = Reading::Unavailable(Status::PermissionDenied("energy_uj"));
  l.Add(k.T(0), k.W(0), {&bad, 1}, Act(0, 0, 0));
  l.Add(k.T(1), k.W(1), {&bad, 1}, Act(100, 0, 0));
  Totals t = l.SumAll();
  EXPECT_EQ(t.channels[0].ok_intervals, 0);
  EXPECT_EQ(t.channels[0].missing_intervals, 1);
  EXPECT_FALSE(t.channels[0].process_ok);
  EXPECT_EQ(l.last_status()[0].code(), Status::Code::kPermissionDenied);
}

TEST(Ledger, PowerIsIntegratedWithTrapezoid) {
  Clock k;
  Ledger l({PowerCh("gpu", DeviceKind::kGpu)});
  Reading v[] = {Reading::Of(10), Reading::Of(30), Reading::Of(30)};
  const double ts[] = {0, 2, 2.5};
  for (int i = 0; i < 3; ++i) l.Add(k.T(ts[i]), k.W(ts[i]), {&v[i], 1}, Act(0, 0, 0));
  // (10+30)/2*2 + 30*0.5 = 40 + 15
  EXPECT_DOUBLE_EQ(l.SumAll().channels[0].machine.joules(), 55.0);
}

TEST(Ledger, ProcessShareFromCpuTicksAndRss) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0), Counter("dram", DeviceKind::kDram, 0)});
  Reading a[] = {Reading::Of(0), Reading::Of(0)};
  Reading b[] = {Reading::Of(100), Reading::Of(10)};
  l.Add(k.T(0), k.W(0), a, Act(1000, 500, 100, 100));
  l.Add(k.T(1), k.W(1), b, Act(1400, 800, 200, 250));  // tree 100 of 400 ticks; rss 250/1000
  Totals t = l.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].process.joules(), 25.0);
  EXPECT_DOUBLE_EQ(t.channels[1].process.joules(), 2.5);
  EXPECT_TRUE(t.channels[0].process_ok);
  EXPECT_DOUBLE_EQ(t.mean_cpu_utilization, 0.75);
  EXPECT_DOUBLE_EQ(t.mean_ram_utilization, 0.4);
  EXPECT_EQ(t.peak_tree_rss_bytes, 250u);
}

TEST(Ledger, TreeStartedAfterFirstReadingGetsAllItsTicks) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading a = Reading::Of(0), b = Reading::Of(80);
  ActivitySnapshot before = Act(1000, 0, 0);
  before.tree_ok = false;  // the command is not forked yet
  l.Add(k.T(0), k.W(0), {&a, 1}, before);
  l.Add(k.T(1), k.W(1), {&b, 1}, Act(1200, 100, 50));
  Totals t = l.SumAll();
  EXPECT_TRUE(t.channels[0].process_ok);
  EXPECT_DOUBLE_EQ(t.channels[0].process.joules(), 20.0);
}

TEST(Ledger, RamShareOfAnExitedCommandUsesLastSeenRssOrIsUnknown) {
  Clock k;
  Ledger l({Counter("dram", DeviceKind::kDram, 0)});
  Reading v[] = {Reading::Of(0), Reading::Of(10), Reading::Of(20)};
  ActivitySnapshot none = Act(0, 0, 0);
  none.tree_ok = false;
  l.Add(k.T(0), k.W(0), {&v[0], 1}, none);
  l.Add(k.T(1), k.W(1), {&v[1], 1}, Act(100, 0, 5, 0));    // zombie never seen alive
  l.Add(k.T(2), k.W(2), {&v[2], 1}, Act(200, 0, 6, 0));
  EXPECT_FALSE(l.intervals()[0].channels[0].share_ok);
  EXPECT_FALSE(l.SumAll().channels[0].process_ok);
  Ledger m({Counter("dram", DeviceKind::kDram, 0)});
  m.Add(k.T(0), k.W(0), {&v[0], 1}, Act(0, 0, 0, 300));
  m.Add(k.T(1), k.W(1), {&v[1], 1}, Act(100, 0, 5, 0));   // exited: 300 of 1000 bytes last seen
  EXPECT_DOUBLE_EQ(m.SumAll().channels[0].process.joules(), 3.0);
}

// With the tree CPU clock the share uses nanoseconds: 0.75 s of tree CPU
// over 4 s of machine CPU (400 ticks of 10 ms) is 18.75 %, where whole
// ticks (derived, truncated) would give 75/400 too but lose sub-tick time.
TEST(Ledger, ProcessShareFromTreeCpuNanoseconds) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading v[] = {Reading::Of(0), Reading::Of(100), Reading::Of(200)};
  ActivitySnapshot a = Act(1000, 500, 10);
  a.tree_cpu_ns_ok = true;
  a.tree_cpu_ns = 100'000'000;  // 0.1 s
  a.ticks_per_second = 100;
  ActivitySnapshot b = Act(1400, 800, 85);
  b.tree_cpu_ns_ok = true;
  b.tree_cpu_ns = 850'000'000;  // +0.75 s
  b.ticks_per_second = 100;
  ActivitySnapshot c = Act(1800, 900, 85);
  c.tree_cpu_ns_ok = true;
  c.tree_cpu_ns = 855'000'000;  // +5 ms: less than a tick, still counted
  c.ticks_per_second = 100;
  l.Add(k.T(0), k.W(0), {&v[0], 1}, a);
  l.Add(k.T(1), k.W(1), {&v[1], 1}, b);
  l.Add(k.T(2), k.W(2), {&v[2], 1}, c);
  EXPECT_DOUBLE_EQ(l.intervals()[0].channels[0].process.joules(), 100.0 * 75.0 / 400.0);
  EXPECT_DOUBLE_EQ(l.intervals()[1].channels[0].process.joules(), 100.0 * 0.5 / 400.0);
}

// The clock starts at zero when the tree starts after the first reading.
TEST(Ledger, TreeCpuClockStartedAfterFirstReadingCountsFromZero) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading a = Reading::Of(0), b = Reading::Of(80);
  ActivitySnapshot before = Act(1000, 0, 0);
  before.tree_ok = false;
  ActivitySnapshot after = Act(1200, 100, 0);
  after.tree_cpu_ns_ok = true;
  after.tree_cpu_ns = 500'000'000;  // 50 ticks of the 200
  after.ticks_per_second = 100;
  l.Add(k.T(0), k.W(0), {&a, 1}, before);
  l.Add(k.T(1), k.W(1), {&b, 1}, after);
  EXPECT_DOUBLE_EQ(l.SumAll().channels[0].process.joules(), 20.0);
}

TEST(Ledger, IntervalShorterThanATickUsesTreeTickMovement) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading v[] = {Reading::Of(0), Reading::Of(2), Reading::Of(6)};
  l.Add(k.T(0), k.W(0), {&v[0], 1}, Act(100, 0, 7));
  l.Add(k.T(0.001), k.W(0.001), {&v[1], 1}, Act(100, 0, 7));  // no tick anywhere
  l.Add(k.T(0.002), k.W(0.002), {&v[2], 1}, Act(100, 0, 8));  // only the tree's tick landed
  EXPECT_TRUE(l.intervals()[0].channels[0].share_ok);
  EXPECT_DOUBLE_EQ(l.intervals()[0].channels[0].process.joules(), 0.0);
  EXPECT_DOUBLE_EQ(l.intervals()[1].channels[0].process.joules(), 4.0);
}

TEST(Emissions, PlatformIsNotAddedOnTopOfCpu) {
  Clock k;
  ChannelInfo psys = Unbounded(Counter("psys", DeviceKind::kPlatform, 0));
  Ledger l({Unbounded(Counter("pkg", DeviceKind::kCpu, 0)), psys});
  Reading a[] = {Reading::Of(0), Reading::Of(0)};
  Reading b[] = {Reading::Of(3.6e6), Reading::Of(7.2e6)};
  l.Add(k.T(0), k.W(0), a, Act(0, 0, 0));
  l.Add(k.T(1), k.W(1), b, Act(100, 0, 0));
  auto tl = IntensityTimeline::Constant(Intensity::GramsPerKwh(100), {});
  EXPECT_DOUBLE_EQ(ComputeEmissions(l, 0, 1, Scope::kMachine, tl, 1.0).total.grams(), 100.0);
  EXPECT_EQ(CountedChannels(l.channels()), (std::vector<bool>{true, false}));
  Ledger only({psys});
  only.Add(k.T(0), k.W(0), {&a[1], 1}, Act(0, 0, 0));
  only.Add(k.T(1), k.W(1), {&b[1], 1}, Act(100, 0, 0));
  EXPECT_DOUBLE_EQ(ComputeEmissions(only, 0, 1, Scope::kMachine, tl, 1.0).total.grams(), 200.0);
}

TEST(Ledger, ProcessEnergyNeverExceedsMachine) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading a = Reading::Of(0), b = Reading::Of(50);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(100, 0, 0));
  // A tree that claims more ticks than the machine had (clock skew, zombies).
  l.Add(k.T(1), k.W(1), {&b, 1}, Act(200, 100, 900));
  Totals t = l.SumAll();
  EXPECT_LE(t.channels[0].process.joules(), t.channels[0].machine.joules());
  EXPECT_DOUBLE_EQ(t.channels[0].process.joules(), 50.0);
}

TEST(Ledger, SourceProvidedShareWins) {
  Clock k;
  Ledger l({Counter("gpu0", DeviceKind::kGpu, 0)});
  Reading a = Reading::Of(0), b = Reading::Of(80);
  b.process_share = 0.25;
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(100, 0, 0));
  l.Add(k.T(1), k.W(1), {&b, 1}, Act(200, 100, 10));
  EXPECT_DOUBLE_EQ(l.SumAll().channels[0].process.joules(), 20.0);
}

TEST(Ledger, SliceSumsOnlyItsIntervals) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  const double v[] = {0, 10, 30, 60, 100};
  for (int i = 0; i < 5; ++i) {
    Reading r = Reading::Of(v[i]);
    l.Add(k.T(i), k.W(i), {&r, 1}, Act(100 * i, 0, 0));
  }
  EXPECT_DOUBLE_EQ(l.Sum(1, 3).channels[0].machine.joules(), 50.0);
  EXPECT_DOUBLE_EQ(l.Sum(3, 3).channels[0].machine.joules(), 0.0);
  EXPECT_DOUBLE_EQ(l.Sum(1, 3).duration().count(), 2.0);
}

TEST(Ledger, SameInstantPollIsIgnored) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 0)});
  Reading a = Reading::Of(1), b = Reading::Of(2);
  l.Add(k.T(0), k.W(0), {&a, 1}, Act(0, 0, 0));
  l.Add(k.T(0), k.W(0), {&b, 1}, Act(0, 0, 0));
  EXPECT_EQ(l.num_points(), 1u);
}

TEST(Emissions, IntervalByIntervalWithTimeVaryingIntensityAndPue) {
  Clock k;
  Ledger l({Unbounded(Counter("pkg", DeviceKind::kCpu, 0))});
  // 3.6e6 J = 1 kWh per interval.
  for (int i = 0; i < 3; ++i) {
    Reading r = Reading::Of(3.6e6 * i);
    l.Add(k.T(10.0 * i), k.W(10.0 * i), {&r, 1}, Act(100 * i, 0, 50 * i));
  }
  IntensityTimeline tl;
  tl.points.push_back({k.W(0), Intensity::GramsPerKwh(100)});
  tl.points.push_back({k.W(10), Intensity::GramsPerKwh(400)});
  EmissionsResult m = ComputeEmissions(l, 0, 2, Scope::kMachine, tl, 1.5);
  // interval 1 midpoint 5 s -> 100 g/kWh; interval 2 midpoint 15 s -> 400 g/kWh
  EXPECT_DOUBLE_EQ(m.total.grams(), 1.5 * 100 + 1.5 * 400);
  EXPECT_DOUBLE_EQ(m.energy.kwh(), 3.0);
  ASSERT_EQ(m.per_interval.size(), 2u);
  EmissionsResult p = ComputeEmissions(l, 0, 2, Scope::kProcess, tl, 1.0);
  EXPECT_DOUBLE_EQ(p.total.grams(), 0.5 * 100 + 0.5 * 400);
}

TEST(Emissions, ConstantTimelineAppliesEverywhere) {
  IntensityTimeline tl = IntensityTimeline::Constant(Intensity::GramsPerKwh(56), {});
  EXPECT_DOUBLE_EQ(tl.At(SystemTime{} + seconds(5)).g_per_kwh(), 56);
  EXPECT_DOUBLE_EQ((Energy::KilowattHours(2) * tl.At(SystemTime{})).grams(), 112);
}

TEST(Units, Conversions) {
  EXPECT_DOUBLE_EQ(Energy::Microjoules(3.6e12).kwh(), 1.0);
  EXPECT_DOUBLE_EQ((Power::Watts(20) * Seconds(3)).joules(), 60.0);
  EXPECT_DOUBLE_EQ((Energy::Joules(60) / Seconds(3)).watts(), 20.0);
  EXPECT_DOUBLE_EQ(Co2e::Kilograms(1.5).grams(), 1500);
}

}  // namespace
}  // namespace wattprint

namespace wattprint {
namespace {

// GPU readings carry utilisation and memory: the totals keep the
// time-weighted mean utilisation and the peak memory; a source that gives
// none leaves them negative (unknown, not 0).
TEST(Ledger, DeviceUtilisationIsTimeWeightedAndMemoryPeaks) {
  Clock k;
  Ledger l({Counter("gpu", DeviceKind::kGpu, 0), Counter("pkg", DeviceKind::kCpu, 0)});
  const double t[] = {0, 1, 4};
  const double util[] = {0.9, 0.2, 0.6};  // interval 1 (1 s) at 0.2, interval 2 (3 s) at 0.6
  const double mem[] = {10, 30, 20};
  for (int i = 0; i < 3; ++i) {
    Reading g = Reading::Of(100.0 * i);
    g.utilization = util[i];
    g.memory_used_bytes = mem[i];
    Reading c = Reading::Of(5.0 * i);
    const Reading both[] = {g, c};
    l.Add(k.T(t[i]), k.W(t[i]), both, Act(100 * i, 50 * i, 10 * i));
  }
  const Totals tot = l.SumAll();
  EXPECT_DOUBLE_EQ(tot.channels[0].mean_utilization, (0.2 * 1 + 0.6 * 3) / 4);
  EXPECT_DOUBLE_EQ(tot.channels[0].peak_memory_used_bytes, 30.0);
  EXPECT_LT(tot.channels[1].mean_utilization, 0.0);
  EXPECT_LT(tot.channels[1].peak_memory_used_bytes, 0.0);
  // The GPU's own process share is used, clamped: never more than the device.
  EXPECT_DOUBLE_EQ(tot.channels[0].process.joules(), 0.0);  // no share given: 0, and unknown
  EXPECT_FALSE(tot.channels[0].process_ok);
}

// Eight polls of a wrapping CPU counter, a power-read DRAM channel with one
// failed read, a device utilisation, and a tree whose RSS peaks mid-run.
Ledger EightPolls(const Clock& k) {
  ChannelInfo gpu = Counter("gpu", DeviceKind::kGpu, 0);
  Ledger l({Counter("pkg", DeviceKind::kCpu, 1000.0), PowerCh("dram", DeviceKind::kDram), gpu});
  const double pkg[] = {900, 950, 990, 20, 60, 100, 180, 200};  // wraps once, at poll 3
  const double rss[] = {0, 100, 400, 900, 300, 200, 100, 100};
  for (int i = 0; i < 8; ++i) {
    Reading r[3] = {Reading::Of(pkg[i]), Reading::Of(2.0 + i),
                    Reading::Of(10.0 * i)};
    if (i == 5) r[1] = Reading::Unavailable(Status::IOError("read failed"));
    r[2].utilization = 0.1 * i;
    r[2].memory_used_bytes = 1e6 * (i == 4 ? 9 : 1);
    l.Add(k.T(1.0 * i + 0.25 * i * i), k.W(1.0 * i + 0.25 * i * i), r,
          Act(100 * i, 30 * i + (i % 3) * 5, 10 * i, static_cast<unsigned long long>(rss[i])));
  }
  return l;
}

void ExpectSameTotals(const Totals& a, const Totals& b) {
  EXPECT_EQ(a.begin, b.begin);
  EXPECT_EQ(a.end, b.end);
  ASSERT_EQ(a.channels.size(), b.channels.size());
  for (size_t c = 0; c < a.channels.size(); ++c) {
    SCOPED_TRACE(c);
    EXPECT_NEAR(a.channels[c].machine.joules(), b.channels[c].machine.joules(), 1e-9);
    EXPECT_NEAR(a.channels[c].process.joules(), b.channels[c].process.joules(), 1e-9);
    EXPECT_EQ(a.channels[c].ok_intervals, b.channels[c].ok_intervals);
    EXPECT_EQ(a.channels[c].missing_intervals, b.channels[c].missing_intervals);
    EXPECT_EQ(a.channels[c].wraps, b.channels[c].wraps);
    EXPECT_EQ(a.channels[c].process_ok, b.channels[c].process_ok);
    EXPECT_NEAR(a.channels[c].mean_utilization, b.channels[c].mean_utilization, 1e-12);
    EXPECT_EQ(a.channels[c].peak_memory_used_bytes, b.channels[c].peak_memory_used_bytes);
  }
  EXPECT_NEAR(a.mean_cpu_utilization, b.mean_cpu_utilization, 1e-12);
  EXPECT_NEAR(a.mean_ram_utilization, b.mean_ram_utilization, 1e-12);
  EXPECT_EQ(a.peak_tree_rss_bytes, b.peak_tree_rss_bytes);
}

TEST(Ledger, CoalesceKeepsEveryTotalAndShiftsLaterPolls) {
  Clock k;
  const Ledger full = EightPolls(k);
  Ledger l = EightPolls(k);
  l.Coalesce(1, 6);  // intervals 1..5 (the wrap, the failed read, the RSS peak) become one
  EXPECT_EQ(l.num_points(), 4u);
  ASSERT_EQ(l.intervals().size(), 3u);
  EXPECT_EQ(l.intervals()[1].samples, 5);
  EXPECT_EQ(l.point_time(2), full.point_time(6));
  EXPECT_EQ(l.point_wall_time(3), full.point_wall_time(7));
  ExpectSameTotals(l.SumAll(), full.SumAll());
  ExpectSameTotals(l.Sum(1, 2), full.Sum(1, 6));  // exactly the merged span
  ExpectSameTotals(l.Sum(2, 3), full.Sum(6, 7));  // after it: shifted, untouched
  ExpectSameTotals(l.Sum(0, 1), full.Sum(0, 1));  // before it
  EXPECT_EQ(l.SumAll().channels[0].wraps, 1);
  EXPECT_EQ(l.SumAll().channels[1].missing_intervals, 1);  // the failed read (the next one carries its energy)
  EXPECT_EQ(l.SumAll().peak_tree_rss_bytes, 900u);  // poll 3's RSS, now inside the merged interval
  // The wrap happened at poll 3: its event now points at the merged interval's end.
  ASSERT_FALSE(l.events().empty());
  for (const LedgerEvent& e : l.events()) EXPECT_LE(e.point, 3u);
  // With a constant intensity the emissions are unchanged too.
  const IntensityTimeline tl = IntensityTimeline::Constant(Intensity::GramsPerKwh(300), {});
  for (Scope s : {Scope::kMachine, Scope::kProcess}) {
    EXPECT_NEAR(ComputeEmissions(l, 0, 3, s, tl, 1.2).total.grams(),
                ComputeEmissions(full, 0, 7, s, tl, 1.2).total.grams(), 1e-9);
  }
  // Coalescing again, over an already merged interval, keeps the totals too.
  l.Coalesce(0, 3);
  EXPECT_EQ(l.num_points(), 2u);
  EXPECT_EQ(l.intervals()[0].samples, 7);
  ExpectSameTotals(l.SumAll(), full.SumAll());
}

TEST(Ledger, CoalesceOfNothingChangesNothing) {
  Clock k;
  const Ledger full = EightPolls(k);
  Ledger l = EightPolls(k);
  l.Coalesce(2, 3);   // one interval
  l.Coalesce(4, 4);   // none
  l.Coalesce(9, 20);  // past the end
  EXPECT_EQ(l.num_points(), full.num_points());
  ExpectSameTotals(l.SumAll(), full.SumAll());
  Ledger empty({Counter("pkg", DeviceKind::kCpu, 0)});
  empty.Coalesce(0, 5);
  EXPECT_EQ(empty.num_points(), 0u);
}

// A monitor's life: 20,000 rows of 6 polls each, every row coalesced once
// written and the ledger thinned to at most 64 intervals: memory stays
// bounded and the whole-run totals stay exact.
TEST(Ledger, ThinningKeepsALongRunBoundedAndExact) {
  Clock k;
  Ledger l({Counter("pkg", DeviceKind::kCpu, 1000.0)});
  double value = 0.0, joules = 0.0;
  int polls = 0;
  auto poll = [&] {
    const double step = 1.0 + (polls % 7);  // wraps every ~250 polls
    joules += polls == 0 ? 0.0 : step;
    value = polls == 0 ? 0.0 : std::fmod(value + step, 1000.0);
    Reading r = Reading::Of(value);
    l.Add(k.T(polls * 0.5), k.W(polls * 0.5), {&r, 1}, Act(100 * polls, 40 * polls, 0));
    ++polls;
  };
  poll();
  size_t last = 0;
  size_t most = 0;
  for (int row = 0; row < 20000; ++row) {
    for (int i = 0; i < 6; ++i) poll();
    const size_t end = l.num_points() - 1;
    l.Coalesce(last, end);
    last = l.Thin(last + 1, 64);
    most = std::max(most, l.intervals().size());
    ASSERT_EQ(last + 1, l.num_points());
  }
  EXPECT_LE(most, 65u);
  const Totals t = l.SumAll();
  EXPECT_NEAR(t.channels[0].machine.joules(), joules, joules * 1e-12);
  EXPECT_EQ(t.channels[0].ok_intervals, polls - 1);
  EXPECT_EQ(t.channels[0].missing_intervals, 0);
  EXPECT_EQ(t.channels[0].wraps, static_cast<int>(joules / 1000.0));
  EXPECT_EQ(t.begin, k.T(0));
  EXPECT_EQ(t.end, k.T((polls - 1) * 0.5));
  EXPECT_NEAR(t.mean_cpu_utilization, 0.4, 1e-12);
  // The last row is still at full resolution for a CSV row over it.
  EXPECT_EQ(l.intervals().back().samples, 6);
}

}  // namespace
}  // namespace wattprint
