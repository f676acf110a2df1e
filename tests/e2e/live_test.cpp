// End-to-end tests of location resolution, live intensity and carbon-aware
// start in the real binary, against fake servers on 127.0.0.1.
#include <filesystem>
#include <signal.h>

#include <atomic>

#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"
#include "support/fake_http.h"
#include "wattprint/grid.h"

namespace wattprint::testing {
namespace {

// The UK Carbon Intensity API's /intensity shape, with value `g`.
std::string UkBody(int g) {
  return R"({"data":[{"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z","intensity":{"forecast":)" +
         std::to_string(g) + R"(,"actual":null,"index":"moderate"}}]})";
}

class LiveE2e : public ::testing::Test {
 protected:
  TempTree sys_;
  TempTree out_;
  FakeHttpServer uk_;
  std::atomic<int> served_{0};
  // The intensity the fake UK API reports for its n-th request (0-based).
  std::function<int(int)> value_ = [](int) { return 150; };

  void SetUp() override {
    WriteRaplTree(sys_, 1000000, 2000000);
    uk_.server().Get("/intensity", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(UkBody(value_(served_++)), "application/json");
    });
  }
  std::vector<std::string> Args(std::vector<std::string> extra, const std::string& script) const {
    std::vector<std::string> a = {"run", "--sysfs-root", sys_.Path("sys"), "--no-save", "--json",
                                  out_.Path("run.json"), "--interval", "0.1"};
    a.insert(a.end(), extra.begin(), extra.end());
    for (const char* s : {"--", "sh", "-c"}) a.push_back(s);
    a.push_back(script);
    return a;
  }
  std::vector<std::string> Live() const {
    return {"--live-intensity", "uk", "--uk-intensity-url", uk_.url(), "--live-cache-ttl", "0"};
  }
  nlohmann::json Json() const { return nlohmann::json::parse(ReadWholeFile(out_.Path("run.json"))); }
};

TEST_F(LiveE2e, WaitsUntilIntensityDropsBelowThreshold) {
  value_ = [](int n) { return n < 2 ? 300 : 150; };
  uk_.Start();
  std::vector<std::string> extra = Live();
  for (const char* s : {"--wait-for-intensity-below", "200", "--max-wait", "30s"}) extra.push_back(s);
  BinaryResult r = RunWattprint(Args(extra, "echo ran"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_NE(r.err.find("s: intensity 150 g CO2e/kWh is below 200 (GB, UK Carbon Intensity API (national), "
                       "forecast); starting"),
            std::string::npos)
      << r.err;
  EXPECT_GE(served_.load(), 3);
  const nlohmann::json j = Json();
  EXPECT_EQ(j["intensity"]["source"], "UK Carbon Intensity API (national), forecast, live");
  EXPECT_EQ(j["intensity"]["zone"], "GB");
  EXPECT_EQ(j["intensity"]["points"][0]["g_per_kwh"], 150.0);
  EXPECT_EQ(j["intensity"]["points"][0]["from"], "2018-01-20T12:00:00Z");
  EXPECT_EQ(j["emissions_by_basis"]["chosen"], "average");
  EXPECT_TRUE(j["emissions_by_basis"]["marginal"].is_null());
}

TEST_F(LiveE2e, DeadlinePassedStartsAnyway) {
  value_ = [](int) { return 300; };
  uk_.Start();
  std::vector<std::string> extra = Live();
  for (const char* s : {"--wait-for-intensity-below", "200", "--max-wait", "2s"}) extra.push_back(s);
  BinaryResult r = RunWattprint(Args(extra, "echo ran"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_NE(r.err.find("deadline passed with intensity 300 g CO2e/kWh, not below 200 (GB); starting"),
            std::string::npos)
      << r.err;
}

TEST_F(LiveE2e, NoLiveProviderStartsAtOnceWithNote) {
  BinaryResult r = RunWattprint(
      Args({"--wait-for-intensity-below", "200", "--max-wait", "1h"}, "echo ran"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_NE(r.err.find("no live intensity configured (set --live-intensity uk or electricitymaps); "
                       "starting now without waiting for < 200 g CO2e/kWh"),
            std::string::npos)
      << r.err;
}

TEST_F(LiveE2e, SignalEndsTheWaitWithoutStartingTheCommand) {
  value_ = [](int) { return 300; };
  uk_.Start();
  std::vector<std::string> extra = Live();
  for (const char* s : {"--wait-for-intensity-below", "200", "--max-wait", "10m"}) extra.push_back(s);
  RunSpec spec;
  spec.args = Args(extra, "echo ran");
  spec.cwd = out_.root();
  spec.signal = SIGTERM;
  spec.signal_after_s = 1.5;
  BinaryResult r = RunWattprint(spec);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("wait ended by signal 15; command not started"), std::string::npos) << r.err;
}

TEST_F(LiveE2e, BadDurationIsAUsageError) {
  BinaryResult r = RunWattprint(Args({"--wait-for-intensity-below", "200", "--max-wait", "soon"}, "true"),
                                out_.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "wattprint: error: --max-wait soon: bad duration 'soon' (use 90s, 30m, 2h or 1h30m)\n");
}

TEST_F(LiveE2e, FailingProviderFallsBackToStaticWithNote) {
  uk_.server().Get("/regional/regionid/13", [](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "60");
  });
  uk_.Start();
  std::vector<std::string> extra = Live();
  for (const char* s : {"--uk-region", "13", "--country", "GB"}) extra.push_back(s);
  BinaryResult r = RunWattprint(Args(extra, "true"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = Json();
  GridLocation gb;
  gb.country = "GB";
  EXPECT_EQ(j["intensity"]["g_per_kwh"], LookupGridIntensity(gb)->g_per_kwh);  // the static figure
  EXPECT_EQ(j["intensity"]["note"],
            "live intensity unavailable: UK Carbon Intensity API: HTTP 429: rate limited; no request for 60 s "
            "(Retry-After); static value used");
  EXPECT_NE(r.err.find("note        live intensity unavailable"), std::string::npos) << r.err;
}

TEST_F(LiveE2e, TimeZoneGivesTheCountry) {
  BinaryResult r = RunWattprint(Args({}, "true"), out_.root(), {{"TZ", "Europe/Paris"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = Json();
  EXPECT_EQ(j["intensity"]["country_iso3"], "FRA");
  EXPECT_EQ(j["intensity"]["location_step"], "time zone");
  GridLocation fr;
  fr.country = "FR";
  const std::string resolution = "time zone Europe/Paris -> FR: " + LookupGridIntensity(fr)->matched;
  EXPECT_EQ(j["intensity"]["resolution"], resolution);
  EXPECT_EQ(j["intensity"]["g_per_kwh"], LookupGridIntensity(fr)->g_per_kwh);
  EXPECT_NE(r.err.find("location: " + resolution + " [step: time zone]"), std::string::npos) << r.err;
}

// A live cache or a cloud-metadata cache of the wrong shape (another
// version, a corrupted disk) is a cache miss: the command runs, keeps its
// exit code, and the record is written.
TEST_F(LiveE2e, CorruptedCachesAreMissesNeverCrashes) {
  uk_.Start();
  const std::string cache = out_.Path("cache");
  const std::map<std::string, std::string> env = {{"XDG_CACHE_HOME", cache}};
  std::vector<std::string> live = {"--live-intensity", "uk", "--uk-intensity-url", uk_.url()};
  BinaryResult r = RunWattprint(Args(live, "exit 4"), out_.root(), env);
  ASSERT_EQ(r.exit_code, 4) << r.err;
  int spoiled = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache + "/wattprint")) {
    if (e.path().filename().string().starts_with("live-")) {
      out_.Write("cache/wattprint/" + e.path().filename().string(), R"({"url":5,"fetched_at":"x","body":[]})");
      ++spoiled;
    }
  }
  ASSERT_EQ(spoiled, 1);
  std::filesystem::remove(out_.Path("run.json"));
  r = RunWattprint(Args(live, "exit 4"), out_.root(), env);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(Json()["intensity"]["source"].get<std::string>().find("UK") != std::string::npos)
      << Json()["intensity"].dump();  // asked the API again
  // The cloud-metadata cache, as a run with metadata on finds it.
  out_.Write("cache/wattprint/cloud-metadata.json", R"({"endpoint":5,"checked_at":"soon","provider":[1]})");
  const std::map<std::string, std::string> meta = {{"XDG_CACHE_HOME", cache}, {"WATTPRINT_CLOUD_METADATA", "true"}};
  std::filesystem::remove(out_.Path("run.json"));
  r = RunWattprint(Args({"--metadata-endpoint", uk_.url()}, "exit 5"), out_.root(), meta);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_TRUE(std::filesystem::exists(out_.Path("run.json")));
  std::map<std::string, std::string> meta_env = meta;
  meta_env["WATTPRINT_METADATA_ENDPOINT"] = uk_.url();
  meta_env["WATTPRINT_SYSFS_ROOT"] = sys_.Path("sys");
  for (const char* cmd : {"doctor", "intensity"}) {
    BinaryResult d = RunWattprint({cmd}, out_.root(), meta_env);
    EXPECT_EQ(d.exit_code, 0) << cmd << ": " << d.err;
  }
}

// Debian's daemon users have HOME=/nonexistent: wattprint must not create
// it. The cache is skipped with one note, and the run is measured as usual.
TEST_F(LiveE2e, MissingHomeIsNeverCreated) {
  uk_.server().Get("/metadata/instance", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"compute":{"location":"westeurope"}})", "application/json");
  });
  uk_.Start();
  const std::string home = out_.Path("nonexistent");
  const std::map<std::string, std::string> env = {{"HOME", home}, {"WATTPRINT_CLOUD_METADATA", "true"}};
  BinaryResult r = RunWattprint(Args({"--metadata-endpoint", uk_.url()}, "exit 5"), out_.root(), env);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_FALSE(std::filesystem::exists(home));
  const std::string note = "is not an existing directory; running without the cache";
  const size_t at = r.err.find(note);
  EXPECT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(note, at + 1), std::string::npos) << "said more than once: " << r.err;
  EXPECT_EQ(Json()["intensity"]["location_step"], "cloud metadata");
  // XDG_CACHE_HOME, when set, is used (and created) instead.
  const std::string xdg = out_.Path("xdg-cache");
  const std::map<std::string, std::string> with_xdg = {
      {"HOME", home}, {"XDG_CACHE_HOME", xdg}, {"WATTPRINT_CLOUD_METADATA", "true"}};
  r = RunWattprint(Args({"--metadata-endpoint", uk_.url()}, "true"), out_.root(), with_xdg);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(home));
  EXPECT_TRUE(std::filesystem::exists(xdg + "/wattprint/cloud-metadata.json"));
  EXPECT_EQ(r.err.find(note), std::string::npos) << r.err;
}

TEST_F(LiveE2e, CloudMetadataBeatsTimeZoneAndIsCached) {
  uk_.server().Get("/metadata/instance", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Metadata") != "true") return;
    res.set_content(R"({"compute":{"location":"westeurope"}})", "application/json");
  });
  uk_.Start();
  const std::map<std::string, std::string> env = {{"TZ", "Europe/Paris"}, {"WATTPRINT_CLOUD_METADATA", "true"}};
  BinaryResult r = RunWattprint(Args({"--metadata-endpoint", uk_.url()}, "true"), out_.root(), env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = Json();
  EXPECT_EQ(j["intensity"]["location_step"], "cloud metadata");
  GridLocation azure;
  azure.cloud_provider = "azure";
  azure.cloud_region = "westeurope";
  EXPECT_EQ(j["intensity"]["resolution"],
            "Azure metadata: location westeurope: " + LookupGridIntensity(azure)->matched);
  EXPECT_EQ(j["intensity"]["g_per_kwh"], LookupGridIntensity(azure)->g_per_kwh);
  // The detected placement is recorded, as a configured one is.
  EXPECT_EQ(j["metadata"]["cloud_provider"], "azure");
  EXPECT_EQ(j["metadata"]["cloud_region"], "westeurope");
  EXPECT_EQ(j["metadata"]["on_cloud"], true);
  const int requests = uk_.requests();
  r = RunWattprint(Args({"--metadata-endpoint", uk_.url()}, "true"), out_.root(), env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(uk_.requests(), requests);  // answered from $HOME/.cache/wattprint
  j = Json();
  EXPECT_EQ(j["intensity"]["location_step"], "cloud metadata");
  // --no-cloud-metadata skips the step.
  r = RunWattprint(Args({"--metadata-endpoint", uk_.url(), "--no-cloud-metadata"}, "true"), out_.root(), env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json()["intensity"]["location_step"], "time zone");
  EXPECT_EQ(Json()["metadata"]["on_cloud"], false);
  EXPECT_TRUE(Json()["metadata"]["cloud_provider"].is_null());
}

TEST_F(LiveE2e, ConfiguredCloudRegionFillsTheCsvCloudColumns) {
  std::vector<std::string> args = {"run", "--sysfs-root", sys_.Path("sys"), "--output-dir", out_.root(),
                                   "--cloud-provider", "aws", "--cloud-region", "eu-west-1", "--", "true"};
  BinaryResult r = RunWattprint(args, out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["cloud_provider"], "aws");
  EXPECT_EQ(rows[0]["cloud_region"], "eu-west-1");
  EXPECT_EQ(rows[0]["on_cloud"], "Y");
  EXPECT_EQ(rows[0]["country_iso_code"], "IRL");
}

TEST_F(LiveE2e, MarginalBasisUsesTheOperatingMarginFactor) {
  BinaryResult r = RunWattprint(Args({"--intensity-basis", "marginal", "--country", "FR"}, "true"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GridLocation fr;
  fr.country = "FR";
  GridSelection unfccc;
  unfccc.dataset = GridDataset::kUnfccc;
  const nlohmann::json j = Json();
  EXPECT_EQ(j["intensity"]["basis"], "marginal");
  EXPECT_EQ(j["intensity"]["g_per_kwh"], LookupGridIntensity(fr, unfccc)->g_per_kwh);
}

TEST_F(LiveE2e, MarginalBasisWithoutALocationIsAUsageError) {
  BinaryResult r =
      RunWattprint(Args({"--intensity-basis", "marginal", "--intensity", "100"}, "true"), out_.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "wattprint: error: no marginal intensity without a location; give --country, --zone, --region or "
            "--cloud-region, or use --intensity-basis average\n");
}

}  // namespace
}  // namespace wattprint::testing
