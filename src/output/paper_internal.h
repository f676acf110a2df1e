// The report's pieces shared by its renderers (private to src/output):
// numbers with units, the statement's phrases, and the plots.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "wattprint/paper_report.h"

namespace wattprint::paper {

// Three significant figures, fixed notation: "0.00221", "12.6", "4,210"
// is written "4210" (no grouping, so LaTeX and CSV readers agree).
std::string Sig3(double v);
// Energy in kWh with a readable unit: "9.49 J", "2.64 Wh", "41.2 kWh", "1.20 MWh".
std::string Energy(double kwh);
// Mass in kg CO2e: "0.0817 mg", "81.7 g", "1.28 kg", "3.40 t" (no "CO2e").
std::string Mass(double kg);
// A value with its range in the value's unit: "2.64 Wh (1.90-12.6 Wh)", or
// the value alone when exact. `dash` is the range's dash for the format.
std::string EnergyRange(const Ranged& r, const std::string& dash);
std::string MassRange(const Ranged& r, const std::string& dash);
// One unit for a whole table column or plot axis, from its largest value:
// multiply kWh (or kg) by `per` to get `name`s.
struct Unit {
  double per;
  const char* name;  // "J", "Wh", "kWh", "MWh"; "mg", "g", "kg", "t"
};
Unit EnergyUnit(double max_kwh);
Unit MassUnit(double max_kg);
// "41 s", "12.5 min", "3.2 h", "2.1 d".
std::string Duration(double s);
// "measured (hardware energy counter)", "estimated (model)", ...
std::string MethodPhrase(const std::string& method, const std::string& model);
// "CPU", "DRAM", "GPU", "platform".
std::string KindName(const std::string& kind);

// The plots as SVG documents, each with a file stem and a caption.
struct Plot {
  std::string stem, caption, svg;
};
std::vector<Plot> MakePlots(const Report& report);

}  // namespace wattprint::paper
