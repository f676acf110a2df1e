// Two `wattprint serve` processes on one real PostgreSQL: they start
// together (one migrates, the other waits), take writes side by side, and
// read the same totals. Then PostgreSQL restarts under load: the servers
// reconnect, every acknowledged record is there, and the retried ones are
// stored once.
#include <gtest/gtest.h>
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "e2e/run_binary.h"
#include "support/free_port.h"
#include "support/pg_server.h"
#include "wattprint/store.h"

extern char** environ;

namespace wattprint::testing {
namespace {

using nlohmann::json;

struct ServeProcess {
  pid_t pid = 0;
  int port = 0;
  ServeProcess(const std::string& db, int p) : port(p) {
    std::vector<std::string> args = {WATTPRINT_BINARY, "serve", "--db", db, "--listen",
                                     "127.0.0.1:" + std::to_string(port)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }
  ~ServeProcess() {
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
  }
  bool WaitReady() const {
    for (int i = 0; i < 400; ++i) {
      httplib::Client c("127.0.0.1", port);
      if (c.Get("/auth/check")) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
};

json Record(const std::string& run_id, int i) {
  return {{"metadata", {{"run_id", run_id}, {"experiment_id", ""}, {"start", "2026-06-01T00:00:00Z"}}},
          {"duration_s", 1.0},
          {"emissions", {{"scope", "machine"}, {"kg", 1e-6 * (i + 1)}, {"machine", {{"energy", {{"kwh", 1e-5}}}}}}},
          {"kinds", json::object()},
          {"intensity", {{"g_per_kwh", 100.0}, {"source", "test"}, {"basis", "average"}}}};
}

int Post(int port, const std::string& token, const json& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  auto r = c.Post("/api/v1/runs", {{"Authorization", "Bearer " + token}}, body.dump(), "application/json");
  return r ? r->status : -1;
}

TEST(CollectorOnPostgres, TwoServersOneDatabaseAndARestartUnderLoad) {
  std::string why;
  auto pg = PgServer::Start(&why);
  ASSERT_NE(pg, nullptr) << why;
  const std::string db = "postgresql:" + pg->conninfo();
  // Started together on an empty database: the schema is made once.
  ServeProcess a(db, FreePort()), b(db, FreePort());
  ASSERT_TRUE(a.WaitReady());
  ASSERT_TRUE(b.WaitReady());
  BinaryResult made = RunWattprint({"admin", "--db", db, "create-project", "Lab", "vision"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const json project = json::parse(made.out);
  const std::string token = project["token"];

  std::atomic<int> acked{0}, failed{0};
  std::vector<std::pair<std::string, int>> unacked;
  std::mutex mu;
  std::vector<std::thread> agents;
  std::atomic<bool> restarted{false};
  for (int t = 0; t < 4; ++t) {
    agents.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const int n = t * 60 + i;
        const std::string id = store::NewId();
        const int status = Post(n % 2 == 0 ? a.port : b.port, token, Record(id, n));
        if (status == 201 || status == 200) {
          ++acked;
        } else {
          ++failed;
          std::lock_guard<std::mutex> lock(mu);
          unacked.emplace_back(id, n);
        }
        if (i == 20 && t == 0) {
          ASSERT_TRUE(pg->Restart().ok());
          restarted = true;
        }
      }
    });
  }
  for (auto& th : agents) th.join();
  ASSERT_TRUE(restarted);
  // Whatever was refused during the restart was refused cleanly (503), and
  // the agents' retry stores it once.
  for (const auto& [id, n] : unacked) {
    const int status = Post(a.port, token, Record(id, n));
    ASSERT_TRUE(status == 201 || status == 200) << status;  // 200: it was stored, the answer lost
  }
  double expected = 0;
  for (int n = 0; n < 240; ++n) expected += 1e-6 * (n + 1);
  for (int port : {a.port, b.port}) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/api/v1/projects/" + project["project_id"].get<std::string>() + "/totals",
                   {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json t = json::parse(r->body);
    EXPECT_EQ(t["runs"], 240);
    EXPECT_NEAR(t["emissions_kg"].get<double>(), expected, expected * 1e-12);
  }
  RecordProperty("refused_during_restart", failed.load());
}

}  // namespace
}  // namespace wattprint::testing
