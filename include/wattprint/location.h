// Where is this machine, for the grid carbon intensity? Resolved in a fixed
// order, and the answer always says which step gave it:
//   1. explicit configuration (country, region, zone or cloud region given);
//   2. cloud instance metadata (AWS IMDSv2, Google Cloud, Azure IMDS), with
//      short timeouts and an on-disk cache of the answer;
//   3. the machine's time zone (TZ, /etc/localtime, /etc/timezone) mapped to
//      a country through tzdata's zone.tab / zone1970.tab;
//   4. none: the caller uses the world average and says so.
// Nothing ever falls back silently to a specific place.
//
// Thread safety: pure functions of their inputs, except that the metadata
// probe makes HTTP requests and reads/writes its cache file. Distinct calls
// may run concurrently (the CLI runs ResolveLocation beside the command).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "wattprint/fs.h"
#include "wattprint/place.h"
#include "wattprint/status.h"

namespace wattprint {

enum class LocationStep { kExplicit, kCloudMetadata, kTimeZone, kWorldAverage };
// "explicit", "cloud metadata", "time zone", "world average".
const char* ToString(LocationStep s);

struct Location {
  // As configured, or found: the country as ISO2 from a time zone, the
  // cloud provider and region from the metadata service.
  Place place;
  LocationStep step = LocationStep::kWorldAverage;
  // What the step found, for the summary and JSON: "time zone Europe/Paris",
  // "AWS metadata: region eu-west-3", "--country FR".
  std::string detail;
};

struct CloudPlacement {
  std::string provider;  // "aws", "gcp", "azure"
  std::string region;    // GCP: the zone's region ("us-central1" of "us-central1-a")
  std::string detail;    // "AWS metadata: region eu-west-3"
};

struct MetadataOptions {
  // Base URL of the link-local metadata service. All three providers answer
  // at 169.254.169.254; Google's metadata.google.internal is the same
  // address, and using the IP avoids a DNS lookup off the cloud.
  std::string endpoint = "http://169.254.169.254";
  // Per request. Off the cloud, 169.254.169.254 is usually unroutable and
  // fails at once; where it silently drops packets, the connect timeout
  // bounds the probe. The three providers are probed in parallel.
  std::chrono::milliseconds connect_timeout{150};
  std::chrono::milliseconds timeout{300};
  // Cache file for the answer (including "not on a cloud"); "" = no cache.
  std::string cache_file;
  std::chrono::seconds cache_ttl{24 * 3600};
};

// Probes AWS, GCP and Azure at once. NotFound when none answers (the usual
// case off the cloud); the message lists what each said.
Result<CloudPlacement> ProbeCloudMetadata(const MetadataOptions& opts);

struct TimeZoneOptions {
  std::optional<std::string> tz_env;           // the TZ variable, if set
  std::string etc_dir = "/etc";                // localtime, timezone
  std::string zoneinfo_dir = "/usr/share/zoneinfo";  // zone.tab, zone1970.tab
};

// The IANA name of the machine's time zone ("Europe/Paris"): TZ (":" prefix
// allowed; POSIX rule strings such as "CET-1CEST" are not names), else the
// /etc/localtime symlink target below ".../zoneinfo/", else /etc/timezone.
Result<std::string> MachineTimeZone(const TimeZoneOptions& opts, const FileSystem& fs);
// The ISO 3166 alpha-2 country of an IANA zone name, from zone.tab (one
// country per zone, including older names such as Europe/Stockholm), else
// the first country of zone1970.tab. NotFound for "Etc/UTC" and the like.
Result<std::string> CountryOfTimeZone(std::string_view tz, const TimeZoneOptions& opts,
                                      const FileSystem& fs);

struct LocationOptions {
  // Explicit configuration (step 1): any non-empty field wins.
  Place place;
  std::string explicit_origin;  // "--country FR", for the detail
  bool cloud_metadata = true;   // step 2 on/off
  MetadataOptions metadata;
  TimeZoneOptions time_zone;
};

// Runs the steps in order and returns the first that gives an answer.
Location ResolveLocation(const LocationOptions& opts, const FileSystem& fs);
// Whether ResolveLocation can answer without the network: the location is
// explicit, the metadata step is off, or its cache holds a fresh answer.
bool ResolvesOffline(const LocationOptions& opts);
// Whether the metadata cache holds an answer younger than its TTL.
bool MetadataCacheFresh(const MetadataOptions& opts);

}  // namespace wattprint
