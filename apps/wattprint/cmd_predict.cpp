// `wattprint predict RECORD.json --tasks N`: the energy, CO2e and duration
// a run of N tasks will have, from the tasks a JSON record holds
// (wattprint/predict.h, docs/PREDICT.md). With a live provider configured,
// its forecast gives the intensity of the remaining time; with a collector
// and a record made inside a Slurm job, the prediction says what share of
// the account's remaining yearly budget the run would take. Neither ever
// fails the prediction: what could not be had is a note.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "collector_client.h"
#include "commands.h"
#include "net/http.h"
#include "options.h"
#include "util/text.h"
#include "wattprint/fs.h"
#include "wattprint/predict.h"
#include "wattprint/run_record.h"

namespace wattprint::cli {
namespace {

// A prediction is asked for between tasks: answers that do not come
// quickly are notes, not waits.
constexpr std::chrono::milliseconds kForecastTimeout{3000};
constexpr std::chrono::milliseconds kBudgetTimeout{2000};

Result<RunRecord> ReadRecord(const std::string& path) {
  Result<std::string> text = PosixFileSystem()->ReadFile(path);
  if (!text.ok()) return Status::InvalidArgument("cannot read " + text.status().message());
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not JSON (give the record --json wrote)");
  Result<RunRecord> r = RunRecordFromJson(j);
  if (!r.ok()) return Status::InvalidArgument(path + ": not a wattprint JSON record: " + r.status().message());
  return r;
}

// Where the record's run was, for the live provider's zone: the configured
// location when one is given, else the record's country and zone.
Location LocationOfRecord(const Config& cfg, const RunRecord& record) {
  Location loc;
  if (!LocationOf(cfg).empty()) {
    loc.step = LocationStep::kExplicit;
    return loc;
  }
  const IntensityProvenance& p = record.intensity.provenance;
  loc.place.country = p.country_iso3;
  if (p.zone != p.country_iso3) loc.place.zone = p.zone;
  return loc;
}

// The live forecast's mean over [now, now + the time the remaining tasks
// take], when a live provider is configured.
void AddForecast(const Config& cfg, const RunRecord& record, PredictionInput* in) {
  if (cfg.live_intensity == LiveSetting::kOff) return;
  Result<Prediction> first = Predict(*in);
  if (!first.ok() || first->done_tasks == first->total_tasks) return;
  const Seconds span = first->remaining_duration.value;
  std::shared_ptr<LiveIntensity> live = MakeLiveIntensity(cfg, LocationOfRecord(cfg, record), CacheDir());
  if (!live) return;
  const SystemTime now = std::chrono::system_clock::now();
  ApplyForecast(in, live->Forecast(now, span, kForecastTimeout), now, span);
}

// Asks the collector for the budget of the record's Slurm account.
void AddBudget(const Config& cfg, const RunRecord& record, Prediction* p) {
  if (cfg.collector_url.empty() || !record.metadata.cluster_job) return;
  const std::string& account = record.metadata.cluster_job->account;
  if (account.empty()) return;
  Result<Answer> a = Ask(cfg, "GET", "/api/v1/budgets/" + net::UrlEncode(account), "", kBudgetTimeout);
  if (!a.ok()) return ApplyBudgetFailure(p, account, a.status().message());
  ApplyBudgetAnswer(p, account, a->status, a->body);
}

}  // namespace

int PredictCommand(const Config& cfg, const PredictOptions& o) {
  if (o.record.empty()) return UsageError("give the run's JSON record, e.g. wattprint predict run.json --tasks 100");
  if (o.tasks < 1) {
    return UsageError(fmt::format("--tasks {}: give the run's total number of tasks (1 or more)", o.tasks));
  }
  if (!(o.confidence > 0 && o.confidence < 1)) {
    return UsageError(fmt::format("--confidence {}: give a level between 0 and 1, e.g. 0.9", o.confidence));
  }
  Result<RunRecord> record = ReadRecord(o.record);
  if (!record.ok()) return UsageError(text::Printable(record.status().message()));
  Result<PredictionInput> in = PredictionInputFromRecord(*record, o.tasks, o.confidence);
  const std::string name = text::Printable(o.record);
  if (!in.ok()) return UsageError(name + ": " + in.status().message());
  AddForecast(cfg, *record, &in.value());
  Result<Prediction> p = Predict(*in);
  if (!p.ok()) return UsageError(name + ": " + p.status().message());
  AddBudget(cfg, *record, &p.value());
  const std::string out = o.json ? PredictionToJson(*p).dump(2) + "\n" : FormatPrediction(*p);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace wattprint::cli
