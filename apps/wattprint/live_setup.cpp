// Location and live intensity for the CLI: this process's environment for
// the library's location steps, and the background work that finds the
// location and polls the live provider while a command runs. What the
// intensity is made of is decided by the library (ChooseIntensity in
// wattprint/session.h), as for Python.
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "commands.h"

namespace wattprint::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

LocationEnv ProcessLocationEnv() {
  LocationEnv env;
  if (const char* tz = std::getenv("TZ")) env.tz = std::string(tz);
  env.xdg_cache_home = Env("XDG_CACHE_HOME");
  env.xdg_state_home = Env("XDG_STATE_HOME");
  env.home = Env("HOME");
  return env;
}

}  // namespace

std::string CacheDir() {
  std::string note;
  std::string dir = CacheDirFor(ProcessLocationEnv(), &note);
  static bool said = false;  // once per process, however many steps ask
  if (!note.empty() && !said) {
    said = true;
    std::fprintf(stderr, "wattprint: note: %s\n", note.c_str());
  }
  return dir;
}

LocationOptions MakeLocationOptions(const Config& cfg) {
  (void)CacheDir();  // says once when there is no cache
  return LocationOptionsFor(cfg, ProcessLocationEnv());
}

BackgroundIntensity::BackgroundIntensity(const Config& cfg, std::optional<IntensityTimeline> given)
    : cfg_(cfg), given_(std::move(given)) {
  if (given_) given_->provenance.location_step = ToString(LocationStep::kExplicit);  // as IntensityAt says it
  // A thread only when the cloud metadata service must be asked; a location
  // found offline (configured, cached, time zone) is resolved when first
  // needed, by Finish or the live poller, on that thread.
  LocationOptions opts = MakeLocationOptions(cfg);
  const std::launch policy = ResolvesOffline(opts) ? std::launch::deferred : std::launch::async;
  location_ = std::async(policy, [opts = std::move(opts)] {
    return ResolveLocation(opts, *PosixFileSystem());
  }).share();
  if (cfg.live_intensity == LiveSetting::kOff) return;
  std::shared_future<Location> loc = location_;
  const std::string cache = CacheDir();
  poller_ = std::make_unique<LivePoller>(
      [cfg, loc, cache] { return MakeLiveIntensity(cfg, loc.get(), cache); }, LivePollPeriod(cfg));
  poller_->Start();
}

BackgroundIntensity::~BackgroundIntensity() = default;

Result<IntensityChoice> BackgroundIntensity::Finish() {
  const Location loc = location_.get();
  if (!poller_) return ChooseIntensity(cfg_, loc, nullptr, given_);
  const LiveSeries live = poller_->Stop();
  return ChooseIntensity(cfg_, loc, &live, given_);
}

}  // namespace wattprint::cli
