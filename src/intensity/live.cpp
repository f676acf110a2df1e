// LiveIntensity: one provider, its requests, errors and caches; LivePoller
// and CombineLive. See wattprint/live_intensity.h.
#include <algorithm>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/json_fields.h"

#include "net/http.h"
#include "wattprint/fs.h"
#include "wattprint/live_intensity.h"

namespace wattprint {
namespace {

using Clock = std::chrono::system_clock;

long long EpochSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Retry-After in seconds; the HTTP-date form and garbage count as 60 s.
std::chrono::seconds RetryAfter(const std::string& header) {
  long long s = 0;
  const auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), s);
  if (header.empty() || ec != std::errc() || end != header.data() + header.size() || s < 0) {
    return std::chrono::seconds(60);
  }
  return std::chrono::seconds(std::min(s, 24LL * 3600));
}

}  // namespace

std::optional<CachedLiveReading> ParseLiveCache(std::string_view text, std::string_view url, SystemTime now,
                                                std::chrono::seconds ttl, LiveProvider provider,
                                                bool regional) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || json_fields::Str(j, "url") != url) return std::nullopt;
  const long long at = json_fields::Int(j, "fetched_at");
  const long long now_s = EpochSeconds(now);
  // at <= now_s first, so the age cannot overflow; times before 1970 are not
  // this program's.
  if (at < 0 || at > now_s || now_s - at >= ttl.count()) return std::nullopt;
  const std::string body = json_fields::Str(j, "body");
  Result<LiveReading> r =
      provider == LiveProvider::kUk ? ParseUkIntensity(body, regional) : ParseElectricityMapsLatest(body);
  if (!r.ok()) return std::nullopt;
  return CachedLiveReading{Clock::from_time_t(static_cast<std::time_t>(at)), *r};
}

LiveIntensity::LiveIntensity(LiveOptions options) : opts_(std::move(options)) {}

std::string LiveIntensity::Name() const {
  return opts_.provider == LiveProvider::kUk ? "UK Carbon Intensity API" : "Electricity Maps API";
}

int LiveIntensity::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::optional<SystemTime> LiveIntensity::retry_not_before() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retry_not_before_;
}

std::string LiveIntensity::Url() const {
  if (opts_.provider == LiveProvider::kUk) {
    if (opts_.uk_region == 0) return opts_.base_url + "/intensity";
    return fmt::format("{}/regional/regionid/{}", opts_.base_url, opts_.uk_region);
  }
  return opts_.base_url + "/carbon-intensity/latest?zone=" + net::UrlEncode(opts_.zone);
}

std::string LiveIntensity::CachePath() const {
  if (opts_.cache_dir.empty()) return "";
  // One file per URL; the token is not part of the URL, so never on disk.
  return fmt::format("{}/live-{:016x}.json", opts_.cache_dir, std::hash<std::string>{}(Url()));
}

Result<std::string> LiveIntensity::Get(const std::string& url, std::chrono::milliseconds timeout) {
  const std::string name = Name();
  net::HttpRequest req;
  req.url = url;
  // A caller's shorter limit bounds the connection too.
  req.connect_timeout = timeout < opts_.timeout ? std::min(opts_.connect_timeout, timeout) : opts_.connect_timeout;
  req.timeout = timeout;
  req.headers = {{"Accept", "application/json"}};
  if (opts_.provider == LiveProvider::kElectricityMaps) req.headers.emplace_back("auth-token", opts_.token);
  ++requests_;
  Result<net::HttpResponse> r = net::HttpFetch(req);
  if (!r.ok() && r.status().code() == Status::Code::kNotSupported) {
    return Status::NotSupported(name + ": " + r.status().message());
  }
  if (!r.ok()) return Status::IOError(name + ": " + r.status().message());
  if (r->status == 401 || r->status == 403) {
    const char* fix = opts_.provider == LiveProvider::kUk
                          ? "check uk_intensity_url"
                          : "check electricitymaps_token / WATTPRINT_ELECTRICITYMAPS_TOKEN";
    return Status::PermissionDenied(fmt::format("{}: HTTP {}: access refused ({})", name, r->status, fix));
  }
  if (r->status == 429) {
    const std::chrono::seconds wait = RetryAfter(r->retry_after);
    retry_not_before_ = Clock::now() + wait;
    last_429_ = Status::IOError(fmt::format("{}: HTTP 429: rate limited; no request for {} s (Retry-After)",
                                            name, wait.count()));
    return last_429_;
  }
  if (r->status != 200) return Status::IOError(fmt::format("{}: HTTP {}", name, r->status));
  return std::move(r->body);
}

Result<LiveReading> LiveIntensity::Fetch() {
  const std::string name = Name();
  const std::string url = Url();
  Result<std::string> body = Get(url, opts_.timeout);
  if (!body.ok()) return body.status();
  Result<LiveReading> reading = opts_.provider == LiveProvider::kUk
                                    ? ParseUkIntensity(*body, opts_.uk_region != 0)
                                    : ParseElectricityMapsLatest(*body);
  if (!reading.ok()) return Status::Corrupt(name + ": " + reading.status().message());
  if (const std::string path = CachePath(); !path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts_.cache_dir, ec);
    const nlohmann::json j = {{"url", url}, {"fetched_at", EpochSeconds(Clock::now())}, {"body", *body}};
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << j.dump() << "\n";
    std::filesystem::rename(tmp, path, ec);
  }
  return reading;
}

Result<LiveReading> LiveIntensity::Latest() {
  std::lock_guard<std::mutex> lock(mu_);
  const SystemTime now = Clock::now();
  if (opts_.provider == LiveProvider::kElectricityMaps && opts_.token.empty()) {
    return Status::InvalidArgument(
        "Electricity Maps API: no token (set electricitymaps_token or WATTPRINT_ELECTRICITYMAPS_TOKEN)");
  }
  if (opts_.provider == LiveProvider::kElectricityMaps && opts_.zone.empty()) {
    return Status::InvalidArgument("Electricity Maps API: no zone known for this location (give --country)");
  }
  if (memory_ && now - memory_->first < opts_.cache_ttl) {
    LiveReading r = memory_->second;
    r.from_cache = true;
    return r;
  }
  if (const std::string path = CachePath(); !path.empty()) {
    // A cache of the wrong shape (another version, a corrupted disk) is a
    // miss, never an exception on the poller thread.
    const Result<std::string> text = PosixFileSystem()->ReadFile(path);
    if (text.ok()) {
      if (std::optional<CachedLiveReading> c =
              ParseLiveCache(*text, Url(), now, opts_.cache_ttl, opts_.provider, opts_.uk_region != 0)) {
        memory_ = {{c->fetched_at, c->reading}};
        LiveReading out = c->reading;
        out.from_cache = true;
        return out;
      }
    }
  }
  if (retry_not_before_ && now < *retry_not_before_) return last_429_;
  Result<LiveReading> r = Fetch();
  if (r.ok()) memory_ = {{now, *r}};
  return r;
}

std::string LiveIntensity::ForecastUrl(SystemTime from, Seconds span) const {
  if (opts_.provider == LiveProvider::kElectricityMaps) {
    return opts_.base_url + "/carbon-intensity/forecast?zone=" + net::UrlEncode(opts_.zone);
  }
  // The half-hour `from` falls in: its period is the first of the answer,
  // and the URL stays the same (a cache hit) for thirty minutes.
  const long long s = EpochSeconds(from);
  const SystemTime start = Clock::from_time_t(static_cast<std::time_t>(s - ((s % 1800) + 1800) % 1800));
  const std::string at = FormatIsoUtc(start).substr(0, 16) + "Z";  // "2018-01-20T12:00Z"
  const char* window = span > std::chrono::hours(24) ? "fw48h" : "fw24h";
  if (opts_.uk_region == 0) return fmt::format("{}/intensity/{}/{}", opts_.base_url, at, window);
  return fmt::format("{}/regional/intensity/{}/{}/regionid/{}", opts_.base_url, at, window, opts_.uk_region);
}

Result<LiveForecast> LiveIntensity::Forecast(SystemTime from, Seconds span, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  const SystemTime now = Clock::now();
  const std::string name = Name();
  if (opts_.provider == LiveProvider::kElectricityMaps && opts_.token.empty()) {
    return Status::InvalidArgument(name + ": no token (set electricitymaps_token or WATTPRINT_ELECTRICITYMAPS_TOKEN)");
  }
  if (opts_.provider == LiveProvider::kElectricityMaps && opts_.zone.empty()) {
    return Status::InvalidArgument(name + ": no zone known for this location (give --country)");
  }
  const std::string url = ForecastUrl(from, span);
  if (forecast_memory_ && forecast_memory_->url == url && now - forecast_memory_->fetched_at < opts_.cache_ttl) {
    LiveForecast f = forecast_memory_->forecast;
    f.from_cache = true;
    return f;
  }
  if (retry_not_before_ && now < *retry_not_before_) return last_429_;
  Result<std::string> body = Get(url, timeout.count() > 0 ? timeout : opts_.timeout);
  if (!body.ok()) return body.status();
  Result<LiveForecast> f = opts_.provider == LiveProvider::kUk ? ParseUkForecast(*body, opts_.uk_region != 0)
                                                               : ParseElectricityMapsForecast(*body);
  if (!f.ok()) return Status::Corrupt(name + ": " + f.status().message());
  forecast_memory_ = CachedForecast{url, now, *f};
  return f;
}

LivePoller::LivePoller(std::shared_ptr<LiveIntensity> live, std::chrono::milliseconds period)
    : live_(std::move(live)), period_(period) {}

LivePoller::LivePoller(std::function<std::shared_ptr<LiveIntensity>()> make,
                       std::chrono::milliseconds period)
    : make_(std::move(make)), period_(period) {}

LivePoller::~LivePoller() { (void)Stop(); }

void LivePoller::Start() { thread_ = std::thread([this] { Loop(); }); }

void LivePoller::Loop() {
  if (!live_ && make_) live_ = make_();
  std::unique_lock<std::mutex> lock(mu_);
  if (!live_) return;
  // At least one reading, even when the run ends before the first ask: a
  // short command still gets the live value (bounded by the timeout).
  bool first = true;
  while (first || !stop_) {
    first = false;
    lock.unlock();
    Result<LiveReading> r = Status::IOError("not asked");
    // Nothing from the provider, its cache or the parsers may end the
    // process from this thread: it would kill the tracked command's parent.
    try {
      r = live_->Latest();
    } catch (const std::exception& e) {
      r = Status::Corrupt(std::string("live intensity failed: ") + e.what());
    }
    lock.lock();
    if (r.ok()) {
      ++series_.readings;
      series_.source = r->source;
      series_.zone = r->zone;
      auto& pts = series_.points;
      auto it = std::find_if(pts.begin(), pts.end(), [&](const IntensityPoint& p) { return p.from >= r->point.from; });
      if (it != pts.end() && it->from == r->point.from) {
        it->value = r->point.value;  // a later reading of the same period (actual replaces forecast)
      } else {
        pts.insert(it, r->point);
      }
    } else if (std::find(series_.notes.begin(), series_.notes.end(), r.status().message()) ==
               series_.notes.end()) {
      series_.notes.push_back(r.status().message());
    }
    cv_.wait_for(lock, period_, [this] { return stop_; });
  }
}

LiveSeries LivePoller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return series_;
}

LiveSeries LivePoller::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  return series_;
}

IntensityTimeline CombineLive(IntensityTimeline st, const LiveSeries& live) {
  std::string notes;
  for (const std::string& n : live.notes) notes += (notes.empty() ? "" : "; ") + n;
  if (live.points.empty()) {
    const std::string why = notes.empty() ? "no reading arrived before the run ended" : notes;
    st.provenance.note = "live intensity unavailable: " + why + "; static value used";
    return st;
  }
  IntensityTimeline t;
  t.points = live.points;
  t.provenance = st.provenance;
  t.provenance.zone = live.zone;
  t.provenance.source = live.source + ", live";
  t.provenance.year = 0;
  t.provenance.basis = "average";
  t.provenance.is_default = false;
  if (!notes.empty()) t.provenance.note = "some live requests failed: " + notes;
  return t;
}

}  // namespace wattprint
