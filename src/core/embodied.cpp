// Manufacturing emissions: the compiled-in table, config overrides, GPU
// name matching and the amortisation. See wattprint/embodied.h.
#include "wattprint/embodied.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "core/embodied_table.h"
#include "wattprint/run_record.h"

namespace wattprint {
namespace {

// Julian years: the lifetimes are round years; the leap day is averaged in.
constexpr double kSecondsPerYear = 365.25 * 86400;
constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr std::string_view kAnyGpu = "*";

constexpr std::array<std::string_view, 11> kFields = {
    "kind",    "model_match", "unit",       "kg_co2e", "lifetime_years", "includes_cpu_sockets", "includes_dram_gb",
    "source",  "licence",     "derivation", "notes"};

EmbodiedFactor FromRow(const embodied_data::Row& r) {
  EmbodiedFactor f;
  f.key = r.key;
  // The generator admits only the four kinds.
  f.kind = EmbodiedKindFromString(r.kind).value_or(EmbodiedKind::kGpu);
  f.model_match = r.model_match;
  f.unit = r.unit;
  f.kg_co2e = r.kg_co2e;
  f.lifetime_years = r.lifetime_years;
  f.includes_cpu_sockets = r.includes_cpu_sockets;
  f.includes_dram_gb = r.includes_dram_gb;
  f.source = r.source;
  f.licence = r.licence;
  f.derivation = r.derivation;
  f.notes = r.notes;
  return f;
}

// std::regex throws on a bad pattern; here that is a value.
std::optional<std::regex> Compile(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

Status Bad(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(fmt::format("{}: {}", field, what));
}

Status CheckNumber(std::string_view field, double v, bool positive, double max) {
  if (!std::isfinite(v) || v < 0 || (positive && v == 0) || v > max) {
    return Bad(field, fmt::format("must be {} {} and at most {}", positive ? "more than" : "at least",
                                  0, max));
  }
  return Status::Ok();
}

bool KeyCharsOk(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// ---- Amortisation ------------------------------------------------------------

struct Amortiser {
  const EmbodiedInputs& in;
  std::span<const EmbodiedFactor> factors;
  EmbodiedRecord out;

  const EmbodiedFactor* Last(EmbodiedKind k) const {
    const EmbodiedFactor* found = nullptr;
    for (const EmbodiedFactor& f : factors) {
      if (f.kind == k) found = &f;
    }
    return found;
  }

  // Machine scope counts whole devices; process scope the run's share.
  std::optional<double> Share(std::optional<double> process_share) const {
    if (in.scope == Scope::kMachine) return 1.0;
    if (!process_share) return std::nullopt;
    return std::clamp(*process_share, 0.0, 1.0);
  }

  void Add(const std::string& device, const EmbodiedFactor& f, double count, double use_share) {
    EmbodiedItemRecord item;
    item.device = device;
    item.factor = f.key;
    item.count = count;
    item.manufacture_kg = f.kg_co2e;
    item.lifetime_years = f.lifetime_years;
    item.time_share = in.duration.count() / (f.lifetime_years * kSecondsPerYear);
    item.use_share = use_share;
    item.kg = count * f.kg_co2e * item.time_share * use_share;
    item.source = f.source;
    item.licence = f.licence;
    out.kg += item.kg;
    out.items.push_back(std::move(item));
  }

  void Skip(std::string what) { out.not_counted.push_back(std::move(what)); }

  // The server, shared by the run's CPU share.
  void Server() {
    const EmbodiedFactor* server = Last(EmbodiedKind::kServer);
    const std::optional<double> cpu = Share(in.cpu_share);
    if (server == nullptr) Skip("server: no server row in the table");
    else if (!cpu) Skip("server: the run's CPU share is unknown");
    else Add("server", *server, 1, *cpu);
  }

  // The sockets beyond those the server figure includes, by the CPU share.
  void Sockets() {
    const EmbodiedFactor* server = Last(EmbodiedKind::kServer);
    const EmbodiedFactor* f = Last(EmbodiedKind::kCpu);
    const double included = server ? server->includes_cpu_sockets : 0;
    const std::optional<double> cpu = Share(in.cpu_share);
    if (!in.cpu_sockets || *in.cpu_sockets <= 0) {
      Skip("cpu: socket count unknown (no \"physical id\" in /proc/cpuinfo)");
    } else if (*in.cpu_sockets <= included) {
      return;  // all in the server figure
    } else if (f == nullptr) {
      Skip("cpu: no cpu row in the table");
    } else if (!cpu) {
      Skip("cpu: the run's CPU share is unknown");
    } else {
      Add("cpu", *f, *in.cpu_sockets - included, *cpu);
    }
  }

  // The GiB of DRAM beyond those the server figure includes, by the RAM share.
  void Dram() {
    const EmbodiedFactor* server = Last(EmbodiedKind::kServer);
    const EmbodiedFactor* f = Last(EmbodiedKind::kDram);
    const double included = server ? server->includes_dram_gb : 0;
    const std::optional<double> ram = Share(in.ram_share);
    if (!in.ram_total_bytes || *in.ram_total_bytes == 0) {
      Skip("dram: memory size unknown (no MemTotal in /proc/meminfo)");
      return;
    }
    const double gb = static_cast<double>(*in.ram_total_bytes) / kGiB;
    if (gb <= included) return;  // all in the server figure
    if (f == nullptr) Skip("dram: no dram row in the table");
    else if (!ram) Skip("dram: the run's RAM share is unknown");
    else Add("dram", *f, gb - included, *ram);
  }

  void Gpus() {
    for (const EmbodiedGpuInput& g : in.gpus) {
      if (!g.name || g.name->empty()) {
        Skip(g.device + ": GPU model unknown");
        continue;
      }
      const std::string what = g.device + " " + *g.name;
      const EmbodiedFactor* f = MatchGpuFactor(factors, *g.name);
      const std::optional<double> share = Share(g.process_share);
      if (f == nullptr) Skip(what + ": no published figure in the table");
      else if (!share) Skip(what + ": the run's share of it is unknown");
      else Add(g.device, *f, 1, *share);
    }
  }
};

std::string MethodText(Scope s) {
  std::string m =
      "linear: count x manufacturing kg CO2e x duration / lifetime x share; the server row includes "
      "the CPU sockets and DRAM its figure covers";
  if (s == Scope::kMachine) return m + "; machine scope: whole devices (share 1)";
  return m + "; process scope: the run's CPU share (server, cpu), RAM share (dram) and each GPU's "
             "process energy share";
}

}  // namespace

const char* ToString(EmbodiedKind k) {
  switch (k) {
    case EmbodiedKind::kServer: return "server";
    case EmbodiedKind::kCpu: return "cpu";
    case EmbodiedKind::kDram: return "dram";
    case EmbodiedKind::kGpu: return "gpu";
  }
  return "gpu";
}

std::optional<EmbodiedKind> EmbodiedKindFromString(std::string_view s) {
  for (EmbodiedKind k : {EmbodiedKind::kServer, EmbodiedKind::kCpu, EmbodiedKind::kDram, EmbodiedKind::kGpu}) {
    if (s == ToString(k)) return k;
  }
  return std::nullopt;
}

const char* EmbodiedUnitOf(EmbodiedKind k) {
  switch (k) {
    case EmbodiedKind::kCpu: return "socket";
    case EmbodiedKind::kDram: return "gb";
    case EmbodiedKind::kServer:
    case EmbodiedKind::kGpu: return "device";
  }
  return "device";
}

std::vector<EmbodiedFactor> BuiltinEmbodiedFactors() {
  std::vector<EmbodiedFactor> out;
  for (const embodied_data::Row& r : embodied_data::Rows()) out.push_back(FromRow(r));
  return out;
}

Status ValidateEmbodiedFactor(const EmbodiedFactor& f) {
  if (!KeyCharsOk(f.key)) return Bad("key", "use lower-case letters, digits, '_' and '-'");
  if (Status s = CheckNumber("kg_co2e", f.kg_co2e, false, 1e6); !s.ok()) return s;
  if (Status s = CheckNumber("lifetime_years", f.lifetime_years, true, 100); !s.ok()) return s;
  if (Status s = CheckNumber("includes_cpu_sockets", f.includes_cpu_sockets, false, 1024); !s.ok()) return s;
  if (Status s = CheckNumber("includes_dram_gb", f.includes_dram_gb, false, 1e7); !s.ok()) return s;
  if (f.unit != EmbodiedUnitOf(f.kind)) {
    return Bad("unit", fmt::format("a {} row is per '{}'", ToString(f.kind), EmbodiedUnitOf(f.kind)));
  }
  if (f.kind != EmbodiedKind::kServer && (f.includes_cpu_sockets != 0 || f.includes_dram_gb != 0)) {
    return Bad("includes_cpu_sockets", "only the server row includes other parts");
  }
  if (f.kind != EmbodiedKind::kGpu && !f.model_match.empty()) return Bad("model_match", "is for gpu rows only");
  if (f.kind == EmbodiedKind::kGpu && f.model_match.empty()) {
    return Bad("model_match", "a gpu row needs the GPU names it matches (a regular expression, or \"*\")");
  }
  if (f.kind == EmbodiedKind::kGpu && f.model_match != kAnyGpu && !Compile(f.model_match)) {
    return Bad("model_match", fmt::format("'{}' is not a regular expression", f.model_match));
  }
  if (f.source.empty()) return Bad("source", "say where the figure comes from");
  return Status::Ok();
}

const EmbodiedFactor* MatchGpuFactor(std::span<const EmbodiedFactor> factors, std::string_view gpu_name) {
  const EmbodiedFactor* specific = nullptr;
  const EmbodiedFactor* any = nullptr;
  const std::string name(gpu_name);
  for (const EmbodiedFactor& f : factors) {
    if (f.kind != EmbodiedKind::kGpu) continue;
    if (f.model_match == kAnyGpu) {
      any = &f;
      continue;
    }
    const std::optional<std::regex> re = Compile(f.model_match);
    if (re && std::regex_search(name, *re)) specific = &f;
  }
  return specific != nullptr ? specific : any;
}

std::span<const std::string_view> EmbodiedOverrideFields() { return kFields; }

Status ApplyEmbodiedOverride(std::vector<EmbodiedFactor>* factors, const EmbodiedOverride& o,
                             const std::string& origin) {
  auto it = std::find_if(factors->begin(), factors->end(), [&](const EmbodiedFactor& f) { return f.key == o.key; });
  const bool added = it == factors->end();
  EmbodiedFactor f;
  if (added) {
    if (!o.kind) return Bad("kind", "a new row needs its kind: server, cpu, dram or gpu");
    if (!o.kg_co2e) return Bad("kg_co2e", "a new row needs its manufacturing kg CO2e");
    if (!o.lifetime_years) return Bad("lifetime_years", "a new row needs its lifetime in years");
    f.key = o.key;
  } else {
    f = *it;
  }
  if (o.kind) {
    const std::optional<EmbodiedKind> k = EmbodiedKindFromString(*o.kind);
    if (!k) return Bad("kind", fmt::format("'{}' is not server, cpu, dram or gpu", *o.kind));
    if (!added && *k != f.kind) return Bad("kind", "a row's kind cannot change; add a row with a new key");
    f.kind = *k;
  }
  f.unit = o.unit.value_or(added ? EmbodiedUnitOf(f.kind) : f.unit);
  if (o.model_match) f.model_match = *o.model_match;
  if (o.kg_co2e) f.kg_co2e = *o.kg_co2e;
  if (o.lifetime_years) f.lifetime_years = *o.lifetime_years;
  if (o.includes_cpu_sockets) f.includes_cpu_sockets = *o.includes_cpu_sockets;
  if (o.includes_dram_gb) f.includes_dram_gb = *o.includes_dram_gb;
  // A new figure, or the published one applied to other hardware.
  const bool figures_changed = added || o.kg_co2e || o.lifetime_years || o.includes_cpu_sockets ||
                               o.includes_dram_gb || o.model_match || o.unit;
  if (figures_changed && !o.source) {
    // The published source no longer stands behind the figure.
    f.source = fmt::format("{} [embodied_factors.{}]", origin, o.key);
    f.licence = "local setting";
    f.derivation.clear();
  }
  if (o.source) f.source = *o.source;
  if (o.licence) f.licence = *o.licence;
  if (o.derivation) f.derivation = *o.derivation;
  if (o.notes) f.notes = *o.notes;
  if (f.licence.empty()) f.licence = "local setting";
  if (Status s = ValidateEmbodiedFactor(f); !s.ok()) return s;
  if (added) factors->push_back(std::move(f));
  else *it = std::move(f);
  return Status::Ok();
}

EmbodiedRecord AmortiseEmbodied(const EmbodiedInputs& in, std::span<const EmbodiedFactor> factors) {
  Amortiser a{in, factors, {}};
  a.out.scope = ToString(in.scope);
  a.out.method = MethodText(in.scope);
  a.Server();
  a.Sockets();
  a.Dram();
  a.Gpus();
  return std::move(a.out);
}

}  // namespace wattprint
