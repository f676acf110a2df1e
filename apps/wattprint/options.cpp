// Flags for the shared configuration keys; see options.h.
#include "options.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

extern char** environ;

namespace wattprint::cli {
namespace {

// CLI11 type names shown in --help.
const char* TypeName(std::string_view key) {
  if (key == "interval" || key == "save_interval") return "SECONDS";
  if (key == "cpu_power") return "W";
  if (key == "pue") return "RATIO";
  if (key == "intensity") return "G";
  if (key == "intensity_year") return "YEAR";
  if (key == "cloud_provider") return "aws|gcp|azure";
  if (key == "cloud_region" || key == "region" || key == "zone") return "NAME";
  if (key == "scope") return "machine|process";
  if (key == "output_dir" || key == "sysfs_root" || key == "procfs_root") return "DIR";
  if (key == "json" || key == "nvml_library" || key == "rocm_smi_library") return "FILE";
  if (key == "gpu_ids") return "IDS";
  if (key == "live_cache_ttl") return "SECONDS";
  if (key == "uk_region") return "ID";
  if (key == "metadata_endpoint" || key == "electricitymaps_url" || key == "uk_intensity_url") return "URL";
  if (key == "live_intensity") return "off|electricitymaps|uk";
  if (key == "intensity_basis") return "average|marginal";
  if (key == "output_file") return "NAME";
  return "TEXT";
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

void SharedFlags::Add(CLI::App* cmd, const ConfigKey& k) {
  const std::string key = k.key;
  Entry e{key, nullptr, k.type == ConfigKey::Type::kBool};
  if (e.is_bool) {
    e.option = cmd->add_flag(k.flag, bools_[key], k.help);
  } else {
    e.option = cmd->add_option(k.flag, values_[key], k.help)->type_name(TypeName(key));
  }
  entries_.push_back(std::move(e));
}

void SharedFlags::Register(CLI::App* cmd, bool with_save_interval) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (std::string_view(k.key) == "save_interval" && !with_save_interval) continue;
    Add(cmd, k);
  }
}

void SharedFlags::RegisterKeys(CLI::App* cmd, std::initializer_list<std::string_view> keys) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (std::find(keys.begin(), keys.end(), std::string_view(k.key)) != keys.end()) Add(cmd, k);
  }
}

std::vector<std::pair<std::string, std::string>> SharedFlags::Given() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry& e : entries_) {
    if (e.option->count() == 0) continue;
    if (e.is_bool) {
      // --quiet sets quiet; --no-save and the other --no-* flags clear theirs.
      bool negative = false;
      for (const ConfigKey& k : ConfigKeys()) {
        if (e.key == k.key) negative = std::string_view(k.flag).rfind("--no-", 0) == 0;
      }
      out.emplace_back(e.key, e.key == "save_to_file" || negative ? "false" : "true");
    } else {
      out.emplace_back(e.key, values_.at(e.key));
    }
  }
  return out;
}

Result<Config> ResolveConfig(const SharedFlags& flags, std::vector<std::string>* files) {
  ConfigInputs in;
  for (char** e = environ; e && *e; ++e) in.environment.emplace_back(*e);
  in.cwd = ".";
  in.xdg_config_home = Env("XDG_CONFIG_HOME");
  in.home = Env("HOME");
  in.flags = flags.Given();
  return LoadConfig(in, files);
}

int UsageError(const std::string& what) {
  std::fprintf(stderr, "wattprint: error: %s\n", what.c_str());
  return 2;
}

}  // namespace wattprint::cli
