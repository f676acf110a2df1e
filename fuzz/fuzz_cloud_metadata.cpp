// The cloud metadata answers (AWS, GCP, Azure) and the metadata cache: a
// placement found names a known provider and a plausible region (short,
// [a-z0-9-]), whatever a captive portal or a corrupted disk hands back.
//
// Input: the first byte picks the parser, the rest is its text.
#include <cstdint>
#include <string>
#include <string_view>

#include "check.h"
#include "location/cloud_metadata_parse.h"

using namespace wattprint;

namespace {

void CheckPlacement(const CloudPlacement& p) {
  FUZZ_CHECK(p.provider == "aws" || p.provider == "gcp" || p.provider == "azure");
  FUZZ_CHECK(!p.region.empty() && p.region.size() <= 64);
  for (unsigned char c : p.region) FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  for (unsigned char c : p.detail) FUZZ_CHECK(c >= 0x20);
}

void Check(const Result<CloudPlacement>& r) {
  if (r.ok()) CheckPlacement(*r);
  else FUZZ_CHECK(!r.status().message().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      Check(cloud_metadata::ParseAwsRegion(text));
      break;
    case 1:
      Check(cloud_metadata::ParseGcpZone(text));
      break;
    case 2:
      Check(cloud_metadata::ParseAzureInstance(text));
      break;
    default: {
      const long long now = 1780272000;  // 2026-06-01T00:00:00Z
      auto c = cloud_metadata::ParseCache(text, "http://127.0.0.1:1", now, std::chrono::seconds(1LL << 40));
      if (c && *c) CheckPlacement(**c);
      break;
    }
  }
  return 0;
}
