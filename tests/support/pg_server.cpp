#include "support/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wattprint::testing {
namespace {

const std::string kBinDir = "/usr/lib/postgresql/15/bin/";

// A port that was free a moment ago on 127.0.0.1 (the kernel picks it); the
// caller retries with another should something take it first.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// The last `n` characters of a file, on one line, for failure messages.
std::string Tail(const std::string& path, size_t n = 600) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > n) s = s.substr(s.size() - n);
  for (char& c : s) {
    if (c == '\n') c = '|';
  }
  return s;
}

}  // namespace

std::unique_ptr<PgServer> PgServer::Start(std::string* why_not) {
  for (const char* bin : {"initdb", "pg_ctl", "postgres"}) {
    if (access((kBinDir + bin).c_str(), X_OK) != 0) {
      *why_not = "PostgreSQL 15 is not installed (no " + kBinDir + bin + "): install the postgresql-15 package";
      return nullptr;
    }
  }
  std::unique_ptr<PgServer> server(new PgServer);
  Status st = server->InitCluster();
  // A port found free may be taken before the server binds it: try others.
  for (int attempt = 0; st.ok() && attempt < 3; ++attempt) {
    server->port_ = FreePort();
    st = server->StartAgain();
    if (st.ok()) break;
  }
  if (st.ok()) st = server->CreateDatabase();
  if (!st.ok()) {
    *why_not = "cannot start PostgreSQL: " + st.ToString();
    return nullptr;
  }
  return server;
}

PgServer::~PgServer() {
  (void)Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PgServer::conninfo() const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " dbname=wattprint user=wattprint";
}

Status PgServer::InitCluster() {
  char tmpl[] = "/tmp/wattprint-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Status::FromErrno(errno, "mkdtemp");
  dir_ = tmpl;
  // Anyone may pass through to the socket; the cluster itself is 0700.
  if (chmod(dir_.c_str(), 0755) != 0) return Status::FromErrno(errno, dir_);
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("nobody");
    if (pw == nullptr) return Status::NotFound("running as root, and there is no user `nobody` to run PostgreSQL as");
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    as_other_user_ = true;
    if (chown(dir_.c_str(), uid_, gid_) != 0) return Status::FromErrno(errno, dir_);
  }
  // --no-sync only skips initdb's final flush; the server runs with fsync on.
  Status st = Run("initdb", {"-D", dir_ + "/data", "-A", "trust", "-U", "wattprint", "-E", "UTF8",
                             "--locale=C", "--no-sync"});
  if (!st.ok()) return st;
  std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
  conf << "\nlisten_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "max_connections = 200\n"
       << "fsync = on\n";
  conf.close();
  if (!conf) return Status::IOError("cannot write " + dir_ + "/data/postgresql.conf");
  return Status::Ok();
}

Status PgServer::Run(const std::string& binary, const std::vector<std::string>& args) const {
  // Everything the child needs is prepared before fork: it only calls
  // async-signal-safe functions.
  const std::string path = kBinDir + binary;
  const std::string log = dir_ + "/cmd.log";
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return Status::FromErrno(errno, "fork");
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
    if (chdir(dir_.c_str()) != 0) _exit(126);
    if (as_other_user_ && (setgroups(0, nullptr) != 0 || setgid(gid_) != 0 || setuid(uid_) != 0)) _exit(126);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno(errno, "waitpid");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  return Status::IOError(binary + " " + (args.empty() ? "" : args[0]) + " failed (status " +
                         std::to_string(status) + "): " + Tail(log) + " server log: " +
                         Tail(dir_ + "/server.log"));
}

Status PgServer::StartAgain() {
  if (running_) return Status::Ok();
  Status st = Run("pg_ctl", {"start", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "60", "-o",
                             "-p " + std::to_string(port_)});
  running_ = st.ok();
  return st;
}

Status PgServer::Stop() {
  if (!running_) return Status::Ok();
  Status st = Run("pg_ctl", {"stop", "-D", dir_ + "/data", "-m", "fast", "-w", "-t", "60"});
  if (st.ok()) running_ = false;
  return st;
}

Status PgServer::Restart() {
  // pg_ctl restart keeps the options of the last start (the port).
  Status st = Run("pg_ctl", {"restart", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-m", "fast", "-w",
                             "-t", "60"});
  running_ = st.ok();
  return st;
}

Status PgServer::CreateDatabase() const {
  const std::string info = "host=" + dir_ + " port=" + std::to_string(port_) + " dbname=postgres user=wattprint";
  PGconn* conn = PQconnectdb(info.c_str());
  Status st;
  if (PQstatus(conn) != CONNECTION_OK) {
    st = Status::Unavailable(std::string("cannot connect to the new server: ") + PQerrorMessage(conn));
  } else {
    PGresult* res = PQexec(conn, "CREATE DATABASE wattprint");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      st = Status::IOError(std::string("CREATE DATABASE wattprint: ") + PQerrorMessage(conn));
    }
    PQclear(res);
  }
  PQfinish(conn);
  return st;
}

}  // namespace wattprint::testing
