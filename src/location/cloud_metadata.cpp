// Cloud instance metadata: which provider and region this machine runs in.
//
// Requests (documented by each provider, checked 2026):
//   AWS IMDSv2   PUT /latest/api/token (X-aws-ec2-metadata-token-ttl-seconds)
//                GET /latest/meta-data/placement/region (X-aws-ec2-metadata-token)
//   Google Cloud GET /computeMetadata/v1/instance/zone (Metadata-Flavor: Google)
//                -> "projects/NUMBER/zones/us-central1-a"
//   Azure IMDS   GET /metadata/instance?api-version=2021-02-01 (Metadata: true)
//                -> JSON, compute.location = "westeurope"
// All go to the link-local address, never through a proxy. The answer,
// including "none answered", is cached in a small JSON file so that only
// the first run in cache_ttl pays for the probe.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/json_fields.h"

#include "location/cloud_metadata_parse.h"
#include "net/http.h"
#include "wattprint/location.h"

namespace wattprint {
namespace {

using net::HttpFetch;
using net::HttpRequest;
using net::HttpResponse;

HttpRequest Request(const MetadataOptions& o, std::string path) {
  HttpRequest r;
  r.url = o.endpoint + path;
  r.connect_timeout = o.connect_timeout;
  r.timeout = o.timeout;
  r.no_proxy = true;
  return r;
}

// A region name is short and made of [a-z0-9-]; anything else is not a
// metadata answer (a captive portal's HTML page, say).
bool PlausibleRegion(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '-';
  });
}

Result<std::string> Ok200(const Result<HttpResponse>& r) {
  if (!r.ok()) return r.status();
  if (r->status != 200) return Status::NotFound(fmt::format("HTTP {}", r->status));
  return r->body;
}

Result<CloudPlacement> ProbeAws(const MetadataOptions& o) {
  HttpRequest tok = Request(o, "/latest/api/token");
  tok.method = "PUT";
  tok.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}};
  Result<std::string> token = Ok200(HttpFetch(tok));
  if (!token.ok()) return token.status();
  HttpRequest get = Request(o, "/latest/meta-data/placement/region");
  get.headers = {{"X-aws-ec2-metadata-token", std::string(Trim(*token))}};
  Result<std::string> region = Ok200(HttpFetch(get));
  if (!region.ok()) return region.status();
  return cloud_metadata::ParseAwsRegion(*region);
}

Result<CloudPlacement> ProbeGcp(const MetadataOptions& o) {
  HttpRequest get = Request(o, "/computeMetadata/v1/instance/zone");
  get.headers = {{"Metadata-Flavor", "Google"}};
  Result<std::string> body = Ok200(HttpFetch(get));
  if (!body.ok()) return body.status();
  return cloud_metadata::ParseGcpZone(*body);
}

Result<CloudPlacement> ProbeAzure(const MetadataOptions& o) {
  HttpRequest get = Request(o, "/metadata/instance?api-version=2021-02-01");
  get.headers = {{"Metadata", "true"}};
  Result<std::string> body = Ok200(HttpFetch(get));
  if (!body.ok()) return body.status();
  return cloud_metadata::ParseAzureInstance(*body);
}

long long NowSeconds() { return static_cast<long long>(std::time(nullptr)); }

// A cached answer for this endpoint that is younger than the TTL. The
// optional inside says whether a provider answered.
std::optional<std::optional<CloudPlacement>> ReadCache(const MetadataOptions& o) {
  if (o.cache_file.empty()) return std::nullopt;
  const Result<std::string> text = PosixFileSystem()->ReadFile(o.cache_file);
  if (!text.ok()) return std::nullopt;
  return cloud_metadata::ParseCache(*text, o.endpoint, NowSeconds(), o.cache_ttl);
}

void WriteCache(const MetadataOptions& o, const std::optional<CloudPlacement>& p) {
  if (o.cache_file.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(o.cache_file).parent_path(), ec);
  nlohmann::json j = {{"endpoint", o.endpoint}, {"checked_at", NowSeconds()},
                      {"provider", p ? p->provider : ""}, {"region", p ? p->region : ""},
                      {"detail", p ? p->detail : ""}};
  // Write then rename so a concurrent reader never sees half a file; a
  // failure only costs the next run another probe.
  const std::string tmp = o.cache_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
    if (!out) return;
  }
  std::filesystem::rename(tmp, o.cache_file, ec);
}

}  // namespace

namespace cloud_metadata {

Result<CloudPlacement> ParseAwsRegion(std::string_view body) {
  const std::string name(Trim(body));
  if (!PlausibleRegion(name)) return Status::Corrupt("not a region name");
  return CloudPlacement{"aws", name, "AWS metadata: region " + name};
}

Result<CloudPlacement> ParseGcpZone(std::string_view body) {
  // "projects/123456789/zones/us-central1-a": the region drops "-a".
  const std::string text(Trim(body));
  const size_t slash = text.rfind('/');
  const std::string zone = slash == std::string::npos ? text : text.substr(slash + 1);
  const size_t dash = zone.rfind('-');
  if (text.find("zones/") == std::string::npos || dash == std::string::npos || dash == 0 ||
      !PlausibleRegion(zone)) {
    return Status::Corrupt("not a zone path");
  }
  const std::string region = zone.substr(0, dash);
  return CloudPlacement{"gcp", region, fmt::format("GCP metadata: zone {}, region {}", zone, region)};
}

Result<CloudPlacement> ParseAzureInstance(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("compute") || !j["compute"].is_object()) {
    return Status::Corrupt("malformed JSON");
  }
  const std::string region = json_fields::Str(j["compute"], "location");
  if (!PlausibleRegion(region)) return Status::Corrupt("no compute.location");
  return CloudPlacement{"azure", region, "Azure metadata: location " + region};
}

std::optional<std::optional<CloudPlacement>> ParseCache(std::string_view text, const std::string& endpoint,
                                                        long long now, std::chrono::seconds ttl) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  // A cache of the wrong shape is a miss: the probe runs again.
  if (json_fields::Str(j, "endpoint") != endpoint) return std::nullopt;
  const long long at = json_fields::Int(j, "checked_at");
  // 0 <= at <= now, so now - at cannot overflow (LLONG_MIN did).
  if (at < 0 || at > now || now - at >= ttl.count()) return std::nullopt;
  const std::string provider = json_fields::Str(j, "provider");
  if (provider.empty()) return std::optional<CloudPlacement>();
  if (provider != "aws" && provider != "gcp" && provider != "azure") return std::nullopt;
  // The region feeds a table lookup and the summary: the same rule as an answer.
  const std::string region = json_fields::Str(j, "region");
  if (!PlausibleRegion(region)) return std::nullopt;
  std::string detail = json_fields::Str(j, "detail");
  if (detail.size() > 200 || std::any_of(detail.begin(), detail.end(), [](unsigned char c) { return c < 0x20; })) {
    detail = provider + " metadata: region " + region;
  }
  return std::optional<CloudPlacement>(CloudPlacement{provider, region, detail + " (cached)"});
}

}  // namespace cloud_metadata

bool MetadataCacheFresh(const MetadataOptions& o) { return ReadCache(o).has_value(); }

Result<CloudPlacement> ProbeCloudMetadata(const MetadataOptions& o) {
  if (auto cached = ReadCache(o)) {
    if (*cached) return **cached;
    return Status::NotFound("no cloud metadata service answered (cached)");
  }
  auto aws = std::async(std::launch::async, ProbeAws, o);
  auto gcp = std::async(std::launch::async, ProbeGcp, o);
  auto azure = std::async(std::launch::async, ProbeAzure, o);
  const Result<CloudPlacement> results[] = {aws.get(), gcp.get(), azure.get()};
  const char* names[] = {"AWS", "GCP", "Azure"};
  std::string why;
  for (size_t i = 0; i < std::size(results); ++i) {
    if (results[i].ok()) {
      WriteCache(o, *results[i]);
      return *results[i];
    }
    why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", names[i], results[i].status().message());
  }
  // Transport failures are the normal answer off the cloud; cache them too.
  WriteCache(o, std::nullopt);
  return Status::NotFound("no cloud metadata service answered (" + why + ")");
}

}  // namespace wattprint
