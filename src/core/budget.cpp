// Budget years and where an account stands: no I/O.
#include "wattprint/budget.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace wattprint {

namespace {

int64_t MonthStartUs(int64_t year, int month) {
  using namespace std::chrono;
  const sys_days d = year_month_day{std::chrono::year(static_cast<int>(year)), std::chrono::month(month), day(1)};
  return duration_cast<microseconds>(d.time_since_epoch()).count();
}

}  // namespace

Result<BudgetYear> BudgetYearOf(int64_t year, int start_month) {
  if (start_month < 1 || start_month > 12) return Status::InvalidArgument("the budget year's start month must be 1 to 12");
  if (year < 1970 || year > 9999) return Status::InvalidArgument("the budget year must be from 1970 to 9999");
  return BudgetYear{year, start_month, MonthStartUs(year, start_month), MonthStartUs(year + 1, start_month)};
}

BudgetYear BudgetYearAt(int64_t t_us, int start_month) {
  using namespace std::chrono;
  const auto days = floor<std::chrono::days>(sys_time<microseconds>(microseconds(t_us)));
  const year_month_day ymd{days};
  int64_t y = static_cast<int>(ymd.year());
  if (static_cast<unsigned>(ymd.month()) < static_cast<unsigned>(start_month)) --y;
  return BudgetYearOf(y, start_month).value_or(BudgetYear{});
}

double ShareInWindow(int64_t start_us, int64_t end_us, int64_t from_us, int64_t to_us) {
  if (end_us <= start_us) return start_us >= from_us && start_us < to_us ? 1.0 : 0.0;
  const int64_t a = std::max(start_us, from_us), b = std::min(end_us, to_us);
  if (b <= a) return 0.0;
  return static_cast<double>(b - a) / static_cast<double>(end_us - start_us);
}

const char* ToString(BudgetState s) {
  switch (s) {
    case BudgetState::kOk: return "ok";
    case BudgetState::kWarn80: return "warn80";
    case BudgetState::kWarn95: return "warn95";
    case BudgetState::kOver: return "over";
  }
  return "ok";
}

BudgetStatus StatusOf(double budget_kg, double spent_kg, const BudgetYear& year, int64_t now_us) {
  BudgetStatus s;
  s.budget_kg = budget_kg;
  s.spent_kg = spent_kg;
  s.remaining_kg = std::max(0.0, budget_kg - spent_kg);
  s.used = budget_kg > 0 ? spent_kg / budget_kg : (spent_kg > 0 ? 1.0 : 0.0);
  const double span = static_cast<double>(year.to_us - year.from_us);
  s.year_gone = span > 0 ? std::clamp(static_cast<double>(now_us - year.from_us) / span, 0.0, 1.0) : 0.0;
  s.projected_kg = s.year_gone > 0 ? spent_kg / s.year_gone : spent_kg;
  if (spent_kg >= budget_kg) {
    s.state = BudgetState::kOver;
  } else if (s.used >= 0.95) {
    s.state = BudgetState::kWarn95;
  } else if (s.used >= 0.80) {
    s.state = BudgetState::kWarn80;
  }
  return s;
}

std::string BudgetLine(const std::string& account, const BudgetYear& year, const BudgetStatus& s) {
  const std::string label = year.start_month == 1 ? fmt::format("{}", year.year)
                                                  : fmt::format("{}-{:02}", year.year, year.start_month);
  const std::string figures = fmt::format("{:.1f} of {:.1f} kg CO2e", s.spent_kg, s.budget_kg);
  const std::string details = "details: wattprint budget status " + account;
  switch (s.state) {
    case BudgetState::kOk: return "";
    case BudgetState::kOver:
      return fmt::format("wattprint: account {} has spent its {} CO2e budget ({}); {}", account, label, figures, details);
    case BudgetState::kWarn80:
    case BudgetState::kWarn95:
      return fmt::format("wattprint: warning: account {} has spent {:.0f} % of its {} CO2e budget ({}); {}", account,
                         std::floor(s.used * 100), label, figures, details);
  }
  return "";
}

}  // namespace wattprint
