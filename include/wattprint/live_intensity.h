// Live grid carbon intensity from web APIs: the Electricity Maps API (zone
// key, token) and the UK Carbon Intensity API (Great Britain, national or
// one of 17 regions, half-hourly, no key).
//
// Requests are made off the measurement path: LivePoller runs them on its
// own thread while the tracked command runs. Answers are cached in memory
// and on disk for cache_ttl; a 429 is respected (no request before its
// Retry-After). Every failure is a Status with a one-line message saying
// what went wrong and what to do; the caller falls back to the static
// intensity and records the note.
//
// Thread safety: LiveIntensity is safe to share between threads (one mutex
// around its cache). LivePoller is driven by one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "wattprint/emissions.h"
#include "wattprint/status.h"

namespace wattprint {

enum class LiveProvider { kElectricityMaps, kUk };

struct LiveOptions {
  LiveProvider provider = LiveProvider::kUk;
  // Electricity Maps: "https://api.electricitymap.org/v3";
  // UK: "https://api.carbonintensity.org.uk". Tests point these at 127.0.0.1.
  std::string base_url;
  std::string token;   // Electricity Maps auth-token; never written to disk
  std::string zone;    // Electricity Maps zone key ("FR", "US-CAL-CISO")
  int uk_region = 0;   // 0 = national (Great Britain), 1..17 = regionid
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000};
  std::string cache_dir;               // "" = memory cache only
  std::chrono::seconds cache_ttl{300};  // 0 = always ask
};

struct LiveReading {
  IntensityPoint point;     // `from` = start of the period the value is for
  std::string source;       // "UK Carbon Intensity API (national), actual"
  std::string zone;         // "GB", "GB region 13 (London)", "DE"
  bool from_cache = false;
};

// Parsers of the documented response bodies (exposed for table tests).
// UK /intensity and /regional/regionid/N; Electricity Maps
// /carbon-intensity/latest. Corrupt, with what is wrong, on bad input.
Result<LiveReading> ParseUkIntensity(std::string_view body, bool regional);
Result<LiveReading> ParseElectricityMapsLatest(std::string_view body);
// A forecast of the intensity ahead: half-hourly periods (UK, up to 48 h),
// hourly ones (Electricity Maps, about a day). Each point is valid until
// the next one, the last until `end`.
struct LiveForecast {
  std::vector<IntensityPoint> points;  // sorted by `from`; at least one
  SystemTime end;                      // when the last period ends
  std::string source;                  // "UK Carbon Intensity API (national), forecast"
  std::string zone;                    // as in LiveReading
  bool from_cache = false;
};
// Parsers of the forecast bodies: UK GET /intensity/{from}/fw24h (and
// fw48h), GET /regional/intensity/{from}/fw24h/regionid/{id}; Electricity
// Maps GET /carbon-intensity/forecast?zone=Z. Corrupt, naming the period
// that is wrong, on bad input.
Result<LiveForecast> ParseUkForecast(std::string_view body, bool regional);
Result<LiveForecast> ParseElectricityMapsForecast(std::string_view body);

// The time-weighted mean of a forecast over [from, to], over the part of it
// the forecast covers (`covered`); nullopt when it covers none of it.
struct ForecastMean {
  Intensity mean;
  Seconds covered{0};
};
std::optional<ForecastMean> MeanOver(const LiveForecast& forecast, SystemTime from, SystemTime to);

// ISO 8601 UTC: "2018-01-20T12:00Z", "2019-05-21T00:00:00.000Z", "+00:00".
Result<SystemTime> ParseIsoUtc(std::string_view text);
// The inverse, to the microsecond: "2026-12-01T08:43:22.799447Z"
// (what ParseIsoUtc and the collector read back exactly).
std::string FormatIsoUtc(SystemTime t);
std::string FormatIsoUtcMicros(int64_t us_since_epoch);

// A disk cache file's text (as LiveIntensity writes it: url, fetched_at,
// body): the reading it holds, and when it was fetched, if it is for `url`,
// younger than `ttl` at `now` and its body parses; nullopt otherwise (a
// miss, never an error).
struct CachedLiveReading {
  SystemTime fetched_at;
  LiveReading reading;
};
std::optional<CachedLiveReading> ParseLiveCache(std::string_view text, std::string_view url, SystemTime now,
                                                std::chrono::seconds ttl, LiveProvider provider,
                                                bool regional);

class LiveIntensity {
 public:
  explicit LiveIntensity(LiveOptions options);
  // The current reading: memory cache, else disk cache (both younger than
  // cache_ttl), else one HTTP request.
  Result<LiveReading> Latest();
  // "UK Carbon Intensity API", "Electricity Maps API".
  std::string Name() const;
  int requests() const;  // HTTP requests made so far
  // When a 429 asked to wait, the earliest time of the next request.
  std::optional<SystemTime> retry_not_before() const;
  // The forecast covering [from, from + span] as far as the provider
  // forecasts (UK: fw24h, or fw48h for a span over 24 h, from the
  // half-hour `from` falls in; Electricity Maps: its default horizon).
  // Cached in memory for cache_ttl; a 429 is respected. `timeout` > 0
  // replaces the options' timeout for this request (a caller that must not
  // wait long).
  Result<LiveForecast> Forecast(SystemTime from, Seconds span, std::chrono::milliseconds timeout = {});

 private:
  Result<LiveReading> Fetch();
  // One GET of `url` with the provider's headers: the body of a 200, else
  // the provider's one-line error (401/403, 429 with Retry-After, others).
  // Called with mu_ held.
  Result<std::string> Get(const std::string& url, std::chrono::milliseconds timeout);
  std::string Url() const;
  std::string ForecastUrl(SystemTime from, Seconds span) const;
  std::string CachePath() const;

  LiveOptions opts_;
  mutable std::mutex mu_;
  std::optional<std::pair<SystemTime, LiveReading>> memory_;  // fetched at, reading
  std::optional<SystemTime> retry_not_before_;
  Status last_429_;
  int requests_ = 0;
  struct CachedForecast {
    std::string url;
    SystemTime fetched_at;
    LiveForecast forecast;
  };
  std::optional<CachedForecast> forecast_memory_;
};

// What a poller gathered over a run.
struct LiveSeries {
  std::vector<IntensityPoint> points;  // sorted by `from`, one per period
  std::string source, zone;
  std::vector<std::string> notes;      // failures, each once
  int readings = 0;
};

// Asks `live` for the latest reading at once and then every `period` until
// Stop(). Each reading's period becomes one point of the run's timeline.
class LivePoller {
 public:
  LivePoller(std::shared_ptr<LiveIntensity> live, std::chrono::milliseconds period);
  // Builds the provider on the polling thread first (it may wait for the
  // location, which decides the zone); nullptr = nothing to poll.
  LivePoller(std::function<std::shared_ptr<LiveIntensity>()> make, std::chrono::milliseconds period);
  ~LivePoller();
  void Start();
  // Ends polling and returns what was gathered; waits for a request in
  // flight (bounded by the request timeout).
  LiveSeries Stop();
  // What was gathered so far, while polling goes on (a prediction during
  // the run); never waits for a request in flight.
  LiveSeries Current();

 private:
  void Loop();
  std::shared_ptr<LiveIntensity> live_;
  std::function<std::shared_ptr<LiveIntensity>()> make_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  LiveSeries series_;
  std::thread thread_;
};

// The timeline a run uses: the live points when there are any (provenance
// from the provider, the static timeline's location fields kept), else the
// static timeline with a note saying why live data was not used.
IntensityTimeline CombineLive(IntensityTimeline static_timeline, const LiveSeries& live);

}  // namespace wattprint
