// Layered configuration: defaults < user file < ./wattprint.toml <
// environment < flags. See include/wattprint/config.h.
#include "wattprint/config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "config/embodied_config.h"
#include "util/text.h"
#include "wattprint/gpu_ids.h"
#include "wattprint/fs.h"

namespace wattprint {
namespace {

using Type = ConfigKey::Type;

// The one list of keys. Order = the order `doctor` and --help show them.
constexpr std::array<ConfigKey, 54> kKeys = {{
    {"country", "WATTPRINT_COUNTRY", "--country",
     "Use this country's grid intensity (ISO3, ISO2 or English name)", Type::kString},
    {"region", "WATTPRINT_REGION", "--region",
     "Use this sub-national region's grid zone (ISO 3166-2 code or name, e.g. US-CA, Quebec)",
     Type::kString},
    {"zone", "WATTPRINT_ZONE", "--zone", "Use this Electricity Maps grid zone (e.g. SE-SE1)",
     Type::kString},
    {"cloud_provider", "WATTPRINT_CLOUD_PROVIDER", "--cloud-provider",
     "Name the cloud provider of --cloud-region (aws, gcp or azure)", Type::kString},
    {"cloud_region", "WATTPRINT_CLOUD_REGION", "--cloud-region",
     "Use this cloud region's grid zone (e.g. eu-west-1)", Type::kString},
    {"intensity", "WATTPRINT_INTENSITY", "--intensity",
     "Use this grid intensity in g CO2e/kWh instead of a looked-up one", Type::kNumber},
    {"intensity_year", "WATTPRINT_INTENSITY_YEAR", "--intensity-year",
     "Use this year's Electricity Maps figure instead of the latest", Type::kNumber},
    {"pue", "WATTPRINT_PUE", "--pue", "Multiply energy by this power usage effectiveness (>= 1)",
     Type::kNumber},
    {"interval", "WATTPRINT_INTERVAL", "--interval", "Sample every SECONDS (>= 0.01)", Type::kNumber},
    {"scope", "WATTPRINT_SCOPE", "--scope",
     "Attribute emissions to the whole machine or the tracked process tree", Type::kString},
    {"output_dir", "WATTPRINT_OUTPUT_DIR", "--output-dir", "Write the CSV file in DIR",
     Type::kString},
    {"output_file", "WATTPRINT_OUTPUT_FILE", "--output-file", "Name the CSV file NAME",
     Type::kString},
    {"project_name", "WATTPRINT_PROJECT_NAME", "--project-name",
     "Record this project name in the outputs", Type::kString},
    {"experiment_name", "WATTPRINT_EXPERIMENT_NAME", "--experiment-name",
     "Record this experiment name in the outputs", Type::kString},
    {"experiment_id", "WATTPRINT_EXPERIMENT_ID", "--experiment-id",
     "Record this experiment id in the outputs", Type::kString},
    {"json", "WATTPRINT_JSON", "--json", "Also write the full JSON record to FILE", Type::kString},
    {"sysfs_root", "WATTPRINT_SYSFS_ROOT", "--sysfs-root",
     "Read sysfs under DIR instead of /sys (containers)", Type::kString},
    {"procfs_root", "WATTPRINT_PROCFS_ROOT", "--procfs-root",
     "Read procfs under DIR instead of /proc (containers)", Type::kString},
    {"cpu_power", "WATTPRINT_CPU_POWER", "--cpu-power",
     "Assume W watts of CPU power at full load when no counter is readable", Type::kNumber},
    {"embodied", "WATTPRINT_EMBODIED", "--no-embodied",
     "Report no manufacturing (embodied) emissions of the hardware", Type::kBool},
    {"quiet", "WATTPRINT_QUIET", "--quiet", "Print no summary and no live status", Type::kBool},
    {"save_interval", "WATTPRINT_SAVE_INTERVAL", "--save-interval",
     "Append a CSV row every SECONDS (monitor)", Type::kNumber},
    {"save_to_file", "WATTPRINT_SAVE_TO_FILE", "--no-save", "Write no CSV file", Type::kBool},
    {"gpu_ids", "WATTPRINT_GPU_IDS", "--gpu-ids",
     "Measure only these GPUs: indices, GPU-<uuid> or MIG-<uuid>, comma-separated "
     "(default: CUDA_VISIBLE_DEVICES, else all)",
     Type::kString},
    {"nvml_library", "WATTPRINT_NVML_LIBRARY", "--nvml-library",
     "Load NVML from FILE instead of libnvidia-ml.so.1", Type::kString},
    {"rocm_smi_library", "WATTPRINT_ROCM_SMI_LIBRARY", "--rocm-smi-library",
     "Load ROCm SMI from FILE instead of librocm_smi64.so", Type::kString},
    {"cloud_metadata", "WATTPRINT_CLOUD_METADATA", "--no-cloud-metadata",
     "Do not ask the cloud metadata service where this machine runs", Type::kBool},
    {"metadata_endpoint", "WATTPRINT_METADATA_ENDPOINT", "--metadata-endpoint",
     "Ask the cloud metadata service at URL", Type::kString},
    {"live_intensity", "WATTPRINT_LIVE_INTENSITY", "--live-intensity",
     "Fetch live grid intensity from off, electricitymaps or uk", Type::kString},
    {"electricitymaps_token", "WATTPRINT_ELECTRICITYMAPS_TOKEN", "--electricitymaps-token",
     "Authenticate to the Electricity Maps API with TOKEN", Type::kString},
    {"electricitymaps_url", "WATTPRINT_ELECTRICITYMAPS_URL", "--electricitymaps-url",
     "Use the Electricity Maps API at URL", Type::kString},
    {"uk_intensity_url", "WATTPRINT_UK_INTENSITY_URL", "--uk-intensity-url",
     "Use the UK Carbon Intensity API at URL", Type::kString},
    {"uk_region", "WATTPRINT_UK_REGION", "--uk-region",
     "Use this UK Carbon Intensity API region (1-17; 0 = Great Britain)", Type::kNumber},
    {"live_cache_ttl", "WATTPRINT_LIVE_CACHE_TTL", "--live-cache-ttl",
     "Reuse a live reading for SECONDS before asking again", Type::kNumber},
    {"intensity_basis", "WATTPRINT_INTENSITY_BASIS", "--intensity-basis",
     "Feed emissions with the average or the marginal intensity", Type::kString},
    {"collector_url", "WATTPRINT_COLLECTOR_URL", "--collector",
     "Send the run's record to the wattprint collector at URL", Type::kString},
    {"collector_token", "WATTPRINT_COLLECTOR_TOKEN", "--collector-token",
     "Authenticate to the collector with this project TOKEN", Type::kString},
    {"spool_dir", "WATTPRINT_SPOOL_DIR", "--spool-dir",
     "Keep records the collector did not take in DIR (default: $XDG_STATE_HOME/wattprint/spool)",
     Type::kString},
    {"collector_wait", "WATTPRINT_COLLECTOR_WAIT", "--collector-wait",
     "Wait at most SECONDS for the collector when the command ends", Type::kNumber},
    {"db", "WATTPRINT_DB", "--db", "Store runs in this database: sqlite:PATH or postgresql://USER@HOST/DB",
     Type::kString},
    {"listen", "WATTPRINT_LISTEN", "--listen", "Listen on HOST:PORT", Type::kString},
    {"prometheus", "WATTPRINT_PROMETHEUS", "--prometheus",
     "Serve Prometheus metrics at http://HOST:PORT/metrics (monitor)", Type::kString},
    {"pushgateway", "WATTPRINT_PUSHGATEWAY", "--pushgateway",
     "Push the run's figures to the Prometheus pushgateway at URL when it ends (run)", Type::kString},
    {"pushgateway_job", "WATTPRINT_PUSHGATEWAY_JOB", "--pushgateway-job",
     "Group the pushed figures under this job name (default: wattprint)", Type::kString},
    {"pushgateway_interval", "WATTPRINT_PUSHGATEWAY_INTERVAL", "--pushgateway-interval",
     "Also push the running figures every SECONDS (default 0: at the end only)", Type::kNumber},
    {"attribute", "WATTPRINT_ATTRIBUTE", "--attribute",
     "Attribute the machine's energy to its cgroups (monitor: none or cgroups)", Type::kString},
    {"cgroup_depth", "WATTPRINT_CGROUP_DEPTH", "--cgroup-depth",
     "Follow the cgroups this many levels below the root (default 1)", Type::kNumber},
    {"cgroup_parents", "WATTPRINT_CGROUP_PARENTS", "--cgroup-parents",
     "Follow the children of these cgroups instead (comma-separated, e.g. system.slice,kubepods)", Type::kString},
    {"cluster", "WATTPRINT_CLUSTER", "--cluster", "Record this cluster name (default: SLURM_CLUSTER_NAME)",
     Type::kString},
    {"job_id", "WATTPRINT_JOB_ID", "--job-id", "Record this cluster job id (default: SLURM_JOB_ID)",
     Type::kString},
    {"job_step", "WATTPRINT_JOB_STEP", "--job-step", "Record this job step (default: SLURM_STEP_ID)",
     Type::kString},
    {"job_node", "WATTPRINT_JOB_NODE", "--job-node", "Record this node name (default: SLURMD_NODENAME)",
     Type::kString},
    {"job_user", "WATTPRINT_JOB_USER", "--job-user", "Record this job user (default: SLURM_JOB_USER)",
     Type::kString},
    {"job_account", "WATTPRINT_JOB_ACCOUNT", "--job-account",
     "Record this job account (default: SLURM_JOB_ACCOUNT)", Type::kString},
}};

// Read by other modules; not config keys. (The GPU library paths,
// WATTPRINT_NVML_LIBRARY and WATTPRINT_ROCM_SMI_LIBRARY, are config keys.)
// Not keys: where the site file is (tests, and a Slurm plugin's config=).
constexpr std::array<std::string_view, 1> kReservedEnv = {"WATTPRINT_SITE_CONFIG"};

const ConfigKey* FindKey(std::string_view key) {
  for (const ConfigKey& k : kKeys) {
    if (key == k.key) return &k;
  }
  return nullptr;
}

Result<double> ParseNumber(std::string_view text) {
  const std::string_view t = Trim(text);
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) {
    return Status::InvalidArgument("not a number");
  }
  return v;
}

Result<bool> ParseBool(std::string_view text) {
  std::string t(Trim(text));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
  if (t == "0" || t == "false" || t == "no" || t == "off") return false;
  return Status::InvalidArgument("expected true/false, yes/no, on/off or 1/0");
}

// Range checks of numeric keys; empty string = fine. Every key has an upper
// bound too (docs/CLI.md): 1e308 once overflowed the poll period into 414
// requests in 3 s and put inf and nan in the CSV. The bounds are far past
// any real value: a PUE of 3 is a poor data centre, the dirtiest grids are
// about 1,200 g/kWh, one server draws a few kW.
constexpr double kOneYearS = 365.0 * 24 * 3600;
std::string CheckNumber(std::string_view key, double v) {
  if (key == "pue" && (v < 1.0 || v > 10.0)) return "must be from 1.0 (no data-centre overhead) to 10";
  if (key == "interval" && (v < 0.01 || v > 86400)) return "must be from 0.01 to 86400 seconds";
  if (key == "save_interval" && (v <= 0 || v > kOneYearS)) return "must be more than 0 seconds and at most a year";
  if (key == "cpu_power" && (v <= 0 || v > 1e6)) return "must be more than 0 and at most 1,000,000 watts";
  if (key == "intensity" && (v < 0 || v > 10000)) return "must be from 0 to 10000 g CO2e/kWh";
  if (key == "intensity_year" && (v != std::floor(v) || v < 1900 || v > 2200)) {
    return "must be a year such as 2024";
  }
  if (key == "cgroup_depth" && (v < 1 || v > 16 || v != std::floor(v))) return "must be a whole number from 1 to 16";
  if (key == "uk_region" && (v < 0 || v > 17 || v != std::floor(v))) {
    return "must be a whole number from 0 (Great Britain) to 17";
  }
  if (key == "live_cache_ttl" && (v < 0 || v > kOneYearS)) return "must be from 0 seconds to a year";
  if (key == "collector_wait" && (v < 0 || v > 3600)) return "must be from 0 to 3600 seconds";
  if (key == "pushgateway_interval" && v != 0 && (v < 1 || v > 86400)) {
    return "must be 0 (at the end only) or from 1 to 86400 seconds";
  }
  return "";
}

Status Bad(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what);
}

Status SetNumber(Config* cfg, std::string_view key, double v) {
  if (key == "pue") cfg->pue = v;
  if (key == "interval") cfg->interval_s = v;
  if (key == "save_interval") cfg->save_interval_s = v;
  if (key == "cpu_power") cfg->cpu_power_w = v;
  if (key == "intensity") cfg->intensity_g_per_kwh = v;
  if (key == "intensity_year") cfg->intensity_year = static_cast<int>(v);
  if (key == "uk_region") cfg->uk_region = static_cast<int>(v);
  if (key == "cgroup_depth") cfg->cgroup_depth = static_cast<int>(v);
  if (key == "live_cache_ttl") cfg->live_cache_ttl_s = v;
  if (key == "collector_wait") cfg->collector_wait_s = v;
  if (key == "pushgateway_interval") cfg->pushgateway_interval_s = v;
  return Status::Ok();
}

Status SetString(Config* cfg, std::string_view key, std::string_view v, const std::string& where) {
  std::string s(v);
  if (key == "scope") {
    if (s == "machine") { cfg->scope = Scope::kMachine; return Status::Ok(); }
    if (s == "process") { cfg->scope = Scope::kProcess; return Status::Ok(); }
    return Bad(where, "scope must be 'machine' or 'process'");
  }
  if (key == "gpu_ids") {
    Result<std::vector<GpuSelector>> ids = s.empty() ? std::vector<GpuSelector>{} : ParseGpuIds(s);
    if (!ids.ok()) return Bad(where, ids.status().message());
    cfg->gpu_selection = std::move(ids).value();
  }
  if (key == "live_intensity") {
    for (LiveSetting l : {LiveSetting::kOff, LiveSetting::kElectricityMaps, LiveSetting::kUk}) {
      if (s == ToString(l)) {
        cfg->live_intensity = l;
        return Status::Ok();
      }
    }
    return Bad(where, "live_intensity must be 'off', 'electricitymaps' or 'uk'");
  }
  if (key == "intensity_basis") {
    if (s == "average") { cfg->intensity_basis = IntensityBasis::kAverage; return Status::Ok(); }
    if (s == "marginal") { cfg->intensity_basis = IntensityBasis::kMarginal; return Status::Ok(); }
    return Bad(where, "intensity_basis must be 'average' or 'marginal'");
  }
  if ((key == "metadata_endpoint" || key == "electricitymaps_url" || key == "uk_intensity_url" ||
       (key == "collector_url" && !s.empty())) &&
      s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) {
    return Bad(where, "must be an http:// or https:// URL");
  }
  if ((key == "output_file" || key == "output_dir" || key == "sysfs_root" || key == "procfs_root" ||
       key == "json" || key == "db" || key == "listen") &&
      s.empty()) {
    return Bad(where, "must not be empty");
  }
  if (key == "attribute") {
    if (s != "none" && s != "cgroups") return Bad(where, "attribute must be 'none' or 'cgroups'");
    cfg->attribute_cgroups = s == "cgroups";
    return Status::Ok();
  }
  if (key == "prometheus" && !s.empty()) {
    const size_t colon = s.rfind(':');
    const std::string port = colon == std::string::npos ? "" : s.substr(colon + 1);
    if (colon == 0 || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return Bad(where, "prometheus must be HOST:PORT (e.g. 127.0.0.1:9464)");
    }
  }
  if (key == "pushgateway" && !s.empty() && !s.starts_with("http://") && !s.starts_with("https://")) {
    return Bad(where, "pushgateway must be an http:// or https:// URL (e.g. http://127.0.0.1:9091)");
  }
  if (key == "pushgateway_job" && s.empty()) return Bad(where, "must not be empty");
  if (key == "cloud_provider" && !s.empty() && s != "aws" && s != "gcp" && s != "azure") {
    return Bad(where, "cloud provider must be 'aws', 'gcp' or 'azure'");
  }
  std::string* fields[] = {&cfg->place.country,   &cfg->place.region,    &cfg->output_dir,
                           &cfg->output_file,     &cfg->project_name,    &cfg->experiment_name,
                           &cfg->experiment_id,   &cfg->json,            &cfg->sysfs_root,
                           &cfg->procfs_root,     &cfg->place.zone,      &cfg->place.cloud_provider,
                           &cfg->place.cloud_region, &cfg->gpu_ids,      &cfg->nvml_library,
                           &cfg->rocm_smi_library};
  const char* names[] = {"country",      "region",          "output_dir", "output_file",
                         "project_name", "experiment_name", "experiment_id", "json",
                         "sysfs_root",   "procfs_root",     "zone",       "cloud_provider",
                         "cloud_region", "gpu_ids",         "nvml_library", "rocm_smi_library"};
  for (size_t i = 0; i < std::size(names); ++i) {
    if (key == names[i]) *fields[i] = s;
  }
  // Location resolution and live intensity (wattprint/location.h,
  // wattprint/live_intensity.h); URLs lose a trailing '/'.
  while ((key == "metadata_endpoint" || key == "electricitymaps_url" || key == "uk_intensity_url" ||
          key == "collector_url" || key == "pushgateway") &&
         !s.empty() && s.back() == '/') {
    s.pop_back();
  }
  std::string* live_fields[] = {&cfg->metadata_endpoint,    &cfg->electricitymaps_token,
                                &cfg->electricitymaps_url,   &cfg->uk_intensity_url,
                                &cfg->collector_url,         &cfg->collector_token,
                                &cfg->spool_dir,             &cfg->cluster_job.cluster,
                                &cfg->cluster_job.job_id,    &cfg->cluster_job.step,
                                &cfg->cluster_job.node,      &cfg->cluster_job.user,
                                &cfg->cluster_job.account,   &cfg->db,
                                &cfg->listen,                &cfg->prometheus,
                                &cfg->cgroup_parents,        &cfg->pushgateway,
                                &cfg->pushgateway_job};
  const char* live_names[] = {"metadata_endpoint", "electricitymaps_token", "electricitymaps_url",
                              "uk_intensity_url",  "collector_url",         "collector_token",
                              "spool_dir",         "cluster",               "job_id",
                              "job_step",          "job_node",              "job_user",
                              "job_account",       "db",                    "listen",
                              "prometheus",        "cgroup_parents",        "pushgateway",
                              "pushgateway_job"};
  for (size_t i = 0; i < std::size(live_names); ++i) {
    if (key == live_names[i]) *live_fields[i] = s;
  }
  return Status::Ok();
}

std::vector<std::string> KeyNames() {
  std::vector<std::string> out;
  for (const ConfigKey& k : kKeys) out.emplace_back(k.key);
  return out;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string m = ClosestMatch(word, candidates);
  return m.empty() ? "" : "; did you mean '" + m + "'?";
}

// TOML value of `node` as text for ApplyConfigValue, or why its type is wrong.
Result<std::string> TomlValueText(const ConfigKey& k, const toml::node& node) {
  switch (k.type) {
    case Type::kString:
      if (auto s = node.value_exact<std::string>()) return *s;
      return Status::InvalidArgument("expected a string");
    case Type::kNumber:
      if (auto i = node.value_exact<int64_t>()) return std::to_string(*i);
      if (auto d = node.value_exact<double>()) return fmt::format("{}", *d);
      return Status::InvalidArgument("expected a number");
    case Type::kBool:
      if (auto b = node.value_exact<bool>()) return std::string(*b ? "true" : "false");
      return Status::InvalidArgument("expected true or false");
  }
  return Status::InvalidArgument("unsupported type");
}

}  // namespace

const char* ToString(IntensityBasis b) { return b == IntensityBasis::kMarginal ? "marginal" : "average"; }

const char* ToString(LiveSetting l) {
  switch (l) {
    case LiveSetting::kOff: return "off";
    case LiveSetting::kElectricityMaps: return "electricitymaps";
    case LiveSetting::kUk: return "uk";
  }
  return "off";
}

std::string Config::OriginOf(std::string_view key) const {
  auto it = origins.find(std::string(key));
  return it == origins.end() ? "default" : it->second;
}

std::span<const ConfigKey> ConfigKeys() { return kKeys; }

std::string ConfigValueText(const Config& c, std::string_view key) {
  const std::pair<std::string_view, std::string> values[] = {
      {"country", c.place.country},
      {"region", c.place.region},
      {"zone", c.place.zone},
      {"cloud_provider", c.place.cloud_provider},
      {"cloud_region", c.place.cloud_region},
      {"intensity", c.intensity_g_per_kwh ? fmt::format("{}", *c.intensity_g_per_kwh) : ""},
      {"intensity_year", c.intensity_year ? fmt::format("{}", *c.intensity_year) : ""},
      {"pue", fmt::format("{}", c.pue)},
      {"interval", fmt::format("{}", c.interval_s)},
      {"scope", ToString(c.scope)},
      {"output_dir", c.output_dir},
      {"output_file", c.output_file},
      {"project_name", c.project_name},
      {"experiment_name", c.experiment_name},
      {"experiment_id", c.experiment_id},
      {"json", c.json},
      {"sysfs_root", c.sysfs_root},
      {"procfs_root", c.procfs_root},
      {"cpu_power", c.cpu_power_w ? fmt::format("{}", *c.cpu_power_w) : ""},
      {"embodied", c.embodied ? "true" : "false"},
      {"quiet", c.quiet ? "true" : "false"},
      {"save_interval", fmt::format("{}", c.save_interval_s)},
      {"save_to_file", c.save_to_file ? "true" : "false"},
      {"gpu_ids", c.gpu_ids},
      {"nvml_library", c.nvml_library},
      {"rocm_smi_library", c.rocm_smi_library},
      {"cloud_metadata", c.cloud_metadata ? "true" : "false"},
      {"metadata_endpoint", c.metadata_endpoint},
      {"live_intensity", ToString(c.live_intensity)},
      // A secret: say whether it is set, never what it is.
      {"electricitymaps_token", c.electricitymaps_token.empty() ? "" : "(set)"},
      {"electricitymaps_url", c.electricitymaps_url},
      {"uk_intensity_url", c.uk_intensity_url},
      {"uk_region", fmt::format("{}", c.uk_region)},
      {"live_cache_ttl", fmt::format("{}", c.live_cache_ttl_s)},
      {"intensity_basis", ToString(c.intensity_basis)},
      {"collector_url", c.collector_url},
      {"collector_token", c.collector_token.empty() ? "" : "(set)"},
      {"spool_dir", c.spool_dir},
      {"collector_wait", fmt::format("{}", c.collector_wait_s)},
      {"cluster", c.cluster_job.cluster},
      {"job_id", c.cluster_job.job_id},
      {"job_step", c.cluster_job.step},
      {"job_node", c.cluster_job.node},
      {"job_user", c.cluster_job.user},
      {"job_account", c.cluster_job.account},
      // A database URL may hold a password.
      {"db", c.db.find('@') == std::string::npos ? c.db : "(set)"},
      {"listen", c.listen},
      {"prometheus", c.prometheus},
      {"attribute", c.attribute_cgroups ? "cgroups" : "none"},
      {"cgroup_depth", fmt::format("{}", c.cgroup_depth)},
      {"cgroup_parents", c.cgroup_parents},
      {"pushgateway", c.pushgateway},
      {"pushgateway_job", c.pushgateway_job},
      {"pushgateway_interval", fmt::format("{}", c.pushgateway_interval_s)},
  };
  for (const auto& [k, v] : values) {
    if (k == key) return v;
  }
  return "";
}
std::span<const std::string_view> ReservedEnvironmentVariables() { return kReservedEnv; }

Status ApplyConfigValue(Config* cfg, std::string_view key, std::string_view value,
                        const std::string& where, const std::string& origin) {
  const ConfigKey* k = FindKey(key);
  if (k == nullptr) {
    return Bad(where, "unknown key '" + std::string(key) + "'" + DidYouMean(key, KeyNames()));
  }
  Status st;
  switch (k->type) {
    case Type::kNumber: {
      Result<double> v = ParseNumber(value);
      if (!v.ok()) return Bad(where, v.status().message());
      const std::string range = CheckNumber(key, *v);
      if (!range.empty()) return Bad(where, range);
      st = SetNumber(cfg, key, *v);
      break;
    }
    case Type::kBool: {
      Result<bool> v = ParseBool(value);
      if (!v.ok()) return Bad(where, v.status().message());
      if (key == "quiet") cfg->quiet = *v;
      if (key == "save_to_file") cfg->save_to_file = *v;
      if (key == "cloud_metadata") cfg->cloud_metadata = *v;
      if (key == "embodied") cfg->embodied = *v;
      break;
    }
    case Type::kString:
      st = SetString(cfg, key, value, where);
      break;
  }
  if (st.ok()) cfg->origins[std::string(key)] = origin;
  return st;
}

// toml++ 3.3.0 (Debian 12) has undefined behaviour on some malformed input
// (marzer/tomlplusplus#295, fixed after 3.3.0):
//   - it reaches __builtin_unreachable() when it tests some non-ASCII
//     characters for whitespace (is_non_ascii_horizontal_whitespace), as on
//     a bare key "ré = 1" or a value "0\"é\"";
//   - it assumes a key after "[" ("[ =" or "[\0" fail its assertion in
//     parse_key).
// So the parser is only ever given ASCII text:
//   - a non-ASCII character in a basic string ("...", """...""") becomes
//     its \uXXXX or \UXXXXXXXX escape, which TOML defines as the same
//     string; a literal string ('...', '''...''') with one becomes the
//     equivalent basic string;
//   - in a comment it becomes '?' (comments are ignored);
//   - elsewhere it is refused: TOML keys and bare values are ASCII.
// Control characters other than tab (and CR LF) are refused, as TOML does;
// and '[' or '{' outside a string are refused, since wattprint's
// configuration is flat (key = string, number or boolean), but for the
// [embodied_factors.NAME] headers of the manufacturing-emissions table
// (FactorHeaderLength passes only well-formed ones). Errors give the
// line and column of the first offending byte.
namespace {

std::string Where(std::string_view t, size_t i) {
  const size_t nl = i == 0 ? std::string_view::npos : t.rfind('\n', i - 1);
  const size_t line = 1 + static_cast<size_t>(std::count(t.begin(), t.begin() + static_cast<long>(i), '\n'));
  return fmt::format("{}:{}", line, nl == std::string_view::npos ? i + 1 : i - nl);
}

// The code point of the UTF-8 sequence of length n at s[i].
char32_t CodePoint(std::string_view s, size_t i, size_t n) {
  const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  if (n == 1) return b(0);
  char32_t cp = b(0) & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (b(k) & 0x3f);
  return cp;
}

std::string Escape(char32_t cp) {
  return cp <= 0xffff ? fmt::format("\\u{:04X}", static_cast<unsigned>(cp))
                      : fmt::format("\\U{:08X}", static_cast<unsigned>(cp));
}

// The length of an "[embodied_factors.NAME]" header at t[i] (the one
// table the configuration has, wattprint/embodied.h) when it opens its
// line, else 0. The parser is only given one whose key is there and bare.
size_t FactorHeaderLength(std::string_view t, size_t i) {
  size_t b = i;
  while (b > 0 && (t[b - 1] == ' ' || t[b - 1] == '\t')) --b;
  if (b > 0 && t[b - 1] != '\n' && t[b - 1] != '\r') return 0;
  size_t j = i + 1;
  auto spaces = [&] {
    while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
  };
  spaces();
  constexpr std::string_view kPrefix = "embodied_factors.";
  if (t.substr(j, kPrefix.size()) != kPrefix) return 0;
  j += kPrefix.size();
  const size_t name = j;
  while (j < t.size() && (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '_' || t[j] == '-')) ++j;
  if (j == name) return 0;
  spaces();
  return j < t.size() && t[j] == ']' ? j + 1 - i : 0;
}

Result<std::string> AsciiToml(std::string_view t) {
  for (size_t i = 0; i < t.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(t[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return Status::InvalidArgument(
          fmt::format("{}: a control character (0x{:02x}); TOML allows none but tab", Where(t, i), c));
    }
  }
  auto bad_utf8 = [&](size_t i) {
    return Status::InvalidArgument(Where(t, i) + ": not UTF-8");
  };
  std::string out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '#') {  // a comment, to the end of the line
      while (i < t.size() && t[i] != '\n') {
        const size_t n = text::Utf8SequenceLength(t, i);
        if (n == 0) return bad_utf8(i);
        out += n == 1 ? t[i] : '?';
        i += n;
      }
    } else if (c == '"' || c == '\'') {
      const bool literal = c == '\'';
      const bool multi = t.substr(i, 3) == (literal ? std::string_view("\'\'\'") : std::string_view("\"\"\""));
      const size_t n = multi ? 3 : 1;
      const std::string_view close = t.substr(i, n);
      out += multi ? "\"\"\"" : "\"";
      i += n;
      // To the string's end (a basic string's \" does not end it); an
      // unterminated one is the parser's to report.
      while (i < t.size() && t.substr(i, n) != close && (multi || t[i] != '\n')) {
        const size_t len = text::Utf8SequenceLength(t, i);
        if (len == 0) return bad_utf8(i);
        if (len > 1) {
          out += Escape(CodePoint(t, i, len));
        } else if (literal && (t[i] == '\\' || t[i] == '"')) {
          out += '\\';
          out += t[i];
        } else if (!literal && t[i] == '\\' && i + 1 < t.size() &&
                   static_cast<unsigned char>(t[i + 1]) >= 0x80) {
          return Status::InvalidArgument(Where(t, i) + ": a backslash before a non-ASCII character (not an escape)");
        } else if (!literal && t[i] == '\\' && i + 1 < t.size() && t[i + 1] != '\n') {
          out += t.substr(i, 2);  // an escape: its second byte is not the string's end
          ++i;
        } else {
          out += t[i];
        }
        i += len;
      }
      if (i < t.size() && t[i] != '\n') {
        out += multi ? "\"\"\"" : "\"";
        i += n;
      }
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      return Status::InvalidArgument(Where(t, i) +
                                     ": a non-ASCII character outside a string (TOML keys and bare values are ASCII)");
    } else if (const size_t header = c == '[' ? FactorHeaderLength(t, i) : 0; header > 0) {
      out += t.substr(i, header);
      i += header;
    } else if (c == '[' || c == '{') {
      return Status::InvalidArgument(fmt::format(
          "{}: '{}': the configuration has no tables or arrays (every key is top level: key = value; "
          "the one table is [embodied_factors.NAME])",
          Where(t, i), c));
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace

Status ApplyConfigToml(Config* cfg, std::string_view raw, const std::string& path) {
  Result<std::string> ascii = AsciiToml(raw);
  if (!ascii.ok()) return Status::InvalidArgument(path + ":" + ascii.status().message());
  const std::string_view text = *ascii;
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Status::InvalidArgument(fmt::format("{}:{}:{}: {}", path, b.line, b.column, e.description()));
  }
  std::vector<std::string> names = KeyNames();
  names.emplace_back("embodied_factors");
  for (const auto& [name, node] : table) {
    const std::string key(name.str());
    if (key == "embodied_factors") {
      if (Status st = ApplyEmbodiedTables(cfg, node, path); !st.ok()) return st;
      continue;
    }
    const ConfigKey* k = FindKey(key);
    if (k == nullptr) {
      return Status::InvalidArgument(path + ": unknown key '" + key + "'" + DidYouMean(key, names));
    }
    Result<std::string> v = TomlValueText(*k, node);
    const std::string where = path + ": " + key;
    if (!v.ok()) return Bad(where, v.status().message());
    Status st = ApplyConfigValue(cfg, key, *v, where, "file " + path);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status ApplyConfigFile(Config* cfg, const std::string& path, bool* loaded) {
  if (loaded) *loaded = false;
  // Through the bounded, non-blocking reader: a FIFO or a directory named
  // wattprint.toml is an error that says so, not a hang or silence.
  Result<std::string> text = PosixFileSystem()->ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return Status::Ok();  // ENOENT, ENOTDIR
    return Status::InvalidArgument("config file " + text.status().message());
  }
  if (loaded) *loaded = true;
  return ApplyConfigToml(cfg, *text, path);
}

Status ApplyConfigEnvironment(Config* cfg, std::span<const std::string> environment) {
  constexpr std::string_view kPrefix = "WATTPRINT_";
  std::vector<std::string> known;
  for (const ConfigKey& k : kKeys) known.emplace_back(k.env);
  for (std::string_view r : kReservedEnv) known.emplace_back(r);
  for (const std::string& entry : environment) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = entry.substr(0, eq);
    const std::string value = entry.substr(eq + 1);
    if (name.rfind(kPrefix, 0) != 0) continue;
    if (std::find(kReservedEnv.begin(), kReservedEnv.end(), name) != kReservedEnv.end()) continue;
    const ConfigKey* key = nullptr;
    for (const ConfigKey& k : kKeys) {
      if (name == k.env) key = &k;
    }
    if (key == nullptr) {
      return Status::InvalidArgument("unknown environment variable " + name +
                                     DidYouMean(name, known));
    }
    Status st = ApplyConfigValue(cfg, key->key, value, name + "=" + value, "env " + name);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

std::string UserConfigPath(const ConfigInputs& in) {
  if (!in.xdg_config_home.empty()) return in.xdg_config_home + "/wattprint/config.toml";
  if (!in.home.empty()) return in.home + "/.config/wattprint/config.toml";
  return "";
}

std::string ProjectConfigPath(const ConfigInputs& in) {
  return (in.cwd.empty() ? std::string(".") : in.cwd) + "/wattprint.toml";
}

Result<Config> LoadConfig(const ConfigInputs& in, std::vector<std::string>* files_loaded) {
  Config cfg;
  for (const std::string& path : {in.site_config, UserConfigPath(in), ProjectConfigPath(in)}) {
    if (path.empty()) continue;
    bool loaded = false;
    Status st = ApplyConfigFile(&cfg, path, &loaded);
    if (!st.ok()) return st;
    if (loaded && files_loaded) files_loaded->push_back(path);
  }
  Status st = ApplyConfigEnvironment(&cfg, in.environment);
  if (!st.ok()) return st;
  for (const auto& [key, value] : in.flags) {
    const ConfigKey* k = FindKey(key);
    const std::string flag = k ? k->flag : key;
    const std::string where = k && k->type == Type::kBool ? flag : flag + " " + value;
    st = ApplyConfigValue(&cfg, key, value, where, "flag " + flag);
    if (!st.ok()) return st;
  }
  return cfg;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string ClosestMatch(std::string_view word, std::span<const std::string> candidates) {
  // Allow about one edit per three characters, at least two.
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t best_d = limit + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace wattprint
