// Location, static and live intensity for the CLI: the configuration turned
// into LocationOptions and LiveOptions, and the background work that finds
// the location and polls the live provider while a command runs.
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

IntensityTimeline WorldAverage(const Location& loc, const std::string& why) {
  IntensityTimeline t = WorldAverageIntensity();
  t.provenance.location_step = ToString(loc.step);
  t.provenance.resolution = "world average (" + why + ")";
  return t;
}

GridLocation GridOf(const Location& loc) {
  GridLocation g;
  g.country = loc.country;
  g.region = loc.region;
  g.zone = loc.zone;
  g.cloud_provider = loc.cloud_provider;
  g.cloud_region = loc.cloud_region;
  return g;
}

}  // namespace

std::string CacheDir() {
  const std::string xdg = Env("XDG_CACHE_HOME");
  if (!xdg.empty()) return xdg + "/wattprint";
  const std::string home = Env("HOME");
  return home.empty() ? "" : home + "/.cache/wattprint";
}

LocationOptions MakeLocationOptions(const Config& cfg) {
  LocationOptions o;
  o.country = cfg.country;
  o.region = cfg.region;
  o.zone = cfg.zone;
  o.cloud_provider = cfg.cloud_provider;
  o.cloud_region = cfg.cloud_region;
  // The most specific explicit key names the origin, as the lookup uses it.
  for (const char* key : {"cloud_region", "zone", "region", "country"}) {
    const std::string v = ConfigValueText(cfg, key);
    if (v.empty()) continue;
    o.explicit_origin = fmt::format("{} {} ({})", key, v, cfg.OriginOf(key));
    break;
  }
  // An explicit figure needs no location: do not ask the network for one.
  o.cloud_metadata = cfg.cloud_metadata && !cfg.intensity_g_per_kwh;
  o.metadata.endpoint = cfg.metadata_endpoint;
  const std::string dir = CacheDir();
  if (!dir.empty()) o.metadata.cache_file = dir + "/cloud-metadata.json";
  if (const char* tz = std::getenv("TZ")) o.time_zone.tz_env = std::string(tz);
  return o;
}

Result<IntensityTimeline> IntensityAt(const Config& cfg, const Location& loc) {
  // Step 1, explicit configuration (or an explicit --intensity figure),
  // looked up exactly as given; an unknown name is an error, never a guess.
  Result<std::optional<IntensityTimeline>> given = ExplicitIntensity(cfg);
  if (!given.ok()) return given.status();
  if (given->has_value()) {
    IntensityTimeline t = std::move(**given);
    t.provenance.location_step = ToString(LocationStep::kExplicit);
    return t;
  }
  if (loc.step == LocationStep::kWorldAverage) return WorldAverage(loc, loc.detail);
  // Steps 2 and 3: a detected place; one the data cannot place falls back
  // to the world average, saying why.
  GridSelection which;
  which.year = cfg.intensity_year;
  Result<GridIntensity> g = LookupGridIntensity(GridOf(loc), which);
  if (!g.ok()) return WorldAverage(loc, loc.detail + ": " + g.status().message());
  IntensityTimeline t = ToTimeline(*g, loc.detail);
  t.provenance.location_step = ToString(loc.step);
  return t;
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
