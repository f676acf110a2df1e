// /api/v1's listings: organisations, projects, experiments, runs (paged),
// a run's series, a project's series by hour, day or week, and the cluster
// jobs of an organisation. Reads only; each checks the token's right to
// read what it lists.
#include <algorithm>

#include "collector/api.h"

namespace wattprint::collector {

namespace {

// ?limit= (1..1000, default 100) and ?offset= (>= 0).
bool Paging(const httplib::Request& req, int64_t* limit, int64_t* offset, Reply* bad) {
  *limit = 100;
  *offset = 0;
  for (auto [name, out, lo, hi] : {std::tuple{"limit", limit, int64_t{1}, int64_t{1000}},
                                   std::tuple{"offset", offset, int64_t{0}, int64_t{1} << 40}}) {
    if (!req.has_param(name)) continue;
    const std::string v = req.get_param_value(name);
    if (v.empty() || v.size() > 13 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(v) < lo || std::stoll(v) > hi) {
      *bad = Error(422, std::string("?") + name + " must be a whole number from " + std::to_string(lo) + " to " +
                            std::to_string(hi),
                   name);
      return false;
    }
    *out = std::stoll(v);
  }
  return true;
}

json Experiments(const std::vector<store::Experiment>& es) {
  json out = json::array();
  for (const auto& e : es) {
    out.push_back({{"id", e.id}, {"project_id", e.project_id}, {"name", e.name}, {"description", e.description},
                   {"created_us", e.created_us}});
  }
  return out;
}

json Intervals(const std::vector<store::Interval>& ivs) {
  json out = json::array();
  for (const auto& iv : ivs) {
    json j = FiguresJson(iv.figures);
    j.update({{"seq", iv.seq}, {"start_us", iv.start_us}, {"end_us", iv.end_us}, {"cpu_power_w", iv.cpu_power_w},
              {"gpu_power_w", iv.gpu_power_w}, {"ram_power_w", iv.ram_power_w}});
    out.push_back(j);
  }
  return out;
}

template <typename F>
Reply InProject(const httplib::Request& req, Api& api, const std::string& project_id, F&& f) {
  auto p = api.store.GetProject(project_id);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = api.MayRead(api.Identify(req), *p)) return *deny;
  return f(*p);
}

Reply Runs(const httplib::Request& req, Api& api, const std::string& experiment, const std::string& project) {
  int64_t limit = 0, offset = 0;
  Reply bad;
  if (!Paging(req, &limit, &offset, &bad)) return bad;
  auto range = RangeOf(req);
  if (!range.ok()) return Error(422, range.status().message());
  auto runs = api.store.ListRuns(experiment, project, *range, limit, offset);
  if (!runs.ok()) return FromStatus(runs.status());
  json out = json::array();
  for (const auto& r : *runs) out.push_back(RunJson(r));
  return {200, {{"runs", out}, {"limit", limit}, {"offset", offset}}};
}

int64_t BucketUs(const std::string& name) {
  const int64_t hour = int64_t{3600} * 1000000;
  if (name == "hour") return hour;
  if (name == "day") return 24 * hour;
  if (name == "week") return 7 * 24 * hour;
  return 0;
}

}  // namespace

void AddV1ListRoutes(httplib::Server& http, Api& api) {
  Route(http, api, "GET", "/api/v1/organizations", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    Caller c = a.Identify(req);
    if (!c.token) return Error(401, c.presented ? c.problem : "a token is required");
    auto all = a.store.ListOrganizations();
    if (!all.ok()) return FromStatus(all.status());
    json out = json::array();
    for (const auto& o : *all) {
      if (!a.MayReadOrganization(c, o.id)) out.push_back({{"id", o.id}, {"name", o.name}, {"description", o.description}});
    }
    return {200, out};
  });
  Route(http, api, "GET", R"(/api/v1/organizations/([^/]+)/projects)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          if (auto deny = a.MayReadOrganization(a.Identify(req), req.matches[1])) return *deny;
          auto ps = a.store.ListProjects(req.matches[1]);
          if (!ps.ok()) return FromStatus(ps.status());
          json out = json::array();
          for (const auto& p : *ps) out.push_back({{"id", p.id}, {"name", p.name}, {"public", p.is_public}});
          return {200, out};
        });
  Route(http, api, "GET", R"(/api/v1/organizations/([^/]+)/jobs)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          if (auto deny = a.MayReadOrganization(a.Identify(req), req.matches[1])) return *deny;
          int64_t limit = 0, offset = 0;
          Reply bad;
          if (!Paging(req, &limit, &offset, &bad)) return bad;
          auto range = RangeOf(req);
          if (!range.ok()) return Error(422, range.status().message());
          auto jobs = a.store.ListJobs(req.matches[1], *range, limit, offset);
          if (!jobs.ok()) return FromStatus(jobs.status());
          json out = json::array();
          for (const auto& j : *jobs) {
            out.push_back({{"cluster", j.cluster}, {"job_id", j.job_id}, {"user", j.user}, {"account", j.account},
                           {"totals", TotalsJson(j.totals)}});
          }
          return {200, out};
        });
  Route(http, api, "GET", R"(/api/v1/projects/([^/]+)/experiments)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          return InProject(req, a, req.matches[1], [&](const store::Project& p) -> Reply {
            auto es = a.store.ListExperiments(p.id);
            return es.ok() ? Reply{200, Experiments(*es)} : FromStatus(es.status());
          });
        });
  Route(http, api, "GET", R"(/api/v1/projects/([^/]+)/runs)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    return InProject(req, a, req.matches[1], [&](const store::Project& p) { return Runs(req, a, "", p.id); });
  });
  Route(http, api, "GET", R"(/api/v1/experiments/([^/]+)/runs)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          auto e = a.store.GetExperiment(req.matches[1]);
          if (!e.ok()) return FromStatus(e.status());
          return InProject(req, a, e->project_id, [&](const store::Project&) { return Runs(req, a, e->id, ""); });
        });
  Route(http, api, "GET", R"(/api/v1/runs/([^/]+)/series)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    auto r = a.store.GetRun(req.matches[1]);
    if (!r.ok()) return FromStatus(r.status());
    auto e = a.store.GetExperiment(r->experiment_id);
    if (!e.ok()) return FromStatus(e.status());
    return InProject(req, a, e->project_id, [&](const store::Project&) -> Reply {
      auto s = a.store.RunSeries(r->id);
      return s.ok() ? Reply{200, {{"id", r->id}, {"intervals", Intervals(*s)}}} : FromStatus(s.status());
    });
  });
  Route(http, api, "GET", R"(/api/v1/projects/([^/]+)/series)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    const std::string bucket = req.has_param("bucket") ? req.get_param_value("bucket") : "day";
    const int64_t us = BucketUs(bucket);
    if (us == 0) return Error(422, "?bucket must be hour, day or week", "bucket");
    return InProject(req, a, req.matches[1], [&](const store::Project& p) -> Reply {
      auto range = RangeOf(req);
      if (!range.ok()) return Error(422, range.status().message());
      auto points = a.store.ProjectSeries(p.id, us, *range);
      if (!points.ok()) return FromStatus(points.status());
      json out = json::array();
      for (const auto& pt : *points) {
        json j = FiguresJson(pt.figures);
        j.update({{"bucket_start_us", pt.bucket_start_us}, {"intervals", pt.intervals}});
        out.push_back(j);
      }
      return {200, {{"bucket", bucket}, {"points", out}}};
    });
  });
}

}  // namespace wattprint::collector
