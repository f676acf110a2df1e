// Manufacturing ("embodied") emissions of the hardware a run used: each
// device's published manufacturing figure, amortised linearly over its
// lifetime and shared in the run's scope (docs/EMBODIED.md). They are
// reported apart from the operational emissions and never added to them:
// the CSV's `emissions` stays CodeCarbon's operational figure.
//
// The factors come from a table compiled in from data/embodied/embodied.csv
// (every row with its source and licence); a site or user config changes
// rows or adds some ([embodied_factors.KEY] tables, wattprint/config.h).
// Hardware the table has no figure for is listed as not counted, with why;
// it is never counted as 0.
//
// Thread safety: value types and pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wattprint/channel.h"
#include "wattprint/status.h"
#include "wattprint/units.h"

namespace wattprint {

enum class EmbodiedKind { kServer, kCpu, kDram, kGpu };
const char* ToString(EmbodiedKind k);  // "server", "cpu", "dram", "gpu"
std::optional<EmbodiedKind> EmbodiedKindFromString(std::string_view s);
// What a kind's kg_co2e is per: "device" (server, gpu), "socket", "gb".
const char* EmbodiedUnitOf(EmbodiedKind k);

// One row of the table.
struct EmbodiedFactor {
  std::string key;  // "server", "gpu_h100_sxm"; [a-z0-9_-]
  EmbodiedKind kind = EmbodiedKind::kGpu;
  // gpu rows only: a case-insensitive ECMAScript regular expression searched
  // in the GPU's name as the vendor library reports it ("NVIDIA H100 80GB
  // HBM3", "Tesla V100-SXM2-16GB"); "*" matches any GPU no other row does.
  std::string model_match;
  std::string unit;          // EmbodiedUnitOf(kind)
  double kg_co2e = 0;        // manufacturing emissions, kg CO2e per unit
  double lifetime_years = 0; // amortisation period, years of 365.25 days
  // The server row: the CPU sockets and GB of DRAM its figure already
  // includes, which the cpu and dram rows do not count again.
  double includes_cpu_sockets = 0, includes_dram_gb = 0;
  std::string source, licence;
  std::string derivation;  // how the figure follows from the source; "" = as published
  std::string notes;
  bool operator==(const EmbodiedFactor&) const = default;
};

// The compiled-in table, in the CSV's order.
std::vector<EmbodiedFactor> BuiltinEmbodiedFactors();

// InvalidArgument "FIELD: what is wrong" for a row that cannot be used: a
// negative or non-finite figure, a lifetime that is not positive, a unit
// that is not its kind's, a model_match that is not a regular expression
// (or one on a row that is not a GPU's), no source.
Status ValidateEmbodiedFactor(const EmbodiedFactor& f);

// The gpu row for a GPU name: the last row (in table order) whose pattern
// is found in it; else the last "*" row; nullptr when none.
const EmbodiedFactor* MatchGpuFactor(std::span<const EmbodiedFactor> factors, std::string_view gpu_name);

// A config's change to one row: the fields it sets. For a key the table
// has, they replace that row's; for a new key they make a row, which needs
// at least kind, kg_co2e and lifetime_years (and model_match for a GPU).
struct EmbodiedOverride {
  std::string key{};
  std::optional<std::string> kind{}, model_match{}, unit{}, source{}, licence{}, derivation{}, notes{};
  std::optional<double> kg_co2e{}, lifetime_years{}, includes_cpu_sockets{}, includes_dram_gb{};
};
// The field names an override may set (for did-you-mean on a typo).
std::span<const std::string_view> EmbodiedOverrideFields();
// Applies `o` to the table and validates the result. A changed figure with
// no `source` of its own is sourced to `origin` ("file /etc/wattprint/
// config.toml"), never to the published source it replaces. Errors are
// InvalidArgument "FIELD: what is wrong"; the table is unchanged then.
Status ApplyEmbodiedOverride(std::vector<EmbodiedFactor>* factors, const EmbodiedOverride& o,
                             const std::string& origin);

// What the amortisation needs to know about a run.
struct EmbodiedGpuInput {
  std::string device;                 // "gpu0"
  std::optional<std::string> name;    // the vendor library's name; nullopt: unknown
  // Process scope: the run's share of this GPU (its process energy over
  // the GPU's energy), 0..1; nullopt: unknown.
  std::optional<double> process_share;
};
struct EmbodiedInputs {
  Scope scope = Scope::kMachine;
  Seconds duration{0};
  std::optional<int> cpu_sockets;                     // /proc/cpuinfo "physical id"s
  std::optional<unsigned long long> ram_total_bytes;  // MemTotal
  // Process scope: the run's CPU and RAM shares, time-weighted over the
  // intervals where they are known, 0..1; nullopt: unknown.
  std::optional<double> cpu_share, ram_share;
  std::vector<EmbodiedGpuInput> gpus;
};

struct EmbodiedRecord;  // wattprint/run_record.h

// The run's embodied emissions: for each device, count x kg x duration /
// lifetime x share, where the share is 1 in machine scope and, in process
// scope, the CPU share (server and CPU sockets), the RAM share (DRAM) or
// the GPU's process share. A device without a figure, a count or a share is
// in `not_counted` with why, and adds nothing.
EmbodiedRecord AmortiseEmbodied(const EmbodiedInputs& in, std::span<const EmbodiedFactor> factors);

}  // namespace wattprint
