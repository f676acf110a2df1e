// A throwaway PostgreSQL 15 server for tests: a fresh cluster in a
// temporary directory, reachable only on 127.0.0.1 and a unix socket in that
// directory, with trust authentication and a database "wattprint". The
// destructor stops it and removes everything.
//
// initdb and postgres refuse to run as root, so under root (CI) both run as
// the user `nobody`, which then owns the directory.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "wattprint/status.h"

namespace wattprint::testing {

class PgServer {
 public:
  // nullptr, with the reason in *why_not, when the server binaries are
  // missing or the cluster does not start.
  static std::unique_ptr<PgServer> Start(std::string* why_not);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // "host=<socket dir> port=<port> dbname=wattprint user=wattprint".
  std::string conninfo() const;
  int port() const { return port_; }

  // For fault tests: every open connection is lost; the data stays.
  Status Stop();
  Status StartAgain();
  Status Restart();

 private:
  PgServer() = default;
  // Runs a server binary (as `nobody` under root), its output appended to
  // the directory's cmd.log; a failure carries the log's tail.
  Status Run(const std::string& binary, const std::vector<std::string>& args) const;
  Status InitCluster();
  Status CreateDatabase() const;

  std::string dir_;  // socket directory; the cluster is in dir_/data
  int port_ = 0;
  uid_t uid_ = 0;  // the user the server runs as, when running as root
  gid_t gid_ = 0;
  bool as_other_user_ = false;
  bool running_ = false;
};

}  // namespace wattprint::testing
