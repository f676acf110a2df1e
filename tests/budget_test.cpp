// Budget years, runs split across them, and where an account stands.
#include "wattprint/budget.h"

#include <gtest/gtest.h>

namespace wattprint {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1000000;

TEST(Budget, YearsAreCalendarYearsOrStartInTheSitesMonth) {
  const BudgetYear y = BudgetYearOf(2026, 1).value();
  EXPECT_EQ(y.from_us, int64_t{1767225600} * 1000000);  // 2026-01-01T00:00:00Z
  EXPECT_EQ(y.to_us, int64_t{1798761600} * 1000000);    // 2027-01-01T00:00:00Z
  const BudgetYear fiscal = BudgetYearOf(2026, 4).value();
  EXPECT_EQ(fiscal.from_us, int64_t{1775001600} * 1000000);  // 2026-04-01
  EXPECT_EQ(fiscal.to_us, int64_t{1806537600} * 1000000);    // 2027-04-01
  // A time belongs to the year it falls in, by the start month.
  EXPECT_EQ(BudgetYearAt(y.from_us, 1).year, 2026);
  EXPECT_EQ(BudgetYearAt(y.from_us - 1, 1).year, 2025);
  EXPECT_EQ(BudgetYearAt(fiscal.from_us - 1, 4).year, 2025);  // 2026-03-31 is in 2025's
  EXPECT_EQ(BudgetYearAt(fiscal.from_us, 4).year, 2026);
  EXPECT_FALSE(BudgetYearOf(2026, 13).ok());
  EXPECT_FALSE(BudgetYearOf(1969, 1).ok());
}

TEST(Budget, ARunSpanningTheNewYearCountsInEachForItsTimeThere) {
  const BudgetYear y = BudgetYearOf(2026, 1).value();
  EXPECT_DOUBLE_EQ(ShareInWindow(y.from_us - 3 * kDay, y.from_us + kDay, y.from_us, y.to_us), 0.25);
  EXPECT_DOUBLE_EQ(ShareInWindow(y.from_us - 3 * kDay, y.from_us + kDay, y.from_us - 365 * kDay, y.from_us), 0.75);
  EXPECT_DOUBLE_EQ(ShareInWindow(y.from_us + kDay, y.from_us + 2 * kDay, y.from_us, y.to_us), 1.0);
  EXPECT_DOUBLE_EQ(ShareInWindow(y.to_us, y.to_us + kDay, y.from_us, y.to_us), 0.0);  // starts when it ends
  EXPECT_DOUBLE_EQ(ShareInWindow(y.from_us, y.from_us, y.from_us, y.to_us), 1.0);      // no duration
  EXPECT_DOUBLE_EQ(ShareInWindow(y.to_us, y.to_us, y.from_us, y.to_us), 0.0);
}

TEST(Budget, StatusWarnsAt80And95AndRefusesAtTheBudget) {
  const BudgetYear y = BudgetYearOf(2026, 1).value();
  const int64_t quarter = y.from_us + (y.to_us - y.from_us) / 4;
  BudgetStatus s = StatusOf(500, 100, y, quarter);
  EXPECT_EQ(s.state, BudgetState::kOk);
  EXPECT_DOUBLE_EQ(s.remaining_kg, 400);
  EXPECT_NEAR(s.year_gone, 0.25, 1e-9);
  EXPECT_NEAR(s.projected_kg, 400, 1e-6);  // 100 kg in a quarter: 400 in the year
  EXPECT_EQ(BudgetLine("physics", y, s), "");
  EXPECT_EQ(StatusOf(500, 400, y, quarter).state, BudgetState::kWarn80);
  EXPECT_EQ(StatusOf(500, 475, y, quarter).state, BudgetState::kWarn95);
  s = StatusOf(500, 499.99, y, quarter);
  EXPECT_EQ(s.state, BudgetState::kWarn95);
  EXPECT_EQ(BudgetLine("physics", y, s),
            "wattprint: warning: account physics has spent 99 % of its 2026 CO2e budget (500.0 of 500.0 kg CO2e); "
            "details: wattprint budget status physics");
  s = StatusOf(500, 512, y, quarter);
  EXPECT_EQ(s.state, BudgetState::kOver);
  EXPECT_EQ(s.remaining_kg, 0);
  EXPECT_EQ(BudgetLine("physics", y, s),
            "wattprint: account physics has spent its 2026 CO2e budget (512.0 of 500.0 kg CO2e); "
            "details: wattprint budget status physics");
  // A budget of 0 refuses everything; before the year starts nothing is projected past what was spent.
  EXPECT_EQ(StatusOf(0, 0, y, quarter).state, BudgetState::kOver);
  EXPECT_DOUBLE_EQ(StatusOf(500, 10, y, y.from_us - kDay).projected_kg, 10);
  EXPECT_NE(BudgetLine("x", BudgetYearOf(2026, 4).value(), StatusOf(1, 2, y, quarter)).find("its 2026-04 CO2e"),
            std::string::npos);
}

}  // namespace
}  // namespace wattprint
