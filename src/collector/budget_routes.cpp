// /api/v1/budgets: yearly CO2e budgets per Slurm account, and where each
// account stands (wattprint/budget.h). Setting one needs the admin token;
// any token that may read sees them, since a check at job submission runs
// with a site's read token.
#include <chrono>

#include "collector/api.h"
#include "wattprint/budget.h"

namespace wattprint::collector {

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ?year=, or the budget year now.
Result<BudgetYear> YearOf(const httplib::Request& req, const Api& a) {
  if (!req.has_param("year")) return BudgetYearAt(NowUs(), a.budget_start_month);
  const std::string text = req.get_param_value("year");
  if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("year must be a year such as 2026");
  }
  return BudgetYearOf(std::stoll(text), a.budget_start_month);
}

bool GoodAccount(const std::string& account) {
  if (account.empty() || account.size() > 128) return false;
  for (char c : account) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::optional<Reply> MayRead(const Caller& c) {
  if (!c.token) return Error(c.failure.ok() ? 401 : 503, c.presented ? c.problem : "a token is required");
  if (!c.token->can_read && c.token->kind != store::TokenKind::kAdmin) return Error(403, "this token may not read");
  return std::nullopt;
}

Result<json> StatusJson(Api& a, const store::Budget& b, const BudgetYear& y) {
  auto spent = a.store.AccountEmissions(b.account, {y.from_us, y.to_us});
  if (!spent.ok()) return spent.status();
  const BudgetStatus s = StatusOf(b.kg, spent->first, y, NowUs());
  return json{{"account", b.account},
              {"year", y.year},
              {"start_month", y.start_month},
              {"from_us", y.from_us},
              {"to_us", y.to_us},
              {"budget_kg", s.budget_kg},
              {"spent_kg", s.spent_kg},
              {"remaining_kg", s.remaining_kg},
              {"used", s.used},
              {"year_gone", s.year_gone},
              {"projected_kg", s.projected_kg},
              {"runs", spent->second},
              {"state", ToString(s.state)},
              {"message", BudgetLine(b.account, y, s)},
              {"updated_us", b.updated_us}};
}

Reply Put(const httplib::Request& req, const json& body, Api& a) {
  if (auto r = a.MustBeAdmin(a.Identify(req))) return *r;
  const std::string account = req.matches[1];
  if (!GoodAccount(account)) return Error(422, "an account is letters, digits, '_', '-' and '.'", "account");
  auto year = BudgetYearOf(std::stoll(req.matches[2]), a.budget_start_month);
  if (!year.ok()) return Error(422, year.status().message(), "year");
  const double kg = NeedNumber(body, "kg", /*nonnegative=*/true);
  store::Budget b{account, year->year, kg, NowUs()};
  if (Status s = a.store.SetBudget(b); !s.ok()) return FromStatus(s);
  auto out = StatusJson(a, b, *year);
  return out.ok() ? Reply(200, *out) : FromStatus(out.status());
}

Reply GetOne(const httplib::Request& req, const json&, Api& a) {
  if (auto r = MayRead(a.Identify(req))) return *r;
  auto year = YearOf(req, a);
  if (!year.ok()) return Error(422, year.status().message(), "year");
  auto b = a.store.GetBudget(req.matches[1], year->year);
  if (!b.ok()) return FromStatus(b.status());
  auto out = StatusJson(a, *b, *year);
  return out.ok() ? Reply(200, *out) : FromStatus(out.status());
}

Reply List(const httplib::Request& req, const json&, Api& a) {
  if (auto r = MayRead(a.Identify(req))) return *r;
  auto year = YearOf(req, a);
  if (!year.ok()) return Error(422, year.status().message(), "year");
  auto all = a.store.ListBudgets(year->year);
  if (!all.ok()) return FromStatus(all.status());
  json items = json::array();
  for (const store::Budget& b : *all) {
    auto one = StatusJson(a, b, *year);
    if (!one.ok()) return FromStatus(one.status());
    items.push_back(*one);
  }
  return {200, {{"year", year->year}, {"start_month", year->start_month}, {"budgets", items}}};
}

}  // namespace

void AddBudgetRoutes(httplib::Server& http, Api& api) {
  Route(http, api, "PUT", R"(/api/v1/budgets/([^/]+)/(\d{4}))", Put);
  Route(http, api, "GET", R"(/api/v1/budgets/([^/]+))", GetOne);
  Route(http, api, "GET", R"(/api/v1/budgets)", List);
}

}  // namespace wattprint::collector
