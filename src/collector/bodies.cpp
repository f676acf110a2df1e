// What the collector reads from a request body: a run from a wattprint
// record or from its metadata, an interval of a live run. Each field is
// checked as it is read; a bad one throws BadField, answered 422.
#include <cmath>

#include "collector/api.h"

namespace wattprint::collector {

namespace {

// The value at a path of keys, or null when one is missing.
const json* At(const json& record, std::initializer_list<const char*> path) {
  const json* at = &record;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
  }
  return at;
}

double Kwh(const json& record, std::initializer_list<const char*> path) {
  const json* v = At(record, path);
  return v != nullptr && v->is_number() ? v->get<double>() : 0;
}

std::string TextAt(const json& record, std::initializer_list<const char*> path) {
  const json* v = At(record, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

}  // namespace

store::Run RunFromMetadata(const json& m) {
  store::Run run;
  run.id = NeedText(m, "run_id");
  run.experiment_id = OptText(m, "experiment_id");
  run.source = "wattprint";
  run.start_us = run.end_us = NeedTime(m, "start");
  run.os = OptText(m, "os");
  run.python_version = OptText(m, "python_version");
  run.tool_version = OptText(m, "wattprint_version");
  run.cpu_count = OptInt(m, "cpu_count");
  run.cpu_model = OptText(m, "cpu_model");
  run.gpu_count = OptInt(m, "gpu_count");
  run.gpu_model = OptText(m, "gpu_model");
  run.ram_total_gb = OptNumber(m, "ram_total_bytes", true).value_or(0) / (1024.0 * 1024 * 1024);
  run.longitude = OptNumber(m, "longitude", false);
  run.latitude = OptNumber(m, "latitude", false);
  run.region = OptText(m, "cloud_region");
  run.provider = OptText(m, "cloud_provider");
  run.host = OptText(m, "host");
  if (m.contains("cluster_job") && m["cluster_job"].is_object()) {
    const json& j = m["cluster_job"];
    run.job = {OptText(j, "cluster"), OptText(j, "job_id"), OptText(j, "step"),
               OptText(j, "node"),    OptText(j, "user"),   OptText(j, "account"),
               OptText(j, "partition")};
  }
  return run;
}

store::Run RunFromRecord(const json& r) {
  store::Run run = RunFromMetadata(Need(r, "metadata"));
  const double duration = NeedDuration(r, "duration_s");
  run.end_us = run.start_us + static_cast<int64_t>(std::llround(duration * 1e6));
  const json& e = Need(r, "emissions");
  const std::string scope = NeedText(e, "scope");
  if (scope != "machine" && scope != "process") throw BadField{"emissions.scope", "must be machine or process"};
  run.figures.emissions_kg = NeedNumber(e, "kg", true);
  run.figures.energy_kwh = NeedNumber(Need(Need(e, scope.c_str()), "energy"), "kwh", true);
  run.figures.cpu_kwh = Kwh(r, {"kinds", "cpu", scope.c_str(), "kwh"});
  run.figures.gpu_kwh = Kwh(r, {"kinds", "gpu", scope.c_str(), "kwh"});
  run.figures.ram_kwh = Kwh(r, {"kinds", "dram", scope.c_str(), "kwh"});
  run.figures.duration_s = duration;
  run.cpu_method = TextAt(r, {"kinds", "cpu", "method"});
  run.gpu_method = TextAt(r, {"kinds", "gpu", "method"});
  run.ram_method = TextAt(r, {"kinds", "dram", "method"});
  if (const json& in = Need(r, "intensity"); in.is_object()) {
    run.intensity_g_per_kwh = OptNumber(in, "g_per_kwh", true);
    run.intensity_source = OptText(in, "source");
    run.intensity_basis = OptText(in, "basis");
    run.zone = OptText(in, "zone");
    run.country = OptText(in, "country_name");
    const std::optional<double> year = OptNumber(in, "year", true);
    if (year && *year >= 1900 && *year <= 9999) run.intensity_year = static_cast<int64_t>(*year);
  }
  if (r.contains("embodied") && r["embodied"].is_object()) run.embodied_kg = OptNumber(r["embodied"], "kg", true);
  run.complete = true;
  run.record_json = r.dump();
  return run;
}

store::Interval IntervalFrom(const json& j) {
  if (!j.is_object()) throw BadField{"intervals", "each interval is an object"};
  store::Interval iv;
  const double seq = NeedNumber(j, "seq", true);
  if (seq != std::floor(seq) || seq > 9e15) throw BadField{"seq", "'seq' must be a whole number"};
  iv.seq = static_cast<int64_t>(seq);
  iv.start_us = NeedTime(j, "start");
  iv.end_us = NeedTime(j, "end");
  if (iv.end_us < iv.start_us) throw BadField{"end", "'end' is before 'start'"};
  iv.figures.cpu_kwh = NeedNumber(j, "cpu_energy_kwh", true);
  iv.figures.gpu_kwh = NeedNumber(j, "gpu_energy_kwh", true);
  iv.figures.ram_kwh = NeedNumber(j, "ram_energy_kwh", true);
  iv.figures.energy_kwh = NeedNumber(j, "energy_kwh", true);
  iv.figures.emissions_kg = NeedNumber(j, "emissions_kg", true);
  iv.figures.duration_s = NeedDuration(j, "duration_s");
  iv.figures.water_l = OptNumber(j, "water_l", true).value_or(0);
  iv.cpu_power_w = OptNumber(j, "cpu_power_w", true).value_or(0);
  iv.gpu_power_w = OptNumber(j, "gpu_power_w", true).value_or(0);
  iv.ram_power_w = OptNumber(j, "ram_power_w", true).value_or(0);
  iv.cpu_utilization = OptNumber(j, "cpu_utilization", true);
  iv.gpu_utilization = OptNumber(j, "gpu_utilization", true);
  iv.ram_utilization = OptNumber(j, "ram_utilization", true);
  return iv;
}

}  // namespace wattprint::collector
