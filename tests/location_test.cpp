// Location resolution: the order explicit > cloud metadata > time zone >
// world average; each metadata provider against a loopback server
// (success, timeout, garbage); time zones against fixture tzdata tables.
#include "wattprint/location.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <limits>
#include <thread>

#include "location/cloud_metadata_parse.h"
#include "support/fake_http.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::FakeHttpServer;
using testing::TempTree;
using namespace std::chrono_literals;

// Lines in the format of Debian tzdata 2024a's zone.tab and zone1970.tab.
constexpr const char* kZoneTab =
    "# tzdb timezone descriptions (deprecated version)\n"
    "#country-\n#code\tcoordinates\tTZ\tcomments\n"
    "FR\t+4852+00220\tEurope/Paris\n"
    "SE\t+5920+01803\tEurope/Stockholm\n"
    "GB\t+513030-0000731\tEurope/London\n"
    "IN\t+2232+08822\tAsia/Kolkata\n";
constexpr const char* kZone1970 =
    "# tzdb timezone descriptions\n"
    "#codes\tcoordinates\tTZ\tcomments\n"
    "DE,DK,NO,SE,SJ\t+5230+01322\tEurope/Berlin\tmost of Germany\n"
    "CH,DE,LI\t+4723+00832\tEurope/Zurich\tBüsingen\n"
    "FR,MC\t+4852+00220\tEurope/Paris\n";

struct Tz {
  TempTree tree;
  TimeZoneOptions opts;
  Tz() {
    tree.Write("zoneinfo/zone.tab", kZoneTab);
    tree.Write("zoneinfo/zone1970.tab", kZone1970);
    tree.Mkdir("etc");
    opts.etc_dir = tree.Path("etc");
    opts.zoneinfo_dir = tree.Path("zoneinfo");
  }
};

TEST(TimeZone, TzVariableWinsAndLosesItsColon) {
  Tz t;
  t.opts.tz_env = ":Europe/Paris";
  t.tree.Symlink("/usr/share/zoneinfo/Asia/Kolkata", "etc/localtime");
  EXPECT_EQ(*MachineTimeZone(t.opts, *PosixFileSystem()), "Europe/Paris");
}

TEST(TimeZone, PosixRuleStringIsNotAName) {
  Tz t;
  t.opts.tz_env = "CET-1CEST";
  Result<std::string> r = MachineTimeZone(t.opts, *PosixFileSystem());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "TZ='CET-1CEST' is not a time zone name");
}

TEST(TimeZone, LocaltimeLinkThenEtcTimezone) {
  Tz t;
  t.tree.Symlink("/usr/share/zoneinfo/Asia/Kolkata", "etc/localtime");
  t.tree.Write("etc/timezone", "Europe/London\n");
  EXPECT_EQ(*MachineTimeZone(t.opts, *PosixFileSystem()), "Asia/Kolkata");
  t.tree.Remove("etc/localtime");
  EXPECT_EQ(*MachineTimeZone(t.opts, *PosixFileSystem()), "Europe/London");
  t.tree.Remove("etc/timezone");
  EXPECT_FALSE(MachineTimeZone(t.opts, *PosixFileSystem()).ok());
}

TEST(TimeZone, CountryFromZoneTabThenZone1970FirstCode) {
  Tz t;
  const auto& fs = *PosixFileSystem();
  EXPECT_EQ(*CountryOfTimeZone("Europe/Paris", t.opts, fs), "FR");
  EXPECT_EQ(*CountryOfTimeZone("Europe/Stockholm", t.opts, fs), "SE");
  EXPECT_EQ(*CountryOfTimeZone("Europe/Berlin", t.opts, fs), "DE");  // zone1970 only
  EXPECT_EQ(*CountryOfTimeZone("Europe/Zurich", t.opts, fs), "CH");
  Result<std::string> utc = CountryOfTimeZone("Etc/UTC", t.opts, fs);
  ASSERT_FALSE(utc.ok());
  EXPECT_EQ(utc.status().message(), "time zone Etc/UTC names no country");
}

TEST(TimeZone, NameMustBeTheWholeZoneColumn) {
  Tz t;
  // The name also occurs in a comment line, as a prefix of a longer zone and
  // inside a comment column before the line that really has it.
  t.tree.Write("zoneinfo/zone.tab",
               "# Europe/Paris is listed below\n"
               "XA\t+0000+00000\tEurope/Paris_Old\n"
               "XB\t+0000+00000\tEurope/Nowhere\tnear Europe/Paris\n"
               "FR\t+4852+00220\tEurope/Paris\n"
               "XC\t+0000+00000\n");
  const auto& fs = *PosixFileSystem();
  EXPECT_EQ(*CountryOfTimeZone("Europe/Paris", t.opts, fs), "FR");
  EXPECT_EQ(*CountryOfTimeZone("Europe/Paris_Old", t.opts, fs), "XA");
  EXPECT_FALSE(CountryOfTimeZone("Europe/Par", t.opts, fs).ok());
  EXPECT_FALSE(CountryOfTimeZone("+0000+00000", t.opts, fs).ok());  // a column, not a zone
}

TEST(TimeZone, MissingTablesSayWhichFile) {
  Tz t;
  t.tree.Remove("zoneinfo/zone.tab");
  t.tree.Remove("zoneinfo/zone1970.tab");
  Result<std::string> r = CountryOfTimeZone("Europe/Paris", t.opts, *PosixFileSystem());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("zone.tab"), std::string::npos) << r.status().message();
}

void ServeAws(httplib::Server& s, const std::string& region) {
  s.Put("/latest/api/token", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds").empty()) {
      res.status = 400;
      return;
    }
    res.set_content("AQAEAtoken==", "text/plain");
  });
  s.Get("/latest/meta-data/placement/region", [region](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("X-aws-ec2-metadata-token") != "AQAEAtoken==") {
      res.status = 401;
      return;
    }
    res.set_content(region, "text/plain");
  });
}

void ServeGcp(httplib::Server& s, const std::string& body) {
  s.Get("/computeMetadata/v1/instance/zone", [body](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Metadata-Flavor") != "Google") {
      res.status = 403;
      return;
    }
    res.set_header("Metadata-Flavor", "Google");
    res.set_content(body, "application/text");
  });
}

void ServeAzure(httplib::Server& s, const std::string& body) {
  s.Get("/metadata/instance", [body](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Metadata") != "true" || req.get_param_value("api-version").empty()) {
      res.status = 400;
      return;
    }
    res.set_content(body, "application/json");
  });
}

MetadataOptions At(const FakeHttpServer& s) {
  MetadataOptions o;
  o.endpoint = s.url();
  return o;
}

TEST(CloudMetadata, AwsImdsV2TokenThenRegion) {
  FakeHttpServer s;
  ServeAws(s.server(), "eu-west-3\n");
  s.Start();
  Result<CloudPlacement> p = ProbeCloudMetadata(At(s));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->provider, "aws");
  EXPECT_EQ(p->region, "eu-west-3");
  EXPECT_EQ(p->detail, "AWS metadata: region eu-west-3");
}

TEST(CloudMetadata, GcpZonePathGivesRegion) {
  FakeHttpServer s;
  ServeGcp(s.server(), "projects/123456789/zones/europe-west1-b");
  s.Start();
  Result<CloudPlacement> p = ProbeCloudMetadata(At(s));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->provider, "gcp");
  EXPECT_EQ(p->region, "europe-west1");
  EXPECT_EQ(p->detail, "GCP metadata: zone europe-west1-b, region europe-west1");
}

TEST(CloudMetadata, AzureComputeLocation) {
  FakeHttpServer s;
  ServeAzure(s.server(), R"({"compute":{"location":"westeurope","vmSize":"Standard_D2s_v3"},"network":{}})");
  s.Start();
  Result<CloudPlacement> p = ProbeCloudMetadata(At(s));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->provider, "azure");
  EXPECT_EQ(p->region, "westeurope");
}

TEST(CloudMetadata, GarbageFromEveryProviderIsNotAPlace) {
  FakeHttpServer s;
  ServeAws(s.server(), "<html>captive portal</html>");
  ServeGcp(s.server(), "hello");
  ServeAzure(s.server(), "{not json");
  s.Start();
  Result<CloudPlacement> p = ProbeCloudMetadata(At(s));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "no cloud metadata service answered (AWS: not a region name; GCP: not a zone path; "
            "Azure: malformed JSON)");
}

TEST(CloudMetadata, SlowServerTimesOutWithinBound) {
  FakeHttpServer s;
  s.server().Get("/computeMetadata/v1/instance/zone", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(1500ms);
    res.set_content("projects/1/zones/us-central1-a", "text/plain");
  });
  s.Start();
  MetadataOptions o = At(s);
  o.timeout = 200ms;
  const auto t0 = std::chrono::steady_clock::now();
  Result<CloudPlacement> p = ProbeCloudMetadata(o);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("GCP: timed out after 200 ms"), std::string::npos)
      << p.status().message();
  EXPECT_LT(took, 1000ms);  // the three probes run in parallel, each bounded
}

TEST(CloudMetadata, AnswerIsCachedIncludingNone) {
  TempTree cache;
  FakeHttpServer s;
  ServeAws(s.server(), "us-east-1");
  s.Start();
  MetadataOptions o = At(s);
  o.cache_file = cache.Path("wattprint/cloud-metadata.json");
  ASSERT_TRUE(ProbeCloudMetadata(o).ok());
  const int after_first = s.requests();
  EXPECT_EQ(after_first, 4);  // AWS token + region, GCP, Azure
  Result<CloudPlacement> again = ProbeCloudMetadata(o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->detail, "AWS metadata: region us-east-1 (cached)");
  EXPECT_EQ(s.requests(), after_first);
  // An expired entry asks again.
  o.cache_ttl = 0s;
  ASSERT_TRUE(ProbeCloudMetadata(o).ok());
  EXPECT_EQ(s.requests(), 2 * after_first);
}

TEST(CloudMetadata, CacheFreshnessFollowsTtlAndEndpoint) {
  TempTree cache;
  FakeHttpServer s;  // answers 404: "no cloud", which is cached too
  s.Start();
  MetadataOptions o = At(s);
  EXPECT_FALSE(MetadataCacheFresh(o));  // no cache file configured
  o.cache_file = cache.Path("wattprint/cloud-metadata.json");
  EXPECT_FALSE(MetadataCacheFresh(o));  // none written yet
  ASSERT_FALSE(ProbeCloudMetadata(o).ok());
  EXPECT_TRUE(MetadataCacheFresh(o));
  MetadataOptions other = o;
  other.endpoint = "http://127.0.0.1:9";
  EXPECT_FALSE(MetadataCacheFresh(other));  // cached for another endpoint
  o.cache_ttl = 0s;
  EXPECT_FALSE(MetadataCacheFresh(o));
  cache.Write("wattprint/cloud-metadata.json", "{not json");
  o.cache_ttl = 3600s;
  EXPECT_FALSE(MetadataCacheFresh(o));
}

LocationOptions Base(const Tz& t, const std::string& endpoint) {
  LocationOptions o;
  o.time_zone = t.opts;
  o.time_zone.tz_env = "Europe/Paris";
  o.metadata.endpoint = endpoint;
  return o;
}

// The cache is read with the rules of an answer: a region that is not a
// region name is a miss (it would reach the summary and the table lookup),
// and a detail with control characters is replaced.
TEST(CloudMetadata, CacheEntriesFollowTheRulesOfAnAnswer) {
  using cloud_metadata::ParseCache;
  const long long now = 1780272000;
  const std::chrono::seconds day(86400);
  auto entry = [&](std::string region, std::string detail, long long at) {
    return nlohmann::json{{"endpoint", "http://e"}, {"checked_at", at}, {"provider", "aws"},
                          {"region", region}, {"detail", detail}}
        .dump();
  };
  auto ok = ParseCache(entry("eu-west-3", "AWS metadata: region eu-west-3", now - 10), "http://e", now, day);
  ASSERT_TRUE(ok && *ok);
  EXPECT_EQ((*ok)->region, "eu-west-3");
  EXPECT_EQ((*ok)->detail, "AWS metadata: region eu-west-3 (cached)");
  EXPECT_FALSE(ParseCache(entry("EU West\x1b[2J", "x", now - 10), "http://e", now, day));
  EXPECT_FALSE(ParseCache(entry("", "x", now - 10), "http://e", now, day));
  auto odd = ParseCache(entry("eu-west-3", "line\nbreak\x1b[2J", now - 10), "http://e", now, day);
  ASSERT_TRUE(odd && *odd);
  EXPECT_EQ((*odd)->detail, "aws metadata: region eu-west-3 (cached)");
  EXPECT_FALSE(ParseCache(entry("eu-west-3", "x", now + 10), "http://e", now, day));  // from the future
  EXPECT_FALSE(ParseCache(entry("eu-west-3", "x", std::numeric_limits<long long>::min()), "http://e", now, day));
  EXPECT_FALSE(ParseCache(entry("eu-west-3", "x", now - 10), "http://other", now, day));
}

TEST(ResolveLocation, ExplicitBeatsMetadataBeatsTimeZoneBeatsWorld) {
  Tz t;
  FakeHttpServer s;
  ServeAws(s.server(), "eu-north-1");
  s.Start();
  LocationOptions o = Base(t, s.url());
  o.place.country = "IN";
  o.explicit_origin = "country IN (flag --country)";
  Location l = ResolveLocation(o, *PosixFileSystem());
  EXPECT_EQ(l.step, LocationStep::kExplicit);
  EXPECT_EQ(l.place.country, "IN");
  EXPECT_EQ(l.detail, "country IN (flag --country)");
  EXPECT_EQ(s.requests(), 0);  // explicit never probes

  o.place.country.clear();
  l = ResolveLocation(o, *PosixFileSystem());
  EXPECT_EQ(l.step, LocationStep::kCloudMetadata);
  EXPECT_EQ(l.place.cloud_provider, "aws");
  EXPECT_EQ(l.place.cloud_region, "eu-north-1");
  EXPECT_EQ(l.detail, "AWS metadata: region eu-north-1");

  o.cloud_metadata = false;
  l = ResolveLocation(o, *PosixFileSystem());
  EXPECT_EQ(l.step, LocationStep::kTimeZone);
  EXPECT_EQ(l.place.country, "FR");
  EXPECT_EQ(l.detail, "time zone Europe/Paris -> FR");

  o.time_zone.tz_env = "UTC";
  l = ResolveLocation(o, *PosixFileSystem());
  EXPECT_EQ(l.step, LocationStep::kWorldAverage);
  EXPECT_EQ(l.place.country, "");
  EXPECT_EQ(l.detail, "location not found: time zone UTC names no country");
  EXPECT_STREQ(ToString(l.step), "world average");
}

TEST(ResolveLocation, NoMetadataServiceFallsToTimeZone) {
  Tz t;
  FakeHttpServer s;  // answers 404 to everything
  s.Start();
  Location l = ResolveLocation(Base(t, s.url()), *PosixFileSystem());
  EXPECT_EQ(l.step, LocationStep::kTimeZone);
  EXPECT_EQ(l.place.country, "FR");
}

TEST(ResolveLocation, OfflineWhenExplicitDisabledOrCached) {
  Tz t;
  TempTree cache;
  FakeHttpServer s;
  ServeAws(s.server(), "eu-north-1");
  s.Start();
  LocationOptions o = Base(t, s.url());
  o.metadata.cache_file = cache.Path("cloud-metadata.json");
  EXPECT_FALSE(ResolvesOffline(o));  // the metadata service must be asked
  o.place.country = "IN";
  EXPECT_TRUE(ResolvesOffline(o));
  o.place.country.clear();
  o.cloud_metadata = false;
  EXPECT_TRUE(ResolvesOffline(o));
  o.cloud_metadata = true;
  ASSERT_EQ(ResolveLocation(o, *PosixFileSystem()).step, LocationStep::kCloudMetadata);
  const int asked = s.requests();
  EXPECT_TRUE(ResolvesOffline(o));  // answered from the cache from now on
  EXPECT_EQ(ResolveLocation(o, *PosixFileSystem()).place.cloud_region, "eu-north-1");
  EXPECT_EQ(s.requests(), asked);
}

}  // namespace
}  // namespace wattprint
