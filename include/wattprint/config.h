// Configuration shared by `wattprint run`, `monitor` and `doctor`: one
// struct with documented defaults, and the layered loader that fills it.
//
// Precedence, highest first:
//   1. command-line flags            (--pue 1.2)
//   2. environment variables         (WATTPRINT_PUE=1.2)
//   3. ./wattprint.toml               (pue = 1.2)
//   4. the user file                 ($XDG_CONFIG_HOME/wattprint/config.toml,
//                                     else $HOME/.config/wattprint/config.toml)
//   5. the defaults below
// Every value remembers which layer set it (ConfigOrigin), so `doctor` and
// the JSON record can say where a figure came from.
//
// An unknown key in a file, or an unknown WATTPRINT_* variable, is an error
// with a did-you-mean; a bad value is an error naming where it came from
// ("WATTPRINT_PUE=abc: not a number"). Errors are Status values.
//
// Thread safety: value types and pure functions of their inputs (the loader
// reads the files it is told about; it never consults the process
// environment itself).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wattprint/embodied.h"
#include "wattprint/gpu_ids.h"
#include "wattprint/ledger.h"
#include "wattprint/place.h"
#include "wattprint/record.h"
#include "wattprint/status.h"

namespace wattprint {

// Which grid intensity feeds emissions.
enum class IntensityBasis { kAverage, kMarginal };
const char* ToString(IntensityBasis b);  // "average", "marginal" (the TOML/flag values)
// Which live intensity provider, if any, is asked while a run lasts.
enum class LiveSetting { kOff, kElectricityMaps, kUk };
const char* ToString(LiveSetting l);  // "off", "electricitymaps", "uk"

struct Config {
  // Location for the grid intensity (wattprint/place.h, wattprint/grid.h):
  // country (ISO3, ISO2 or English name), sub-national region (ISO 3166-2
  // code or name, mapped to its grid zone), Electricity Maps zone, cloud
  // provider and region. The most specific one given wins: cloud region >
  // zone > region > country. None given = the world average, labelled as a
  // default.
  Place place;
  // Explicit grid intensity in g CO2e/kWh (>= 0), labelled as user-supplied;
  // it overrides any looked-up figure.
  std::optional<double> intensity_g_per_kwh;
  // Electricity Maps year to use instead of the latest.
  std::optional<int> intensity_year;
  // Power usage effectiveness of the data centre; >= 1.0. 1.0 = no overhead.
  double pue = 1.0;
  // Background sampling period in seconds; >= 0.01. Counters make the total
  // exact whatever the period; it only sets the time-series resolution.
  double interval_s = 1.0;
  // Which energy feeds the emissions: the whole machine, or the tracked
  // process tree's share of it (`run` only; `monitor` is always machine).
  Scope scope = Scope::kMachine;
  std::string output_dir = ".";
  std::string output_file = "emissions.csv";
  // CodeCarbon's defaults, so rows mix with CodeCarbon's own.
  std::string project_name = "codecarbon";
  std::string experiment_name;
  std::string experiment_id = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1";
  // Path of the JSON record to write; empty = none.
  std::string json;
  std::string sysfs_root = "/sys";
  std::string procfs_root = "/proc";
  // Full-load CPU power of the machine in watts (> 0) for the CPU model
  // when no counter is readable; unset = the model's own TDP lookup.
  std::optional<double> cpu_power_w;
  // Report the manufacturing (embodied) emissions of the hardware, apart
  // from the operational figure (docs/EMBODIED.md); --no-embodied turns it
  // off. Their factors: the compiled-in table with the files'
  // [embodied_factors.KEY] tables applied in precedence order (files only:
  // no flag or variable sets a factor).
  bool embodied = true;
  std::vector<EmbodiedFactor> embodied_factors = BuiltinEmbodiedFactors();
  // No summary and no live status line; errors are still printed.
  bool quiet = false;
  // `monitor`: seconds between CSV rows; > 0. CodeCarbon writes a row every
  // api_call_interval (8) x measure_power_secs (15) = 120 s; wattprint
  // defaults to 60 s so an hour of monitoring gives 60 rows.
  double save_interval_s = 60.0;
  // Append a row to output_dir/output_file (--no-save turns it off).
  bool save_to_file = true;
  // GPU libraries to dlopen; empty = the usual sonames
  // (libnvidia-ml.so.1, librocm_smi64.so).
  std::string nvml_library;
  std::string rocm_smi_library;
  // GPUs to measure: comma-separated indices, GPU-<uuid> or MIG-<uuid>.
  // Empty = CUDA_VISIBLE_DEVICES for NVIDIA GPUs when set, else all GPUs.
  // Kept as written (for messages and ConfigValueText) and parsed once.
  std::string gpu_ids;
  std::vector<GpuSelector> gpu_selection;

  // Location resolution (wattprint/location.h). Ask the cloud instance
  // metadata service where this machine runs when no location is given
  // (--no-cloud-metadata turns it off); the answer is cached for a day.
  bool cloud_metadata = true;
  // Base URL of the metadata service (AWS, GCP and Azure all answer there).
  std::string metadata_endpoint = "http://169.254.169.254";
  // Live grid intensity. Off by default: it sends requests to a third party
  // (docs/LOCATION.md).
  LiveSetting live_intensity = LiveSetting::kOff;
  std::string electricitymaps_token;  // never printed; doctor shows "(set)"
  std::string electricitymaps_url = "https://api.electricitymap.org/v3";
  std::string uk_intensity_url = "https://api.carbonintensity.org.uk";
  // UK Carbon Intensity API region: 0 = national (Great Britain), 1..17 =
  // the API's regionid (13 = London).
  int uk_region = 0;
  // Seconds a live reading is reused (memory and disk) before asking again;
  // also the polling period while a command runs. 0 = always ask.
  double live_cache_ttl_s = 300;
  // Which intensity feeds emissions: the average (mean of generation, the
  // default) or the marginal (the plant that answers extra demand). The JSON
  // reports both where both are known.
  IntensityBasis intensity_basis = IntensityBasis::kAverage;

  // The collector (docs/COLLECTOR.md). With a URL, `run` sends its record
  // when the command ends, waiting at most collector_wait_s; what is not
  // sent by then goes to the spool (empty: DefaultSpoolDir()).
  std::string collector_url;
  std::string collector_token;  // never printed; doctor shows "(set)"
  std::string spool_dir;
  double collector_wait_s = 1.0;
  // The collector server's own (`wattprint serve`, `wattprint admin`; not
  // flags of the other commands): its database and its address.
  std::string db = "sqlite:./wattprint.db";
  std::string listen = "127.0.0.1:8000";
  // `monitor` serves Prometheus metrics on HOST:PORT (docs/PROMETHEUS.md);
  // empty: it does not.
  std::string prometheus;
  // `run` pushes its figures to a Prometheus pushgateway at this URL when
  // the command ends (and every pushgateway_interval_s when not 0), under
  // the grouping key job=pushgateway_job, instance=the host name.
  std::string pushgateway;
  std::string pushgateway_job = "wattprint";
  double pushgateway_interval_s = 0;
  // `monitor --attribute cgroups`: energy per cgroup of the v2 hierarchy
  // (wattprint/cgroups.h), those cgroup_depth levels below the root, or the
  // children of cgroup_parents (comma-separated paths below the root).
  bool attribute_cgroups = false;
  int cgroup_depth = 1;
  std::string cgroup_parents;
  // The cluster job a run belongs to. Empty: from the job's SLURM_*
  // variables (SLURM_CLUSTER_NAME, SLURM_JOB_ID, SLURM_STEP_ID,
  // SLURMD_NODENAME, SLURM_JOB_USER, SLURM_JOB_ACCOUNT) when set.
  ClusterJob cluster_job;

  // Where each key's value came from: key -> origin. Keys missing here
  // hold their default.
  std::map<std::string, std::string> origins;
  // "default", "flag --pue", "env WATTPRINT_PUE", "file /path/wattprint.toml".
  std::string OriginOf(std::string_view key) const;
};

// One configurable key: its snake_case name (TOML key), environment variable,
// flag, and help text.
struct ConfigKey {
  const char* key;    // "sysfs_root"
  const char* env;    // "WATTPRINT_SYSFS_ROOT"
  const char* flag;   // "--sysfs-root"; for booleans the flag that sets it
  const char* help;   // imperative help text
  enum class Type { kString, kNumber, kBool } type;
};
std::span<const ConfigKey> ConfigKeys();
// The current value of `key` as text ("1.2", "machine", "" when unset).
std::string ConfigValueText(const Config& cfg, std::string_view key);

// WATTPRINT_* variables that are not config keys but are read elsewhere
// (vendor library paths). Kept in this one list so the unknown-variable
// check accepts them.
std::span<const std::string_view> ReservedEnvironmentVariables();

// Parses `value` for `key` and stores it, recording `origin`. `where` is the
// prefix of any error message ("WATTPRINT_PUE=abc", "--pue abc").
Status ApplyConfigValue(Config* cfg, std::string_view key, std::string_view value,
                        const std::string& where, const std::string& origin);

// Applies a TOML file. A missing file is not an error (*loaded = false);
// an unreadable or malformed one is, as is an unknown key or a value of the
// wrong type.
Status ApplyConfigFile(Config* cfg, const std::string& path, bool* loaded = nullptr);
// Applies TOML text already read (for tests); `path` is only used in messages.
Status ApplyConfigToml(Config* cfg, std::string_view toml, const std::string& path);

// Applies WATTPRINT_* entries of an environment ("KEY=VALUE" strings);
// other variables are ignored.
Status ApplyConfigEnvironment(Config* cfg, std::span<const std::string> environment);

// Everything the loader needs to know about its surroundings.
struct ConfigInputs {
  std::vector<std::string> environment;  // "KEY=VALUE"
  std::string cwd = ".";                 // where ./wattprint.toml is looked for
  std::string xdg_config_home;           // empty = unset
  std::string home;                      // empty = unset
  // The site's file, below the user's: what an administrator sets for
  // every user of a machine or a cluster (the Slurm plugin's runs among
  // them). Empty: none.
  std::string site_config = "/etc/wattprint/config.toml";
  // Flags given on the command line, in order: (key, raw value). Boolean
  // keys take "true"/"false".
  std::vector<std::pair<std::string, std::string>> flags;
};

// The user-level file, or "" when neither XDG_CONFIG_HOME nor HOME is set.
std::string UserConfigPath(const ConfigInputs& in);
std::string ProjectConfigPath(const ConfigInputs& in);

// Defaults < site file < user file < project file < environment < flags.
// `files_loaded` (optional) receives the files that existed and were applied.
Result<Config> LoadConfig(const ConfigInputs& in, std::vector<std::string>* files_loaded = nullptr);

// Levenshtein distance, and the closest candidate within a distance that
// scales with the word's length; "" when nothing is close.
size_t EditDistance(std::string_view a, std::string_view b);
std::string ClosestMatch(std::string_view word, std::span<const std::string> candidates);

}  // namespace wattprint
