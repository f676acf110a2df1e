// Parsers of the live providers' documented responses.
//
// UK Carbon Intensity API (api.carbonintensity.org.uk, NESO, CC BY 4.0;
// carbon-intensity.github.io/api-definitions, checked 2026):
//   GET /intensity ->
//     {"data":[{"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z",
//               "intensity":{"forecast":266,"actual":263,"index":"moderate"}}]}
//   GET /regional/regionid/13 ->
//     {"data":[{"regionid":13,"dnoregion":"UKPN London","shortname":"London",
//               "data":[{"from":...,"to":...,"intensity":{"forecast":266,
//               "index":"moderate"},"generationmix":[...]}]}]}
//   GET /intensity/2018-01-20T12:00Z/fw24h (fw48h) -> {"data":[period, ...]},
//     the periods of /intensity ("actual" null ahead of time);
//   GET /regional/intensity/2018-01-20T12:00Z/fw24h/regionid/13 ->
//     {"data":{"regionid":13,"shortname":"London","data":[period, ...]}}
//     (an object here, where /regional/regionid/N has an array).
//   Values are g CO2/kWh of generation (direct emissions, no lifecycle).
// Electricity Maps API v3 (portal.electricitymaps.com/developer-hub, 2026):
//   GET /carbon-intensity/latest?zone=DE (header auth-token) ->
//     {"zone":"DE","carbonIntensity":302,"datetime":"2019-05-21T00:00:00.000Z",
//      "updatedAt":"...","emissionFactorType":"lifecycle","isEstimated":false}
//   GET /carbon-intensity/forecast?zone=DE ->
//     {"zone":"DE","forecast":[{"carbonIntensity":557,
//      "datetime":"2023-05-02T20:00:00.000Z"}, ...],"updatedAt":"..."}
//     (hourly by default).
#include <algorithm>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wattprint/live_intensity.h"

namespace wattprint {
namespace {

using nlohmann::json;

Status Bad(const std::string& what) { return Status::Corrupt("malformed response: " + what); }

Result<json> ParseJson(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Bad("not JSON");
  if (!j.is_object()) return Bad("not a JSON object");
  return j;
}

// A finite, non-negative number, or nullopt.
std::optional<double> Grams(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  const double v = j[key].get<double>();
  if (!(v >= 0) || v > 1e5) return std::nullopt;
  return v;
}

Result<LiveReading> UkPeriod(const json& period, std::string zone, std::string source) {
  if (!period.is_object() || !period.contains("from") || !period["from"].is_string()) {
    return Bad("no 'from' time");
  }
  Result<SystemTime> from = ParseIsoUtc(period["from"].get<std::string>());
  if (!from.ok()) return Bad(from.status().message());
  const json intensity = period.contains("intensity") ? period["intensity"] : json();
  std::optional<double> g = Grams(intensity, "actual");
  const char* kind = "actual";
  if (!g) {
    g = Grams(intensity, "forecast");
    kind = "forecast";
  }
  if (!g) return Bad("no intensity.actual or intensity.forecast number");
  LiveReading r;
  r.point = {*from, Intensity::GramsPerKwh(*g)};
  r.zone = std::move(zone);
  r.source = fmt::format("{}, {}", source, kind);
  return r;
}

// A forecast body holds at most this many periods (48 h of half-hours is
// 96); more is not an answer of the documented endpoints.
constexpr size_t kMaxForecastPeriods = 10000;

Result<SystemTime> TimeField(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return Bad(where + ": no '" + key + "' time");
  Result<SystemTime> t = ParseIsoUtc(j[key].get<std::string>());
  if (!t.ok()) return Bad(where + ": " + t.status().message());
  return t;
}

// The periods of a UK forecast: {from, to, intensity: {forecast, actual}}.
Result<LiveForecast> UkPeriods(const json& data, std::string zone, std::string source) {
  if (!data.is_array() || data.empty()) return Bad("no forecast periods");
  if (data.size() > kMaxForecastPeriods) return Bad("too many forecast periods");
  LiveForecast f;
  for (size_t i = 0; i < data.size(); ++i) {
    const std::string where = fmt::format("period {}", i);
    Result<SystemTime> from = TimeField(data[i], "from", where);
    if (!from.ok()) return from.status();
    const json intensity = data[i].contains("intensity") ? data[i]["intensity"] : json();
    std::optional<double> g = Grams(intensity, "forecast");
    if (!g) g = Grams(intensity, "actual");
    if (!g) return Bad(where + ": no intensity.forecast number");
    f.points.push_back({*from, Intensity::GramsPerKwh(*g)});
    Result<SystemTime> to = TimeField(data[i], "to", where);
    const SystemTime end = to.ok() ? *to : *from + std::chrono::minutes(30);
    f.end = std::max(f.end, end);
  }
  std::stable_sort(f.points.begin(), f.points.end(),
                   [](const IntensityPoint& a, const IntensityPoint& b) { return a.from < b.from; });
  f.zone = std::move(zone);
  f.source = std::move(source);
  return f;
}

}  // namespace

Result<LiveForecast> ParseUkForecast(std::string_view body, bool regional) {
  Result<json> j = ParseJson(body);
  if (!j.ok()) return j.status();
  const json data = j->contains("data") ? (*j)["data"] : json();
  if (!regional) return UkPeriods(data, "GB", "UK Carbon Intensity API (national), forecast");
  // The documented regional answer has an object; accept the array form of
  // /regional/regionid/N too.
  const json region = data.is_array() && !data.empty() ? data[0] : data;
  if (!region.is_object() || !region.contains("data")) return Bad("no data.data array");
  const int id = region.contains("regionid") && region["regionid"].is_number_integer()
                     ? region["regionid"].get<int>()
                     : 0;
  const std::string name = region.contains("shortname") && region["shortname"].is_string()
                               ? region["shortname"].get<std::string>()
                               : std::string("?");
  return UkPeriods(region["data"], fmt::format("GB region {} ({})", id, name),
                   "UK Carbon Intensity API (regional), forecast");
}

Result<LiveForecast> ParseElectricityMapsForecast(std::string_view body) {
  Result<json> j = ParseJson(body);
  if (!j.ok()) return j.status();
  const json data = j->contains("forecast") ? (*j)["forecast"] : json();
  if (!data.is_array() || data.empty()) return Bad("no 'forecast' array");
  if (data.size() > kMaxForecastPeriods) return Bad("too many forecast periods");
  LiveForecast f;
  for (size_t i = 0; i < data.size(); ++i) {
    const std::string where = fmt::format("forecast[{}]", i);
    const std::optional<double> g = Grams(data[i], "carbonIntensity");
    if (!g) return Bad(where + ": no 'carbonIntensity' number");
    Result<SystemTime> at = TimeField(data[i], "datetime", where);
    if (!at.ok()) return at.status();
    f.points.push_back({*at, Intensity::GramsPerKwh(*g)});
  }
  std::stable_sort(f.points.begin(), f.points.end(),
                   [](const IntensityPoint& a, const IntensityPoint& b) { return a.from < b.from; });
  // Periods are as long as the spacing of the points (an hour by default).
  const size_t n = f.points.size();
  const SystemTime::duration step =
      n >= 2 && f.points[n - 1].from > f.points[n - 2].from ? f.points[n - 1].from - f.points[n - 2].from
                                                            : SystemTime::duration(std::chrono::hours(1));
  f.end = f.points.back().from + step;
  f.zone = j->contains("zone") && (*j)["zone"].is_string() ? (*j)["zone"].get<std::string>() : "";
  f.source = "Electricity Maps API, forecast";
  return f;
}

std::optional<ForecastMean> MeanOver(const LiveForecast& f, SystemTime from, SystemTime to) {
  double weighted = 0;  // g/kWh x s
  Seconds covered{0};
  for (size_t i = 0; i < f.points.size(); ++i) {
    const SystemTime begin = std::max(f.points[i].from, from);
    const SystemTime end = std::min(i + 1 < f.points.size() ? f.points[i + 1].from : f.end, to);
    if (end <= begin) continue;
    const Seconds part = std::chrono::duration_cast<Seconds>(end - begin);
    weighted += f.points[i].value.g_per_kwh() * part.count();
    covered += part;
  }
  if (covered.count() <= 0) return std::nullopt;
  return ForecastMean{Intensity::GramsPerKwh(weighted / covered.count()), covered};
}

Result<SystemTime> ParseIsoUtc(std::string_view t) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
  const std::string s(t);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5) {
    return Status::Corrupt("bad time '" + s + "'");
  }
  std::string_view rest = std::string_view(s).substr(static_cast<size_t>(n));
  double sec = 0;
  if (!rest.empty() && rest[0] == ':') {
    int m = 0;
    if (std::sscanf(std::string(rest).c_str(), ":%lf%n", &sec, &m) != 1) {
      return Status::Corrupt("bad seconds in '" + s + "'");
    }
    rest.remove_prefix(static_cast<size_t>(m));
  }
  if (rest != "Z" && rest != "+00:00" && rest != "+0000") {
    return Status::Corrupt("time '" + s + "' is not UTC");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || !(sec >= 0) || sec >= 61) {
    return Status::Corrupt("bad time '" + s + "'");
  }
  // system_clock counts nanoseconds in 64 bits: 1677 to 2262. A grid reading
  // from before 1970 or from 2200 on is not a reading.
  if (y < 1970 || y > 2199) return Status::Corrupt("time '" + s + "' is out of range (1970 to 2199)");
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  const std::time_t epoch = timegm(&tm);
  return std::chrono::system_clock::from_time_t(epoch) +
         std::chrono::duration_cast<SystemTime::duration>(Seconds(sec));
}

std::string FormatIsoUtcMicros(int64_t us) {
  int64_t secs = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  const std::time_t s = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string FormatIsoUtc(SystemTime t) {
  return FormatIsoUtcMicros(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

Result<LiveReading> ParseUkIntensity(std::string_view body, bool regional) {
  Result<json> j = ParseJson(body);
  if (!j.ok()) return j.status();
  const json data = j->contains("data") ? (*j)["data"] : json();
  if (!data.is_array() || data.empty()) return Bad("no 'data' array");
  if (!regional) return UkPeriod(data[0], "GB", "UK Carbon Intensity API (national)");
  const json& region = data[0];
  if (!region.is_object() || !region.contains("data") || !region["data"].is_array() ||
      region["data"].empty()) {
    return Bad("no data[0].data array");
  }
  const int id = region.contains("regionid") && region["regionid"].is_number_integer()
                     ? region["regionid"].get<int>()
                     : 0;
  const std::string name = region.contains("shortname") && region["shortname"].is_string()
                               ? region["shortname"].get<std::string>()
                               : std::string("?");
  return UkPeriod(region["data"][0], fmt::format("GB region {} ({})", id, name),
                  "UK Carbon Intensity API (regional)");
}

Result<LiveReading> ParseElectricityMapsLatest(std::string_view body) {
  Result<json> j = ParseJson(body);
  if (!j.ok()) return j.status();
  const std::optional<double> g = Grams(*j, "carbonIntensity");
  if (!g) return Bad("no 'carbonIntensity' number");
  if (!j->contains("datetime") || !(*j)["datetime"].is_string()) return Bad("no 'datetime'");
  Result<SystemTime> at = ParseIsoUtc((*j)["datetime"].get<std::string>());
  if (!at.ok()) return Bad(at.status().message());
  LiveReading r;
  r.point = {*at, Intensity::GramsPerKwh(*g)};
  r.zone = j->contains("zone") && (*j)["zone"].is_string() ? (*j)["zone"].get<std::string>() : "";
  const std::string factor = j->contains("emissionFactorType") && (*j)["emissionFactorType"].is_string()
                                 ? (*j)["emissionFactorType"].get<std::string>()
                                 : "lifecycle";
  const bool estimated = j->contains("isEstimated") && (*j)["isEstimated"].is_boolean() &&
                         (*j)["isEstimated"].get<bool>();
  r.source = fmt::format("Electricity Maps API, {}{}", factor, estimated ? ", estimated" : "");
  return r;
}

}  // namespace wattprint
