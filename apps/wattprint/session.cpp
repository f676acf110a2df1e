// Assembly steps shared by run, monitor and doctor; see commands.h.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "commands.h"
#include "output/sysinfo.h"

namespace wattprint::cli {

SourceOptions MakeSourceOptions(const Config& cfg) {
  SourceOptions o = SourceOptionsFor(cfg);
  // The CLI is the edge that reads the process environment; the probes get
  // the value, so they stay testable.
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) o.cuda_visible_devices = v;
  return o;
}

TrackerOptions MakeTrackerOptions(const Config& cfg) { return TrackerOptionsFor(cfg); }

Result<IntensityTimeline> ResolveIntensity(const Config& cfg, Location* where,
                                           std::optional<IntensityTimeline>* other) {
  // Explicit > cloud metadata > time zone > world average (live_setup.cpp).
  const Location loc = ResolveLocation(MakeLocationOptions(cfg), *PosixFileSystem());
  if (where != nullptr) *where = loc;
  Result<IntensityChoice> c = ChooseIntensity(cfg, loc);
  if (!c.ok()) return c.status();
  if (other != nullptr) *other = std::move(c->other);
  return std::move(c->chosen);
}


RunMetadata MakeMetadata(const Config& cfg) { return MetadataFor(cfg); }

LiveStatus::LiveStatus(const Config& cfg, const RunResult* base)
    : base_(base), enabled_(!cfg.quiet && isatty(STDERR_FILENO) == 1) {}

std::function<void(const Ledger&)> LiveStatus::Callback() {
  if (!enabled_) return {};
  return [this](const Ledger& ledger) {
    RunResult now = *base_;
    // Borrow the tracker's ledger for the duration of this call (aliasing
    // constructor, no ownership): it is valid while the sampler holds it.
    now.snapshot.ledger = std::shared_ptr<const Ledger>(std::shared_ptr<const Ledger>(), &ledger);
    now.snapshot.running = true;
    const std::string line = "\r" + FormatLiveStatus(now) + "\x1b[K";
    if (write(STDERR_FILENO, line.data(), line.size()) > 0) printed_ = true;
  };
}

void LiveStatus::Clear() {
  if (!printed_.exchange(false)) return;
  constexpr char kErase[] = "\r\x1b[K";
  if (write(STDERR_FILENO, kErase, sizeof kErase - 1) < 0) return;
}

bool SaveOutputs(const Config& cfg, const RunResult& run, size_t from, size_t to, bool with_json) {
  bool ok = true;
  if (cfg.save_to_file) {
    const CsvRow row = MakeCsvRow(run, from, to, std::chrono::system_clock::now());
    std::string written_to, note;
    Status st = AppendCsvRow(cfg.output_dir, cfg.output_file, row, &written_to, &note);
    if (!st.ok()) {
      std::fprintf(stderr, "wattprint: error: cannot write the CSV row: %s\n", st.ToString().c_str());
      ok = false;
    } else if (!note.empty()) {  // a row that went elsewhere is said even with --quiet
      std::fprintf(stderr, "wattprint: note: %s\n", note.c_str());
    }
  }
  if (with_json && !cfg.json.empty()) {
    Status st = WriteJsonFile(cfg.json, run);
    if (!st.ok()) {
      std::fprintf(stderr, "wattprint: error: cannot write %s: %s\n", cfg.json.c_str(),
                   st.ToString().c_str());
      ok = false;
    }
  }
  return ok;
}

}  // namespace wattprint::cli
