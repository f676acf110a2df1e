// Location resolution: explicit > cloud metadata > time zone > world
// average. See wattprint/location.h.
#include <fmt/format.h>

#include "wattprint/location.h"

namespace wattprint {

const char* ToString(LocationStep s) {
  switch (s) {
    case LocationStep::kExplicit: return "explicit";
    case LocationStep::kCloudMetadata: return "cloud metadata";
    case LocationStep::kTimeZone: return "time zone";
    case LocationStep::kWorldAverage: return "world average";
  }
  return "unknown";
}

namespace {

std::optional<Location> Explicit(const LocationOptions& o) {
  if (o.place.empty()) return std::nullopt;
  Location l;
  l.place = o.place;
  l.step = LocationStep::kExplicit;
  l.detail = o.explicit_origin.empty() ? "configured" : o.explicit_origin;
  return l;
}

}  // namespace

Location ResolveLocation(const LocationOptions& o, const FileSystem& fs) {
  if (std::optional<Location> l = Explicit(o)) return *l;
  std::string why;
  if (o.cloud_metadata) {
    Result<CloudPlacement> cloud = ProbeCloudMetadata(o.metadata);
    if (cloud.ok()) {
      Location l;
      l.place.cloud_provider = cloud->provider;
      l.place.cloud_region = cloud->region;
      l.step = LocationStep::kCloudMetadata;
      l.detail = cloud->detail;
      return l;
    }
  }
  Result<std::string> tz = MachineTimeZone(o.time_zone, fs);
  if (tz.ok()) {
    Result<std::string> country = CountryOfTimeZone(*tz, o.time_zone, fs);
    if (country.ok()) {
      Location l;
      l.place.country = *country;
      l.step = LocationStep::kTimeZone;
      l.detail = fmt::format("time zone {} -> {}", *tz, *country);
      return l;
    }
    why = country.status().message();
  } else {
    why = tz.status().message();
  }
  Location l;
  l.step = LocationStep::kWorldAverage;
  l.detail = "location not found: " + why;
  return l;
}

bool ResolvesOffline(const LocationOptions& o) {
  return Explicit(o).has_value() || !o.cloud_metadata || MetadataCacheFresh(o.metadata);
}

}  // namespace wattprint
