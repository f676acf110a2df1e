// `wattprint budget check`, as job_submit.lua and the Slurm plugin run it: a
// fresh process per submission, against `wattprint serve` on SQLite holding
// 10^5 cluster runs of 100 accounts over two years (the account's year is
// summed from its index). Medians and maxima of 41 checks, asking the
// collector each time (--cache-ttl 0) and from the 30 s cache. Goal: 50 ms.
//
//   ./build-test/bench/budget_check_load --wattprint ./build-test/wattprint
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/capture.h"
#include "support/free_port.h"
#include "wattprint/budget.h"
#include "wattprint/store.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using wattprint::testing::Capture;

// Runs argv to the end; its exit code.
int Run(std::vector<std::string> args, const std::vector<std::string>& env) {
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> e = env;
  for (auto& v : e) envp.push_back(v.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) return -1;
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string wattprint;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--wattprint") wattprint = argv[i + 1];
  }
  if (wattprint.empty()) {
    std::fprintf(stderr, "usage: budget_check_load --wattprint PATH\n");
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("wp-budget-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = "sqlite:" + (dir / "c.db").string();
  const nlohmann::json project = nlohmann::json::parse(Capture("'" + wattprint + "' admin --db '" + db +
                                                               "' create-project Bench jobs"));
  const std::string admin = nlohmann::json::parse(Capture("'" + wattprint + "' admin --db '" + db +
                                                          "' create-token --kind admin"))["token"];
  {
    auto store = wattprint::store::OpenStore(db, 2);
    if (!store.ok()) return 1;
    const int64_t year = wattprint::BudgetYearOf(2026, 1)->from_us;
    const int64_t span = int64_t{2} * 365 * 86400 * 1000000;
    for (int i = 0; i < 100000; ++i) {
      wattprint::store::Run r;
      r.id = wattprint::store::NewId();
      r.experiment_id = project["experiment_id"];
      r.source = "wattprint";
      r.start_us = year - span / 2 + span / 100000 * i;
      r.end_us = r.start_us + int64_t{3600} * 1000000;
      r.job = {"hpc", std::to_string(i), "0", "n1", "ada", "acct" + std::to_string(i % 100), "cpu"};
      r.figures.emissions_kg = 0.01;
      r.complete = true;
      r.record_json = "{}";
      (void)(*store)->PutRunRecord(r);
    }
  }
  const int port = wattprint::testing::FreePort();
  std::vector<std::string> serve = {wattprint, "serve", "--db", db, "--listen", "127.0.0.1:" + std::to_string(port)};
  std::vector<char*> sargv;
  for (auto& a : serve) sargv.push_back(a.data());
  sargv.push_back(nullptr);
  pid_t server = 0;
  posix_spawn(&server, sargv[0], nullptr, nullptr, sargv.data(), environ);
  httplib::Client c("127.0.0.1", port);
  for (int i = 0; i < 400 && !c.Get("/auth/check"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  c.Put("/api/v1/budgets/acct7/2026", {{"Authorization", "Bearer " + admin}}, R"({"kg": 100})", "application/json");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "XDG_RUNTIME_DIR=" + dir.string(),
                                        "WATTPRINT_COLLECTOR_TOKEN=" + std::string(project["token"])};
  auto time = [&](const char* ttl) {
    std::vector<double> ms;
    for (int i = 0; i < 41; ++i) {
      const auto t0 = Clock::now();
      Run({wattprint, "budget", "check", "acct7", "--collector", url, "--cache-ttl", ttl}, env);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return std::make_pair(ms[20], ms.back());
  };
  const auto asked = time("0");
  const auto cached = time("30");
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  std::filesystem::remove_all(dir);
  std::printf("budget check of an account with 1000 runs among 10^5 (SQLite), a fresh process each: asking the "
              "collector %.1f ms median, %.1f ms max; from the cache %.1f ms median, %.1f ms max (41 each)\n",
              asked.first, asked.second, cached.first, cached.second);
  return 0;
}
