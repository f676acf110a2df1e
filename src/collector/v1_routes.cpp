// wattprint's own API, /api/v1: whole run records (what `--json` writes),
// idempotent by run id; totals at every level; series; cluster jobs.
#include <cmath>

#include "collector/api.h"

namespace wattprint::collector {

namespace {

double Kwh(const json& record, std::initializer_list<const char*> path) {
  const json* at = &record;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return 0;
    at = &(*at)[key];
  }
  return at->is_number() ? at->get<double>() : 0;
}

// A run from a JSON record: its chosen scope's energies, the emissions, the
// intensity and the metadata. The record itself is kept whole.
store::Run RunFromRecord(const json& r) {
  const json& m = Need(r, "metadata");
  store::Run run;
  run.id = NeedText(m, "run_id");
  run.experiment_id = OptText(m, "experiment_id");
  run.source = "wattprint";
  run.start_us = NeedTime(m, "start");
  const double duration = NeedNumber(r, "duration_s", true);
  run.end_us = run.start_us + static_cast<int64_t>(std::llround(duration * 1e6));
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
  const json& e = Need(r, "emissions");
  const std::string scope = NeedText(e, "scope");
  if (scope != "machine" && scope != "process") throw BadField{"emissions.scope", "must be machine or process"};
  run.figures.emissions_kg = NeedNumber(e, "kg", true);
  run.figures.energy_kwh = NeedNumber(Need(Need(e, scope.c_str()), "energy"), "kwh", true);
  run.figures.cpu_kwh = Kwh(r, {"kinds", "cpu", scope.c_str(), "kwh"});
  run.figures.gpu_kwh = Kwh(r, {"kinds", "gpu", scope.c_str(), "kwh"});
  run.figures.ram_kwh = Kwh(r, {"kinds", "dram", scope.c_str(), "kwh"});
  run.figures.duration_s = duration;
  if (const json& in = Need(r, "intensity"); in.is_object()) {
    run.intensity_g_per_kwh = OptNumber(in, "g_per_kwh", true);
    run.intensity_source = OptText(in, "source");
    run.intensity_basis = OptText(in, "basis");
  }
  if (r.contains("cluster_job") && r["cluster_job"].is_object()) {
    const json& j = r["cluster_job"];
    run.job = {OptText(j, "cluster"), OptText(j, "job_id"), OptText(j, "step"),
               OptText(j, "node"),    OptText(j, "user"),   OptText(j, "account")};
  }
  run.complete = true;
  run.record_json = r.dump();
  return run;
}

// The experiment a record goes to: its own when it belongs to the token's
// project, else that project's first experiment (an agent that was given no
// --experiment-id still lands in the project its token names).
Result<std::string> ExperimentFor(Api& api, const Caller& c, const std::string& wanted) {
  if (!wanted.empty()) {
    Result<store::Project> p = api.ProjectOfExperiment(wanted);
    if (p.ok() && !api.MayWrite(c, *p)) return wanted;
  }
  if (!c.token || c.token->kind != store::TokenKind::kProject) {
    return Status::NotFound("no experiment " + wanted + " this token may write to");
  }
  auto es = api.store.ListExperiments(c.token->scope_id);
  if (!es.ok()) return es.status();
  if (es->empty()) return Status::NotFound("project " + c.token->scope_id + " has no experiment");
  return es->front().id;
}

Reply PostRecord(const httplib::Request& req, const json& body, Api& api) {
  Caller c = api.Identify(req);
  if (!c.token) return Error(401, c.presented ? c.problem : "a token is required");
  store::Run run = RunFromRecord(body);
  Result<std::string> exp = ExperimentFor(api, c, run.experiment_id);
  if (!exp.ok()) return Error(404, exp.status().message(), "metadata.experiment_id");
  run.experiment_id = *exp;
  Result<store::Project> p = api.ProjectOfExperiment(run.experiment_id);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = api.MayWrite(c, *p)) return *deny;
  Result<store::Run> before = api.store.GetRun(run.id);
  const bool again = before.ok() && before->complete;
  if (Status s = api.store.PutRunRecord(run); !s.ok()) return FromStatus(s);
  // A run that streamed no intervals gets one for its whole span, so the
  // project's series holds it.
  if (!before.ok() || before->interval_count == 0) {
    store::Interval whole{0, run.start_us, run.end_us, run.figures, 0, 0, 0, {}, {}, {}};
    if (auto added = api.store.AddIntervals(run.id, {whole}, false); !added.ok()) return FromStatus(added.status());
  }
  return {again ? 200 : 201, {{"id", run.id}, {"experiment_id", run.experiment_id}, {"stored", !again}}};
}

json RunJson(const store::Run& r) {
  json j = {{"id", r.id},
            {"experiment_id", r.experiment_id},
            {"source", r.source},
            {"start_us", r.start_us},
            {"end_us", r.end_us},
            {"complete", r.complete},
            {"intervals", r.interval_count},
            {"figures", FiguresJson(r.figures)},
            {"intensity_g_per_kwh", r.intensity_g_per_kwh ? json(*r.intensity_g_per_kwh) : json()},
            {"intensity_source", r.intensity_source},
            {"cpu_model", r.cpu_model},
            {"gpu_model", r.gpu_model}};
  if (!r.job.job_id.empty()) {
    j["cluster_job"] = {{"cluster", r.job.cluster}, {"job_id", r.job.job_id}, {"step", r.job.step},
                        {"node", r.job.node},       {"user", r.job.user},     {"account", r.job.account}};
  }
  return j;
}

// The project a level's id belongs to, for the read check.
Result<std::string> ProjectOf(Api& api, store::Store::Level level, const std::string& id) {
  switch (level) {
    case store::Store::Level::kProject: return id;
    case store::Store::Level::kExperiment: {
      auto e = api.store.GetExperiment(id);
      if (!e.ok()) return e.status();
      return e->project_id;
    }
    case store::Store::Level::kRun: {
      auto r = api.store.GetRun(id);
      if (!r.ok()) return r.status();
      auto e = api.store.GetExperiment(r->experiment_id);
      if (!e.ok()) return e.status();
      return e->project_id;
    }
    default: return Status::InvalidArgument("not a project level");
  }
}

Reply Totals(const httplib::Request& req, Api& api, store::Store::Level level) {
  const std::string id = req.matches[1];
  Caller c = api.Identify(req);
  if (level == store::Store::Level::kOrganization) {
    if (auto deny = api.MayReadOrganization(c, id)) return *deny;
  } else {
    Result<std::string> project = ProjectOf(api, level, id);
    if (!project.ok()) return FromStatus(project.status());
    auto p = api.store.GetProject(*project);
    if (!p.ok()) return FromStatus(p.status());
    if (auto deny = api.MayRead(c, *p)) return *deny;
  }
  auto range = RangeOf(req);
  if (!range.ok()) return Error(422, range.status().message());
  auto t = api.store.TotalsOf(level, id, *range);
  if (!t.ok()) return FromStatus(t.status());
  return {200, TotalsJson(*t)};
}

}  // namespace

void AddV1Routes(httplib::Server& http, Api& api) {
  Route(http, api, "POST", "/api/v1/runs", PostRecord);
  Route(http, api, "GET", R"(/api/v1/runs/([^/]+))", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    Result<std::string> project = ProjectOf(a, store::Store::Level::kRun, req.matches[1]);
    if (!project.ok()) return FromStatus(project.status());
    auto p = a.store.GetProject(*project);
    if (!p.ok()) return FromStatus(p.status());
    if (auto deny = a.MayRead(a.Identify(req), *p)) return *deny;
    auto r = a.store.GetRun(req.matches[1]);
    if (!r.ok()) return FromStatus(r.status());
    json j = RunJson(*r);
    if (!r->record_json.empty()) j["record"] = json::parse(r->record_json, nullptr, false);
    return {200, j};
  });
  const std::pair<const char*, store::Store::Level> levels[] = {
      {"organizations", store::Store::Level::kOrganization},
      {"projects", store::Store::Level::kProject},
      {"experiments", store::Store::Level::kExperiment},
      {"runs", store::Store::Level::kRun}};
  for (const auto& [name, level] : levels) {
    const store::Store::Level l = level;
    Route(http, api, "GET", std::string("/api/v1/") + name + "/([^/]+)/totals",
          [l](const httplib::Request& req, const json&, Api& a) { return Totals(req, a, l); });
  }
  Route(http, api, "GET", R"(/api/v1/jobs/([^/]*)/([^/]+))", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    Caller c = a.Identify(req);
    if (auto deny = a.MustBeAdmin(c)) return *deny;
    auto job = a.store.GetJob(req.matches[1], req.matches[2]);
    if (!job.ok()) return FromStatus(job.status());
    json nodes = json::array();
    for (const auto& n : job->nodes) {
      json j = FiguresJson(n.figures);
      j.update({{"node", n.node}, {"runs", n.runs}, {"first_us", n.first_us}, {"last_us", n.last_us}});
      nodes.push_back(j);
    }
    return {200, {{"cluster", job->cluster}, {"job_id", job->job_id}, {"user", job->user},
                  {"account", job->account}, {"totals", TotalsJson(job->totals)}, {"nodes", nodes}}};
  });
}

}  // namespace wattprint::collector
