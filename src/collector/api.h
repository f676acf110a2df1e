// What the collector's route files share: replies, reading and checking a
// JSON body field by field, and the token rules.
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "wattprint/store.h"

namespace wattprint::collector {

using nlohmann::json;

struct Reply {
  Reply() = default;
  Reply(int s, json b) : status(s), body(std::move(b)) {}
  int status = 200;
  json body;
  // A reply that is not JSON (a CSV export): sent instead of body when set.
  std::string text, content_type;
};

// {"error": message, "field": field} with the status; field may be empty.
Reply Error(int status, const std::string& message, const std::string& field = "");
// The HTTP status for a Store error: NotFound 404, AlreadyExists 409,
// InvalidArgument 422, PermissionDenied 403, Unavailable 503,
// ResourceExhausted 507, anything else 500.
Reply FromStatus(const Status& s);

// A body field that is missing, of the wrong type or out of range: thrown by
// the readers below, answered 422 naming the field.
struct BadField {
  std::string field, message;
};

const json& Need(const json& body, const char* field);
std::string NeedText(const json& body, const char* field);
std::string OptText(const json& body, const char* field);
// A finite number; with nonnegative, also >= 0.
double NeedNumber(const json& body, const char* field, bool nonnegative);
// A duration in seconds: finite, from 0 to 10^9 (32 years), so that times
// computed from it stay far inside int64 microseconds.
double NeedDuration(const json& body, const char* field);
// A 404 naming the field when the Store said NotFound; any other error as
// FromStatus says (503 for an unavailable database).
Reply Missing(const Status& s, const std::string& field);
std::optional<double> OptNumber(const json& body, const char* field, bool nonnegative);
int64_t OptInt(const json& body, const char* field);
bool OptBool(const json& body, const char* field);
// An ISO 8601 time ("2026-12-01T08:43:22.799447+00:00", "...Z", or with no
// zone, taken as UTC), in microseconds since the epoch.
int64_t NeedTime(const json& body, const char* field);
Result<int64_t> ParseTime(const std::string& text);

// A run from a record's metadata object (its identity, host, cluster job).
store::Run RunFromMetadata(const json& metadata);
// A run from a whole JSON record: its chosen scope's energies, the
// emissions, the intensity with its provenance, the method per device kind
// and the metadata; the record itself is kept whole. Complete.
store::Run RunFromRecord(const json& record);
// One interval of a live run's batch.
store::Interval IntervalFrom(const json& interval);

// Who is calling: the token presented (x-api-token, or Authorization:
// Bearer), checked against the Store.
struct Caller {
  bool presented = false;
  std::optional<store::Token> token;
  std::string problem;  // why a presented token is not accepted
  Status failure;       // the token could not be checked (the database): 503, not 401
};

class Api {
 public:
  explicit Api(store::Store& s, int budget_start_month = 1) : store(s), budget_start_month(budget_start_month) {}
  store::Store& store;
  int budget_start_month;  // the month budget years start in (1: calendar years)

  Caller Identify(const httplib::Request& req) const;
  // Ok, or the reply to send: 401 without a valid token, 403 with one that
  // does not give this right.
  std::optional<Reply> MayWrite(const Caller& c, const store::Project& p) const;
  std::optional<Reply> MayRead(const Caller& c, const store::Project& p) const;
  std::optional<Reply> MayReadOrganization(const Caller& c, const std::string& organization_id) const;
  std::optional<Reply> MustBeAdmin(const Caller& c) const;
  // The project an experiment belongs to.
  Result<store::Project> ProjectOfExperiment(const std::string& experiment_id) const;

  // A run with its experiment and project, when the caller may read it.
  struct ReadableRun {
    store::Run run;
    store::Experiment experiment;
    store::Project project;
  };
  // Fills *out, or gives the reply to send instead: 404 for no such run,
  // 401 or 403 when the caller may not read its project.
  std::optional<Reply> ReadRun(const httplib::Request& req, const std::string& run_id, ReadableRun* out) const;
};

using Handler = std::function<Reply(const httplib::Request&, const json& body, Api& api)>;

// Registers a route: the body is parsed as JSON (for POST), BadField and
// other failures become JSON errors, and the reply is written.
void Route(httplib::Server& http, Api& api, const char* method, const std::string& pattern, Handler h);

// A date range from ?start_date=&end_date= (CodeCarbon) or ?from=&to=.
Result<store::Range> RangeOf(const httplib::Request& req);

json FiguresJson(const store::Figures& f);
json RunJson(const store::Run& r);  // without the record
// With gpu_hours and the everyday equivalents of its energy and CO2e.
json TotalsJson(const store::Totals& t);

void AddCodeCarbonRoutes(httplib::Server& http, Api& api);
void AddV1Routes(httplib::Server& http, Api& api);
void AddV1ListRoutes(httplib::Server& http, Api& api);
void AddV1ViewRoutes(httplib::Server& http, Api& api);
void AddBudgetRoutes(httplib::Server& http, Api& api);

}  // namespace wattprint::collector
