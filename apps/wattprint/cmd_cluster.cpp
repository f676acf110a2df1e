// `wattprint job` and `wattprint budget`: a cluster job joined over its
// nodes, and the yearly CO2e budgets of Slurm accounts, read from and set
// in the collector (docs/SLURM.md). `budget check` is what job submission
// calls: one line on stdout, exit 0 to allow and 1 to refuse, with a
// short-lived cache so that a burst of submissions asks the collector once.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "collector_client.h"
#include "commands.h"
#include "net/http.h"
#include "options.h"

namespace wattprint::cli {

namespace {

using nlohmann::json;

// "wattprint: error: WHAT" on stderr, and the exit code.
int Fail(int code, const std::string& what) {
  std::fprintf(stderr, "wattprint: error: %s\n", what.c_str());
  return code;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Energy and CO2e in units that fit a job: Wh below a kWh, g below a kg.
std::string Energy(double kwh) { return kwh < 1 ? fmt::format("{:.3f} Wh", kwh * 1000) : fmt::format("{:.3f} kWh", kwh); }
std::string Mass(double kg) { return kg < 1 ? fmt::format("{:.3f} g", kg * 1000) : fmt::format("{:.3f} kg", kg); }

double Num(const json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0; }
std::string Text(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string Utc(int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ClusterOf(const Config& cfg, const std::string& given) {
  if (!given.empty()) return given;
  if (!cfg.cluster_job.cluster.empty()) return cfg.cluster_job.cluster;
  const char* env = std::getenv("SLURM_CLUSTER_NAME");
  return env != nullptr ? env : "";
}

// The short block at the end of a job's output.
std::string Block(const json& job, const std::string& url) {
  const json& t = job["totals"];
  const json& f = t["figures"].is_object() ? t["figures"] : t;
  const json& in = job["intensity"];
  const size_t nodes = job["nodes"].size();
  std::string provenance = Text(in, "source");
  if (!Text(in, "zone").empty()) provenance += ", zone " + Text(in, "zone");
  if (Num(in, "year") > 0) provenance += fmt::format(", {}", static_cast<int>(Num(in, "year")));
  if (!Text(in, "basis").empty()) provenance += ", " + Text(in, "basis") + " basis";
  std::string out = fmt::format("\n-- wattprint: job {} ({} node{}) --\n", Text(job, "job_id"), nodes,
                                nodes == 1 ? "" : "s");
  out += fmt::format("energy {}, CO2e {}", Energy(Num(f, "energy_kwh")), Mass(Num(f, "emissions_kg")));
  if (Num(t, "gpu_hours") > 0) out += fmt::format(", {:.2f} GPU-hours", Num(t, "gpu_hours"));
  out += "\nintensity: " + (provenance.empty() ? std::string("(not recorded)") : provenance) + "\n";
  out += fmt::format("details: wattprint job {} --collector {}\n", Text(job, "job_id"), url);
  return out;
}

std::string Table(const json& job) {
  std::string out = fmt::format("job {} on cluster '{}': user {}, account {}{}\n", Text(job, "job_id"),
                                Text(job, "cluster"), Text(job, "user"), Text(job, "account"),
                                Text(job, "partition").empty() ? "" : ", partition " + Text(job, "partition"));
  out += fmt::format("{:<16} {:>5} {:>14} {:>12} {:>9}  {:<20}  {:<20}\n", "node", "runs", "energy", "CO2e",
                     "GPU-h", "first start", "last end");
  auto row = [&](const std::string& name, const json& figures, const json& at) {
    out += fmt::format("{:<16} {:>5} {:>14} {:>12} {:>9.2f}  {:<20}  {:<20}\n", name,
                       static_cast<int64_t>(Num(at, "runs")), Energy(Num(figures, "energy_kwh")),
                       Mass(Num(figures, "emissions_kg")), Num(at, "gpu_hours"),
                       Num(at, "first_us") > 0 ? Utc(static_cast<int64_t>(Num(at, "first_us"))) : "",
                       Num(at, "last_us") > 0 ? Utc(static_cast<int64_t>(Num(at, "last_us"))) : "");
  };
  for (const json& n : job["nodes"]) row(Text(n, "node"), n, n);
  const json& t = job["totals"];
  row("total", t["figures"].is_object() ? t["figures"] : t, t);
  const json& in = job["intensity"];
  out += fmt::format("intensity: {} (zone {}, {}, {} basis)\n", Text(in, "source"), Text(in, "zone"),
                     static_cast<int>(Num(in, "year")), Text(in, "basis"));
  return out;
}

// ---- budget check's cache --------------------------------------------------

std::string CacheDir() {
  const char* run = std::getenv("XDG_RUNTIME_DIR");
  const std::string dir = run != nullptr && run[0] == '/' ? std::string(run) + "/wattprint"
                                                          : "/tmp/wattprint-" + std::to_string(getuid());
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

std::string CachePath(const Config& cfg, const std::string& account, int64_t year) {
  const size_t h = std::hash<std::string>{}(cfg.collector_url + "\n" + cfg.collector_token);
  return fmt::format("{}/budget-{}-{}-{:016x}.json", CacheDir(), account, year, h);
}

// A cached answer still fresh, or nothing (absent, stale, unreadable or
// not what this writes: then it is asked again and rewritten).
std::optional<json> ReadCache(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (!j.is_object() || !j.contains("expires_us") || !j["expires_us"].is_number_integer() || !j.contains("answer") ||
      !j["answer"].is_object() || j["expires_us"].get<int64_t>() < NowUs()) {
    return std::nullopt;
  }
  return j["answer"];
}

void WriteCache(const std::string& path, const json& answer, double ttl_s) {
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json{{"expires_us", NowUs() + static_cast<int64_t>(ttl_s * 1e6)}, {"answer", answer}}.dump();
    if (!out) return;
  }
  std::rename(tmp.c_str(), path.c_str());
}

bool GoodAccount(const std::string& a) {
  if (a.empty() || a.size() > 128) return false;
  return a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos;
}

int Check(const Config& cfg, const BudgetOptions& o) {
  const bool refuse = o.policy == "refuse";
  const std::string path = CachePath(cfg, o.account, o.year);
  std::optional<json> answer = o.cache_ttl_s > 0 ? ReadCache(path) : std::nullopt;
  if (!answer) {
    const std::string query = o.year > 0 ? "?year=" + std::to_string(o.year) : "";
    Result<Answer> a = Ask(cfg, "GET", "/api/v1/budgets/" + o.account + query, "", std::chrono::milliseconds(1500));
    if (a.ok() && (a->status == 200 || a->status == 404)) {
      answer = a->status == 404 ? json{{"state", "none"}} : a->body;
      if (o.cache_ttl_s > 0) WriteCache(path, *answer, o.cache_ttl_s);
    } else {
      const std::string why = a.ok() ? ErrorOf(*a) : a.status().message();
      std::printf("wattprint: %scannot check the CO2e budget of account %s (%s); %s by the site's policy\n",
                  refuse ? "" : "warning: ", o.account.c_str(), why.c_str(), refuse ? "refused" : "allowed");
      return refuse ? 1 : 0;
    }
  }
  const std::string state = Text(*answer, "state");
  const std::string line = Text(*answer, "message");
  if (!line.empty()) std::printf("%s\n", line.c_str());
  return state == "over" ? 1 : 0;
}

int Status1(const Config& cfg, const BudgetOptions& o) {
  const std::string query = o.year > 0 ? "?year=" + std::to_string(o.year) : "";
  const std::string path = o.account.empty() ? "/api/v1/budgets" + query : "/api/v1/budgets/" + o.account + query;
  Result<Answer> a = Ask(cfg, "GET", path, "", std::chrono::milliseconds(10000));
  if (!a.ok()) return Fail(1, "cannot read the budgets: " + a.status().message());
  if (a->status == 404) return Fail(1, "account " + o.account + " has no budget for that year");
  if (a->status != 200) return Fail(1, "cannot read the budgets: " + ErrorOf(*a));
  if (o.json) {
    std::printf("%s\n", a->body.dump(2).c_str());
    return 0;
  }
  const json items = o.account.empty() ? a->body["budgets"] : json::array({a->body});
  std::printf("%-16s %-7s %12s %12s %12s %6s %10s %14s  %s\n", "account", "year", "budget", "spent", "left", "used",
              "year gone", "projected", "state");
  for (const json& b : items) {
    const int start = static_cast<int>(Num(b, "start_month"));
    const std::string year = start <= 1 ? fmt::format("{}", static_cast<int>(Num(b, "year")))
                                        : fmt::format("{}-{:02}", static_cast<int>(Num(b, "year")), start);
    std::printf("%-16s %-7s %12s %12s %12s %5.0f%% %9.0f%% %14s  %s\n", Text(b, "account").c_str(), year.c_str(),
                Mass(Num(b, "budget_kg")).c_str(), Mass(Num(b, "spent_kg")).c_str(),
                Mass(Num(b, "remaining_kg")).c_str(), Num(b, "used") * 100, Num(b, "year_gone") * 100,
                Mass(Num(b, "projected_kg")).c_str(), Text(b, "state").c_str());
  }
  return 0;
}

int Set(const Config& cfg, const BudgetOptions& o) {
  if (o.kg < 0) return UsageError("budget set needs --kg KG (0 or more)");
  const int64_t year = o.year;
  Result<Answer> a = Ask(cfg, "PUT", fmt::format("/api/v1/budgets/{}/{}", o.account, year),
                         json{{"kg", o.kg}}.dump(), std::chrono::milliseconds(10000));
  if (!a.ok()) return Fail(1, "cannot set the budget: " + a.status().message());
  if (a->status != 200) return Fail(1, "cannot set the budget: " + ErrorOf(*a));
  std::printf("account %s: %s for %lld; spent so far %s\n", o.account.c_str(), Mass(o.kg).c_str(),
              static_cast<long long>(year), Mass(Num(a->body, "spent_kg")).c_str());
  return 0;
}

}  // namespace

int JobCommand(const Config& cfg, const JobOptions& o) {
  if (o.job_id.empty()) return UsageError("give a job id, e.g. wattprint job 4242");
  const std::string cluster = ClusterOf(cfg, o.cluster);
  Result<Answer> a = Ask(cfg, "GET", "/api/v1/jobs/" + net::UrlEncode(cluster) + "/" + net::UrlEncode(o.job_id), "",
                         std::chrono::milliseconds(10000));
  if (!a.ok()) return Fail(1, "cannot read job " + o.job_id + ": " + a.status().message());
  if (a->status != 200) return Fail(1, "cannot read job " + o.job_id + ": " + ErrorOf(*a));
  const std::string out = o.json ? a->body.dump(2) + "\n" : o.block ? Block(a->body, cfg.collector_url) : Table(a->body);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int BudgetCommand(const Config& cfg, const BudgetOptions& o) {
  if (!o.account.empty() && !GoodAccount(o.account)) {
    return UsageError("account '" + o.account + "': an account is letters, digits, '_', '-' and '.'");
  }
  if (o.policy != "allow" && o.policy != "refuse") return UsageError("--policy must be allow or refuse");
  if ((o.action == "set" || o.action == "check") && o.account.empty()) return UsageError("budget " + o.action + " needs an ACCOUNT");
  if (o.action == "set") return Set(cfg, o);
  if (o.action == "check") return Check(cfg, o);
  return Status1(cfg, o);
}

}  // namespace wattprint::cli
