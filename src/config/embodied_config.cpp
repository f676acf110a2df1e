// [embodied_factors.KEY] tables -> EmbodiedOverride -> the config's factor
// table. See embodied_config.h; what a field means is wattprint/embodied.h.
#include "config/embodied_config.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace wattprint {
namespace {

constexpr std::string_view kNumbers[] = {"kg_co2e", "lifetime_years", "includes_cpu_sockets", "includes_dram_gb"};

bool IsNumberField(std::string_view f) { return std::find(std::begin(kNumbers), std::end(kNumbers), f) != std::end(kNumbers); }

std::optional<double> NumberOf(const toml::node& n) {
  if (auto i = n.value_exact<int64_t>()) return static_cast<double>(*i);
  if (auto d = n.value_exact<double>()) return *d;
  return std::nullopt;
}

void SetText(EmbodiedOverride* o, std::string_view field, std::string v) {
  std::optional<std::string>* slots[] = {&o->kind, &o->model_match, &o->unit, &o->source, &o->licence,
                                        &o->derivation, &o->notes};
  constexpr std::string_view names[] = {"kind", "model_match", "unit", "source", "licence", "derivation", "notes"};
  for (size_t i = 0; i < std::size(names); ++i) {
    if (field == names[i]) *slots[i] = std::move(v);
  }
}

void SetNumber(EmbodiedOverride* o, std::string_view field, double v) {
  std::optional<double>* slots[] = {&o->kg_co2e, &o->lifetime_years, &o->includes_cpu_sockets, &o->includes_dram_gb};
  for (size_t i = 0; i < std::size(kNumbers); ++i) {
    if (field == kNumbers[i]) *slots[i] = v;
  }
}

std::string Suggestion(std::string_view field) {
  std::vector<std::string> names;
  for (std::string_view f : EmbodiedOverrideFields()) names.emplace_back(f);
  const std::string m = ClosestMatch(field, names);
  return m.empty() ? "" : "; did you mean '" + m + "'?";
}

// One [embodied_factors.KEY] table as an override; `where` is
// "PATH: embodied_factors.KEY".
Result<EmbodiedOverride> OverrideOf(const std::string& key, const toml::table& t, const std::string& where) {
  EmbodiedOverride o;
  o.key = key;
  const auto fields = EmbodiedOverrideFields();
  for (const auto& [name, value] : t) {
    const std::string field(name.str());
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
      return Status::InvalidArgument(fmt::format("{}: unknown field '{}'{}", where, field, Suggestion(field)));
    }
    if (IsNumberField(field)) {
      const std::optional<double> v = NumberOf(value);
      if (!v) return Status::InvalidArgument(fmt::format("{}.{}: expected a number", where, field));
      SetNumber(&o, field, *v);
    } else {
      const std::optional<std::string> v = value.value_exact<std::string>();
      if (!v) return Status::InvalidArgument(fmt::format("{}.{}: expected a string", where, field));
      SetText(&o, field, *v);
    }
  }
  return o;
}

}  // namespace

Status ApplyEmbodiedTables(Config* cfg, const toml::node& node, const std::string& path) {
  const toml::table* tables = node.as_table();
  if (tables == nullptr) {
    return Status::InvalidArgument(path + ": embodied_factors: expected [embodied_factors.NAME] tables");
  }
  for (const auto& [name, value] : *tables) {
    const std::string key(name.str());
    const std::string where = fmt::format("{}: embodied_factors.{}", path, key);
    const toml::table* t = value.as_table();
    if (t == nullptr) {
      return Status::InvalidArgument(where + ": expected a table of fields (kind, kg_co2e, lifetime_years, ...)");
    }
    Result<EmbodiedOverride> o = OverrideOf(key, *t, where);
    if (!o.ok()) return o.status();
    Status st = ApplyEmbodiedOverride(&cfg->embodied_factors, *o, "file " + path);
    if (!st.ok()) return Status::InvalidArgument(where + "." + st.message());
    cfg->origins["embodied_factors." + key] = "file " + path;
  }
  return Status::Ok();
}

}  // namespace wattprint
