// `wattprint upload [RECORD.json...]`: replays the spool on demand and
// imports JSON records written earlier (--json), for history.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "options.h"

namespace wattprint::cli {

namespace {

// The run id of a record file, or why it is not a record.
Result<std::string> RecordRunId(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("not JSON");
  if (!j.is_object() || !j.contains("metadata") || !j["metadata"].is_object() ||
      !j["metadata"].contains("run_id") || !j["metadata"]["run_id"].is_string()) {
    return Status::InvalidArgument("not a wattprint record (no metadata.run_id)");
  }
  return j["metadata"]["run_id"].get<std::string>();
}

}  // namespace

int UploadCommand(const Config& cfg, const std::vector<std::string>& records) {
  if (cfg.collector_url.empty()) {
    return UsageError("no collector: give --collector URL (or WATTPRINT_COLLECTOR_URL, or collector_url in a config file)");
  }
  UploadOptions o = UploadOptionsFor(cfg);
  // On demand, a slow collector may take longer than at the end of a run.
  o.wait = std::max(o.wait, std::chrono::milliseconds(10000));
  int failed = 0;
  for (const std::string& path : records) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "wattprint: error: cannot read %s\n", path.c_str());
      ++failed;
      continue;
    }
    std::ostringstream text;
    text << in.rdbuf();
    Result<std::string> id = RecordRunId(text.str());
    if (!id.ok()) {
      std::fprintf(stderr, "wattprint: error: %s: %s\n", path.c_str(), id.status().message().c_str());
      ++failed;
      continue;
    }
    Result<std::string> note = DeliverRecord(o, *id, text.str());
    if (!note.ok() || !note->empty()) {
      std::fprintf(stderr, "wattprint: %s: %s\n", path.c_str(),
                   note.ok() ? note->c_str() : note.status().message().c_str());
      ++failed;
    }
  }
  const ReplayCounts c = ReplaySpool(o, std::chrono::steady_clock::now() + std::chrono::minutes(10));
  std::fprintf(stderr, "wattprint: upload: %zu record(s) given; spool: %d stored, %d kept, %d refused (%s)\n",
               records.size(), c.stored, c.kept, c.rejected, o.spool_dir.c_str());
  return failed == 0 && c.kept == 0 && c.rejected == 0 ? 0 : 1;
}

}  // namespace wattprint::cli
