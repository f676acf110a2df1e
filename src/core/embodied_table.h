// The built-in manufacturing-emissions table, as the build generated it
// from data/embodied/embodied.csv (scripts/embodied_table_cpp.py, which
// also checks it). Private to src/core/embodied.cpp; the public face is
// BuiltinEmbodiedFactors() in wattprint/embodied.h.
//
// Thread safety: constant data.
#pragma once

#include <span>

namespace wattprint::embodied_data {

// One CSV row; numbers already parsed, empty columns are "" and 0.
struct Row {
  const char* key;
  const char* kind;
  const char* model_match;
  const char* unit;
  double kg_co2e, lifetime_years, includes_cpu_sockets, includes_dram_gb;
  const char* source;
  const char* licence;
  const char* derivation;
  const char* notes;
};

std::span<const Row> Rows();

}  // namespace wattprint::embodied_data
