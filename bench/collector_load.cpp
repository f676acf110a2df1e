// The collector's load generator: every request goes to a `wattprint serve`
// this program starts on 127.0.0.1, with bounded counts and time.
//
//   collector_load --wattprint ./build-test/wattprint [--engine sqlite|postgres|both] [--only runs-table]
//
// Measures, per engine: interval rows ingested per second over loopback
// HTTP (batches of 1000, 4 agents); 1000 agents each posting 60 intervals of
// 1 s and then its run's record (64 at a time), with errors, losses checked
// against the totals, and latency percentiles; the organisation's totals
// with 10^6 interval rows stored; the server's RSS when idle; the
// dashboard's runs table (sorted, paged, filtered, exported) over 10^5 runs.
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "store/db.h"
#include "store/rows.h"
#include "support/capture.h"
#include "support/free_port.h"
#include "support/pg_server.h"
#include "wattprint/store.h"

extern char** environ;

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string g_wattprint;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string Capture(const std::vector<std::string>& args) {
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  return wattprint::testing::Capture(cmd);
}

struct Server {
  pid_t pid = 0;
  int port = wattprint::testing::FreePort();
  explicit Server(const std::string& db) {
    std::vector<std::string> args = {g_wattprint, "serve", "--db", db, "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--threads", "16"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    for (int i = 0; i < 400; ++i) {
      httplib::Client c("127.0.0.1", port);
      if (c.Get("/auth/check")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::fprintf(stderr, "the server did not start\n");
    std::exit(1);
  }
  ~Server() {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  long RssKib() const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
  }
};

json Interval(int64_t seq, int64_t start_s) {
  auto iso = [](int64_t s) {
    std::time_t t = s;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  return {{"seq", seq},          {"start", iso(start_s)},      {"end", iso(start_s + 1)}, {"duration_s", 1.0},
          {"cpu_energy_kwh", 1e-5}, {"gpu_energy_kwh", 0.0},   {"ram_energy_kwh", 2e-6}, {"energy_kwh", 1.2e-5},
          {"emissions_kg", 1e-6}, {"cpu_power_w", 36.0},       {"gpu_power_w", 0.0},     {"ram_power_w", 7.2}};
}

json Metadata(const std::string& run_id) {
  return {{"run_id", run_id}, {"experiment_id", ""}, {"start", "2026-06-01T00:00:00Z"}, {"host", "bench"}};
}

json Record(const std::string& run_id) {
  return {{"metadata", Metadata(run_id)},
          {"duration_s", 60.0},
          {"emissions", {{"scope", "machine"}, {"kg", 6e-5}, {"machine", {{"energy", {{"kwh", 7.2e-4}}}}}}},
          {"kinds", json::object()},
          {"intensity", {{"g_per_kwh", 83.3}, {"source", "bench"}, {"basis", "average"}}}};
}

struct Project {
  std::string id, org, token;
};

Project MakeProject(const std::string& db) {
  const json p = json::parse(Capture({g_wattprint, "admin", "--db", db, "create-project", "Bench", "load"}));
  return {p["project_id"], p["organization_id"], p["token"]};
}

httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// Interval rows per second: 4 agents, each posting 25 batches of 1000.
double IngestRate(const Server& s, const Project& p) {
  const int agents = 4, batches = 25, per = 1000;
  std::atomic<int> errors{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int a = 0; a < agents; ++a) {
    threads.emplace_back([&, a] {
      httplib::Client c("127.0.0.1", s.port);
      c.set_read_timeout(60, 0);
      const std::string run = wattprint::store::NewId();
      for (int b = 0; b < batches; ++b) {
        json body = {{"metadata", Metadata(run)}, {"intervals", json::array()}};
        for (int i = 0; i < per; ++i) body["intervals"].push_back(Interval(b * per + i + 1, 1780272000 + b * per + i));
        auto r = c.Post("/api/v1/runs/" + run + "/intervals", Auth(p.token), body.dump(), "application/json");
        if (!r || r->status != 200) ++errors;
      }
      (void)a;
    });
  }
  for (auto& t : threads) t.join();
  const double s_elapsed = Ms(Clock::now() - start) / 1000;
  if (errors > 0) std::printf("  ingest: %d failed batches\n", errors.load());
  return agents * batches * per / s_elapsed;
}

void ManyAgents(const Server& s, const Project& p, const char* engine) {
  const int agents = 1000, parallel = 64;
  std::atomic<int> next{0}, errors{0};
  std::vector<double> latencies;
  std::map<std::string, int> error_kinds;
  std::mutex mu;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < parallel; ++w) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      for (int a = next++; a < agents; a = next++) {
        // Each agent is its own process with its own connection, as
        // `wattprint run` is.
        httplib::Client c("127.0.0.1", s.port);
        c.set_read_timeout(60, 0);
        const std::string run = wattprint::store::NewId();
        json body = {{"metadata", Metadata(run)}, {"intervals", json::array()}};
        for (int i = 0; i < 60; ++i) body["intervals"].push_back(Interval(i + 1, 1780272000 + i));
        for (const auto& [path, text] :
             {std::pair{"/api/v1/runs/" + run + "/intervals", body.dump()}, {std::string("/api/v1/runs"), Record(run).dump()}}) {
          const auto t0 = Clock::now();
          auto r = c.Post(path, Auth(p.token), text, "application/json");
          mine.push_back(Ms(Clock::now() - t0));
          if (!r || (r->status != 200 && r->status != 201)) {
            ++errors;
            std::lock_guard<std::mutex> lock(mu);
            const std::string why = r ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 120)
                                      : "transport: " + httplib::to_string(r.error());
            ++error_kinds[why];
          }
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = Ms(Clock::now() - start) / 1000;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) { return latencies[static_cast<size_t>(q * (latencies.size() - 1))]; };
  httplib::Client c("127.0.0.1", s.port);
  auto r = c.Get("/api/v1/projects/" + p.id + "/totals", Auth(p.token));
  const json t = json::parse(r->body);
  const int64_t runs = t["runs"].get<int64_t>() - 4;  // the ingest runs came first
  const int64_t lost = agents - runs;
  std::printf("%-10s 1000 agents x (60 intervals + record), 64 at a time: %.1f s, %d errors, %lld lost, "
              "latency p50 %.1f ms p99 %.1f ms max %.1f ms\n",
              engine, elapsed, errors.load(), static_cast<long long>(lost), pct(0.5), pct(0.99), latencies.back());
  for (const auto& [why, n] : error_kinds) std::printf("           %d x %s\n", n, why.c_str());
}

// Totals of an organisation holding 10^6 interval rows (stored through the
// Store, 1000 runs of 1000 intervals), read over HTTP: median of 21.
void TotalsOfAMillion(const std::string& db, const Server& s, const Project& p, const char* engine) {
  auto store = wattprint::store::OpenStore(db, 4);
  if (!store.ok()) return;
  auto exps = (*store)->ListExperiments(p.id);
  const auto fill0 = Clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> next{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&] {
      for (int r = next++; r < 1000; r = next++) {
        wattprint::store::Run run;
        run.id = wattprint::store::NewId();
        run.experiment_id = exps->front().id;
        run.source = "wattprint";
        run.start_us = run.end_us = 1780272000LL * 1000000 + r;
        (void)(*store)->CreateRun(run);
        std::vector<wattprint::store::Interval> ivs(1000);
        for (int i = 0; i < 1000; ++i) {
          ivs[i].seq = i + 1;
          ivs[i].start_us = run.start_us + i * 1000000LL;
          ivs[i].end_us = ivs[i].start_us + 1000000;
          ivs[i].figures = {1e-5, 0, 2e-6, 1.2e-5, 1e-6, 1, 0};
        }
        (void)(*store)->AddIntervals(run.id, ivs, true);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double fill_s = Ms(Clock::now() - fill0) / 1000;
  httplib::Client c("127.0.0.1", s.port);
  std::vector<double> ms;
  json t;
  for (int i = 0; i < 21; ++i) {
    const auto t0 = Clock::now();
    auto r = c.Get("/api/v1/organizations/" + p.org + "/totals", Auth(p.token));
    ms.push_back(Ms(Clock::now() - t0));
    if (r && r->status == 200) t = json::parse(r->body);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-10s organisation totals over %lld interval rows: %.2f ms median (stored at %.0f rows/s through "
              "the Store)\n",
              engine, t.is_null() ? -1LL : t["intervals"].get<long long>(), ms[10], 1e6 / fill_s);
}

// The dashboard's runs table over a project of 10^5 runs (stored in one
// transaction through the Store's rows), read over HTTP: the first page,
// sorted by CO2e, the last page of that order, a text filter, and the CSV
// export of every run. Median of 11 (3 for the export).
void RunsTableOf100k(const std::string& db, const Server& s, const char* engine) {
  const json made = json::parse(Capture({g_wattprint, "admin", "--db", db, "create-project", "Bench", "table"}));
  const Project p{made["project_id"], made["organization_id"], made["token"]};
  auto conn = wattprint::store::OpenConnection(db);
  if (!conn.ok()) return;
  const int n = 100000;
  const auto fill0 = Clock::now();
  if (!(*conn)->Begin(true).ok()) return;
  for (int r = 0; r < n; ++r) {
    wattprint::store::Run run;
    run.id = wattprint::store::NewId();
    run.experiment_id = made["experiment_id"];
    run.source = "wattprint";
    run.start_us = 1780272000LL * 1000000 + r * 60000000LL;
    run.end_us = run.start_us + 3600000000LL;
    run.host = "node-" + std::to_string(r % 97);
    run.figures = {0.1 * (r % 13), 0, 0.01, 0.1 * (r % 13) + 0.01, 0.001 * ((r * 7919) % 1000), 3600, 0};
    run.cpu_method = "measured_counter";
    run.complete = true;
    if (!wattprint::store::InsertRun(**conn, run, false).ok()) return;
  }
  if (!(*conn)->Commit().ok()) return;
  // As autovacuum would soon after such a load: PostgreSQL plans with the
  // table's statistics.
  if (db.rfind("postgresql", 0) == 0) (void)(*conn)->Exec("ANALYZE runs");
  const double fill_s = Ms(Clock::now() - fill0) / 1000;
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(120, 0);
  auto median = [&](const std::string& path, int times, size_t* bytes) {
    std::vector<double> ms;
    for (int i = 0; i < times; ++i) {
      const auto t0 = Clock::now();
      auto r = c.Get(path, Auth(p.token));
      ms.push_back(Ms(Clock::now() - t0));
      if (!r || r->status != 200) return -1.0;
      if (bytes) *bytes = r->body.size();
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  const std::string runs = "/api/v1/projects/" + p.id + "/runs";
  size_t csv_bytes = 0;
  const double first = median(runs + "?limit=50", 11, nullptr);
  const double by_co2e = median(runs + "?limit=50&sort=emissions&order=desc", 11, nullptr);
  const double last = median(runs + "?limit=50&sort=emissions&order=desc&offset=99950", 11, nullptr);
  const double filtered = median(runs + "?limit=50&q=node-42", 11, nullptr);
  const double csv = median("/api/v1/projects/" + p.id + "/runs.csv?sort=emissions", 3, &csv_bytes);
  std::printf("%-10s runs table of %d runs (stored at %.0f runs/s): first page %.1f ms, by CO2e %.1f ms, "
              "last page by CO2e %.1f ms, filtered by host %.1f ms; CSV of all %.0f ms (%.1f MB)\n",
              engine, n, n / fill_s, first, by_co2e, last, filtered, csv, csv_bytes / 1e6);
}

std::string g_only;  // --only runs-table: that part alone

void Bench(const std::string& db, const char* engine) {
  Server s(db);
  if (g_only == "runs-table") return RunsTableOf100k(db, s, engine);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long idle = s.RssKib();
  Project p = MakeProject(db);
  // Organisation totals need an organisation token; the admin token reads all.
  const json admin = json::parse(Capture({g_wattprint, "admin", "--db", db, "create-token", "--kind", "admin"}));
  std::printf("%-10s server RSS when idle: %.1f MiB\n", engine, idle / 1024.0);
  std::printf("%-10s ingest over loopback HTTP: %.0f interval rows/s\n", engine, IngestRate(s, p));
  ManyAgents(s, p, engine);
  Project admin_p = p;
  admin_p.token = admin["token"];
  TotalsOfAMillion(db, s, admin_p, engine);
  RunsTableOf100k(db, s, engine);
}

}  // namespace

int main(int argc, char** argv) {
  std::string engine = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--wattprint") g_wattprint = argv[i + 1];
    if (a == "--engine") engine = argv[i + 1];
    if (a == "--only") g_only = argv[i + 1];
  }
  if (g_wattprint.empty()) {
    std::fprintf(stderr, "usage: collector_load --wattprint PATH [--engine sqlite|postgres|both] [--only runs-table]\n");
    return 2;
  }
  if (engine != "postgres") {
    const auto dir = std::filesystem::temp_directory_path() / ("wp-load-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    Bench("sqlite:" + (dir / "c.db").string(), "sqlite");
    std::filesystem::remove_all(dir);
  }
  if (engine != "sqlite") {
    std::string why;
    auto pg = wattprint::testing::PgServer::Start(&why);
    if (!pg) {
      std::fprintf(stderr, "PostgreSQL: %s\n", why.c_str());
      return 1;
    }
    Bench("postgresql:" + pg->conninfo(), "postgresql");
  }
  return 0;
}
