// Assembly steps shared by run, monitor and doctor; see commands.h.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
    : base_(base), enabled_(!cfg.quiet && isatty(STDERR_FILENO) == 1) {
  // A terminal that cannot position the cursor gets no status line.
  const char* term = std::getenv("TERM");
  if (term == nullptr || *term == '\0' || std::strcmp(term, "dumb") == 0) enabled_ = false;
}

// The status line lives on the terminal's last row, outside a scrolling
// region that holds everything else, so it never writes over the command's
// output, not even a prompt that has no newline yet ("Continue? [y/N] "):
//   - ESC D (index) then ESC M (reverse index) keep the cursor's column and
//     its text and, when the cursor is on the last row, scroll the screen up
//     one row first, so the last row is free;
//   - CSI 1;N-1 r sets the scrolling region (it homes the cursor, so it sits
//     between ESC 7 and ESC 8, save and restore);
//   - each draw saves the cursor, writes on row N and restores it.
// The region is set again when the terminal's height changes.
std::function<void(const Ledger&)> LiveStatus::Callback() {
  if (!enabled_) return {};
  return [this](const Ledger& ledger) {
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row < 3 || ws.ws_col < 10) return;
    RunResult now = *base_;
    // Borrow the tracker's ledger for the duration of this call (aliasing
    // constructor, no ownership): it is valid while the sampler holds it.
    now.snapshot.ledger = std::shared_ptr<const Ledger>(std::shared_ptr<const Ledger>(), &ledger);
    now.snapshot.running = true;
    std::string text = FormatLiveStatus(now);
    // One column short of the width: writing the last column of the last
    // row would make some terminals wrap or scroll.
    if (text.size() >= ws.ws_col) text.resize(ws.ws_col - 1u);
    std::string out;
    if (ws.ws_row != rows_.load()) out = ReserveSequence(ws.ws_row);
    out += fmt::format("\x1b" "7\x1b[{};1H{}\x1b[K\x1b" "8", ws.ws_row, text);
    // One write: the terminal driver keeps it whole against the command's
    // own writes.
    if (write(STDERR_FILENO, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
      rows_.store(ws.ws_row);
    }
  };
}

std::string LiveStatus::ReserveSequence(int rows) {
  std::string out;
  const int old = rows_.load();
  // A shrunk terminal: the old status row may still show; erase it.
  if (old > 0 && old <= rows) out += fmt::format("\x1b" "7\x1b[{};1H\x1b[K\x1b" "8", old);
  out += fmt::format("\x1b" "D\x1b" "M\x1b" "7\x1b[1;{}r\x1b" "8", rows - 1);
  return out;
}

void LiveStatus::Clear() {
  const int rows = rows_.exchange(0);
  if (rows == 0) return;
  winsize ws{};
  const int now = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 ? ws.ws_row : rows;
  // Erase the status row and give the whole screen back, with the full
  // region spelled out (some emulators ignore a bare CSI r); setting the
  // region homes the cursor, hence the save and restore.
  std::string out = "\x1b" "7";
  if (rows <= now) out += fmt::format("\x1b[{};1H\x1b[K", rows);
  out += fmt::format("\x1b[1;{}r\x1b" "8", now);
  if (write(STDERR_FILENO, out.data(), out.size()) < 0) return;
}

void SendToCollector(const Config& cfg, const RunResult& run) {
  if (cfg.collector_url.empty()) return;
  const std::string record = RunToJson(run).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Result<std::string> note = DeliverRecord(UploadOptionsFor(cfg), run.meta.run_id, record);
  if (!note.ok()) {
    std::fprintf(stderr, "wattprint: error: the record was neither sent nor spooled: %s\n",
                 note.status().message().c_str());
  } else if (!note->empty()) {  // said even with --quiet: the record is not where the user sent it
    std::fprintf(stderr, "wattprint: note: %s\n", note->c_str());
  }
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
