// wattprint's own API, /api/v1: whole run records (what `--json` writes),
// idempotent by run id; totals at every level; series; cluster jobs.
#include <cmath>

#include "collector/api.h"

namespace wattprint::collector {

namespace {

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
  if (!exp.ok()) return Missing(exp.status(), "metadata.experiment_id");
  run.experiment_id = *exp;
  Result<store::Project> p = api.ProjectOfExperiment(run.experiment_id);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = api.MayWrite(c, *p)) return *deny;
  Result<store::Run> before = api.store.GetRun(run.id);
  const bool again = before.ok() && before->complete;
  if (Status s = api.store.PutRunRecord(run); !s.ok()) return FromStatus(s);
  return {again ? 200 : 201, {{"id", run.id}, {"experiment_id", run.experiment_id}, {"stored", !again}}};
}

// A batch of a live run's intervals, idempotent by seq. The first batch of
// a run carries its metadata and creates it; the final record completes it.
Reply PostIntervals(const httplib::Request& req, const json& body, Api& api) {
  Caller c = api.Identify(req);
  if (!c.token) return Error(401, c.presented ? c.problem : "a token is required");
  const std::string run_id = req.matches[1];
  const json& list = Need(body, "intervals");
  if (!list.is_array()) throw BadField{"intervals", "'intervals' must be an array"};
  if (list.size() > 100000) throw BadField{"intervals", "at most 100000 intervals per request"};
  std::vector<store::Interval> intervals;
  intervals.reserve(list.size());
  for (const json& j : list) intervals.push_back(IntervalFrom(j));
  Result<store::Run> run = api.store.GetRun(run_id);
  std::optional<store::Run> made;
  std::string experiment;
  if (run.ok()) {
    experiment = run->experiment_id;
  } else {
    if (run.status().code() != Status::Code::kNotFound) return FromStatus(run.status());
    if (!body.contains("metadata")) return Error(404, "no run " + run_id + " (send its metadata to create it)");
    made = RunFromMetadata(body["metadata"]);
    if (made->id != run_id) return Error(422, "metadata.run_id is not the run of the URL", "metadata.run_id");
    Result<std::string> exp = ExperimentFor(api, c, made->experiment_id);
    if (!exp.ok()) return Missing(exp.status(), "metadata.experiment_id");
    made->experiment_id = experiment = *exp;
  }
  Result<store::Project> p = api.ProjectOfExperiment(experiment);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = api.MayWrite(c, *p)) return *deny;
  // The run and its first intervals in one transaction; a racing first
  // batch of the same run finds it created.
  Result<int64_t> added = api.store.AddIntervals(run_id, intervals, true, made ? &*made : nullptr);
  if (!added.ok()) return FromStatus(added.status());
  return {200, {{"id", run_id}, {"added", *added}, {"received", intervals.size()}}};
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
            {"intensity_basis", r.intensity_basis},
            {"intensity_year", r.intensity_year > 0 ? json(r.intensity_year) : json()},
            {"zone", r.zone},
            {"country", r.country},
            {"cloud_provider", r.provider},
            {"cloud_region", r.region},
            {"host", r.host},
            {"gpu_count", r.gpu_count},
            {"methods", {{"cpu", r.cpu_method}, {"gpu", r.gpu_method}, {"ram", r.ram_method}}},
            {"cpu_model", r.cpu_model},
            {"gpu_model", r.gpu_model},
            // Manufacturing emissions, apart from figures.emissions_kg; null when unknown.
            {"embodied_kg", r.embodied_kg ? json(*r.embodied_kg) : json()}};
  if (!r.job.job_id.empty()) {
    j["cluster_job"] = {{"cluster", r.job.cluster}, {"job_id", r.job.job_id}, {"step", r.job.step},
                        {"node", r.job.node},       {"user", r.job.user},     {"account", r.job.account},
                        {"partition", r.job.partition}};
  }
  return j;
}

void AddV1Routes(httplib::Server& http, Api& api) {
  // Unauthenticated: lets a client tell wattprint's collector from another
  // CodeCarbon-compatible server.
  Route(http, api, "GET", "/api/v1/info", [](const httplib::Request&, const json&, Api&) -> Reply {
    return {200, {{"server", "wattprint"}, {"version", WATTPRINT_VERSION}, {"schema_version", store::SchemaVersion()},
                  {"api", "v1"}}};
  });
  Route(http, api, "POST", "/api/v1/runs", PostRecord);
  Route(http, api, "POST", R"(/api/v1/runs/([^/]+)/intervals)", PostIntervals);
  Route(http, api, "GET", R"(/api/v1/runs/([^/]+))", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    Api::ReadableRun r;
    if (auto deny = a.ReadRun(req, req.matches[1], &r)) return *deny;
    auto org = a.store.GetOrganization(r.project.organization_id);
    if (!org.ok()) return FromStatus(org.status());
    json j = RunJson(r.run);
    // Where it belongs, for a page that starts from the run.
    j.update({{"experiment_name", r.experiment.name}, {"project_id", r.project.id}, {"project_name", r.project.name},
              {"organization_id", org->id}, {"organization_name", org->name}});
    if (!r.run.record_json.empty()) j["record"] = json::parse(r.run.record_json, nullptr, false);
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
    // The job as the caller may see it: an admin every node, an
    // organisation's or a project's reader the runs inside it.
    Caller c = a.Identify(req);
    if (!c.token) return Error(401, c.presented ? c.problem : "a token is required");
    if (!c.token->can_read) return Error(403, "this token may not read");
    const store::Token& t = *c.token;
    const auto scope = t.kind == store::TokenKind::kProject ? store::Store::Level::kProject
                                                            : store::Store::Level::kOrganization;
    auto job = a.store.GetJob(req.matches[1], req.matches[2], scope,
                              t.kind == store::TokenKind::kAdmin ? "" : t.scope_id);
    if (!job.ok()) return FromStatus(job.status());
    json nodes = json::array();
    for (const auto& n : job->nodes) {
      json j = FiguresJson(n.figures);
      j.update({{"node", n.node}, {"runs", n.runs}, {"first_us", n.first_us}, {"last_us", n.last_us},
                {"gpu_hours", n.gpu_hours}});
      nodes.push_back(j);
    }
    auto org = a.store.GetOrganization(job->organization_id);
    if (!org.ok()) return FromStatus(org.status());
    return {200, {{"cluster", job->cluster},        {"job_id", job->job_id},   {"user", job->user},
                  {"account", job->account},        {"organization_id", org->id}, {"organization_name", org->name},
                  {"partition", job->partition},
                  {"intensity", {{"source", job->intensity_source}, {"zone", job->zone},
                                 {"basis", job->intensity_basis}, {"year", job->intensity_year}}},
                  {"totals", TotalsJson(job->totals)}, {"nodes", nodes}}};
  });
}

}  // namespace wattprint::collector
