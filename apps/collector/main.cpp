// wattprint-collector: `serve` and `admin`, which `wattprint serve` and
// `wattprint admin` run. A binary of its own so that `wattprint run` never
// loads libpq, libsqlite3 or libssl (docs/ARCHITECTURE.md).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "wattprint/collector.h"
#include "wattprint/config.h"
#include "wattprint/store.h"

extern char** environ;

namespace {

using nlohmann::json;
using namespace wattprint;

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "wattprint: error: %s\n", message.c_str());
  return code;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The layered settings as `wattprint run` reads them (flags, WATTPRINT_*
// variables, ./wattprint.toml, the user's config file): db and listen.
Result<Config> Settings(const std::vector<std::pair<std::string, std::string>>& flags) {
  ConfigInputs in;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) in.environment.emplace_back(*e);
  in.cwd = std::string(".");
  in.xdg_config_home = Env("XDG_CONFIG_HOME");
  in.home = Env("HOME");
  in.flags = flags;
  return LoadConfig(in);
}

// "HOST:PORT" or ":PORT" or "PORT".
bool ParseListen(const std::string& text, collector::Options* o) {
  const size_t colon = text.rfind(':');
  const std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int p = std::stoi(port);
  if (p > 65535) return false;
  o->host = host.empty() ? "127.0.0.1" : host;
  if (o->host.size() > 2 && o->host.front() == '[' && o->host.back() == ']') o->host = o->host.substr(1, o->host.size() - 2);
  o->port = p;
  return true;
}

int Serve(const std::string& db, const std::string& listen, int threads, const std::string& dashboard_dir,
          int budget_start_month) {
  collector::Options options;
  options.budget_start_month = budget_start_month;
  if (!ParseListen(listen, &options)) return Fail(2, "--listen '" + listen + "' is not HOST:PORT");
  options.threads = threads;
  options.dashboard_dir = dashboard_dir;
  // Requests beyond the database connections wait for one; the rest of a
  // worker's time is HTTP.
  auto store = store::OpenStore(db, std::min(threads, 16));
  if (!store.ok()) return Fail(1, "cannot open the database: " + store.status().message());
  collector::Server server(**store, options);
  if (Status s = server.Bind(); !s.ok()) return Fail(1, s.message());
  // SIGINT and SIGTERM end the server once the requests in flight are done.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    server.Stop();
  });
  std::fprintf(stderr, "wattprint: collector on http://%s:%d (schema version %d); dashboard at /\n",
               options.host.c_str(), server.port(), store::SchemaVersion());
  server.Serve();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

json TokenJson(const store::Token& t) {
  return {{"id", t.id}, {"kind", store::TokenKindName(t.kind)}, {"scope_id", t.scope_id}, {"read", t.can_read},
          {"write", t.can_write}, {"label", t.label}, {"created_us", t.created_us}, {"revoked_us", t.revoked_us}};
}

int CreateProject(store::Store& s, const std::string& org_name, const std::string& name, bool is_public) {
  auto org = s.FindOrganization(org_name);
  if (!org.ok()) org = s.CreateOrganization(org_name, "");
  if (!org.ok()) return Fail(1, org.status().message());
  store::Project p;
  p.organization_id = org->id;
  p.name = name;
  p.is_public = is_public;
  auto project = s.CreateProject(p);
  if (!project.ok()) return Fail(1, project.status().message());
  store::Experiment e;
  e.project_id = project->id;
  e.name = "default";
  e.description = "The experiment of runs that name none";
  auto experiment = s.CreateExperiment(e);
  if (!experiment.ok()) return Fail(1, experiment.status().message());
  store::Token t;
  t.kind = store::TokenKind::kProject;
  t.scope_id = project->id;
  t.can_read = t.can_write = true;
  t.label = "created with the project";
  auto token = s.CreateToken(t);
  if (!token.ok()) return Fail(1, token.status().message());
  std::printf("%s\n", json{{"organization_id", org->id},
                           {"project_id", project->id},
                           {"experiment_id", experiment->id},
                           {"token", token->second}}
                          .dump()
                          .c_str());
  return 0;
}

int CreateToken(store::Store& s, const std::string& kind, const std::string& scope, bool read, bool write) {
  store::Token t;
  t.kind = kind == "admin" ? store::TokenKind::kAdmin
           : kind == "organization" ? store::TokenKind::kOrganization
                                    : store::TokenKind::kProject;
  if (t.kind == store::TokenKind::kProject) {
    if (!s.GetProject(scope).ok()) return Fail(1, "no project " + scope);
  } else if (t.kind == store::TokenKind::kOrganization) {
    if (!s.GetOrganization(scope).ok()) return Fail(1, "no organization " + scope);
    write = false;  // organisation tokens read
  } else {
    read = write = true;
  }
  t.scope_id = t.kind == store::TokenKind::kAdmin ? "" : scope;
  t.can_read = read;
  t.can_write = write;
  auto token = s.CreateToken(t);
  if (!token.ok()) return Fail(1, token.status().message());
  json j = TokenJson(token->first);
  j["token"] = token->second;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

int List(store::Store& s) {
  auto orgs = s.ListOrganizations();
  if (!orgs.ok()) return Fail(1, orgs.status().message());
  json out = json::array();
  for (const auto& o : *orgs) {
    json projects = json::array();
    auto ps = s.ListProjects(o.id);
    if (!ps.ok()) return Fail(1, ps.status().message());
    for (const auto& p : *ps) {
      json tokens = json::array();
      if (auto ts = s.ListTokens(p.id); ts.ok()) {
        for (const auto& t : *ts) tokens.push_back(TokenJson(t));
      }
      projects.push_back({{"id", p.id}, {"name", p.name}, {"public", p.is_public}, {"tokens", tokens}});
    }
    out.push_back({{"id", o.id}, {"name", o.name}, {"projects", projects}});
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The wattprint collector: store every run of an organisation.", "wattprint"};
  app.require_subcommand(1);
  std::string db, listen;
  int threads = 32;
  auto* serve = app.add_subcommand("serve", "Serve the collector's HTTP API and its dashboard");
  CLI::Option* db_flag =
      serve->add_option("--db", db, "Store runs in this database: sqlite:PATH or postgresql://USER@HOST/DB "
                                    "(default sqlite:./wattprint.db; WATTPRINT_DB, db in wattprint.toml)");
  CLI::Option* listen_flag =
      serve->add_option("--listen", listen, "Listen on HOST:PORT (default 127.0.0.1:8000; WATTPRINT_LISTEN)");
  serve->add_option("--threads", threads, "Serve this many connections at once (default 32)")->check(CLI::Range(1, 256));
  std::string dashboard_dir;
  serve->add_option("--dashboard-dir", dashboard_dir,
                    "Serve the dashboard's files from this folder, read at each request, instead of the built-in "
                    "ones (for working on web/dashboard/)")
      ->check(CLI::ExistingDirectory);
  int budget_start_month = 1;
  serve->add_option("--budget-year-start", budget_start_month,
                    "Start yearly CO2e budgets in this month (1-12; default 1: calendar years)")
      ->check(CLI::Range(1, 12));

  auto* admin = app.add_subcommand("admin", "Create and list organisations, projects and tokens");
  CLI::Option* admin_db_flag = admin->add_option("--db", db, "The collector's database (as serve)");
  admin->require_subcommand(1);
  std::string org, project, scope, kind = "project", id;
  bool is_public = false, read = false, write = false;
  auto* cp = admin->add_subcommand("create-project", "Create a project (and its organisation if missing)");
  cp->add_option("ORG", org)->required();
  cp->add_option("PROJECT", project)->required();
  cp->add_flag("--public", is_public, "Let anyone read the project without a token");
  auto* ct = admin->add_subcommand("create-token", "Create a token; it is shown once");
  ct->add_option("--kind", kind, "project, organization or admin")
      ->check(CLI::IsMember({"project", "organization", "admin"}))
      ->capture_default_str();
  ct->add_option("--scope", scope, "The project or organisation id");
  ct->add_flag("--read", read, "The token may read");
  ct->add_flag("--write", write, "The token may write");
  auto* rt = admin->add_subcommand("revoke-token", "Revoke a token by its id");
  rt->add_option("ID", id)->required();
  auto* sp = admin->add_subcommand("set-public", "Make a project readable without a token, or not");
  sp->add_option("PROJECT_ID", id)->required();
  sp->add_option("PUBLIC", is_public, "true or false")->required();
  auto* ls = admin->add_subcommand("list", "List organisations, projects and tokens as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return Fail(2, std::string(e.what()) + "; run 'wattprint " + (admin->parsed() ? "admin" : "serve") +
                       " --help' for usage");
  }
  std::vector<std::pair<std::string, std::string>> given;
  if (db_flag->count() > 0 || admin_db_flag->count() > 0) given.emplace_back("db", db);
  if (listen_flag->count() > 0) given.emplace_back("listen", listen);
  Result<Config> cfg = Settings(given);
  if (!cfg.ok()) return Fail(2, cfg.status().message());
  if (serve->parsed()) return Serve(cfg->db, cfg->listen, threads, dashboard_dir, budget_start_month);
  auto store = store::OpenStore(cfg->db, 2);
  if (!store.ok()) return Fail(1, "cannot open the database: " + store.status().message());
  if (cp->parsed()) return CreateProject(**store, org, project, is_public);
  if (ct->parsed()) {
    if (kind != "admin" && scope.empty()) return Fail(2, "create-token --kind " + kind + " needs --scope ID");
    if (kind == "project" && !read && !write) read = write = true;
    if (kind == "organization") read = true;
    return CreateToken(**store, kind, scope, read, write);
  }
  if (rt->parsed()) {
    Status s = (*store)->RevokeToken(id);
    return s.ok() ? 0 : Fail(1, s.message());
  }
  if (sp->parsed()) {
    Status s = (*store)->SetProjectPublic(id, is_public);
    return s.ok() ? 0 : Fail(1, s.message());
  }
  if (ls->parsed()) return List(**store);
  return 0;
}
