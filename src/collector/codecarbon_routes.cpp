// The routes CodeCarbon 3.x's API client calls (codecarbon/core/api_client.py),
// with its field names, status codes and bodies, so that a CodeCarbon user
// changes only api_endpoint. Its client sends deltas: each POST /emissions
// is one interval, added to the run's figures.
#include <cmath>

#include "collector/api.h"
#include "wattprint/live_intensity.h"

namespace wattprint::collector {

namespace {

json OrganizationJson(const store::Organization& o) {
  return {{"id", o.id}, {"name", o.name}, {"description", o.description}};
}

json ProjectJson(const store::Project& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"description", p.description},
          {"organization_id", p.organization_id},
          {"public", p.is_public}};
}

json ExperimentJson(const store::Experiment& e) {
  auto opt = [](const std::string& s) { return s.empty() ? json() : json(s); };
  return {{"id", e.id},
          {"timestamp", FormatIsoUtcMicros(e.created_us)},
          {"name", e.name},
          {"description", e.description},
          {"on_cloud", e.on_cloud},
          {"project_id", e.project_id},
          {"country_name", opt(e.country_name)},
          {"country_iso_code", opt(e.country_iso_code)},
          {"region", opt(e.region)},
          {"cloud_provider", opt(e.cloud_provider)},
          {"cloud_region", opt(e.cloud_region)}};
}

// CodeCarbon's report fields. Powers are the mean over the time measured
// (CodeCarbon's server sums the powers of its rows, which depends on how
// often the client sent).
json ReportJson(const store::Figures& f, int64_t count) {
  const double hours = f.duration_s / 3600;
  auto mean_w = [&](double kwh) { return hours > 0 ? kwh * 1000 / hours : 0.0; };
  return {{"emissions", f.emissions_kg},
          {"cpu_power", mean_w(f.cpu_kwh)},
          {"gpu_power", mean_w(f.gpu_kwh)},
          {"ram_power", mean_w(f.ram_kwh)},
          {"cpu_energy", f.cpu_kwh},
          {"gpu_energy", f.gpu_kwh},
          {"ram_energy", f.ram_kwh},
          {"energy_consumed", f.energy_kwh},
          {"duration", f.duration_s},
          {"emissions_rate", f.duration_s > 0 ? f.emissions_kg / f.duration_s : 0.0},
          {"emissions_count", count},
          {"cpu_utilization_percent", nullptr},
          {"gpu_utilization_percent", nullptr},
          {"ram_utilization_percent", nullptr}};
}

Reply PostRun(const httplib::Request& req, const json& b, Api& api) {
  const std::string experiment = NeedText(b, "experiment_id");
  Result<store::Project> p = api.ProjectOfExperiment(experiment);
  if (!p.ok()) return Missing(p.status(), "experiment_id");
  if (auto deny = api.MayWrite(api.Identify(req), *p)) return *deny;
  store::Run run;
  run.id = store::NewId();
  run.experiment_id = experiment;
  run.source = "codecarbon";
  run.start_us = run.end_us = NeedTime(b, "timestamp");
  run.os = OptText(b, "os");
  run.python_version = OptText(b, "python_version");
  run.tool_version = OptText(b, "codecarbon_version");
  run.cpu_count = OptInt(b, "cpu_count");
  run.cpu_model = OptText(b, "cpu_model");
  run.gpu_count = OptInt(b, "gpu_count");
  run.gpu_model = OptText(b, "gpu_model");
  run.longitude = OptNumber(b, "longitude", false);
  run.latitude = OptNumber(b, "latitude", false);
  run.region = OptText(b, "region");
  run.provider = OptText(b, "provider");
  run.ram_total_gb = OptNumber(b, "ram_total_size", true).value_or(0);
  run.tracking_mode = OptText(b, "tracking_mode");
  if (Status s = api.store.CreateRun(run); !s.ok()) return FromStatus(s);
  json out = b;
  out["id"] = run.id;
  return {201, out};
}

Reply PostEmission(const httplib::Request& req, const json& b, Api& api) {
  const std::string run_id = NeedText(b, "run_id");
  Result<store::Run> run = api.store.GetRun(run_id);
  if (!run.ok()) return Missing(run.status(), "run_id");
  Result<store::Project> p = api.ProjectOfExperiment(run->experiment_id);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = api.MayWrite(api.Identify(req), *p)) return *deny;
  store::Interval iv;
  iv.end_us = NeedTime(b, "timestamp");
  iv.figures.duration_s = NeedDuration(b, "duration");
  iv.start_us = iv.end_us - static_cast<int64_t>(std::llround(iv.figures.duration_s * 1e6));
  iv.figures.emissions_kg = NeedNumber(b, "emissions_sum", true);
  iv.figures.cpu_kwh = NeedNumber(b, "cpu_energy", true);
  iv.figures.gpu_kwh = NeedNumber(b, "gpu_energy", true);
  iv.figures.ram_kwh = NeedNumber(b, "ram_energy", true);
  iv.figures.energy_kwh = NeedNumber(b, "energy_consumed", true);
  iv.cpu_power_w = NeedNumber(b, "cpu_power", true);
  iv.gpu_power_w = NeedNumber(b, "gpu_power", true);
  iv.ram_power_w = NeedNumber(b, "ram_power", true);
  NeedNumber(b, "emissions_rate", true);
  iv.cpu_utilization = OptNumber(b, "cpu_utilization_percent", true);
  iv.gpu_utilization = OptNumber(b, "gpu_utilization_percent", true);
  iv.ram_utilization = OptNumber(b, "ram_utilization_percent", true);
  if (Status s = api.store.AppendInterval(run_id, iv); !s.ok()) return FromStatus(s);
  return {201, {{"id", run_id + ":" + std::to_string(iv.end_us)}}};
}

Reply PostOrganization(const httplib::Request& req, const json& b, Api& api) {
  if (auto deny = api.MustBeAdmin(api.Identify(req))) return *deny;
  Result<store::Organization> o = api.store.CreateOrganization(NeedText(b, "name"), OptText(b, "description"));
  if (!o.ok()) return FromStatus(o.status());
  return {201, OrganizationJson(*o)};
}

Reply PostProject(const httplib::Request& req, const json& b, Api& api) {
  if (auto deny = api.MustBeAdmin(api.Identify(req))) return *deny;
  store::Project p;
  p.organization_id = NeedText(b, "organization_id");
  p.name = NeedText(b, "name");
  p.description = OptText(b, "description");
  Result<store::Project> made = api.store.CreateProject(p);
  if (!made.ok()) return FromStatus(made.status());
  return {201, ProjectJson(*made)};
}

Reply PostExperiment(const httplib::Request& req, const json& b, Api& api) {
  store::Experiment e;
  e.project_id = NeedText(b, "project_id");
  Result<store::Project> p = api.store.GetProject(e.project_id);
  if (!p.ok()) return Missing(p.status(), "project_id");
  if (auto deny = api.MayWrite(api.Identify(req), *p)) return *deny;
  e.name = NeedText(b, "name");
  e.description = OptText(b, "description");
  e.on_cloud = OptBool(b, "on_cloud");
  e.country_name = OptText(b, "country_name");
  e.country_iso_code = OptText(b, "country_iso_code");
  e.region = OptText(b, "region");
  e.cloud_provider = OptText(b, "cloud_provider");
  e.cloud_region = OptText(b, "cloud_region");
  Result<store::Experiment> made = api.store.CreateExperiment(e);
  if (!made.ok()) return FromStatus(made.status());
  return {201, ExperimentJson(*made)};
}

// GET routes over one project: checks the project exists and may be read.
template <typename F>
Reply ReadingProject(const httplib::Request& req, Api& api, const std::string& project_id, F&& f) {
  Result<store::Project> p = api.store.GetProject(project_id);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = api.MayRead(api.Identify(req), *p)) return *deny;
  return f(*p);
}

Result<store::Range> RangeOr422(const httplib::Request& req, Reply* bad) {
  Result<store::Range> r = RangeOf(req);
  if (!r.ok()) *bad = Error(422, r.status().message());
  return r;
}

}  // namespace

void AddCodeCarbonRoutes(httplib::Server& http, Api& api) {
  Route(http, api, "GET", "/auth/check", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    Caller c = a.Identify(req);
    if (!c.token) return Error(401, c.presented ? c.problem : "no token");
    return {200, {{"user", {{"token", c.token->id}, {"kind", store::TokenKindName(c.token->kind)}}}}};
  });
  Route(http, api, "POST", "/runs", PostRun);
  Route(http, api, "POST", "/emissions", PostEmission);
  Route(http, api, "POST", "/organizations", PostOrganization);
  Route(http, api, "POST", "/projects", PostProject);
  Route(http, api, "POST", "/experiments", PostExperiment);
  Route(http, api, "GET", "/organizations", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    Caller c = a.Identify(req);
    if (!c.token) return Error(401, c.presented ? c.problem : "a token is required");
    auto all = a.store.ListOrganizations();
    if (!all.ok()) return FromStatus(all.status());
    json out = json::array();
    for (const auto& o : *all) {
      if (!a.MayReadOrganization(c, o.id)) out.push_back(OrganizationJson(o));
    }
    return {200, out};
  });
  Route(http, api, "GET", R"(/organizations/([^/]+))", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    if (auto deny = a.MayReadOrganization(a.Identify(req), req.matches[1])) return *deny;
    auto o = a.store.GetOrganization(req.matches[1]);
    return o.ok() ? Reply{200, OrganizationJson(*o)} : FromStatus(o.status());
  });
  Route(http, api, "GET", R"(/organizations/([^/]+)/projects)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          if (auto deny = a.MayReadOrganization(a.Identify(req), req.matches[1])) return *deny;
          auto ps = a.store.ListProjects(req.matches[1]);
          if (!ps.ok()) return FromStatus(ps.status());
          json out = json::array();
          for (const auto& p : *ps) out.push_back(ProjectJson(p));
          return {200, out};
        });
  Route(http, api, "GET", R"(/organizations/([^/]+)/sums)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    if (auto deny = a.MayReadOrganization(a.Identify(req), req.matches[1])) return *deny;
    auto o = a.store.GetOrganization(req.matches[1]);
    if (!o.ok()) return FromStatus(o.status());
    Reply bad;
    auto range = RangeOr422(req, &bad);
    if (!range.ok()) return bad;
    auto t = a.store.TotalsOf(store::Store::Level::kOrganization, o->id, *range);
    if (!t.ok()) return FromStatus(t.status());
    json out = ReportJson(t->figures, t->intervals);
    out.update({{"organization_id", o->id}, {"name", o->name}, {"description", o->description}});
    return {200, out};
  });
  Route(http, api, "GET", R"(/projects/([^/]+))", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    return ReadingProject(req, a, req.matches[1], [&](const store::Project& p) -> Reply {
      auto es = a.store.ListExperiments(p.id);
      if (!es.ok()) return FromStatus(es.status());
      json j = ProjectJson(p);
      j["experiments"] = json::array();
      for (const auto& e : *es) j["experiments"].push_back(e.id);
      return {200, j};
    });
  });
  Route(http, api, "GET", R"(/projects/([^/]+)/experiments)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    return ReadingProject(req, a, req.matches[1], [&](const store::Project& p) -> Reply {
      auto es = a.store.ListExperiments(p.id);
      if (!es.ok()) return FromStatus(es.status());
      json out = json::array();
      for (const auto& e : *es) out.push_back(ExperimentJson(e));
      return {200, out};
    });
  });
  Route(http, api, "GET", R"(/projects/([^/]+)/sums)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    return ReadingProject(req, a, req.matches[1], [&](const store::Project& p) -> Reply {
      Reply bad;
      auto range = RangeOr422(req, &bad);
      if (!range.ok()) return bad;
      auto t = a.store.TotalsOf(store::Store::Level::kProject, p.id, *range);
      if (!t.ok()) return FromStatus(t.status());
      json out = ReportJson(t->figures, t->intervals);
      out.update({{"project_id", p.id}, {"name", p.name}, {"description", p.description}});
      return {200, out};
    });
  });
  Route(http, api, "GET", R"(/projects/([^/]+)/experiments/sums)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          return ReadingProject(req, a, req.matches[1], [&](const store::Project& p) -> Reply {
            Reply bad;
            auto range = RangeOr422(req, &bad);
            if (!range.ok()) return bad;
            auto es = a.store.ListExperiments(p.id);
            if (!es.ok()) return FromStatus(es.status());
            json out = json::array();
            for (const auto& e : *es) {
              auto t = a.store.TotalsOf(store::Store::Level::kExperiment, e.id, *range);
              if (!t.ok()) return FromStatus(t.status());
              json j = ExperimentJson(e);
              j.erase("id");
              j["experiment_id"] = e.id;
              j.update(ReportJson(t->figures, t->intervals));
              out.push_back(j);
            }
            return {200, out};
          });
        });
  Route(http, api, "GET", R"(/experiments/([^/]+))", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    auto e = a.store.GetExperiment(req.matches[1]);
    if (!e.ok()) return FromStatus(e.status());
    return ReadingProject(req, a, e->project_id, [&](const store::Project&) -> Reply {
      return {200, ExperimentJson(*e)};
    });
  });
  Route(http, api, "GET", R"(/experiments/([^/]+)/runs/sums)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    auto e = a.store.GetExperiment(req.matches[1]);
    if (!e.ok()) return FromStatus(e.status());
    return ReadingProject(req, a, e->project_id, [&](const store::Project&) -> Reply {
      Reply bad;
      auto range = RangeOr422(req, &bad);
      if (!range.ok()) return bad;
      store::RunQuery q;
      q.experiment_id = e->id;
      q.range = *range;
      q.limit = 10000;
      auto runs = a.store.ListRuns(q);
      if (!runs.ok()) return FromStatus(runs.status());
      json out = json::array();
      for (const auto& r : runs->runs) {
        json j = ReportJson(r.figures, r.interval_count);
        j.update({{"run_id", r.id}, {"timestamp", FormatIsoUtcMicros(r.start_us)}, {"experiment_id", r.experiment_id}});
        out.push_back(j);
      }
      return {200, out};
    });
  });
}

}  // namespace wattprint::collector
