#include "collector/api.h"

#include <cmath>
#include <ctime>

#include "wattprint/report.h"
#include "wattprint/units.h"

namespace wattprint::collector {

Reply Error(int status, const std::string& message, const std::string& field) {
  json body = {{"error", message}};
  if (!field.empty()) body["field"] = field;
  return {status, body};
}

Reply FromStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound: return Error(404, s.message());
    case Status::Code::kAlreadyExists: return Error(409, s.message());
    case Status::Code::kInvalidArgument: return Error(422, s.message());
    case Status::Code::kPermissionDenied: return Error(403, s.message());
    case Status::Code::kUnavailable: return Error(503, "the database is unavailable: retry later");
    case Status::Code::kResourceExhausted: return Error(507, "the database is out of space");
    default: return Error(500, "internal error: " + s.message());
  }
}

const json& Need(const json& body, const char* field) {
  if (!body.is_object() || !body.contains(field) || body[field].is_null()) {
    throw BadField{field, std::string("'") + field + "' is required"};
  }
  return body[field];
}

std::string NeedText(const json& body, const char* field) {
  const json& v = Need(body, field);
  if (!v.is_string()) throw BadField{field, std::string("'") + field + "' must be a string"};
  return v.get<std::string>();
}

std::string OptText(const json& body, const char* field) {
  if (!body.is_object() || !body.contains(field) || body[field].is_null()) return "";
  return NeedText(body, field);
}

double NeedNumber(const json& body, const char* field, bool nonnegative) {
  const json& v = Need(body, field);
  if (!v.is_number()) throw BadField{field, std::string("'") + field + "' must be a number"};
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw BadField{field, std::string("'") + field + "' must be finite"};
  if (nonnegative && d < 0) throw BadField{field, std::string("'") + field + "' must not be negative"};
  return d;
}

double NeedDuration(const json& body, const char* field) {
  const double d = NeedNumber(body, field, true);
  if (d > 1e9) throw BadField{field, std::string("'") + field + "' is over 10^9 seconds"};
  return d;
}

Reply Missing(const Status& s, const std::string& field) {
  if (s.code() == Status::Code::kNotFound) return Error(404, s.message(), field);
  return FromStatus(s);
}

std::optional<double> OptNumber(const json& body, const char* field, bool nonnegative) {
  if (!body.is_object() || !body.contains(field) || body[field].is_null()) return std::nullopt;
  return NeedNumber(body, field, nonnegative);
}

int64_t OptInt(const json& body, const char* field) {
  const std::optional<double> d = OptNumber(body, field, true);
  if (!d) return 0;
  if (*d != std::floor(*d) || *d > 9e15) throw BadField{field, std::string("'") + field + "' must be a whole number"};
  return static_cast<int64_t>(*d);
}

bool OptBool(const json& body, const char* field) {
  if (!body.is_object() || !body.contains(field) || body[field].is_null()) return false;
  if (!body[field].is_boolean()) throw BadField{field, std::string("'") + field + "' must be true or false"};
  return body[field].get<bool>();
}

Result<int64_t> ParseTime(const std::string& t) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
  double sec = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) {
    n = 0;
    if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || static_cast<size_t>(n) != t.size()) {
      return Status::InvalidArgument("'" + t + "' is not an ISO 8601 time");
    }
  }
  if (y < 1970 || y > 2199 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      !(sec >= 0) || sec >= 61 || t[0] == '-' || t.find("T-") != std::string::npos ||
      t.find(":-") != std::string::npos) {
    return Status::InvalidArgument("'" + t + "' is not a time between 1970 and 2199");
  }
  const std::string zone = t.substr(static_cast<size_t>(n));
  int64_t offset_s = 0;
  if (!zone.empty() && zone != "Z") {
    int zh = 0, zm = 0, used = 0;
    char sign = 0;
    if (std::sscanf(zone.c_str(), "%c%2d:%2d%n", &sign, &zh, &zm, &used) != 3 || (sign != '+' && sign != '-') ||
        static_cast<size_t>(used) != zone.size() || zone.size() != 6 || zh < 0 || zh > 23 || zm < 0 || zm > 59) {
      return Status::InvalidArgument("'" + t + "' has a time zone that is not +HH:MM or Z");
    }
    offset_s = (sign == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  const std::tm asked = tm;
  const int64_t epoch = timegm(&tm) - offset_s;
  if (tm.tm_mday != asked.tm_mday || tm.tm_mon != asked.tm_mon) {  // February 31 normalised to March
    return Status::InvalidArgument("'" + t + "' is not a day of that month");
  }
  return epoch * 1000000 + static_cast<int64_t>(std::llround(sec * 1e6));
}

int64_t NeedTime(const json& body, const char* field) {
  Result<int64_t> t = ParseTime(NeedText(body, field));
  if (!t.ok()) throw BadField{field, t.status().message()};
  return *t;
}

Caller Api::Identify(const httplib::Request& req) const {
  Caller c;
  std::string secret = req.get_header_value("x-api-token");
  const std::string auth = req.get_header_value("Authorization");
  if (secret.empty() && auth.rfind("Bearer ", 0) == 0) secret = auth.substr(7);
  if (secret.empty()) return c;
  c.presented = true;
  Result<store::Token> t = store.CheckToken(secret);
  if (t.ok()) {
    c.token = *t;
  } else if (t.status().code() == Status::Code::kNotFound || t.status().code() == Status::Code::kPermissionDenied) {
    c.problem = t.status().message();
  } else {
    c.problem = t.status().message();
    c.failure = t.status();
  }
  return c;
}

namespace {

std::optional<Reply> NoToken(const Caller& c) {
  if (!c.failure.ok()) return FromStatus(c.failure);
  if (!c.presented) return Error(401, "a token is required (x-api-token or Authorization: Bearer)");
  if (!c.token) return Error(401, c.problem);
  return std::nullopt;
}

}  // namespace

std::optional<Reply> Api::MayWrite(const Caller& c, const store::Project& p) const {
  if (auto r = NoToken(c)) return r;
  const store::Token& t = *c.token;
  if (t.kind == store::TokenKind::kAdmin) return std::nullopt;
  if (t.kind == store::TokenKind::kProject && t.scope_id == p.id && t.can_write) return std::nullopt;
  return Error(403, "this token may not write to project " + p.id);
}

std::optional<Reply> Api::MayRead(const Caller& c, const store::Project& p) const {
  if (p.is_public) return std::nullopt;
  if (auto r = NoToken(c)) return r;
  const store::Token& t = *c.token;
  if (t.kind == store::TokenKind::kAdmin) return std::nullopt;
  if (t.kind == store::TokenKind::kProject && t.scope_id == p.id && t.can_read) return std::nullopt;
  if (t.kind == store::TokenKind::kOrganization && t.scope_id == p.organization_id && t.can_read) return std::nullopt;
  return Error(403, "this token may not read project " + p.id);
}

std::optional<Reply> Api::MayReadOrganization(const Caller& c, const std::string& org) const {
  if (auto r = NoToken(c)) return r;
  const store::Token& t = *c.token;
  if (t.kind == store::TokenKind::kAdmin) return std::nullopt;
  if (t.kind == store::TokenKind::kOrganization && t.scope_id == org && t.can_read) return std::nullopt;
  return Error(403, "this token may not read organization " + org);
}

std::optional<Reply> Api::MustBeAdmin(const Caller& c) const {
  if (auto r = NoToken(c)) return r;
  if (c.token->kind == store::TokenKind::kAdmin) return std::nullopt;
  return Error(403, "this needs the server's admin token");
}

Result<store::Project> Api::ProjectOfExperiment(const std::string& experiment_id) const {
  Result<store::Experiment> e = store.GetExperiment(experiment_id);
  if (!e.ok()) return e.status();
  return store.GetProject(e->project_id);
}

std::optional<Reply> Api::ReadRun(const httplib::Request& req, const std::string& run_id, ReadableRun* out) const {
  Result<store::Run> r = store.GetRun(run_id);
  if (!r.ok()) return FromStatus(r.status());
  Result<store::Experiment> e = store.GetExperiment(r->experiment_id);
  if (!e.ok()) return FromStatus(e.status());
  Result<store::Project> p = store.GetProject(e->project_id);
  if (!p.ok()) return FromStatus(p.status());
  if (auto deny = MayRead(Identify(req), *p)) return deny;
  *out = {*r, *e, *p};
  return std::nullopt;
}

void Route(httplib::Server& http, Api& api, const char* method, const std::string& pattern, Handler h) {
  auto run = [&api, h](const httplib::Request& req, httplib::Response& res) {
    Reply reply;
    try {
      json body;
      if (!req.body.empty()) {
        body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded()) {
          reply = Error(400, "the body is not JSON");
        } else {
          reply = h(req, body, api);
        }
      } else {
        reply = h(req, body, api);
      }
    } catch (const BadField& b) {
      reply = Error(422, b.message, b.field);
    } catch (const std::exception& e) {
      reply = Error(500, std::string("internal error: ") + e.what());
    }
    res.status = reply.status;
    res.set_header("Cache-Control", "no-store");  // answers read with a token stay out of caches
    if (!reply.content_type.empty() && reply.status < 300) {
      res.set_content(std::move(reply.text), reply.content_type);
    } else {
      res.set_content(reply.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    }
  };
  if (std::string(method) == "GET") {
    http.Get(pattern, run);
  } else if (std::string(method) == "POST") {
    http.Post(pattern, run);
  } else if (std::string(method) == "PATCH") {
    http.Patch(pattern, run);
  } else {
    http.Put(pattern, run);
  }
}

Result<store::Range> RangeOf(const httplib::Request& req) {
  store::Range r;
  for (const char* from : {"start_date", "from"}) {
    if (!req.has_param(from)) continue;
    Result<int64_t> t = ParseTime(req.get_param_value(from));
    if (!t.ok()) return Status::InvalidArgument(std::string(from) + ": " + t.status().message());
    r.from_us = *t;
  }
  for (const char* to : {"end_date", "to"}) {
    if (!req.has_param(to)) continue;
    Result<int64_t> t = ParseTime(req.get_param_value(to));
    if (!t.ok()) return Status::InvalidArgument(std::string(to) + ": " + t.status().message());
    r.to_us = *t;
  }
  return r;
}

json FiguresJson(const store::Figures& f) {
  return {{"cpu_energy_kwh", f.cpu_kwh},         {"gpu_energy_kwh", f.gpu_kwh}, {"ram_energy_kwh", f.ram_kwh},
          {"energy_kwh", f.energy_kwh},          {"emissions_kg", f.emissions_kg},
          {"duration_s", f.duration_s},          {"water_l", f.water_l}};
}

json EquivalentsJson(const store::Figures& f) {
  json out = json::array();
  for (const Equivalent& e :
       EverydayEquivalents(Energy::KilowattHours(f.energy_kwh), Co2e::Kilograms(f.emissions_kg))) {
    out.push_back({{"key", e.key}, {"amount", e.amount}, {"unit", e.unit}, {"source", e.source}});
  }
  return out;
}

json TotalsJson(const store::Totals& t) {
  json j = FiguresJson(t.figures);
  j["runs"] = t.runs;
  j["intervals"] = t.intervals;
  j["first_us"] = t.first_us;
  j["last_us"] = t.last_us;
  j["gpu_hours"] = t.gpu_hours;
  // Manufacturing emissions, apart from emissions_kg (never in it).
  j["embodied_kg"] = t.embodied_kg;
  j["embodied_runs"] = t.embodied_runs;
  j["equivalents"] = EquivalentsJson(t.figures);
  return j;
}

}  // namespace wattprint::collector
