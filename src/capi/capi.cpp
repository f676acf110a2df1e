// The C API (wattprint/wattprint.h): handles, status codes and messages
// around capi::Engine. Every entry point catches every exception, so none
// crosses into C or Fortran, and keeps the message on its handle.
#include "wattprint/wattprint.h"

#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <new>
#include <string>

#include "capi/engine.h"

extern char** environ;  // POSIX: the process environment

struct wp_options {
  wattprint::capi::Settings settings;
  std::string error;
};

struct wp_tracker {
  std::mutex mu;
  mutable std::string error;
  std::unique_ptr<wattprint::capi::Engine> engine;  // null when construction failed
  // Strings handed out by the figure calls, valid until the next state change.
  mutable std::list<std::string> borrowed;
};

namespace {

using wattprint::Status;
using wattprint::capi::Basis;
using wattprint::capi::Engine;

wp_status CodeOf(const Status& st) {
  switch (st.code()) {
    case Status::Code::kOk: return WP_OK;
    case Status::Code::kInvalidArgument: return WP_ERR_INVALID_ARGUMENT;
    case Status::Code::kNotFound: return WP_ERR_NOT_FOUND;
    case Status::Code::kPermissionDenied: return WP_ERR_PERMISSION_DENIED;
    case Status::Code::kNotSupported: return WP_ERR_NOT_SUPPORTED;
    case Status::Code::kIOError: return WP_ERR_IO;
    case Status::Code::kCorrupt: return WP_ERR_CORRUPT;
    case Status::Code::kUnavailable: return WP_ERR_UNAVAILABLE;
    case Status::Code::kResourceExhausted: return WP_ERR_IO;
    case Status::Code::kAlreadyExists: return WP_ERR_INVALID_ARGUMENT;
  }
  return WP_ERR_INTERNAL;
}

void Keep(std::string* slot, const char* message) noexcept {
  try {
    *slot = message;
  } catch (...) {
    slot->clear();  // no memory for the message: the code still says it
  }
}

// Runs `f` (returning a wp_status, with *slot for its message), turning any
// exception into a status.
template <typename F>
wp_status Guarded(std::string* slot, F&& f) noexcept {
  try {
    slot->clear();
    return f();
  } catch (const std::bad_alloc&) {
    Keep(slot, "out of memory");
    return WP_ERR_NO_MEMORY;
  } catch (const std::exception& e) {
    Keep(slot, e.what());
    return WP_ERR_INTERNAL;
  } catch (...) {
    Keep(slot, "an unknown exception inside wattprint");
    return WP_ERR_INTERNAL;
  }
}

wp_status Report(std::string* slot, const Status& st) {
  if (!st.ok()) *slot = st.message();
  return CodeOf(st);
}

wp_status Fail(std::string* slot, wp_status code, const char* message) {
  *slot = message;
  return code;
}

// A call on a tracker: checks the handle, takes its lock, runs f(engine).
template <typename F>
wp_status OnTracker(const wp_tracker* t, F&& f) noexcept {
  if (t == nullptr) return WP_ERR_INVALID_ARGUMENT;
  auto* mt = const_cast<wp_tracker*>(t);  // the lock and message are the handle's own state
  try {
    std::lock_guard<std::mutex> lock(mt->mu);
    return Guarded(&mt->error, [&] {
      if (!mt->engine) return Fail(&mt->error, WP_ERR_STATE, "this tracker could not be created");
      return f(*mt->engine, &mt->error);
    });
  } catch (...) {
    return WP_ERR_INTERNAL;  // the lock itself failed
  }
}

// A state change: the borrowed strings go.
// A state change: the borrowed strings go. f(engine, message slot)
// returns the status.
template <typename F>
wp_status Changing(wp_tracker* t, F&& f) noexcept {
  return OnTracker(t, [&](Engine& e, std::string* err) {
    t->borrowed.clear();
    return f(e, err);
  });
}

const char* Borrow(const wp_tracker* t, std::string s) {
  t->borrowed.push_back(std::move(s));
  return t->borrowed.back().c_str();
}

bool ValidBasis(wp_basis b) { return b == WP_BASIS_AVERAGE || b == WP_BASIS_MARGINAL || b == WP_BASIS_CHOSEN; }
bool ValidScope(wp_scope s) { return s == WP_SCOPE_MACHINE || s == WP_SCOPE_PROCESS; }

wattprint::Scope ScopeOf(wp_scope s) {
  return s == WP_SCOPE_PROCESS ? wattprint::Scope::kProcess : wattprint::Scope::kMachine;
}

bool AnyCountedKnown(const wattprint::Figures& f) {
  for (const wattprint::KindFigure& k : f.kinds) {
    if (k.counted && k.known) return true;
  }
  return false;
}

// A kind's energy in joules, as the CSV and JSON give it: unknown when no
// channel of the kind had a known interval (or no process share), but a
// measured 0 for the GPU of a machine without one.
wattprint::Result<double> EnergyOf(const wattprint::Figures& f, wp_kind kind, wattprint::Scope scope) {
  using wattprint::DeviceKind;
  const bool process = scope == wattprint::Scope::kProcess;
  if (kind == WP_KIND_TOTAL) {
    if (!AnyCountedKnown(f)) return Status::Unavailable("no energy was measured");
    if (process && !f.process_known) return Status::Unavailable("some counted energy has no process share");
    return f.CountedEnergy(scope).joules();
  }
  constexpr DeviceKind kKinds[] = {DeviceKind::kCpu, DeviceKind::kDram, DeviceKind::kGpu, DeviceKind::kPlatform};
  const wattprint::KindFigure& k = f.Kind(kKinds[kind]);
  if (!k.known && kind == WP_KIND_GPU && f.no_gpu) return 0.0;
  if (!k.known) return Status::Unavailable("no channel of this kind was measured");
  if (process && !k.process_ok) return Status::Unavailable("this kind has no process share");
  return k.Of(scope).joules();
}

wattprint::Result<double> Co2eOf(const wattprint::Figures& f, wattprint::Scope scope) {
  if (!AnyCountedKnown(f)) return Status::Unavailable("no energy was measured");
  if (scope == wattprint::Scope::kProcess && !f.process_known) {
    return Status::Unavailable("some counted energy has no process share");
  }
  return f.In(scope).co2e.grams();
}

wattprint::Result<std::string> ProvenanceField(const wattprint::IntensityProvenance& p, std::string_view field) {
  if (field == "zone") return p.zone;
  if (field == "country") return p.country_iso3;
  if (field == "region") return p.region;
  if (field == "source") return p.source;
  if (field == "year") return p.year > 0 ? std::to_string(p.year) : std::string();
  if (field == "basis") return p.basis;
  if (field == "resolution") return p.resolution;
  if (field == "location_step") return p.location_step;
  if (field == "note") return p.note;
  return Status::InvalidArgument("unknown provenance field '" + std::string(field) +
                                 "' (zone, country, region, source, year, basis, resolution, location_step, note)");
}

std::vector<std::string> Environment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

}  // namespace

extern "C" {

const char* wp_version(void) { return WATTPRINT_VERSION; }

const char* wp_status_name(wp_status status) {
  switch (status) {
    case WP_OK: return "ok";
    case WP_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case WP_ERR_NOT_FOUND: return "not_found";
    case WP_ERR_PERMISSION_DENIED: return "permission_denied";
    case WP_ERR_NOT_SUPPORTED: return "not_supported";
    case WP_ERR_IO: return "io";
    case WP_ERR_CORRUPT: return "corrupt";
    case WP_ERR_STATE: return "state";
    case WP_ERR_UNAVAILABLE: return "unavailable";
    case WP_ERR_NO_MEMORY: return "no_memory";
    case WP_ERR_INTERNAL: return "internal";
  }
  return "unknown";
}

void wp_free_string(char* s) { std::free(s); }

wp_status wp_options_new(wp_options** out) {
  if (out == nullptr) return WP_ERR_INVALID_ARGUMENT;
  *out = new (std::nothrow) wp_options();
  return *out == nullptr ? WP_ERR_NO_MEMORY : WP_OK;
}

wp_status wp_options_set(wp_options* opts, const char* key, const char* value) {
  if (opts == nullptr) return WP_ERR_INVALID_ARGUMENT;
  return Guarded(&opts->error, [&] {
    if (key == nullptr || value == nullptr) return Fail(&opts->error, WP_ERR_INVALID_ARGUMENT, "key and value must not be NULL");
    return Report(&opts->error, wattprint::capi::SetOption(&opts->settings, key, value));
  });
}

const char* wp_options_errmsg(const wp_options* opts) { return opts == nullptr ? "" : opts->error.c_str(); }

void wp_options_free(wp_options* opts) { delete opts; }

wp_status wp_tracker_new(const wp_options* opts, wp_tracker** out) {
  if (out == nullptr) return WP_ERR_INVALID_ARGUMENT;
  *out = new (std::nothrow) wp_tracker();
  if (*out == nullptr) return WP_ERR_NO_MEMORY;
  wp_tracker* t = *out;
  return Guarded(&t->error, [&] {
    const wattprint::capi::Settings none;
    auto made = Engine::Make(opts != nullptr ? opts->settings : none, Environment());
    if (!made.ok()) return Report(&t->error, made.status());
    t->engine = std::move(made).value();
    return WP_OK;
  });
}

void wp_tracker_free(wp_tracker* t) {
  try {
    delete t;  // ~Tracker stops a running sampler
  } catch (...) {
  }
}

const char* wp_tracker_errmsg(const wp_tracker* t) { return t == nullptr ? "NULL tracker" : t->error.c_str(); }

wp_status wp_tracker_start(wp_tracker* t) {
  return Changing(t, [](Engine& e, std::string* err) {
    return e.running() ? Fail(err, WP_ERR_STATE, "the tracker runs already") : Report(err, e.Start());
  });
}

wp_status wp_tracker_stop(wp_tracker* t) {
  return Changing(t, [](Engine& e, std::string* err) {
    return e.running() ? Report(err, e.Stop()) : Fail(err, WP_ERR_STATE, "the tracker is not running");
  });
}

wp_status wp_tracker_flush(wp_tracker* t) {
  return Changing(t, [](Engine& e, std::string* err) {
    return e.running() ? Report(err, e.Flush()) : Fail(err, WP_ERR_STATE, "the tracker is not running");
  });
}

wp_status wp_tracker_start_task(wp_tracker* t, const char* name) {
  if (name == nullptr) return WP_ERR_INVALID_ARGUMENT;
  return Changing(t, [&](Engine& e, std::string* err) {
    return e.running() ? Report(err, e.StartTask(name)) : Fail(err, WP_ERR_STATE, "start the tracker before a task");
  });
}

wp_status wp_tracker_stop_task(wp_tracker* t) {
  return Changing(t, [](Engine& e, std::string* err) {
    const Status st = e.StopTask();
    if (st.code() == Status::Code::kNotFound) return Fail(err, WP_ERR_STATE, "no task is open");
    return Report(err, st);
  });
}

wp_status wp_tracker_task_count(const wp_tracker* t, int* count) {
  if (count == nullptr) return WP_ERR_INVALID_ARGUMENT;
  return OnTracker(t, [&](Engine& e, std::string*) {
    *count = static_cast<int>(e.tasks().size());
    return WP_OK;
  });
}

wp_status wp_tracker_task_name(const wp_tracker* t, int task, const char** name) {
  if (name == nullptr) return WP_ERR_INVALID_ARGUMENT;
  return OnTracker(t, [&](Engine& e, std::string* err) {
    if (task < 0 || static_cast<size_t>(task) >= e.tasks().size()) {
      return Fail(err, WP_ERR_INVALID_ARGUMENT, "no such task");
    }
    *name = e.tasks()[static_cast<size_t>(task)].name.c_str();
    return WP_OK;
  });
}

wp_status wp_tracker_duration_s(const wp_tracker* t, int slice, double* seconds) {
  if (seconds == nullptr) return WP_ERR_INVALID_ARGUMENT;
  return OnTracker(t, [&](Engine& e, std::string* err) {
    auto d = e.DurationS(slice);
    if (!d.ok()) return Report(err, d.status());
    *seconds = *d;
    return WP_OK;
  });
}

wp_status wp_tracker_energy_j(const wp_tracker* t, int slice, wp_kind kind, wp_scope scope, double* joules) {
  if (joules == nullptr || !ValidScope(scope) || kind < WP_KIND_CPU || kind > WP_KIND_TOTAL) {
    return WP_ERR_INVALID_ARGUMENT;
  }
  return OnTracker(t, [&](Engine& e, std::string* err) {
    auto f = e.FiguresOf(slice, Basis::kChosen);
    if (!f.ok()) return Report(err, f.status());
    auto j = EnergyOf(*f, kind, ScopeOf(scope));
    if (!j.ok()) return Report(err, j.status());
    *joules = *j;
    return WP_OK;
  });
}

wp_status wp_tracker_co2e_g(const wp_tracker* t, int slice, wp_basis basis, wp_scope scope, double* grams) {
  if (grams == nullptr || !ValidScope(scope) || !ValidBasis(basis)) return WP_ERR_INVALID_ARGUMENT;
  return OnTracker(t, [&](Engine& e, std::string* err) {
    auto f = e.FiguresOf(slice, static_cast<Basis>(basis));
    if (!f.ok()) return Report(err, f.status());
    auto g = Co2eOf(*f, ScopeOf(scope));
    if (!g.ok()) return Report(err, g.status());
    *grams = *g;
    return WP_OK;
  });
}

wp_status wp_tracker_intensity_g_per_kwh(const wp_tracker* t, wp_basis basis, double* g_per_kwh) {
  if (g_per_kwh == nullptr || !ValidBasis(basis)) return WP_ERR_INVALID_ARGUMENT;
  return OnTracker(t, [&](Engine& e, std::string* err) {
    auto i = e.IntensityOf(static_cast<Basis>(basis));
    if (!i.ok()) return Report(err, i.status());
    if ((*i)->points.empty()) return Fail(err, WP_ERR_UNAVAILABLE, "the intensity has no value");
    *g_per_kwh = (*i)->points.front().value.g_per_kwh();
    return WP_OK;
  });
}

wp_status wp_tracker_provenance(const wp_tracker* t, wp_basis basis, const char* field, const char** value) {
  if (field == nullptr || value == nullptr || !ValidBasis(basis)) return WP_ERR_INVALID_ARGUMENT;
  return OnTracker(t, [&](Engine& e, std::string* err) {
    auto i = e.IntensityOf(static_cast<Basis>(basis));
    if (!i.ok()) return Report(err, i.status());
    auto text = ProvenanceField((*i)->provenance, field);
    if (!text.ok()) return Report(err, text.status());
    *value = Borrow(t, *text);
    return WP_OK;
  });
}

wp_status wp_tracker_write_csv(const wp_tracker* t, int slice, const char* dir, const char* file) {
  return OnTracker(t, [&](Engine& e, std::string* err) { return Report(err, e.WriteCsv(slice, dir, file)); });
}

wp_status wp_tracker_write_json(const wp_tracker* t, const char* path) {
  return OnTracker(t, [&](Engine& e, std::string* err) { return Report(err, e.WriteJson(path)); });
}

wp_status wp_tracker_json(const wp_tracker* t, char** json) {
  if (json == nullptr) return WP_ERR_INVALID_ARGUMENT;
  return OnTracker(t, [&](Engine& e, std::string* err) {
    auto text = e.Json();
    if (!text.ok()) return Report(err, text.status());
    *json = strdup(text->c_str());
    return *json == nullptr ? Fail(err, WP_ERR_NO_MEMORY, "out of memory") : WP_OK;
  });
}

const char* wp_tracker_run_id(const wp_tracker* t) {
  if (t == nullptr || !t->engine) return "";
  return t->engine->meta().run_id.c_str();  // set once, at construction
}

wp_status wp_tracker_mpi(const wp_tracker* t, int* rank, int* local_rank, int* measures_node) {
  return OnTracker(t, [&](Engine& e, std::string*) {
    const auto& mpi = e.meta().mpi;
    if (rank != nullptr) *rank = mpi ? mpi->rank : -1;
    if (local_rank != nullptr) *local_rank = mpi ? mpi->local_rank.value_or(-1) : -1;
    if (measures_node != nullptr) *measures_node = !mpi || mpi->measures_node ? 1 : 0;
    return WP_OK;
  });
}

}  // extern "C"
