#include "output/prometheus.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <cmath>
#include <array>
#include <exception>
#include <map>
#include <cstdint>
#include <limits>
#include <vector>

#include "net/http.h"
#include "wattprint/emissions.h"
#include "wattprint/figures.h"
#include "wattprint/sources.h"

namespace wattprint::cli {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

// A counter that follows a running total: it moves by the total's rise,
// never down (a coalesced ledger may sum the same joules in another order,
// a few ulps apart).
struct Follower {
  Counter* counter = nullptr;
  double last = 0;
  void To(double total) {
    if (!std::isfinite(total) || total <= last) return;
    counter->Increment(total - last);
    last = total;
  }
};

const char* MethodLabel(Method m) { return m == Method::kEstimated ? "estimated" : "measured"; }

std::string SourceOf(const ChannelInfo& c) { return c.id.substr(0, c.id.find(':')); }

double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

struct PrometheusExporter::Impl {
  RunResult base;  // a copy: the caller's changes as the monitor writes rows
  bool process_scope = false;  // the tree's share, not the machine's (run --scope process)
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  std::vector<Follower> energy;      // per channel
  std::vector<Gauge*> power;         // per channel
  std::vector<Follower> emissions;   // chosen basis, then the other
  std::vector<IntensityTimeline> timelines;  // chosen basis, then the other
  std::vector<Gauge*> intensity;     // per timeline
  Follower cpu;
  Follower poll_cpu;  // the sampling thread's (Update runs on it)
  // Per cgroup and kind; a cgroup folded into "(gone)" loses its series.
  Family<Counter>* cgroup_family = nullptr;
  // Series only for the kinds the machine has channels of: no GPU
  // series on a machine without one.
  std::array<bool, 3> cgroup_kinds{};  // cpu, dram, gpu
  struct CgroupSeries {
    std::array<Follower, 3> kinds;  // cpu, dram, gpu; null counter for a kind the machine lacks
  };
  std::map<std::string, CgroupSeries, std::less<>> cgroup_series;
  Follower cgroups_unattributed;
  Gauge* cgroups_dropped = nullptr;
  Gauge* update_seconds = nullptr;
  Counter* updates = nullptr;

  void Build();
};

void PrometheusExporter::Impl::Build() {
  prometheus::Registry& r = *registry;
  if (!base.meta.run_id.empty()) {
    BuildGauge()
        .Name("wattprint_run_info")
        .Help("Always 1; the labels say which run the figures are of and in which scope")
        .Register(r)
        .Add({{"run_id", base.meta.run_id},
              {"project", base.meta.project_name},
              {"experiment_id", base.meta.experiment_id},
              {"scope", process_scope ? "process" : "machine"}})
        .Set(1);
  }
  BuildGauge()
      .Name("wattprint_build_info")
      .Help("Always 1; the labels say which wattprint this is")
      .Register(r)
      .Add({{"version", WATTPRINT_VERSION}})
      .Set(1);
  auto& up = BuildGauge()
                 .Name("wattprint_source_up")
                 .Help("1 when the energy source was found and is read, 0 when absent or denied (reason says why)")
                 .Register(r);
  for (const ProbeReport& s : base.sources) {
    const bool found = s.state == ProbeState::kFound;
    prometheus::Labels labels = {{"source", s.name}, {"state", ToString(s.state)}};
    if (!found) labels["reason"] = s.reason.substr(0, 200);
    up.Add(labels).Set(found ? 1 : 0);
  }
  auto& joules = BuildCounter()
                     .Name("wattprint_energy_joules_total")
                     .Help("Energy a device used since the monitor started, wrap-corrected (J); "
                           "counted=\"false\" marks platform channels that contain the CPU: do not add them")
                     .Register(r);
  auto& watts = BuildGauge()
                    .Name("wattprint_power_watts")
                    .Help("Mean power of the device over the last poll interval (W); NaN when it was not read")
                    .Register(r);
  const std::vector<ChannelInfo>& channels = base.snapshot.ledger->channels();
  const std::vector<bool> counted = CountedChannels(channels);
  for (size_t i = 0; i < channels.size(); ++i) {
    const ChannelInfo& c = channels[i];
    const prometheus::Labels labels = {{"kind", ToString(c.kind)},        {"device", c.device_id},
                                       {"source", SourceOf(c)},           {"method", MethodLabel(c.method)},
                                       {"counted", counted[i] ? "true" : "false"}};
    energy.push_back({&joules.Add(labels), 0});
    if (counted[i]) cgroup_kinds[c.kind == DeviceKind::kDram ? 1 : c.kind == DeviceKind::kGpu ? 2 : 0] = true;
    power.push_back(&watts.Add(labels));
    power.back()->Set(std::numeric_limits<double>::quiet_NaN());
  }
  auto& grams = BuildCounter()
                    .Name("wattprint_emissions_grams_total")
                    .Help("CO2e of the machine's counted energy since the monitor started, PUE applied (g)")
                    .Register(r);
  auto& g_per_kwh = BuildGauge()
                        .Name("wattprint_grid_intensity_grams_per_kilowatt_hour")
                        .Help("The grid intensity in force now (g CO2e/kWh)")
                        .Register(r);
  timelines.push_back(base.intensity);
  if (base.other_intensity) timelines.push_back(*base.other_intensity);
  for (const IntensityTimeline& t : timelines) {
    const IntensityProvenance& p = t.provenance;
    emissions.push_back({&grams.Add({{"basis", p.basis}}), 0});
    intensity.push_back(&g_per_kwh.Add({{"zone", p.zone}, {"basis", p.basis}, {"source", p.source}}));
  }
  cgroup_family = &BuildCounter()
                       .Name("wattprint_cgroup_energy_joules_total")
                       .Help("Machine energy charged to a cgroup since the monitor started (J), by device kind; "
                             "with wattprint_cgroup_unattributed_joules_total they add up to the counted energy")
                       .Register(r);
  cgroups_unattributed.counter = &BuildCounter()
                                      .Name("wattprint_cgroup_unattributed_joules_total")
                                      .Help("Counted machine energy no cgroup was charged with (J): idle capacity, "
                                            "the kernel, cgroups not followed, GPUs")
                                      .Register(r)
                                      .Add({});
  cgroups_dropped = &BuildGauge()
                         .Name("wattprint_cgroup_dropped")
                         .Help("Cgroups not followed because they were over the cap, summed over polls")
                         .Register(r)
                         .Add({});
  cpu.counter = &BuildCounter()
                     .Name("wattprint_exporter_cpu_seconds_total")
                     .Help("CPU time the monitor process has used, polls and scrapes included (s)")
                     .Register(r)
                     .Add({});
  poll_cpu.counter = &BuildCounter()
                          .Name("wattprint_exporter_poll_cpu_seconds_total")
                          .Help("CPU time of the sampling thread: the polls, the cgroups and these updates, "
                                "scrapes not included (s)")
                          .Register(r)
                          .Add({});
  update_seconds = &BuildGauge()
                        .Name("wattprint_exporter_update_seconds")
                        .Help("Wall time the last update of these metrics took after a poll (s)")
                        .Register(r)
                        .Add({});
  updates = &BuildCounter().Name("wattprint_exporter_updates_total").Help("Polls the metrics were updated after").Register(r).Add({});
}

namespace {

// The ledger's totals and the series are both in path order: one walk
// updates each, makes those of new cgroups and removes those of cgroups
// folded into "(gone)".
void UpdateCgroups(PrometheusExporter::Impl& m, const CgroupLedger& cgroups) {
  auto series = m.cgroup_series.begin();
  auto drop = [&](auto it) {
    for (Follower& f : it->second.kinds) {
      if (f.counter != nullptr) m.cgroup_family->Remove(f.counter);
    }
    return m.cgroup_series.erase(it);
  };
  cgroups.ForEach([&](const CgroupTotal& t) {
    int order = 1;
    while (series != m.cgroup_series.end() && (order = series->first.compare(t.path)) < 0) series = drop(series);
    if (series == m.cgroup_series.end() || order != 0) {
      PrometheusExporter::Impl::CgroupSeries made;
      const char* kinds[] = {"cpu", "dram", "gpu"};
      for (size_t k = 0; k < 3; ++k) {
        if (m.cgroup_kinds[k]) made.kinds[k].counter = &m.cgroup_family->Add({{"cgroup", t.path}, {"kind", kinds[k]}});
      }
      series = m.cgroup_series.emplace_hint(series, t.path, made);
    }
    const double joules[] = {t.cpu.joules(), t.dram.joules(), t.gpu.joules()};
    for (size_t k = 0; k < 3; ++k) {
      if (series->second.kinds[k].counter != nullptr) series->second.kinds[k].To(joules[k]);
    }
    ++series;
  });
  while (series != m.cgroup_series.end()) series = drop(series);
  m.cgroups_unattributed.To(cgroups.unattributed().joules());
  m.cgroups_dropped->Set(static_cast<double>(cgroups.dropped()));
}

}  // namespace

Result<std::unique_ptr<PrometheusExporter>> PrometheusExporter::Start(const std::string& host_port,
                                                                      const RunResult* base) {
  if (base->snapshot.ledger == nullptr) return Status::InvalidArgument("the exporter needs the tracker's channels");
  auto impl = std::make_unique<Impl>();
  impl->base = *base;
  try {
    // civetweb's option string; one listener, a few threads for scrapes.
    impl->exposer = std::make_unique<prometheus::Exposer>(host_port, 2);
  } catch (const std::exception& e) {
    return Status::IOError("cannot serve Prometheus metrics on " + host_port + ": " + e.what() +
                           " (taken, or not an address of this machine)");
  }
  impl->Build();
  impl->exposer->RegisterCollectable(impl->registry);
  return std::unique_ptr<PrometheusExporter>(new PrometheusExporter(std::move(impl)));
}

Result<std::unique_ptr<PrometheusExporter>> PrometheusExporter::Create(const RunResult* base) {
  if (base->snapshot.ledger == nullptr) return Status::InvalidArgument("the metrics need the tracker's channels");
  auto impl = std::make_unique<Impl>();
  impl->base = *base;
  impl->process_scope = base->scope == Scope::kProcess;
  impl->Build();
  return std::unique_ptr<PrometheusExporter>(new PrometheusExporter(std::move(impl)));
}

std::string PrometheusExporter::Text() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

void PrometheusExporter::Finish(const RunResult& run) {
  prometheus::Registry& r = *impl_->registry;
  const Seconds duration = std::chrono::duration_cast<Seconds>(run.snapshot.ledger->SumAll().duration());
  BuildGauge()
      .Name("wattprint_run_duration_seconds")
      .Help("How long the measured command ran (s)")
      .Register(r)
      .Add({})
      .Set(duration.count());
  BuildGauge()
      .Name("wattprint_run_end_timestamp_seconds")
      .Help("When the measured command ended (Unix time, s)")
      .Register(r)
      .Add({})
      .Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  if (run.meta.exit_code) {
    BuildGauge()
        .Name("wattprint_run_exit_code")
        .Help("The measured command's exit code")
        .Register(r)
        .Add({})
        .Set(*run.meta.exit_code);
  }
  if (run.meta.signal) {
    BuildGauge()
        .Name("wattprint_run_signal")
        .Help("The signal that killed the measured command")
        .Register(r)
        .Add({})
        .Set(*run.meta.signal);
  }
}

PrometheusExporter::PrometheusExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PrometheusExporter::~PrometheusExporter() = default;

void PrometheusExporter::Update(const Ledger& ledger, const CgroupLedger* cgroups) {
  Impl& m = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  const Totals all = ledger.SumAll();
  for (size_t i = 0; i < all.channels.size() && i < m.energy.size(); ++i) {
    m.energy[i].To((m.process_scope ? all.channels[i].process : all.channels[i].machine).joules());
  }
  const auto& intervals = ledger.intervals();
  if (!intervals.empty()) {
    const Interval& last = intervals.back();
    const double s = std::chrono::duration<double>(last.end - last.begin).count();
    for (size_t i = 0; i < last.channels.size() && i < m.power.size(); ++i) {
      const ChannelDelta& d = last.channels[i];
      const Energy e = m.process_scope ? d.process : d.machine;
      m.power[i]->Set(d.ok && s > 0 ? e.joules() / s : std::numeric_limits<double>::quiet_NaN());
    }
  }
  // Emissions under each basis: the run's figures with that timeline.
  RunResult& now = m.base;
  now.snapshot.ledger = std::shared_ptr<const Ledger>(std::shared_ptr<const Ledger>(), &ledger);
  now.snapshot.running = true;
  const SystemTime wall = std::chrono::system_clock::now();
  for (size_t b = 0; b < m.timelines.size(); ++b) {
    now.intensity = m.timelines[b];
    const Figures f = ComputeFigures(now);
    m.emissions[b].To((m.process_scope ? f.process : f.machine).co2e.grams());
    m.intensity[b]->Set(m.timelines[b].At(wall).g_per_kwh());
  }
  if (cgroups != nullptr) UpdateCgroups(m, *cgroups);
  m.cpu.To(CpuSeconds(RUSAGE_SELF));
  m.poll_cpu.To(CpuSeconds(RUSAGE_THREAD));
  m.updates->Increment();
  m.update_seconds->Set(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

namespace {

// RFC 4648 base64url without padding: the pushgateway's "@base64" label
// values (so a job name may hold '/').
std::string Base64Url(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    for (int shift : {18, 12, 6}) out += kAlphabet[(v >> shift) & 63];
  }
  // An empty value is "=" in the pushgateway's encoding.
  return out.empty() ? "=" : out;
}

}  // namespace

GatewayPusher::GatewayPusher(std::string url, std::string job, std::string instance, double interval_s,
                             std::unique_ptr<PrometheusExporter> metrics)
    : interval_s_(interval_s), metrics_(std::move(metrics)) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  uri_ = url + "/metrics/job@base64/" + Base64Url(job) + "/instance@base64/" + Base64Url(instance);
  if (interval_s_ > 0) thread_ = std::thread([this] { Loop(); });
}

GatewayPusher::~GatewayPusher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status GatewayPusher::Push(std::chrono::milliseconds timeout) {
  net::HttpRequest req;
  req.method = "PUT";
  req.url = uri_;
  req.body = metrics_->Text();
  req.headers = {{"Content-Type", "text/plain; version=0.0.4"}, {"Expect", ""}};
  req.connect_timeout = std::min(timeout, std::chrono::milliseconds(1000));
  req.timeout = timeout;
  Result<net::HttpResponse> r = net::HttpFetch(req);
  if (!r.ok()) return r.status();
  if (r->status != 200 && r->status != 202) {
    std::string said = r->body.substr(0, 200);
    std::replace(said.begin(), said.end(), '\n', ' ');
    return Status::IOError("HTTP " + std::to_string(r->status) + (said.empty() ? "" : ": " + said));
  }
  return Status::Ok();
}

void GatewayPusher::Loop() {
  const auto period = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(interval_s_));
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    lock.unlock();
    const Status st = Push(std::min(period, std::chrono::milliseconds(5000)));
    lock.lock();
    if (!st.ok() && !warned_) {
      warned_ = true;  // once: the command's output is not to be flooded
      std::fprintf(stderr, "wattprint: warning: pushgateway %s did not take the running figures: %s\n",
                   uri_.c_str(), st.message().c_str());
    }
  }
}

bool GatewayPusher::PushFinal(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  const Status st = Push(timeout);
  if (!st.ok()) {
    std::fprintf(stderr, "wattprint: warning: pushgateway %s did not take the run's figures: %s\n", uri_.c_str(),
                 st.message().c_str());
  }
  return st.ok();
}

}  // namespace wattprint::cli
