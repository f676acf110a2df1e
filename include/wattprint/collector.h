// The collector: an HTTP server over a Store, with wattprint's own API under
// /api/v1, the routes CodeCarbon 3.x's client calls (docs/COLLECTOR.md) and
// the dashboard at / (docs/DASHBOARD.md).
// Handlers parse, check the token, call the Store and format; every write is
// one Store transaction, acknowledged only once committed.
//
// Thread safety: Start() and Stop() from one thread; requests are served by
// a bounded pool of worker threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "wattprint/status.h"
#include "wattprint/store.h"

namespace wattprint::collector {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: any free port (see Server::port())
  int threads = 8;
  size_t max_body_bytes = size_t{8} << 20;
  // The dashboard's files are compiled in; a folder here serves them from
  // disk instead, read at each request (docs/DASHBOARD.md).
  std::string dashboard_dir;
  // The month yearly CO2e budgets start in: 1 for calendar years
  // (docs/SLURM.md, Budgets).
  int budget_start_month = 1;
};

class Server {
 public:
  Server(store::Store& store, Options options);
  ~Server();
  // Binds the address; IOError when it is taken or not local to us.
  Status Bind();
  // Serves until Stop(); returns at once when Bind() was not called.
  void Serve();
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattprint::collector
