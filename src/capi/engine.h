// The C API's tracker behind the wp_tracker handle (wattprint/wattprint.h):
// a Config assembled the way the Python module does it, the Tracker, the
// live poller, and the run the figures and records are read from. Errors
// are Status values; capi.cpp turns them into wp_status codes and keeps the
// messages. It only assembles library pieces; it measures nothing itself.
//
// Thread safety: none; the handle's mutex (capi.cpp) serialises every call.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattprint/config.h"
#include "wattprint/figures.h"
#include "wattprint/live_intensity.h"
#include "wattprint/location.h"
#include "wattprint/mpi.h"
#include "wattprint/record.h"
#include "wattprint/status.h"
#include "wattprint/tracker.h"

namespace wattprint::capi {

// What wp_options holds: the keys set, in order, and the C API's own keys.
struct Settings {
  std::vector<std::pair<std::string, std::string>> values;  // config keys
  MpiMachineRule mpi_rule = MpiMachineRule::kLocalRankZero;
  bool detect_location = true;
};

// Checks one wp_options_set pair and records it in *s; InvalidArgument with
// a did-you-mean for an unknown key.
Status SetOption(Settings* s, const std::string& key, const std::string& value);

// Which intensity basis a figure is read under (wp_basis's values).
enum class Basis { kAverage = 0, kMarginal = 1, kChosen = 2 };

class Engine {
 public:
  // Loads the config (settings > environment > files > defaults), finds
  // the location and intensity, probes the sources unless another rank
  // measures the node, and builds the tracker.
  static Result<std::unique_ptr<Engine>> Make(const Settings& s, std::vector<std::string> environment);

  bool running() const { return tracker_->running(); }
  Status Start();
  Status Stop();
  Status Flush();
  Status StartTask(const std::string& name);
  Status StopTask();

  // Figures of the last stop, flush or stop_task. `slice`: -1 the run,
  // else a closed task's index.
  Result<Figures> FiguresOf(int slice, Basis basis) const;
  Result<double> DurationS(int slice) const;
  const std::vector<TaskRecord>& tasks() const { return run_.snapshot.tasks; }
  Result<const IntensityTimeline*> IntensityOf(Basis basis) const;

  Status WriteCsv(int slice, const char* dir, const char* file) const;
  Status WriteJson(const char* path) const;
  Result<std::string> Json() const;
  const RunMetadata& meta() const { return run_.meta; }

 private:
  Engine() = default;
  Result<std::pair<size_t, size_t>> PointsOf(int slice) const;
  void Snap();

  Config cfg_;
  Location where_;
  std::string cache_dir_;
  RunResult run_;
  std::unique_ptr<Tracker> tracker_;
  std::unique_ptr<LivePoller> poller_;
};

}  // namespace wattprint::capi
