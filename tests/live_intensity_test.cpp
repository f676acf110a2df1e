// Live intensity providers against fake servers on 127.0.0.1 with the
// documented response shapes: success, timeout, 401, 429 (Retry-After),
// malformed bodies, cache hits (memory and disk); and the exactness of a
// live timeline applied interval by interval.
#include "wattprint/live_intensity.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <thread>

#include "support/fake_http.h"
#include "support/temp_tree.h"
#include "wattprint/ledger.h"

namespace wattprint {
namespace {

using testing::FakeHttpServer;
using testing::TempTree;
using namespace std::chrono_literals;

// Bodies in the shapes documented at carbon-intensity.github.io/api-definitions
// and in the Electricity Maps API reference.
constexpr const char* kUkNational =
    R"({"data":[{"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z",)"
    R"("intensity":{"forecast":266,"actual":263,"index":"moderate"}}]})";
constexpr const char* kUkRegional =
    R"({"data":[{"regionid":13,"dnoregion":"UKPN London","shortname":"London","data":[)"
    R"({"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z","intensity":{"forecast":198,"index":"moderate"},)"
    R"("generationmix":[{"fuel":"gas","perc":43.6},{"fuel":"wind","perc":6.8}]}]}]})";
constexpr const char* kEmLatest =
    R"({"zone":"DE","carbonIntensity":302,"datetime":"2019-05-21T00:00:00.000Z",)"
    R"("updatedAt":"2019-05-21T00:53:21.002Z","emissionFactorType":"lifecycle","isEstimated":false})";

SystemTime Utc(int h, int m) {
  // 2018-01-20T00:00Z = 1516406400 s since the epoch.
  return SystemTime{} + std::chrono::seconds(1516406400 + h * 3600 + m * 60);
}

LiveOptions Uk(const FakeHttpServer& s) {
  LiveOptions o;
  o.provider = LiveProvider::kUk;
  o.base_url = s.url();
  return o;
}

TEST(LiveParse, UkNationalPrefersActual) {
  Result<LiveReading> r = ParseUkIntensity(kUkNational, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->point.value.g_per_kwh(), 263);
  EXPECT_EQ(r->point.from, Utc(12, 0));
  EXPECT_EQ(r->zone, "GB");
  EXPECT_EQ(r->source, "UK Carbon Intensity API (national), actual");
}

TEST(LiveParse, UkRegionalForecast) {
  Result<LiveReading> r = ParseUkIntensity(kUkRegional, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->point.value.g_per_kwh(), 198);
  EXPECT_EQ(r->zone, "GB region 13 (London)");
  EXPECT_EQ(r->source, "UK Carbon Intensity API (regional), forecast");
}

TEST(LiveParse, ElectricityMapsLatest) {
  Result<LiveReading> r = ParseElectricityMapsLatest(kEmLatest);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->point.value.g_per_kwh(), 302);
  EXPECT_EQ(r->point.from, SystemTime{} + std::chrono::seconds(1558396800));
  EXPECT_EQ(r->zone, "DE");
  EXPECT_EQ(r->source, "Electricity Maps API, lifecycle");
}

TEST(LiveParse, MalformedBodiesSayWhat) {
  const std::pair<const char*, const char*> cases[] = {
      {"<html>", "malformed response: not JSON"},
      {"[1]", "malformed response: not a JSON object"},
      {R"({"data":[]})", "malformed response: no 'data' array"},
      {R"({"data":[{"from":"2018-01-20T12:00Z","intensity":{"forecast":"high"}}]})",
       "malformed response: no intensity.actual or intensity.forecast number"},
      {R"({"data":[{"from":"yesterday","intensity":{"forecast":5}}]})",
       "malformed response: bad time 'yesterday'"},
      {R"({"data":[{"from":"2018-01-20T12:00+01:00","intensity":{"forecast":5}}]})",
       "malformed response: time '2018-01-20T12:00+01:00' is not UTC"},
      {R"({"data":[{"from":"2018-01-20T12:00Z","intensity":{"forecast":-3}}]})",
       "malformed response: no intensity.actual or intensity.forecast number"},
  };
  for (const auto& [body, want] : cases) {
    Result<LiveReading> r = ParseUkIntensity(body, false);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().message(), want) << body;
  }
  EXPECT_EQ(ParseElectricityMapsLatest(R"({"zone":"DE","datetime":"2019-05-21T00:00Z"})").status().message(),
            "malformed response: no 'carbonIntensity' number");
  EXPECT_EQ(ParseUkIntensity(R"({"data":[{"regionid":1}]})", true).status().message(),
            "malformed response: no data[0].data array");
}

TEST(LiveIntensity, UkSuccessThenMemoryCacheHitMakesNoRequest) {
  FakeHttpServer s;
  s.server().Get("/intensity", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kUkNational, "application/json");
  });
  s.Start();
  LiveIntensity live(Uk(s));
  Result<LiveReading> a = live.Latest();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->point.value.g_per_kwh(), 263);
  EXPECT_FALSE(a->from_cache);
  Result<LiveReading> b = live.Latest();
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->from_cache);
  EXPECT_EQ(s.requests(), 1);
  EXPECT_EQ(live.requests(), 1);
}

TEST(LiveIntensity, DiskCacheServesANewProcessWithoutARequest) {
  TempTree dir;
  FakeHttpServer s;
  s.server().Get("/regional/regionid/13", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kUkRegional, "application/json");
  });
  s.Start();
  LiveOptions o = Uk(s);
  o.uk_region = 13;
  o.cache_dir = dir.Path("cache");
  ASSERT_TRUE(LiveIntensity(o).Latest().ok());
  LiveIntensity fresh(o);  // another run: empty memory
  Result<LiveReading> r = fresh.Latest();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->from_cache);
  EXPECT_EQ(r->point.value.g_per_kwh(), 198);
  EXPECT_EQ(s.requests(), 1);
  o.cache_ttl = 0s;
  ASSERT_TRUE(LiveIntensity(o).Latest().ok());
  EXPECT_EQ(s.requests(), 2);
}

TEST(LiveIntensity, ElectricityMapsSendsTokenAndZone) {
  FakeHttpServer s;
  std::string zone_seen;
  s.server().Get("/carbon-intensity/latest", [&](const httplib::Request& req, httplib::Response& res) {
    zone_seen = req.get_param_value("zone");
    if (req.get_header_value("auth-token") != "secret") {
      res.status = 401;
      res.set_content(R"({"status":"error","message":"Invalid auth-token"})", "application/json");
      return;
    }
    res.set_content(kEmLatest, "application/json");
  });
  s.Start();
  LiveOptions o;
  o.provider = LiveProvider::kElectricityMaps;
  o.base_url = s.url();
  o.zone = "DE";
  o.token = "secret";
  Result<LiveReading> ok = LiveIntensity(o).Latest();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->point.value.g_per_kwh(), 302);
  EXPECT_EQ(zone_seen, "DE");
  o.token = "wrong";
  Result<LiveReading> denied = LiveIntensity(o).Latest();
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(denied.status().message(),
            "Electricity Maps API: HTTP 401: access refused (check electricitymaps_token / "
            "WATTPRINT_ELECTRICITYMAPS_TOKEN)");
  o.token.clear();
  const int before = s.requests();
  EXPECT_EQ(LiveIntensity(o).Latest().status().message(),
            "Electricity Maps API: no token (set electricitymaps_token or WATTPRINT_ELECTRICITYMAPS_TOKEN)");
  EXPECT_EQ(s.requests(), before);
}

TEST(LiveIntensity, RateLimitIsRespected) {
  FakeHttpServer s;
  s.server().Get("/intensity", [](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "120");
  });
  s.Start();
  LiveIntensity live(Uk(s));
  Result<LiveReading> a = live.Latest();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "UK Carbon Intensity API: HTTP 429: rate limited; no request for 120 s (Retry-After)");
  ASSERT_TRUE(live.retry_not_before().has_value());
  EXPECT_GT(*live.retry_not_before(), std::chrono::system_clock::now() + 100s);
  Result<LiveReading> b = live.Latest();  // within Retry-After: same answer, no request
  EXPECT_EQ(b.status().message(), a.status().message());
  EXPECT_EQ(s.requests(), 1);
}

TEST(LiveIntensity, TimeoutAndMalformedAndServerError) {
  FakeHttpServer s;
  s.server().Get("/intensity", [](const httplib::Request&, httplib::Response&) {
    std::this_thread::sleep_for(1200ms);
  });
  s.server().Get("/regional/regionid/1", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"data\": [", "application/json");
  });
  s.server().Get("/regional/regionid/2", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
  });
  s.Start();
  LiveOptions o = Uk(s);
  o.timeout = 250ms;
  EXPECT_EQ(LiveIntensity(o).Latest().status().message(),
            "UK Carbon Intensity API: timed out after 250 ms");
  o.uk_region = 1;
  Result<LiveReading> bad = LiveIntensity(o).Latest();
  EXPECT_EQ(bad.status().code(), Status::Code::kCorrupt);
  EXPECT_EQ(bad.status().message(), "UK Carbon Intensity API: malformed response: not JSON");
  o.uk_region = 2;
  EXPECT_EQ(LiveIntensity(o).Latest().status().message(), "UK Carbon Intensity API: HTTP 503");
}

TEST(LiveIntensity, ConnectionRefusedIsAOneLineNote) {
  LiveOptions o;
  o.base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  Result<LiveReading> r = LiveIntensity(o).Latest();
  EXPECT_EQ(r.status().message(), "UK Carbon Intensity API: connection refused or unreachable");
}

TEST(LivePoller, GathersOnePointPerPeriodAndFallsBackWithNote) {
  FakeHttpServer s;
  std::atomic<int> n{0};
  s.server().Get("/intensity", [&](const httplib::Request&, httplib::Response& res) {
    // Two half-hours: 12:00 at 200 g, then 12:30 at 100 g.
    const bool second = n++ > 0;
    res.set_content(std::string(R"({"data":[{"from":")") + (second ? "2018-01-20T12:30Z" : "2018-01-20T12:00Z") +
                        R"(","to":"x","intensity":{"forecast":)" + (second ? "100" : "200") + "}}]}",
                    "application/json");
  });
  s.Start();
  LiveOptions o = Uk(s);
  o.cache_ttl = 0s;
  LivePoller poller(std::make_shared<LiveIntensity>(o), 50ms);
  poller.Start();
  while (n.load() < 3) std::this_thread::sleep_for(5ms);
  const LiveSeries series = poller.Stop();
  ASSERT_EQ(series.points.size(), 2u);
  EXPECT_EQ(series.points[0].from, Utc(12, 0));
  EXPECT_EQ(series.points[0].value.g_per_kwh(), 200);
  EXPECT_EQ(series.points[1].from, Utc(12, 30));
  EXPECT_EQ(series.points[1].value.g_per_kwh(), 100);
  EXPECT_TRUE(series.notes.empty());

  IntensityProvenance p;
  p.country_iso3 = "GBR";
  IntensityTimeline st = IntensityTimeline::Constant(Intensity::GramsPerKwh(238), p);
  const IntensityTimeline t = CombineLive(st, series);
  EXPECT_EQ(t.points.size(), 2u);
  EXPECT_EQ(t.provenance.zone, "GB");
  EXPECT_EQ(t.provenance.source, "UK Carbon Intensity API (national), forecast, live");
  EXPECT_EQ(t.provenance.country_iso3, "GBR");

  LiveSeries failed;
  failed.notes = {"UK Carbon Intensity API: timed out after 5000 ms"};
  const IntensityTimeline fb = CombineLive(st, failed);
  ASSERT_EQ(fb.points.size(), 1u);
  EXPECT_EQ(fb.points[0].value.g_per_kwh(), 238);
  EXPECT_EQ(fb.provenance.note,
            "live intensity unavailable: UK Carbon Intensity API: timed out after 5000 ms; static value used");
}

// Two intervals, one in each half-hour: the emissions are exactly
// E1 x I1 + E2 x I2 (g/kWh x kWh), with each interval's own intensity.
TEST(LiveTimeline, EachIntervalUsesTheIntensityValidAtItsTime) {
  ChannelInfo c;
  c.id = c.device_id = "pkg";
  c.kind = DeviceKind::kCpu;
  c.type = ChannelType::kEnergyCounter;
  c.wrap_range = Energy::Joules(1e12);
  c.power_ceiling = Power::Watts(1e9);  // kWh-sized steps make the arithmetic plain
  Ledger ledger({c});
  const SteadyTime t0{};
  const double joules[] = {0, 3.6e6, 3.6e6 + 7.2e6};  // +1 kWh, then +2 kWh
  const SystemTime walls[] = {Utc(12, 10), Utc(12, 20), Utc(12, 50)};
  for (int i = 0; i < 3; ++i) {
    Reading r = Reading::Of(joules[i]);
    ActivitySnapshot a;
    ledger.Add(t0 + std::chrono::minutes(10 * i), walls[i], {&r, 1}, a);
  }
  LiveSeries series;
  series.points = {{Utc(12, 0), Intensity::GramsPerKwh(200)}, {Utc(12, 30), Intensity::GramsPerKwh(100)}};
  series.source = "test";
  const IntensityTimeline t = CombineLive(IntensityTimeline::Constant(Intensity::GramsPerKwh(999), {}), series);
  const EmissionsResult e = ComputeEmissions(ledger, 0, 2, Scope::kMachine, t, 1.0);
  ASSERT_EQ(e.per_interval.size(), 2u);
  EXPECT_DOUBLE_EQ(e.per_interval[0].grams(), 1 * 200);
  EXPECT_DOUBLE_EQ(e.per_interval[1].grams(), 2 * 100);
  EXPECT_DOUBLE_EQ(e.total.grams(), 400);
}

// Times outside what a 64-bit nanosecond clock holds are refused, not
// overflowed.
// The disk cache is a miss, never an error, unless it is for this URL,
// fetched in the past within the TTL, with a body that parses.
TEST(LiveParse, CacheFileRules) {
  const SystemTime now = std::chrono::system_clock::from_time_t(1780272000);
  const std::string body = R"({"data":[{"from":"2026-05-31T23:30Z","intensity":{"forecast":100}}]})";
  auto file = [&](nlohmann::json at, std::string url = "http://u") {
    return nlohmann::json{{"url", url}, {"fetched_at", at}, {"body", body}}.dump();
  };
  const std::chrono::seconds ttl(300);
  auto hit = ParseLiveCache(file(1780272000 - 60), "http://u", now, ttl, LiveProvider::kUk, false);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->fetched_at, now - std::chrono::seconds(60));
  EXPECT_EQ(hit->reading.point.value.g_per_kwh(), 100.0);
  EXPECT_FALSE(ParseLiveCache(file(1780272000 - 400), "http://u", now, ttl, LiveProvider::kUk, false));  // stale
  EXPECT_FALSE(ParseLiveCache(file(1780272000 + 5), "http://u", now, ttl, LiveProvider::kUk, false));  // future
  EXPECT_FALSE(ParseLiveCache(file(-5), "http://u", now, std::chrono::seconds(1LL << 40), LiveProvider::kUk, false));
  EXPECT_FALSE(ParseLiveCache(file("soon"), "http://u", now, ttl, LiveProvider::kUk, false));
  EXPECT_FALSE(ParseLiveCache(file(1780272000 - 60, "http://v"), "http://u", now, ttl, LiveProvider::kUk, false));
  EXPECT_FALSE(ParseLiveCache(R"({"url":5})", "http://u", now, ttl, LiveProvider::kUk, false));
  EXPECT_FALSE(ParseLiveCache("\xff[", "http://u", now, ttl, LiveProvider::kUk, false));
  // The body is parsed as the provider's: a UK body is not an Electricity Maps answer.
  EXPECT_FALSE(ParseLiveCache(file(1780272000 - 60), "http://u", now, ttl, LiveProvider::kElectricityMaps, false));
}

TEST(LiveParse, TimesOutOfRangeAreCorrupt) {
  EXPECT_TRUE(ParseIsoUtc("2024-05-01T12:00Z").ok());
  EXPECT_TRUE(ParseIsoUtc("1970-01-01T00:00Z").ok());
  EXPECT_TRUE(ParseIsoUtc("2199-12-31T23:59:59Z").ok());
  // The UK answer fuzz_live found: a year of 2200 was taken, past the end of
  // the range every reading is promised to lie in.
  for (const char* t : {"2200-01-20T12:00Z", "1969-12-31T23:59Z", "1600-01-01T00:00Z", "2300-01-01T00:00Z", "9999-12-31T23:59Z", "2024-05-01T12:00:nanZ"}) {
    EXPECT_FALSE(ParseIsoUtc(t).ok()) << t;
  }
}

// ---- forecasts ------------------------------------------------------------

// Shapes of carbon-intensity.github.io/api-definitions (fw24h: the
// national periods, "actual" null ahead of time; the regional answer's
// "data" is an object) and of the Electricity Maps forecast reference.
constexpr const char* kUkForecast =
    R"({"data":[{"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z",)"
    R"("intensity":{"forecast":266,"actual":263,"index":"moderate"}},)"
    R"({"from":"2018-01-20T12:30Z","to":"2018-01-20T13:00Z",)"
    R"("intensity":{"forecast":200,"actual":null,"index":"moderate"}}]})";
constexpr const char* kUkRegionalForecast =
    R"({"data":{"regionid":13,"dnoregion":"UKPN London","shortname":"London","data":[)"
    R"({"from":"2018-01-20T12:30Z","to":"2018-01-20T13:00Z","intensity":{"forecast":120,"index":"low"},)"
    R"("generationmix":[]},)"
    R"({"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z","intensity":{"forecast":180,"index":"moderate"},)"
    R"("generationmix":[]}]}})";
constexpr const char* kEmForecast =
    R"({"zone":"DE","forecast":[{"carbonIntensity":557,"datetime":"2018-01-20T12:00:00.000Z"},)"
    R"({"carbonIntensity":517,"datetime":"2018-01-20T13:00:00.000Z"}],"updatedAt":"2018-01-20T11:53:00.000Z"})";

TEST(LiveForecastParse, UkNationalRegionalAndElectricityMaps) {
  Result<LiveForecast> uk = ParseUkForecast(kUkForecast, false);
  ASSERT_TRUE(uk.ok()) << uk.status().ToString();
  ASSERT_EQ(uk->points.size(), 2u);
  EXPECT_EQ(uk->points[0].from, Utc(12, 0));
  EXPECT_EQ(uk->points[0].value.g_per_kwh(), 266);  // the forecast, also where an actual exists
  EXPECT_EQ(uk->points[1].value.g_per_kwh(), 200);
  EXPECT_EQ(uk->end, Utc(13, 0));
  EXPECT_EQ(uk->zone, "GB");
  EXPECT_EQ(uk->source, "UK Carbon Intensity API (national), forecast");

  Result<LiveForecast> region = ParseUkForecast(kUkRegionalForecast, true);
  ASSERT_TRUE(region.ok()) << region.status().ToString();
  ASSERT_EQ(region->points.size(), 2u);
  EXPECT_EQ(region->points[0].from, Utc(12, 0));  // sorted
  EXPECT_EQ(region->points[0].value.g_per_kwh(), 180);
  EXPECT_EQ(region->zone, "GB region 13 (London)");
  EXPECT_EQ(region->source, "UK Carbon Intensity API (regional), forecast");
  // The array form of /regional/regionid/N is read too.
  Result<LiveForecast> array = ParseUkForecast(kUkRegional, true);
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  EXPECT_EQ(array->points[0].value.g_per_kwh(), 198);

  Result<LiveForecast> em = ParseElectricityMapsForecast(kEmForecast);
  ASSERT_TRUE(em.ok()) << em.status().ToString();
  ASSERT_EQ(em->points.size(), 2u);
  EXPECT_EQ(em->points[1].value.g_per_kwh(), 517);
  EXPECT_EQ(em->end, Utc(14, 0));  // hourly: the spacing of the points
  EXPECT_EQ(em->zone, "DE");
  EXPECT_EQ(em->source, "Electricity Maps API, forecast");
}

TEST(LiveForecastParse, MalformedBodiesSayWhat) {
  const std::pair<const char*, const char*> uk[] = {
      {"<html>", "malformed response: not JSON"},
      {R"({"data":[]})", "malformed response: no forecast periods"},
      {R"({"data":{"regionid":1}})", "malformed response: no forecast periods"},
      {R"({"data":[{"to":"2018-01-20T12:30Z","intensity":{"forecast":1}}]})",
       "malformed response: period 0: no 'from' time"},
      {R"({"data":[{"from":"2018-01-20T12:00Z","intensity":{"forecast":1}},)"
       R"({"from":"soon","intensity":{"forecast":1}}]})",
       "malformed response: period 1: bad time 'soon'"},
      {R"({"data":[{"from":"2018-01-20T12:00Z","intensity":{"forecast":null,"actual":null}}]})",
       "malformed response: period 0: no intensity.forecast number"},
      {R"({"data":[{"from":"2018-01-20T12:00Z","intensity":{"forecast":-4}}]})",
       "malformed response: period 0: no intensity.forecast number"},
  };
  for (const auto& [body, want] : uk) {
    Result<LiveForecast> r = ParseUkForecast(body, false);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Status::Code::kCorrupt);
    EXPECT_EQ(r.status().message(), want) << body;
  }
  EXPECT_EQ(ParseUkForecast(R"({"data":{"regionid":1}})", true).status().message(),
            "malformed response: no data.data array");
  const std::pair<const char*, const char*> em[] = {
      {R"({"zone":"DE"})", "malformed response: no 'forecast' array"},
      {R"({"forecast":[{"datetime":"2018-01-20T12:00Z"}]})",
       "malformed response: forecast[0]: no 'carbonIntensity' number"},
      {R"({"forecast":[{"carbonIntensity":5}]})", "malformed response: forecast[0]: no 'datetime' time"},
      {R"({"forecast":[{"carbonIntensity":5,"datetime":"2018-01-20T12:00+02:00"}]})",
       "malformed response: forecast[0]: time '2018-01-20T12:00+02:00' is not UTC"},
  };
  for (const auto& [body, want] : em) {
    EXPECT_EQ(ParseElectricityMapsForecast(body).status().message(), want) << body;
  }
}

// The mean is weighted by the time each period covers of [from, to].
TEST(LiveForecastParse, MeanOverIsTimeWeighted) {
  Result<LiveForecast> f = ParseUkForecast(kUkForecast, false);
  ASSERT_TRUE(f.ok());
  std::optional<ForecastMean> m = MeanOver(*f, Utc(12, 20), Utc(12, 50));  // 10 min at 266, 20 at 200
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->mean.g_per_kwh(), (10 * 266 + 20 * 200) / 30.0);
  EXPECT_DOUBLE_EQ(m->covered.count(), 1800);
  m = MeanOver(*f, Utc(12, 45), Utc(15, 0));  // past the end: only what is covered
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->mean.g_per_kwh(), 200);
  EXPECT_DOUBLE_EQ(m->covered.count(), 900);
  EXPECT_FALSE(MeanOver(*f, Utc(13, 0), Utc(14, 0)));
  EXPECT_FALSE(MeanOver(*f, Utc(12, 10), Utc(12, 10)));
}

// The request names the half-hour the time falls in and the window; a
// second ask within the cache lifetime makes no request.
TEST(LiveIntensity, UkForecastRequestAndMemoryCache) {
  FakeHttpServer s;
  std::vector<std::string> paths;
  std::mutex mu;
  s.server().Get(R"(/intensity/([^/]+)/(fw24h|fw48h))", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu);
    paths.push_back(req.path);
    res.set_content(kUkForecast, "application/json");
  });
  s.server().Get(R"(/regional/intensity/([^/]+)/fw24h/regionid/13)",
                 [&](const httplib::Request&, httplib::Response& res) {
                   res.set_content(kUkRegionalForecast, "application/json");
                 });
  s.Start();
  LiveIntensity live(Uk(s));
  Result<LiveForecast> f = live.Forecast(Utc(12, 17) + 23s, Seconds(3600));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FALSE(f->from_cache);
  EXPECT_EQ(f->points.size(), 2u);
  Result<LiveForecast> again = live.Forecast(Utc(12, 29), Seconds(3600));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->from_cache);
  ASSERT_TRUE(live.Forecast(Utc(12, 17), Seconds(30 * 3600)).ok());  // over 24 h: fw48h
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], "/intensity/2018-01-20T12:00Z/fw24h");
  EXPECT_EQ(paths[1], "/intensity/2018-01-20T12:00Z/fw48h");
  LiveOptions o = Uk(s);
  o.uk_region = 13;
  Result<LiveForecast> r = LiveIntensity(o).Forecast(Utc(12, 40), Seconds(600));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->zone, "GB region 13 (London)");
}

TEST(LiveIntensity, ElectricityMapsForecastSendsTokenAndZone) {
  FakeHttpServer s;
  std::string zone_seen, token_seen;
  s.server().Get("/carbon-intensity/forecast", [&](const httplib::Request& req, httplib::Response& res) {
    zone_seen = req.get_param_value("zone");
    token_seen = req.get_header_value("auth-token");
    res.set_content(kEmForecast, "application/json");
  });
  s.Start();
  LiveOptions o;
  o.provider = LiveProvider::kElectricityMaps;
  o.base_url = s.url();
  o.zone = "DE";
  o.token = "secret";
  Result<LiveForecast> f = LiveIntensity(o).Forecast(Utc(12, 0), Seconds(3600));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->points[0].value.g_per_kwh(), 557);
  EXPECT_EQ(zone_seen, "DE");
  EXPECT_EQ(token_seen, "secret");
  o.token.clear();
  EXPECT_EQ(LiveIntensity(o).Forecast(Utc(12, 0), Seconds(3600)).status().message(),
            "Electricity Maps API: no token (set electricitymaps_token or WATTPRINT_ELECTRICITYMAPS_TOKEN)");
  EXPECT_EQ(s.requests(), 1);
}

// A caller that must not wait long gives its own limit; errors are the
// provider's one-line messages, and a 429 is respected.
TEST(LiveIntensity, ForecastTimeoutErrorsAndRateLimit) {
  FakeHttpServer s;
  s.server().Get(R"(/intensity/([^/]+)/fw24h)", [](const httplib::Request&, httplib::Response&) {
    std::this_thread::sleep_for(1000ms);
  });
  s.server().Get(R"(/regional/intensity/([^/]+)/fw24h/regionid/1)",
                 [](const httplib::Request&, httplib::Response& res) {
                   res.status = 429;
                   res.set_header("Retry-After", "60");
                 });
  s.server().Get(R"(/regional/intensity/([^/]+)/fw24h/regionid/2)",
                 [](const httplib::Request&, httplib::Response& res) {
                   res.set_content(R"({"data":[]})", "application/json");
                 });
  s.Start();
  LiveIntensity slow(Uk(s));
  EXPECT_EQ(slow.Forecast(Utc(12, 0), Seconds(60), 200ms).status().message(),
            "UK Carbon Intensity API: timed out after 200 ms");
  LiveOptions o = Uk(s);
  o.uk_region = 1;
  LiveIntensity limited(o);
  EXPECT_EQ(limited.Forecast(Utc(12, 0), Seconds(60)).status().message(),
            "UK Carbon Intensity API: HTTP 429: rate limited; no request for 60 s (Retry-After)");
  const int before = s.requests();
  EXPECT_FALSE(limited.Forecast(Utc(12, 0), Seconds(60)).ok());
  EXPECT_FALSE(limited.Latest().ok());  // the same wait holds for readings
  EXPECT_EQ(s.requests(), before);
  o.uk_region = 2;
  Result<LiveForecast> bad = LiveIntensity(o).Forecast(Utc(12, 0), Seconds(60));
  EXPECT_EQ(bad.status().code(), Status::Code::kCorrupt);
  EXPECT_EQ(bad.status().message(), "UK Carbon Intensity API: malformed response: no data.data array");
}

TEST(LivePoller, CurrentShowsTheReadingsSoFar) {
  FakeHttpServer s;
  std::atomic<int> n{0};
  s.server().Get("/intensity", [&](const httplib::Request&, httplib::Response& res) {
    ++n;
    res.set_content(kUkNational, "application/json");
  });
  s.Start();
  LivePoller poller(std::make_shared<LiveIntensity>(Uk(s)), 10s);
  poller.Start();
  while (n.load() < 1) std::this_thread::sleep_for(5ms);
  LiveSeries now;
  for (int i = 0; i < 400 && now.readings == 0; ++i) {
    now = poller.Current();
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(now.points.size(), 1u);
  EXPECT_EQ(now.points[0].value.g_per_kwh(), 263);
  EXPECT_EQ(poller.Stop().readings, 1);
}

}  // namespace
}  // namespace wattprint
