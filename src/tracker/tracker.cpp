// The tracker: a background sampler over a set of sources, with extra
// readings at start, stop and task boundaries. See tracker.h.
#include "wattprint/tracker.h"

#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

namespace wattprint {
namespace {
// Long enough for an exec'd command to fault in its first pages.
constexpr auto kEarlyPollDelay = std::chrono::milliseconds(20);

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return SteadyClock::now(); }
  SystemTime WallNow() const override { return std::chrono::system_clock::now(); }
  Duration SuspendedSinceBoot() const override {
    timespec boot{}, mono{};
    if (clock_gettime(CLOCK_BOOTTIME, &boot) != 0 || clock_gettime(CLOCK_MONOTONIC, &mono) != 0) {
      return Duration::zero();
    }
    const long long ns = (static_cast<long long>(boot.tv_sec) - mono.tv_sec) * 1'000'000'000LL +
                         (boot.tv_nsec - mono.tv_nsec);
    return Duration(ns > 0 ? ns : 0);
  }
};

// The requested interval, or half the shortest minimum wrap time of the
// channels when that is shorter (at most one wrap per interval, with room
// for a late poll); *note says which channel set the cap.
Duration CappedInterval(Duration asked, const std::vector<ChannelInfo>& channels, std::string* note) {
  Duration cap = Duration::max();
  const ChannelInfo* by = nullptr;
  for (const ChannelInfo& c : channels) {
    const Duration w = MinWrapTime(c);
    if (w == Duration::max() || w / 2 >= cap) continue;
    cap = w / 2;
    by = &c;
  }
  if (by == nullptr || asked <= cap) return asked;
  // A range implausibly small for its ceiling (a corrupt max_energy_range_uj
  // of 1) must not turn the sampler into a busy loop: never below 10 ms.
  constexpr Duration kFloor = std::chrono::milliseconds(10);
  if (cap < kFloor) cap = kFloor;
  auto s = [](Duration d) { return std::chrono::duration_cast<Seconds>(d).count(); };
  *note = fmt::format("sampling every {:.3g} s instead of {:.3g} s: {}'s counter can wrap in {:.3g} s "
                      "(range {:.6g} J at up to {:g} W), and a longer gap could hide a whole wrap",
                      s(cap), s(asked), by->id, s(MinWrapTime(*by)), by->wrap_range.joules(),
                      PowerCeilingOf(*by).watts());
  return cap;
}
}  // namespace

std::shared_ptr<Clock> RealClock() {
  static const std::shared_ptr<Clock> kClock = std::make_shared<SystemClock>();
  return kClock;
}

struct Tracker::Impl {
  Impl(TrackerOptions o, std::vector<std::unique_ptr<Source>> s)
      : opts(std::move(o)),
        sources(std::move(s)),
        activity(opts.roots, opts.fs ? opts.fs : PosixFileSystem(), opts.tree_root),
        clock(opts.clock ? opts.clock : RealClock()) {}

  TrackerOptions opts;
  std::vector<std::unique_ptr<Source>> sources;
  std::vector<ChannelInfo> channels;
  std::vector<size_t> offsets;  // first channel index of each source
  ActivitySampler activity;
  std::shared_ptr<Clock> clock;
  Duration last_suspended{0};  // clock->SuspendedSinceBoot() at the last poll

  mutable std::mutex mu;  // guards everything below, and every poll
  std::condition_variable cv;
  std::shared_ptr<Ledger> ledger;
  std::vector<Reading> readings;
  std::vector<TaskRecord> tasks;
  bool task_open = false;
  TaskRecord open_task;
  bool running = false;
  bool stop_requested = false;
  bool stopping = false;  // a Stop() is joining the sampler
  // One extra poll shortly after the tree root changes, so a command shorter
  // than the interval is still seen alive with its memory mapped (right
  // after exec its RSS is 0, and once it exits it is a zombie with none).
  std::optional<SteadyTime> early_poll;
  SteadyTime next;  // the next scheduled poll
  SystemTime wall_start;
  std::thread sampler;

  // Reads every source once. Caller holds mu.
  void PollLocked() {
    const SteadyTime t = clock->Now();
    const SystemTime wall = clock->WallNow();
    const Duration suspended_total = clock->SuspendedSinceBoot();
    const ActivitySnapshot act = activity.Sample(t);
    for (size_t i = 0; i < sources.size(); ++i) {
      const size_t n = sources[i]->channels().size();
      sources[i]->Poll(t, act, std::span<Reading>(readings.data() + offsets[i], n));
    }
    PollTiming timing;
    if (ledger->num_points() > 0 && suspended_total > last_suspended) timing.suspended = suspended_total - last_suspended;
    timing.expected = opts.interval;
    // A poll the ledger ignores (same instant) keeps the suspend for the next.
    if (ledger->Add(t, wall, readings, act, timing)) last_suspended = suspended_total;
  }

  size_t LastPoint() const { return ledger->num_points() - 1; }

  void CloseTaskLocked() {
    if (!task_open) return;
    open_task.to_point = LastPoint();
    open_task.wall_end = ledger->point_wall_time(open_task.to_point);
    tasks.push_back(open_task);
    task_open = false;
  }

  SteadyTime DeadlineLocked() const { return early_poll ? std::min(next, *early_poll) : next; }

  // Takes the poll due at `now`, if any. Caller holds mu.
  bool PollDueLocked(SteadyTime now) {
    if (early_poll && *early_poll <= now && *early_poll < next) {
      early_poll.reset();
      PollLocked();
      return true;
    }
    if (next > now) return false;
    PollLocked();
    if (opts.on_sample) opts.on_sample(*ledger);
    next += opts.interval;
    const SteadyTime after = std::max(now, clock->Now());
    if (next <= after) next = after + opts.interval;  // fell behind: skip, do not burst
    return true;
  }

  void Loop() {
    std::unique_lock<std::mutex> l(mu);
    while (!stop_requested) {
      const SteadyTime deadline = DeadlineLocked();
      const bool woken = cv.wait_until(l, deadline, [&] {
        return stop_requested || (early_poll && *early_poll < deadline);
      });
      if (stop_requested) break;
      if (woken) continue;  // an earlier poll was requested: recompute the deadline
      PollDueLocked(std::max(clock->Now(), deadline));
    }
  }

  TrackerSnapshot SnapshotLocked() const {
    TrackerSnapshot s;
    s.ledger = ledger ? std::make_shared<const Ledger>(*ledger) : std::make_shared<const Ledger>(channels);
    s.tasks = tasks;
    if (task_open && ledger && ledger->num_points() > 0) {
      TaskRecord t = open_task;  // report an open task up to now
      t.to_point = LastPoint();
      t.wall_end = ledger->point_wall_time(t.to_point);
      s.tasks.push_back(t);
    }
    s.wall_start = wall_start;
    s.running = running;
    return s;
  }
};

Tracker::Tracker(TrackerOptions opts, std::vector<std::unique_ptr<Source>> sources)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(sources))) {
  for (const auto& s : impl_->sources) {
    impl_->offsets.push_back(channels_.size());
    for (const ChannelInfo& c : s->channels()) channels_.push_back(c);
  }
  impl_->channels = channels_;
  impl_->readings.resize(channels_.size());
  if (impl_->opts.interval <= Duration::zero()) impl_->opts.interval = std::chrono::seconds(1);
  impl_->opts.interval = CappedInterval(impl_->opts.interval, channels_, &interval_note_);
}

Duration Tracker::interval() const { return impl_->opts.interval; }

Tracker::~Tracker() {
  if (running()) Stop();
}

Status Tracker::Start() {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (impl_->running) return Status::InvalidArgument("tracker already started");
  impl_->ledger = std::make_shared<Ledger>(channels_);
  impl_->tasks.clear();
  impl_->task_open = false;
  impl_->stop_requested = false;
  impl_->wall_start = impl_->clock->WallNow();
  impl_->PollLocked();
  impl_->running = true;
  impl_->early_poll.reset();
  impl_->next = impl_->clock->Now() + impl_->opts.interval;
  if (impl_->opts.sampler_thread) impl_->sampler = std::thread([this] { impl_->Loop(); });
  return Status::Ok();
}

Status Tracker::Stop() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (!impl_->running) return Status::InvalidArgument("tracker not started");
    // Only the first of concurrent Stop() calls joins the sampler.
    if (impl_->stopping) return Status::InvalidArgument("tracker is already stopping");
    impl_->stopping = true;
    impl_->stop_requested = true;
  }
  impl_->cv.notify_all();
  if (impl_->sampler.joinable()) impl_->sampler.join();
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->PollLocked();
  impl_->CloseTaskLocked();
  impl_->running = false;
  impl_->stopping = false;
  return Status::Ok();
}

TrackerSnapshot Tracker::Flush() {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (impl_->running) impl_->PollLocked();
  return impl_->SnapshotLocked();
}

TrackerSnapshot Tracker::Snapshot() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->SnapshotLocked();
}

Status Tracker::StartTask(std::string name) {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (!impl_->running) return Status::InvalidArgument("start the tracker before a task");
  impl_->PollLocked();
  impl_->CloseTaskLocked();
  impl_->open_task = TaskRecord{};
  impl_->open_task.name = std::move(name);
  impl_->open_task.from_point = impl_->LastPoint();
  impl_->open_task.wall_begin = impl_->ledger->point_wall_time(impl_->open_task.from_point);
  impl_->task_open = true;
  return Status::Ok();
}

Result<TaskRecord> Tracker::StopTask() {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (!impl_->running || !impl_->task_open) return Status::NotFound("no task is running");
  impl_->PollLocked();
  impl_->CloseTaskLocked();
  return impl_->tasks.back();
}

Status Tracker::Coalesce(size_t from, size_t to) {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (!impl_->ledger || impl_->ledger->num_points() == 0) {
    return Status::InvalidArgument("tracker never started");
  }
  to = std::min(to, impl_->LastPoint());
  if (from + 1 >= to) return Status::Ok();  // nothing between the two polls
  auto inside = [&](size_t p) { return p > from && p < to; };
  for (const TaskRecord& t : impl_->tasks) {
    if (inside(t.from_point) || inside(t.to_point)) {
      return Status::InvalidArgument("a task boundary lies inside the span");
    }
  }
  if (impl_->task_open && inside(impl_->open_task.from_point)) {
    return Status::InvalidArgument("a task boundary lies inside the span");
  }
  const size_t removed = to - from - 1;
  impl_->ledger->Coalesce(from, to);
  auto shift = [&](size_t& p) {
    if (p >= to) p -= removed;
  };
  for (TaskRecord& t : impl_->tasks) {
    shift(t.from_point);
    shift(t.to_point);
  }
  if (impl_->task_open) shift(impl_->open_task.from_point);
  return Status::Ok();
}

Result<size_t> Tracker::Thin(size_t upto, size_t max_intervals) {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (!impl_->ledger) return Status::InvalidArgument("tracker never started");
  if (!impl_->tasks.empty() || impl_->task_open) return Status::InvalidArgument("the tracker has tasks");
  return impl_->ledger->Thin(upto, max_intervals);
}

void Tracker::SetTreeRoot(pid_t pid, std::unique_ptr<TreeCpuClock> clock) {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->activity.SetRoot(pid, std::move(clock));
    if (impl_->running) impl_->early_poll = impl_->clock->Now() + kEarlyPollDelay;
  }
  impl_->cv.notify_all();
}

SteadyTime Tracker::NextPoll() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->running ? impl_->DeadlineLocked() : SteadyTime::max();
}

bool Tracker::PollDue(SteadyTime now) {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (!impl_->running) return false;
  bool any = false;
  while (impl_->PollDueLocked(now)) any = true;
  return any;
}

bool Tracker::running() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->running;
}

}  // namespace wattprint
