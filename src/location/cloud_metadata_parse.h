// Parsers of the cloud metadata answers and of the metadata cache file, apart
// from the requests, so that they can be tested and fuzzed without a server.
//
// Private header. Thread safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "wattprint/location.h"

namespace wattprint::cloud_metadata {

// AWS: the body of GET /latest/meta-data/placement/region ("eu-west-3").
Result<CloudPlacement> ParseAwsRegion(std::string_view body);
// GCP: the body of GET /computeMetadata/v1/instance/zone
// ("projects/123/zones/us-central1-a").
Result<CloudPlacement> ParseGcpZone(std::string_view body);
// Azure: the JSON body of GET /metadata/instance (compute.location).
Result<CloudPlacement> ParseAzureInstance(std::string_view body);

// A cache file's text: nullopt when it is not a fresh, well-formed answer
// for `endpoint` at `now_s` (a miss: the probe runs again); else whether a
// provider answered, and which.
std::optional<std::optional<CloudPlacement>> ParseCache(std::string_view text, const std::string& endpoint,
                                                        long long now_s, std::chrono::seconds ttl);

}  // namespace wattprint::cloud_metadata
