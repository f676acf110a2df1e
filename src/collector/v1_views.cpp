// /api/v1's answers for the dashboard: who a token is, the public projects,
// a project with where it ran and its last run, and a run's energy in the
// cleanest regions and zones ("had this run there"). Reads only.
#include <optional>

#include "collector/api.h"
#include "wattprint/grid.h"

namespace wattprint::collector {

namespace {

Reply WhoAmI(const httplib::Request& req, const json&, Api& a) {
  Caller c = a.Identify(req);
  if (!c.token) return Error(401, c.presented ? c.problem : "a token is required");
  const store::Token& t = *c.token;
  std::string organization = t.kind == store::TokenKind::kOrganization ? t.scope_id : "";
  if (t.kind == store::TokenKind::kProject) {
    auto p = a.store.GetProject(t.scope_id);
    if (!p.ok()) return FromStatus(p.status());
    organization = p->organization_id;
  }
  return {200, {{"id", t.id}, {"kind", store::TokenKindName(t.kind)}, {"scope_id", t.scope_id},
                {"organization_id", organization}, {"read", t.can_read}, {"write", t.can_write}, {"label", t.label}}};
}

Reply PublicProjects(const httplib::Request&, const json&, Api& a) {
  auto orgs = a.store.ListOrganizations();
  if (!orgs.ok()) return FromStatus(orgs.status());
  json out = json::array();
  for (const auto& o : *orgs) {
    auto ps = a.store.ListProjects(o.id);
    if (!ps.ok()) return FromStatus(ps.status());
    for (const auto& p : *ps) {
      if (!p.is_public) continue;
      out.push_back({{"id", p.id}, {"name", p.name}, {"description", p.description}, {"organization_id", o.id},
                     {"organization_name", o.name}});
    }
  }
  return {200, out};
}

// Where a run's machine was, as the dashboard words it: a cloud region, or
// a grid zone and country on premises.
json Hosted(const store::Run& r) {
  return {{"on_cloud", !r.provider.empty()}, {"cloud_provider", r.provider}, {"cloud_region", r.region},
          {"country_name", r.country},       {"zone", r.zone},               {"host", r.host}};
}

json IntensityOf(const store::Run& r) {
  if (!r.intensity_g_per_kwh) return nullptr;
  return {{"g_per_kwh", *r.intensity_g_per_kwh},
          {"source", r.intensity_source},
          {"basis", r.intensity_basis},
          {"year", r.intensity_year > 0 ? json(r.intensity_year) : json()},
          {"zone", r.zone},
          {"country_name", r.country}};
}

Reply ProjectView(const httplib::Request& req, const json&, Api& a) {
  auto p = a.store.GetProject(req.matches[1]);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = a.MayRead(a.Identify(req), *p)) return *deny;
  auto org = a.store.GetOrganization(p->organization_id);
  if (!org.ok()) return FromStatus(org.status());
  store::RunQuery q;
  q.project_id = p->id;
  q.limit = 1;
  auto last = a.store.ListRuns(q);
  if (!last.ok()) return FromStatus(last.status());
  json j = {{"id", p->id},
            {"name", p->name},
            {"description", p->description},
            {"organization_id", org->id},
            {"organization_name", org->name},
            {"public", p->is_public},
            {"hosted", nullptr},
            {"intensity", nullptr},
            {"last_run", nullptr}};
  if (!last->runs.empty()) {
    const store::Run& r = last->runs.front();
    j["hosted"] = Hosted(r);
    j["intensity"] = IntensityOf(r);
    j["last_run"] = RunJson(r);
  }
  return {200, j};
}

json AlternativesJson(const std::vector<GridAlternative>& alts, const store::Figures& f, bool cloud) {
  json out = json::array();
  for (const GridAlternative& g : alts) {
    const double kg = f.energy_kwh * g.g_per_kwh / 1000.0;
    json j = {{"zone", g.zone}, {"year", g.year}, {"g_per_kwh", g.g_per_kwh}, {"kg", kg},
              {"kg_less", f.emissions_kg - kg}};
    if (cloud) {
      j.update({{"provider", g.provider}, {"region", g.name}, {"location", g.location}});
    } else {
      j.update({{"name", g.label}});
    }
    out.push_back(j);
  }
  return out;
}

// The run's energy in the cleanest regions of its own cloud provider (all
// three when it ran on premises, or on a provider the grid data do not
// know) and in the cleanest grid zones, each at its latest year.
Reply Alternatives(const httplib::Request& req, const json&, Api& a) {
  Api::ReadableRun readable;
  if (auto deny = a.ReadRun(req, req.matches[1], &readable)) return *deny;
  const store::Run* r = &readable.run;
  int top = 5;
  if (req.has_param("top")) {
    const std::string v = req.get_param_value("top");
    if (v.empty() || v.size() > 2 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 ||
        std::stoi(v) > 50) {
      return Error(422, "?top must be a whole number from 1 to 50", "top");
    }
    top = std::stoi(v);
  }
  std::vector<GridAlternative> cloud = LowestCloudRegions(r->provider, top);
  const bool own_provider = !r->provider.empty() && !cloud.empty();
  if (!own_provider) cloud = LowestCloudRegions("", top);
  return {200,
          {{"id", r->id},
           {"energy_kwh", r->figures.energy_kwh},
           {"emissions_kg", r->figures.emissions_kg},
           {"g_per_kwh", r->intensity_g_per_kwh ? json(*r->intensity_g_per_kwh) : json()},
           {"provider", own_provider ? r->provider : ""},
           {"package", GridDataPackage()},
           {"cloud", AlternativesJson(cloud, r->figures, true)},
           {"zones", AlternativesJson(LowestZones(top), r->figures, false)}}};
}

}  // namespace

void AddV1ViewRoutes(httplib::Server& http, Api& api) {
  Route(http, api, "GET", "/api/v1/whoami", WhoAmI);
  Route(http, api, "GET", "/api/v1/public/projects", PublicProjects);
  Route(http, api, "GET", R"(/api/v1/projects/([^/]+))", ProjectView);
  Route(http, api, "GET", R"(/api/v1/runs/([^/]+)/alternatives)", Alternatives);
}

}  // namespace wattprint::collector
