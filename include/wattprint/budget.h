// Yearly CO2e budgets per Slurm account: which time a budget year covers,
// how much of a run falls inside it, and where an account stands against
// its budget (spent, left, the share of the year gone, a projection at the
// current rate, the warning thresholds). The collector keeps budgets and
// sums the runs (wattprint/store.h); this is the arithmetic, with no I/O.
//
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <string>

#include "wattprint/status.h"

namespace wattprint {

// A budget year, [from_us, to_us) in microseconds since the Unix epoch,
// UTC. Year Y with start_month M (1-12) runs from the first of M in Y to
// the first of M in Y+1: calendar years with M = 1.
struct BudgetYear {
  int64_t year = 0;
  int start_month = 1;
  int64_t from_us = 0, to_us = 0;
};
Result<BudgetYear> BudgetYearOf(int64_t year, int start_month);
// The budget year a time falls in.
BudgetYear BudgetYearAt(int64_t t_us, int start_month);

// The part of a run's emissions that falls in [from_us, to_us), split by
// time: a job that spans the new year counts in each year for the share of
// its duration spent there. A run of no duration counts whole where it
// started.
double ShareInWindow(int64_t start_us, int64_t end_us, int64_t from_us, int64_t to_us);

enum class BudgetState { kOk, kWarn80, kWarn95, kOver };
const char* ToString(BudgetState s);

struct BudgetStatus {
  double budget_kg = 0, spent_kg = 0;
  double remaining_kg = 0;     // budget - spent, never below 0
  double used = 0;             // spent / budget (0 when no budget)
  double year_gone = 0;        // share of the year elapsed at `now`, 0..1
  double projected_kg = 0;     // spent / year_gone: the year's total at the current rate (spent when nothing has gone)
  BudgetState state = BudgetState::kOk;
};
// Spent at or above the budget is over; at 95 % and 80 % a warning.
BudgetStatus StatusOf(double budget_kg, double spent_kg, const BudgetYear& year, int64_t now_us);

// The one line a user sees at submission, naming the account, what it
// spent of what it had for the year, and the command to see details;
// empty when the state is kOk.
std::string BudgetLine(const std::string& account, const BudgetYear& year, const BudgetStatus& s);

}  // namespace wattprint
