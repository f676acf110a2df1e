// `wattprint upload [RECORD.json...]`: replays the spool on demand and
// imports JSON records written earlier (--json), for history.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "compare_input.h"
#include "options.h"
#include "wattprint/live_intensity.h"

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

double Number(const std::string& s) {
  try {
    size_t used = 0;
    const double d = std::stod(s, &used);
    return used == s.size() && std::isfinite(d) && d >= 0 ? d : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

// The runs of an emissions.csv (wattprint's or CodeCarbon's) as records:
// a run's last row (rows of one run are cumulative), its energies by kind,
// emissions and times. A timestamp without a zone is taken as UTC.
Result<std::vector<std::pair<std::string, std::string>>> CsvRuns(const std::string& text) {
  const auto rows = CsvRecords(text);
  if (rows.size() < 2) return Status::InvalidArgument("no data row");
  const auto& header = rows[0];
  auto col = [&](const std::vector<std::string>& row, const char* name) -> std::string {
    const size_t i = static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    return i < row.size() ? row[i] : "";
  };
  for (const char* needed : {"timestamp", "run_id", "duration", "emissions", "energy_consumed"}) {
    if (std::find(header.begin(), header.end(), needed) == header.end()) {
      return Status::InvalidArgument(std::string("not an emissions CSV (no '") + needed + "' column)");
    }
  }
  std::map<std::string, size_t> last;  // run id -> its last row
  std::vector<std::string> order;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::string id = col(rows[r], "run_id");
    if (id.empty()) return Status::InvalidArgument("row " + std::to_string(r) + " has no run_id");
    if (!last.count(id)) order.push_back(id);
    last[id] = r;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& id : order) {
    const auto& row = rows[last[id]];
    const std::string where = "row " + std::to_string(last[id]);
    std::string ts = col(row, "timestamp");
    // A zone is Z or +HH:MM / -HH:MM at the end; none means UTC.
    const bool zoned = (!ts.empty() && ts.back() == 'Z') ||
                       (ts.size() > 6 && (ts[ts.size() - 6] == '+' || ts[ts.size() - 6] == '-') && ts[ts.size() - 3] == ':');
    if (!zoned) ts += "Z";
    Result<SystemTime> end = ParseIsoUtc(ts);
    const double duration = Number(col(row, "duration")), kg = Number(col(row, "emissions")),
                 kwh = Number(col(row, "energy_consumed"));
    if (!end.ok() || duration < 0 || kg < 0 || kwh < 0) {
      return Status::InvalidArgument(where + ": timestamp, duration, emissions or energy_consumed is not valid");
    }
    const SystemTime start = *end - std::chrono::duration_cast<SystemTime::duration>(Seconds(duration));
    nlohmann::json kinds = nlohmann::json::object();
    for (auto [column, kind] : {std::pair{"cpu_energy", "cpu"}, {"gpu_energy", "gpu"}, {"ram_energy", "dram"}}) {
      const double v = Number(col(row, column));
      if (v >= 0) kinds[kind] = {{"machine", {{"kwh", v}}}};
    }
    nlohmann::json record = {
        {"metadata",
         {{"run_id", id}, {"experiment_id", col(row, "experiment_id")}, {"start", FormatIsoUtc(start)},
          {"os", col(row, "os")}, {"cpu_model", col(row, "cpu_model")}, {"gpu_model", col(row, "gpu_model")},
          {"python_version", col(row, "python_version")}, {"cloud_provider", col(row, "cloud_provider")},
          {"cloud_region", col(row, "cloud_region")}}},
        {"duration_s", duration},
        {"emissions", {{"scope", "machine"}, {"kg", kg}, {"machine", {{"energy", {{"kwh", kwh}}}}}}},
        {"kinds", kinds},
        {"intensity",
         {{"g_per_kwh", kwh > 0 ? kg * 1000 / kwh : 0.0},
          {"source", "imported from emissions.csv (emissions / energy_consumed)"},
          {"basis", "average"}}},
        {"imported_from", "emissions.csv"}};
    out.emplace_back(id, record.dump());
  }
  return out;
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
    std::vector<std::pair<std::string, std::string>> runs;  // run id, record
    const std::string s = text.str();
    const size_t first = s.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && s[first] == '{') {
      Result<std::string> id = RecordRunId(s);
      if (id.ok()) runs.emplace_back(*id, s);
      if (!id.ok()) {
        std::fprintf(stderr, "wattprint: error: %s: %s\n", path.c_str(), id.status().message().c_str());
        ++failed;
      }
    } else {
      Result<std::vector<std::pair<std::string, std::string>>> csv = CsvRuns(s);
      if (csv.ok()) runs = std::move(*csv);
      if (!csv.ok()) {
        std::fprintf(stderr, "wattprint: error: %s: %s\n", path.c_str(), csv.status().message().c_str());
        ++failed;
      }
    }
    for (const auto& [id, record] : runs) {
      Result<std::string> note = DeliverRecord(o, id, record);
      if (!note.ok() || !note->empty()) {
        std::fprintf(stderr, "wattprint: %s: %s\n", path.c_str(),
                     note.ok() ? note->c_str() : note.status().message().c_str());
        ++failed;
      }
    }
  }
  const ReplayCounts c = ReplaySpool(o, std::chrono::steady_clock::now() + std::chrono::minutes(10));
  std::fprintf(stderr, "wattprint: upload: %zu record(s) given; spool: %d stored, %d kept, %d refused (%s)\n",
               records.size(), c.stored, c.kept, c.rejected, o.spool_dir.c_str());
  return failed == 0 && c.kept == 0 && c.rejected == 0 ? 0 : 1;
}

}  // namespace wattprint::cli
