// Location, marginal and live intensity for the CLI: this process's
// environment for the library's location steps (wattprint/session.h),
// LiveOptions, and the background work that finds the location and polls
// the live provider while a command runs.
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "commands.h"

namespace wattprint::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

LocationEnv ProcessLocationEnv() {
  LocationEnv env;
  if (const char* tz = std::getenv("TZ")) env.tz = std::string(tz);
  env.xdg_cache_home = Env("XDG_CACHE_HOME");
  env.xdg_state_home = Env("XDG_STATE_HOME");
  env.home = Env("HOME");
  return env;
}

}  // namespace

std::string CacheDir() {
  std::string note;
  std::string dir = CacheDirFor(ProcessLocationEnv(), &note);
  static bool said = false;  // once per process, however many steps ask
  if (!note.empty() && !said) {
    said = true;
    std::fprintf(stderr, "wattprint: note: %s\n", note.c_str());
  }
  return dir;
}

LocationOptions MakeLocationOptions(const Config& cfg) {
  (void)CacheDir();  // says once when there is no cache
  return LocationOptionsFor(cfg, ProcessLocationEnv());
}

Result<IntensityTimeline> MarginalIntensityAt(const Config& cfg, const Location& loc) {
  // UNFCCC operating-margin factors (2021) are per country.
  GridLocation where = GridOf(loc);
  if (loc.step == LocationStep::kExplicit || where.empty()) where = LocationOf(cfg);
  if (where.empty() && where.cloud_region.empty()) {
    return Status::NotFound("no marginal intensity without a location; give --country, --zone, "
                            "--region or --cloud-region, or use --intensity-basis average");
  }
  GridSelection which;
  which.dataset = GridDataset::kUnfccc;
  Result<GridIntensity> g = LookupGridIntensity(where, which);
  if (!g.ok()) {
    return Status::NotFound("no marginal intensity is known here: " + g.status().message() +
                            "; use --intensity-basis average");
  }
  IntensityTimeline t = ToTimeline(*g, loc.detail.empty() ? "explicit" : loc.detail);
  t.provenance.location_step = ToString(loc.step);
  return t;
}

std::shared_ptr<LiveIntensity> MakeLive(const Config& cfg, const Location& loc) {
  if (cfg.live_intensity == "off") return nullptr;
  LiveOptions o;
  if (cfg.live_intensity == "uk") {
    o.provider = LiveProvider::kUk;
    o.base_url = cfg.uk_intensity_url;
    o.uk_region = cfg.uk_region;
  } else {
    o.provider = LiveProvider::kElectricityMaps;
    o.base_url = cfg.electricitymaps_url;
    o.token = cfg.electricitymaps_token;
    // The Electricity Maps zone of the location, as the static lookup finds
    // it (a country without a zone of its own is asked for by its ISO2).
    o.zone = loc.zone;
    GridLocation where = GridOf(loc);
    if (loc.step == LocationStep::kExplicit) where = LocationOf(cfg);
    if (o.zone.empty() && (!where.empty() || !where.cloud_region.empty())) {
      Result<GridIntensity> g = LookupGridIntensity(where);
      if (g.ok()) {
        o.zone = g->dataset == GridDataset::kElectricityMaps ? g->zone : g->country_iso2;
      }
    }
    if (o.zone.empty() && loc.country.size() == 2) o.zone = loc.country;
  }
  o.cache_dir = CacheDir();
  o.cache_ttl = std::chrono::seconds(static_cast<long long>(cfg.live_cache_ttl_s));
  return std::make_shared<LiveIntensity>(o);
}

std::chrono::milliseconds LivePollPeriod(const Config& cfg) {
  // One reading per cache lifetime, and at least a second between asks.
  return std::chrono::milliseconds(static_cast<long long>(std::max(1.0, cfg.live_cache_ttl_s) * 1000));
}

BackgroundIntensity::BackgroundIntensity(const Config& cfg, std::optional<IntensityTimeline> given)
    : cfg_(cfg), given_(std::move(given)) {
  if (given_) given_->provenance.location_step = ToString(LocationStep::kExplicit);  // as IntensityAt says it
  // A thread only when the cloud metadata service must be asked; a location
  // found offline (configured, cached, time zone) is resolved when first
  // needed, by Finish or the live poller, on that thread.
  LocationOptions opts = MakeLocationOptions(cfg);
  const std::launch policy = ResolvesOffline(opts) ? std::launch::deferred : std::launch::async;
  location_ = std::async(policy, [opts = std::move(opts)] {
    return ResolveLocation(opts, *PosixFileSystem());
  }).share();
  if (cfg.live_intensity == "off") return;
  std::shared_future<Location> loc = location_;
  poller_ = std::make_unique<LivePoller>(
      [cfg, loc] { return MakeLive(cfg, loc.get()); }, LivePollPeriod(cfg));
  poller_->Start();
}

BackgroundIntensity::~BackgroundIntensity() = default;

Result<IntensityChoice> BackgroundIntensity::Finish() {
  const Location loc = location_.get();
  Result<IntensityTimeline> average = given_ ? Result<IntensityTimeline>(*given_) : IntensityAt(cfg_, loc);
  if (!average.ok()) return average.status();
  IntensityTimeline avg = std::move(average).value();
  if (poller_) {
    const LiveSeries live = poller_->Stop();
    if (cfg_.intensity_basis == "average") {
      avg = CombineLive(std::move(avg), live);
    } else {
      avg.provenance.note = "live readings are averages; not used for the marginal basis";
    }
  }
  Result<IntensityTimeline> marginal = MarginalIntensityAt(cfg_, loc);
  IntensityChoice out;
  out.location = loc;
  if (cfg_.intensity_basis == "marginal") {
    if (!marginal.ok()) return marginal.status();
    out.chosen = std::move(marginal).value();
    out.other = std::move(avg);
  } else {
    out.chosen = std::move(avg);
    if (marginal.ok()) out.other = std::move(marginal).value();
  }
  return out;
}

}  // namespace wattprint::cli
