// /api/v1's listings: organisations, projects (with their totals),
// experiments, runs (paged, sorted and filtered by the server, and as CSV),
// a run's series, an organisation's or a project's series by hour, day or
// week, and the cluster jobs of an organisation. Reads only; each checks the token's right to
// read what it lists.
#include <algorithm>
#include <map>

#include "collector/api.h"
#include "wattprint/live_intensity.h"

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

Result<std::map<std::string, std::string>> ExperimentNames(Api& api, const std::string& project_id) {
  auto es = api.store.ListExperiments(project_id);
  if (!es.ok()) return es.status();
  std::map<std::string, std::string> names;
  for (const auto& e : *es) names[e.id] = e.name;
  return names;
}

template <typename F>
Reply InProject(const httplib::Request& req, Api& api, const std::string& project_id, F&& f) {
  auto p = api.store.GetProject(project_id);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = api.MayRead(api.Identify(req), *p)) return *deny;
  return f(*p);
}

Result<store::RunQuery> RunQueryOf(const httplib::Request& req, const std::string& experiment,
                                   const std::string& project, int64_t max_limit) {
  store::RunQuery q;
  q.experiment_id = experiment;
  q.project_id = project;
  auto range = RangeOf(req);
  if (!range.ok()) return range.status();
  q.range = *range;
  const std::string sort = req.has_param("sort") ? req.get_param_value("sort") : "start";
  using O = store::RunQuery::Order;
  const std::pair<const char*, O> orders[] = {{"start", O::kStart},   {"duration", O::kDuration},
                                              {"energy", O::kEnergy}, {"emissions", O::kEmissions},
                                              {"host", O::kHost}};
  bool known = false;
  for (const auto& [name, o] : orders) {
    if (sort == name) q.order = o, known = true;
  }
  if (!known) return Status::InvalidArgument("?sort must be start, duration, energy, emissions or host");
  const std::string order = req.has_param("order") ? req.get_param_value("order") : "desc";
  if (order != "asc" && order != "desc") return Status::InvalidArgument("?order must be asc or desc");
  q.descending = order == "desc";
  q.text = req.has_param("q") ? req.get_param_value("q") : "";
  if (q.text.size() > 200) return Status::InvalidArgument("?q is longer than 200 characters");
  if (req.has_param("experiment_id")) {
    if (!experiment.empty()) return Status::InvalidArgument("?experiment_id is the URL's already");
    q.experiment_id = req.get_param_value("experiment_id");
  }
  Reply bad;
  if (!Paging(req, &q.limit, &q.offset, &bad)) return Status::InvalidArgument(bad.body.value("error", ""));
  if (!req.has_param("limit")) q.limit = std::min<int64_t>(100, max_limit);
  if (q.limit > max_limit) return Status::InvalidArgument("?limit is above " + std::to_string(max_limit));
  return q;
}

const char* SortName(store::RunQuery::Order o) {
  using O = store::RunQuery::Order;
  switch (o) {
    case O::kDuration: return "duration";
    case O::kEnergy: return "energy";
    case O::kEmissions: return "emissions";
    case O::kHost: return "host";
    case O::kStart: break;
  }
  return "start";
}

Reply Runs(const httplib::Request& req, Api& api, const std::string& experiment, const store::Project& project) {
  auto q = RunQueryOf(req, experiment, experiment.empty() ? project.id : "", 1000);
  if (!q.ok()) return Error(422, q.status().message());
  if (!q->experiment_id.empty()) {
    // An experiment of another project would list nothing; say so instead.
    auto e = api.store.GetExperiment(q->experiment_id);
    if (!e.ok()) return Missing(e.status(), "experiment_id");
    if (e->project_id != project.id) return Error(404, "no experiment " + q->experiment_id + " in this project",
                                                  "experiment_id");
  }
  auto page = api.store.ListRuns(*q);
  if (!page.ok()) return FromStatus(page.status());
  auto names = ExperimentNames(api, project.id);
  if (!names.ok()) return FromStatus(names.status());
  json out = json::array();
  for (const auto& r : page->runs) {
    json j = RunJson(r);
    const auto name = names->find(r.experiment_id);
    j["experiment_name"] = name == names->end() ? "" : name->second;
    out.push_back(j);
  }
  return {200, {{"runs", out},        {"total", page->total},         {"limit", q->limit},
                {"offset", q->offset}, {"sort", SortName(q->order)}, {"order", q->descending ? "desc" : "asc"}}};
}

int64_t BucketUs(const std::string& name) {
  const int64_t hour = int64_t{3600} * 1000000;
  if (name == "hour") return hour;
  if (name == "day") return 24 * hour;
  if (name == "week") return 7 * 24 * hour;
  return 0;
}

// A CSV field: quoted when it holds a comma, quote or line break; a text
// that a spreadsheet would run as a formula (=, +, -, @) is led by a quote.
std::string CsvText(const std::string& v) {
  std::string t = !v.empty() && std::string("=+-@").find(v[0]) != std::string::npos ? "'" + v : v;
  if (t.find_first_of(",\"\r\n") == std::string::npos) return t;
  std::string out = "\"";
  for (char c : t) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string CsvNumber(double v) { return json(v).dump(); }

constexpr const char* kRunsCsvHeader =
    "run_id,experiment,start,duration_s,host,cluster,job_id,node,cpu_energy_kwh,gpu_energy_kwh,ram_energy_kwh,"
    "energy_kwh,emissions_kg,cpu_method,gpu_method,ram_method,intensity_g_per_kwh,intensity_source\n";

void AppendCsvRun(std::string* out, const store::Run& r, const std::string& experiment) {
  const store::Figures& f = r.figures;
  const std::string fields[] = {CsvText(r.id),           CsvText(experiment),      FormatIsoUtcMicros(r.start_us),
                                CsvNumber(f.duration_s), CsvText(r.host),          CsvText(r.job.cluster),
                                CsvText(r.job.job_id),   CsvText(r.job.node),      CsvNumber(f.cpu_kwh),
                                CsvNumber(f.gpu_kwh),    CsvNumber(f.ram_kwh),     CsvNumber(f.energy_kwh),
                                CsvNumber(f.emissions_kg), CsvText(r.cpu_method),  CsvText(r.gpu_method),
                                CsvText(r.ram_method),
                                r.intensity_g_per_kwh ? CsvNumber(*r.intensity_g_per_kwh) : std::string(),
                                CsvText(r.intensity_source)};
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) *out += ',';
    *out += fields[i];
  }
  *out += '\n';
}

// Every run the query selects, in its order, as CSV: read 20000 at a time
// (the order's index finds each batch's start), so that 10^5 runs never sit
// in memory as structs at once.
Reply RunsCsv(const httplib::Request& req, Api& api, const store::Project& project) {
  auto parsed = RunQueryOf(req, "", project.id, 1000);
  if (!parsed.ok()) return Error(422, parsed.status().message());
  auto names = ExperimentNames(api, project.id);
  if (!names.ok()) return FromStatus(names.status());
  Reply reply;
  reply.content_type = "text/csv; charset=utf-8";
  reply.text = kRunsCsvHeader;
  store::RunQuery q = *parsed;
  q.limit = 20000;
  for (q.offset = 0;; q.offset += q.limit) {
    auto page = api.store.ListRuns(q);
    if (!page.ok()) return FromStatus(page.status());
    for (const auto& r : page->runs) {
      const auto name = names->find(r.experiment_id);
      AppendCsvRun(&reply.text, r, name == names->end() ? "" : name->second);
    }
    if (static_cast<int64_t>(page->runs.size()) < q.limit) break;
  }
  return reply;
}

Reply Series(const httplib::Request& req, Api& api, store::Store::Level level, const std::string& id) {
  const std::string bucket = req.has_param("bucket") ? req.get_param_value("bucket") : "day";
  const int64_t us = BucketUs(bucket);
  if (us == 0) return Error(422, "?bucket must be hour, day or week", "bucket");
  auto range = RangeOf(req);
  if (!range.ok()) return Error(422, range.status().message());
  auto points = api.store.SeriesOf(level, id, us, *range);
  if (!points.ok()) return FromStatus(points.status());
  json out = json::array();
  for (const auto& pt : *points) {
    json j = FiguresJson(pt.figures);
    j.update({{"bucket_start_us", pt.bucket_start_us}, {"intervals", pt.intervals}});
    out.push_back(j);
  }
  return {200, {{"bucket", bucket}, {"points", out}}};
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
          auto range = RangeOf(req);
          if (!range.ok()) return Error(422, range.status().message());
          auto ps = a.store.ProjectTotals(req.matches[1], *range);
          if (!ps.ok()) return FromStatus(ps.status());
          json out = json::array();
          for (const auto& [p, t] : *ps) {
            out.push_back({{"id", p.id}, {"name", p.name}, {"public", p.is_public}, {"totals", TotalsJson(t)}});
          }
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
    return InProject(req, a, req.matches[1], [&](const store::Project& p) { return Runs(req, a, "", p); });
  });
  Route(http, api, "GET", R"(/api/v1/projects/([^/]+)/runs\.csv)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          return InProject(req, a, req.matches[1], [&](const store::Project& p) { return RunsCsv(req, a, p); });
        });
  Route(http, api, "GET", R"(/api/v1/experiments/([^/]+)/runs)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          auto e = a.store.GetExperiment(req.matches[1]);
          if (!e.ok()) return FromStatus(e.status());
          return InProject(req, a, e->project_id, [&](const store::Project& p) { return Runs(req, a, e->id, p); });
        });
  Route(http, api, "GET", R"(/api/v1/runs/([^/]+)/series)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    Api::ReadableRun r;
    if (auto deny = a.ReadRun(req, req.matches[1], &r)) return *deny;
    auto s = a.store.RunSeries(r.run.id);
    return s.ok() ? Reply{200, {{"id", r.run.id}, {"intervals", Intervals(*s)}}} : FromStatus(s.status());
  });
  Route(http, api, "GET", R"(/api/v1/projects/([^/]+)/series)", [](const httplib::Request& req, const json&, Api& a) -> Reply {
    return InProject(req, a, req.matches[1], [&](const store::Project& p) {
      return Series(req, a, store::Store::Level::kProject, p.id);
    });
  });
  Route(http, api, "GET", R"(/api/v1/organizations/([^/]+)/series)",
        [](const httplib::Request& req, const json&, Api& a) -> Reply {
          if (auto deny = a.MayReadOrganization(a.Identify(req), req.matches[1])) return *deny;
          return Series(req, a, store::Store::Level::kOrganization, req.matches[1]);
        });
}

}  // namespace wattprint::collector
