// `wattprint monitor --prometheus HOST:PORT`: the machine's figures as
// Prometheus metrics at /metrics, in the text exposition format
// (prometheus-cpp's pull exposer). Counters are joules and grams since the
// monitor started, wrap-corrected by the ledger and never a raw hardware
// value; they only ever rise. A scrape reads what the last poll left and
// never triggers a hardware read. docs/PROMETHEUS.md lists the metrics.
//
// Thread safety: Update() from the sampling thread (TrackerOptions
// ::on_sample, under the tracker's lock); scrapes come on the exposer's own
// threads and read prometheus-cpp's atomic values.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "wattprint/cgroups.h"
#include "wattprint/ledger.h"
#include "wattprint/record.h"
#include "wattprint/status.h"

namespace wattprint::cli {

class PrometheusExporter {
 public:
  // Listens on host_port ("127.0.0.1:9464"). `base` gives the channels
  // (its snapshot's ledger), sources, intensity and PUE; it is copied.
  // IOError when the address is taken.
  static Result<std::unique_ptr<PrometheusExporter>> Start(const std::string& host_port, const RunResult* base);
  ~PrometheusExporter();

  // The same metrics with no server, for `run --pushgateway`; Text()
  // gives them. The energy and CO2e are the run's scope (the tracked
  // process tree's share with --scope process).
  static Result<std::unique_ptr<PrometheusExporter>> Create(const RunResult* base);

  // The counters and gauges after a poll: the ledger's totals so far, and
  // each cgroup's when energy is attributed to them.
  void Update(const Ledger& ledger, const CgroupLedger* cgroups = nullptr);

  // The run's end (push mode): wattprint_run_duration_seconds, its exit
  // code or signal and the end time, as gauges.
  void Finish(const RunResult& run);

  // Every metric in the text exposition format (any thread).
  std::string Text() const;

  struct Impl;

 private:
  explicit PrometheusExporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `run --pushgateway URL`: the run's metrics pushed with PUT to
// URL/metrics/job/JOB/instance/HOST (the values base64url-encoded, so any
// text is safe), which replaces that group's previous push. Every
// `interval` seconds while the command runs when not 0, and once at the
// end. A push that fails is a warning on stderr; the command is never
// disturbed.
class GatewayPusher {
 public:
  GatewayPusher(std::string url, std::string job, std::string instance, double interval_s,
                std::unique_ptr<PrometheusExporter> metrics);
  ~GatewayPusher();
  PrometheusExporter& metrics() { return *metrics_; }
  // The final push, after Finish(): waits at most `timeout`. False (with
  // the warning printed) when the gateway did not take it.
  bool PushFinal(std::chrono::milliseconds timeout);

 private:
  Status Push(std::chrono::milliseconds timeout);
  void Loop();
  std::string uri_;
  double interval_s_;
  std::unique_ptr<PrometheusExporter> metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool warned_ = false;
  std::thread thread_;
};

}  // namespace wattprint::cli
