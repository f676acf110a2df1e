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
  if (!cfg.country.empty()) {
    o.explicit_origin = fmt::format("country {} ({})", cfg.country, cfg.OriginOf("country"));
  } else if (!cfg.region.empty()) {
    o.explicit_origin = fmt::format("region {} ({})", cfg.region, cfg.OriginOf("region"));
  }
  o.cloud_metadata = cfg.cloud_metadata;
  o.metadata.endpoint = cfg.metadata_endpoint;
  const std::string dir = CacheDir();
  if (!dir.empty()) o.metadata.cache_file = dir + "/cloud-metadata.json";
  if (const char* tz = std::getenv("TZ")) o.time_zone.tz_env = std::string(tz);
  return o;
}

Result<IntensityTimeline> IntensityAt(const Config& cfg, const Location& loc) {
  if (loc.country.empty()) {
    if (loc.step == LocationStep::kCloudMetadata) {
      return WorldAverage(loc, loc.detail + "; no grid figure for this cloud region in the built-in table");
    }
    if (loc.step == LocationStep::kExplicit) {
      return WorldAverage(loc, loc.detail + "; no grid figure for it in the built-in table");
    }
    return WorldAverage(loc, loc.detail);
  }
  Result<IntensityTimeline> r = CountryIntensityTimeline(loc.country);
  if (!r.ok() && loc.step == LocationStep::kExplicit) {
    return Status::InvalidArgument(r.status().message() + " (set by " + cfg.OriginOf("country") + ")");
  }
  if (!r.ok()) return WorldAverage(loc, loc.detail + ": no figure for this country in the built-in table");
  IntensityTimeline t = std::move(r).value();
  t.provenance.location_step = ToString(loc.step);
  t.provenance.resolution = loc.step == LocationStep::kExplicit ? "explicit " + loc.detail : loc.detail;
  if (!cfg.region.empty()) t.provenance.region = cfg.region;
  return t;
}

Result<IntensityTimeline> MarginalIntensityAt(const Location& loc) {
  // The built-in table holds yearly averages only; marginal (operating
  // margin) factors come with the zone database.
  const std::string where = loc.country.empty() ? std::string("this location") : loc.country;
  return Status::NotFound("no marginal intensity is known for " + where +
                          " (the built-in table holds averages only); use --intensity-basis average");
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
    // Electricity Maps keys most countries by ISO2; the built-in table
    // gives ISO2 for a configured ISO3 or name.
    o.zone = loc.zone;
    for (const CountryIntensity& c : BuiltinCountryTable()) {
      if (o.zone.empty() && !loc.country.empty() &&
          (loc.country == c.iso2 || loc.country == c.iso3 || loc.country == c.name)) {
        o.zone = c.iso2;
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

BackgroundIntensity::BackgroundIntensity(const Config& cfg) : cfg_(cfg) {
  location_ = std::async(std::launch::async, [opts = MakeLocationOptions(cfg)] {
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
  Result<IntensityTimeline> average = IntensityAt(cfg_, loc);
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
  Result<IntensityTimeline> marginal = MarginalIntensityAt(loc);
  IntensityChoice out;
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
