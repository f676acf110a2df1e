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

#include <memory>
#include <string>

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

  // The counters and gauges after a poll: the ledger's totals so far, and
  // each cgroup's when energy is attributed to them.
  void Update(const Ledger& ledger, const CgroupLedger* cgroups = nullptr);

  struct Impl;

 private:
  explicit PrometheusExporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattprint::cli
