// wattprint's SPANK plugin: measures every job step with `wattprint run
// --attach`, checks the account's budget before a step starts, and appends
// the job's energy and CO2e block to a batch job's output at its end.
//
// It only assembles: every measurement, budget decision and summary comes
// from the `wattprint` binary, run as a separate process. The plugin uses
// nothing but Slurm's <slurm/spank.h> and the C and C++ libraries.
//
// Where it acts (Slurm 22.05):
//   local (srun), allocator (sbatch, salloc): the --wattprint option only;
//   remote (slurmstepd, every step, the batch step too): user_init checks
//     the budget and starts the measuring process, task_init notes where a
//     batch job's output goes, exit stops the measuring process and writes
//     the end-of-job block;
//   slurmd and job_script: nothing.
// A failure inside the plugin never fails a job unless plugstack.conf says
// failure=fail; a refused budget and a refused --wattprint=off do, by design.
//
// Every callback returns within milliseconds, apart from the budget check
// (at most 2 s) and the batch step's end-of-job block (at most 5 s + 5 s).
//
// plugstack.conf arguments: see plugstack.conf.example beside this file.

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "process.h"

// spank.h declares the callbacks outside its own extern "C" block.
extern "C" {
#include <slurm/spank.h>
}

#define WATTPRINT_SPANK_EXPORT __attribute__((visibility("default")))

// Slurm finds the plugin by these names with dlsym(): C linkage, visible
// although the rest of the library is built with hidden visibility.
extern "C" {
WATTPRINT_SPANK_EXPORT extern const char plugin_name[];
WATTPRINT_SPANK_EXPORT extern const char plugin_type[];
WATTPRINT_SPANK_EXPORT extern const unsigned int plugin_version;
WATTPRINT_SPANK_EXPORT extern const unsigned int spank_plugin_version;
SPANK_PLUGIN(wattprint, 1)
}

namespace {

using namespace wattprint_spank;

// Step ids with a meaning of their own (slurm.h's SLURM_EXTERN_CONT and
// SLURM_BATCH_SCRIPT; slurm.h itself is not needed for two numbers).
constexpr uint32_t kExternStep = 0xfffffffc;
constexpr uint32_t kBatchStep = 0xfffffffb;

constexpr int kBudgetTimeoutMs = 2000;
constexpr int kStartTimeoutMs = 2000;  // for the measuring process's exec
constexpr int kMeterEndWaitMs = 5000;
constexpr int kBlockTimeoutMs = 5000;
constexpr size_t kLineLimit = 4096;  // budget answers, token file
constexpr size_t kBlockLimit = 64 * 1024;

struct Config {
  std::string wattprint = "/usr/local/bin/wattprint";
  std::string collector;  // empty: the plugin does nothing
  std::string token_file;
  unsigned interval_s = 10;
  std::string spool;   // empty: no spool, JSON record or log
  std::string site_config;  // wattprint's site file, when not /etc/wattprint/config.toml
  bool output = true;  // the end-of-job block in the batch output
  bool optout_allowed = true;
  bool budget = true;
  bool policy_refuse = false;  // budget check unanswered: refuse the step
  bool failure_fails = false;  // measuring cannot start: fail the step
};

struct Job {
  uint32_t id = 0;
  uint32_t step = 0;
  uid_t uid = static_cast<uid_t>(-1);
  bool uid_known = false;
  std::string account, cluster, node, user, partition, gpus, cuda_devices;
};

struct State {
  Config config;
  std::string token;
  bool user_off = false;  // --wattprint=off
  Job job;
  pid_t meter = -1;                    // the measuring process, not our child
  unsigned long long meter_start = 0;  // its start time, against pid reuse
  // The batch task tells slurmstepd its output's path on this pipe: made in
  // user_init, inherited by the task at fork(), closed at its exec().
  int note[2] = {-1, -1};
};

// The one mutable global, which a SPANK plugin cannot avoid: the callbacks
// get no user pointer. slurmstepd, srun and sbatch each load the plugin
// once, for one step or one command, so this is one step's state; it is
// reset by slurm_spank_init. The task processes get their own copy at fork().
State g;

// ---------------------------------------------------------------- parsing

// Sets `out` from one of two words; false for any other value.
bool choose(std::string_view value, std::string_view yes, std::string_view no, bool& out) {
  if (value != yes && value != no) return false;
  out = value == yes;
  return true;
}

// A value that is safe as one argument of `wattprint`: letters, digits and
// `extra`, not empty, not taken for an option. Job variables can come from
// the user, so they must not smuggle options onto the command line.
bool plain_word(std::string_view s, std::string_view extra) {
  if (s.empty() || s.size() > 256 || s.front() == '-') return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

enum class Arg { Ok, UnknownKey, BadValue };

struct TextKey {
  const char* key;
  std::string Config::*field;
};
constexpr TextKey kTextKeys[] = {{"wattprint", &Config::wattprint},
                                 {"collector", &Config::collector},
                                 {"token_file", &Config::token_file},
                                 {"spool", &Config::spool},
                                 {"config", &Config::site_config}};

struct ChoiceKey {
  const char* key;
  const char* yes;  // the word that sets the field
  const char* no;
  bool Config::*field;
};
constexpr ChoiceKey kChoiceKeys[] = {{"output", "on", "off", &Config::output},
                                     {"optout", "allow", "deny", &Config::optout_allowed},
                                     {"budget", "on", "off", &Config::budget},
                                     {"policy", "refuse", "allow", &Config::policy_refuse},
                                     {"failure", "fail", "ignore", &Config::failure_fails}};

Arg parse_interval(std::string_view value, unsigned& out) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v < 1 || v > 86400) return Arg::BadValue;
  out = v;
  return Arg::Ok;
}

Arg apply_arg(Config& c, std::string_view key, std::string_view value) {
  for (const TextKey& k : kTextKeys) {
    if (key != k.key) continue;
    c.*k.field = value;
    return Arg::Ok;
  }
  for (const ChoiceKey& k : kChoiceKeys)
    if (key == k.key) return choose(value, k.yes, k.no, c.*k.field) ? Arg::Ok : Arg::BadValue;
  if (key == "interval") return parse_interval(value, c.interval_s);
  return Arg::UnknownKey;
}

// A bad argument is logged and skipped: a typo in plugstack.conf must not
// stop every job on the cluster.
void parse_args(int ac, char** av, Config& c) {
  for (int i = 0; i < ac; ++i) {
    std::string_view arg = av[i] ? av[i] : "";
    size_t eq = arg.find('=');
    std::string key(arg.substr(0, eq));
    std::string value(eq == std::string_view::npos ? "" : arg.substr(eq + 1));
    Arg r = eq == std::string_view::npos ? Arg::UnknownKey : apply_arg(c, key, value);
    if (r == Arg::UnknownKey)
      slurm_error("wattprint: unknown plugstack.conf key '%s' (ignored)", key.c_str());
    else if (r == Arg::BadValue)
      slurm_error("wattprint: plugstack.conf: bad value in '%s' (ignored, default kept)", av[i]);
  }
}

// ------------------------------------------------------------- text

std::string first_line(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && std::strchr(" \t\r\v\f", text.back())) text.remove_suffix(1);
  while (!text.empty() && std::strchr(" \t\r\v\f", text.front())) text.remove_prefix(1);
  return std::string(text);
}

// ------------------------------------------------------------ the job

std::string job_env(spank_t sp, const char* name) {
  char buf[1024];
  if (spank_getenv(sp, name, buf, sizeof buf) != ESPANK_SUCCESS) return {};  // absent or too long
  return buf;
}

std::string step_name(uint32_t step) {
  if (step == kBatchStep) return "batch";
  if (step == kExternStep) return "extern";
  return std::to_string(step);
}

bool read_job(spank_t sp, Job& j) {
  if (spank_get_item(sp, S_JOB_ID, &j.id) != ESPANK_SUCCESS ||
      spank_get_item(sp, S_JOB_STEPID, &j.step) != ESPANK_SUCCESS)
    return false;
  j.uid_known = spank_get_item(sp, S_JOB_UID, &j.uid) == ESPANK_SUCCESS;
  j.account = job_env(sp, "SLURM_JOB_ACCOUNT");
  j.cluster = job_env(sp, "SLURM_CLUSTER_NAME");
  // slurmstepd's own environment names this node (also with several
  // slurmd on one host). The job's may name another: an srun step started
  // from a batch script carries the batch node's SLURMD_NODENAME. The host
  // name is the last resort.
  if (const char* own = std::getenv("SLURMD_NODENAME"); own != nullptr) j.node = own;
  if (j.node.empty()) j.node = job_env(sp, "SLURMD_NODENAME");
  if (j.node.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) j.node = host;
  }
  j.user = job_env(sp, "SLURM_JOB_USER");
  if (j.user.empty() && j.uid_known) {  // the batch step's environment has none yet
    if (const passwd* pw = getpwuid(j.uid); pw != nullptr) j.user = pw->pw_name;
  }
  j.partition = job_env(sp, "SLURM_JOB_PARTITION");
  j.gpus = job_env(sp, "SLURM_JOB_GPUS");
  j.cuda_devices = job_env(sp, "CUDA_VISIBLE_DEVICES");
  return true;
}

// The children's environment, built from nothing: the job's own variables
// stay out, apart from those named here.
std::vector<std::string> child_env(const State& s, bool with_job) {
  std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  if (!s.token.empty()) env.push_back("WATTPRINT_COLLECTOR_TOKEN=" + s.token);
  if (!s.config.site_config.empty()) env.push_back("WATTPRINT_SITE_CONFIG=" + s.config.site_config);
  if (!with_job) return env;
  const Job& j = s.job;
  env.push_back("SLURM_JOB_ID=" + std::to_string(j.id));
  env.push_back("SLURM_STEP_ID=" + step_name(j.step));
  auto add = [&env](const char* name, const std::string& value) {
    if (!value.empty()) env.push_back(std::string(name) + "=" + value);
  };
  add("SLURM_CLUSTER_NAME", j.cluster);
  add("SLURMD_NODENAME", j.node);
  add("SLURM_JOB_USER", j.user);
  add("SLURM_JOB_ACCOUNT", j.account);
  add("SLURM_JOB_PARTITION", j.partition);
  if (j.gpus.empty()) add("CUDA_VISIBLE_DEVICES", j.cuda_devices);
  return env;
}

// wattprint-JOB.STEP.NODE.json: several slurmd on one host share a spool.
std::string spool_file(const State& s, const std::string& suffix) {
  return s.config.spool + "/wattprint-" + std::to_string(s.job.id) + "." + suffix;
}

// ------------------------------------------------------------ the budget

// True when the step must not start.
bool budget_refuses(const State& s) {
  const Config& c = s.config;
  const std::string& account = s.job.account;
  if (!c.budget) return false;
  if (account.empty()) {
    slurm_debug("wattprint: the job has no account; budget not checked");
    return false;
  }
  if (!plain_word(account, "_.-")) {
    slurm_error("wattprint: account name '%s' is not plain; budget not checked", account.c_str());
    return false;
  }
  ChildPlan plan;
  plan.args = {c.wattprint,   "budget",    "check",    account,
               "--collector", c.collector, "--policy", c.policy_refuse ? "refuse" : "allow"};
  plan.env = child_env(s, false);
  Outcome r = run_captured(plan, kBudgetTimeoutMs, kLineLimit);
  std::string line = first_line(r.out);
  if (r.kind == Outcome::Exited && r.code == 0) {
    if (!line.empty()) slurm_error("%s", line.c_str());  // a warning, shown to the user
    return false;
  }
  if (r.kind == Outcome::Exited && r.code == 1) {
    if (line.empty()) line = "wattprint: account " + account + " is over its budget; the step is refused";
    slurm_error("%s", line.c_str());
    return true;
  }
  std::string why = describe(r, kBudgetTimeoutMs);
  if (c.policy_refuse) {
    slurm_error("wattprint: the budget check of account %s %s; the step is refused (policy=refuse)",
                account.c_str(), why.c_str());
    return true;
  }
  slurm_error("wattprint: warning: the budget check of account %s %s; the step runs (policy=allow)",
              account.c_str(), why.c_str());
  return false;
}

// ------------------------------------------------------------ measuring

ChildPlan meter_plan(const State& s) {
  const Config& c = s.config;
  std::string step = step_name(s.job.step);
  ChildPlan plan;
  // The step's share (its processes' CPU time, memory and GPU use), not
  // the node's: other jobs may share it.
  plan.args = {c.wattprint, "run", "--attach", std::to_string(getpid()), "--scope", "process",
               "--collector", c.collector};
  if (!c.spool.empty()) plan.args.insert(plan.args.end(), {"--spool-dir", c.spool});
  plan.args.insert(plan.args.end(), {"--interval", std::to_string(c.interval_s), "--no-save", "--quiet"});
  const std::string where = plain_word(s.job.node, "_.-") ? step + "." + s.job.node : step;
  if (!c.spool.empty()) plan.args.insert(plan.args.end(), {"--json", spool_file(s, where + ".json")});
  if (plain_word(s.job.gpus, ",:_.-"))
    plan.args.insert(plan.args.end(), {"--gpu-ids", s.job.gpus});
  else if (!s.job.gpus.empty())
    slurm_error("wattprint: SLURM_JOB_GPUS '%s' not understood; GPUs not named", s.job.gpus.c_str());
  plan.env = child_env(s, true);
  if (!c.spool.empty()) plan.log_path = spool_file(s, where + ".log");
  return plan;
}

// slurmstepd's pid is the step: the step's tasks are its children.
int start_meter(State& s) {
  ChildPlan plan = meter_plan(s);
  Started st = spawn_detached(plan, kStartTimeoutMs);
  if (st.err != 0) {
    slurm_error("wattprint: cannot start %s: %s; step %u.%s is not measured", s.config.wattprint.c_str(),
                std::strerror(st.err), s.job.id, step_name(s.job.step).c_str());
    return s.config.failure_fails ? -1 : 0;
  }
  s.meter = st.pid;
  char state = 0;
  if (!proc_stat(st.pid, state, s.meter_start)) s.meter_start = 0;
  slurm_debug("wattprint: measuring step %u.%s in process %d", s.job.id, step_name(s.job.step).c_str(),
              static_cast<int>(st.pid));
  return 0;
}

void stop_meter(const State& s) {
  if (s.meter <= 0 || !still_running(s.meter, s.meter_start)) return;
  if (kill(s.meter, SIGINT) != 0)
    slurm_info("wattprint: cannot stop process %d: %s", static_cast<int>(s.meter), std::strerror(errno));
}

// ------------------------------------------------ the end-of-job block

// The pipe on which the batch task will send its output's path.
void open_note(State& s) {
  if (s.job.step != kBatchStep || !s.config.output) return;
  if (pipe2(s.note, O_CLOEXEC | O_NONBLOCK) != 0) {
    slurm_info("wattprint: no pipe for the batch output's path: %s; no end-of-job block",
               std::strerror(errno));
    s.note[0] = s.note[1] = -1;
  }
}

// The batch output's path, if the task sent one (absolute, one line).
std::string take_note(State& s) {
  if (s.note[0] < 0) return {};
  close(s.note[1]);
  std::string path = first_line(read_bounded(s.note[0], PATH_MAX + 1));
  close(s.note[0]);
  s.note[0] = s.note[1] = -1;
  return path.empty() || path.front() != '/' ? std::string() : path;
}

// Appends as root to a file the user named, so it must be a regular file
// owned by the job's user; O_NONBLOCK keeps a FIFO from blocking the open.
bool append_to_output(const State& s, const std::string& path, std::string_view text, std::string& why) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
    return false;
  }
  struct stat st {};
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && s.job.uid_known && st.st_uid == s.job.uid;
  if (!ok)
    why = "not a regular file of the job's user";
  else if (!write_all(fd, text)) {
    why = std::strerror(errno);
    ok = false;
  }
  close(fd);
  return ok;
}

void wait_for_meter(const State& s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kMeterEndWaitMs);
  while (s.meter > 0 && still_running(s.meter, s.meter_start) && std::chrono::steady_clock::now() < deadline)
    usleep(50 * 1000);
}

void write_block(State& s) {
  std::string output = take_note(s);
  if (output.empty()) {
    slurm_debug("wattprint: the batch output's path is unknown; no end-of-job block");
    return;
  }
  wait_for_meter(s);
  ChildPlan plan;
  plan.args = {s.config.wattprint, "job", std::to_string(s.job.id)};
  if (plain_word(s.job.cluster, "_.-")) plan.args.insert(plan.args.end(), {"--cluster", s.job.cluster});
  plan.args.insert(plan.args.end(), {"--collector", s.config.collector, "--block"});
  plan.env = child_env(s, false);
  Outcome r = run_captured(plan, kBlockTimeoutMs, kBlockLimit);
  if (r.kind != Outcome::Exited || r.code != 0) {
    slurm_info("wattprint: no end-of-job block for job %u: `wattprint job` %s", s.job.id,
               describe(r, kBlockTimeoutMs).c_str());
    return;
  }
  std::string why;
  if (!r.out.empty() && !append_to_output(s, output, r.out, why))
    slurm_info("wattprint: cannot append the end-of-job block to %s: %s", output.c_str(), why.c_str());
}

// ------------------------------------------------------------ callbacks

bool in_remote(spank_t sp) { return spank_context() == S_CTX_REMOTE && spank_remote(sp) == 1; }

bool in_front(spank_t sp) {
  spank_context_t ctx = spank_context();
  return (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR) && spank_remote(sp) == 0;
}

std::string read_token(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    slurm_error("wattprint: cannot read token_file %s: %s; no token sent", path.c_str(),
                std::strerror(errno));
    return {};
  }
  std::string token = first_line(read_bounded(fd, kLineLimit));
  close(fd);
  return token;
}

// Runs on the --wattprint value: from the command line or the environment
// (remote == 0), or forwarded to slurmstepd (remote == 1).
int on_option(int, const char* optarg, int remote) {
  bool on = true;
  bool front = !remote && spank_context() != S_CTX_REMOTE;
  if (!choose(optarg ? optarg : "", "on", "off", on)) {
    slurm_error("wattprint: --wattprint takes on or off, not '%s'", optarg ? optarg : "");
    return front ? -1 : 0;
  }
  g.user_off = !on;
  if (front && g.user_off && !g.config.optout_allowed) {
    slurm_error("wattprint: --wattprint=off is not allowed on this cluster (optout=deny)");
    return -1;
  }
  return 0;
}

struct spank_option g_options[] = {
    {const_cast<char*>("wattprint"), const_cast<char*>("on|off"),
     const_cast<char*>("Measure the job's energy and CO2e with wattprint (on, the default) or not (off)."), 1,
     0, on_option},
    SPANK_OPTIONS_TABLE_END,
};

int init(spank_t sp, int ac, char** av) {
  bool remote = in_remote(sp);
  if (!remote && !in_front(sp)) return 0;  // slurmd, job_script: nothing
  for (int fd : g.note)
    if (fd >= 0) close(fd);
  g = State{};
  parse_args(ac, av, g.config);
  if (spank_option_register(sp, &g_options[0]) != ESPANK_SUCCESS)
    slurm_error("wattprint: cannot register --wattprint");
  if (g.config.collector.empty()) {
    slurm_debug("wattprint: no collector= in plugstack.conf; nothing to do");
    return 0;
  }
  // Here slurmstepd still runs as root, so a root-only token file is readable.
  if (remote && !g.config.token_file.empty()) g.token = read_token(g.config.token_file);
  return 0;
}

int init_post_opt(spank_t sp) {
  if (!in_front(sp)) return 0;
  if (g.user_off && !g.config.optout_allowed) {
    slurm_error("wattprint: --wattprint=off is not allowed on this cluster (optout=deny)");
    return -1;
  }
  return 0;
}

int user_init(spank_t sp) {
  if (!in_remote(sp) || g.config.collector.empty()) return 0;
  if (g.user_off && g.config.optout_allowed) {
    slurm_info("wattprint: --wattprint=off: this step is not measured");
    return 0;
  }
  if (g.user_off) slurm_info("wattprint: --wattprint=off ignored (optout=deny)");
  if (!read_job(sp, g.job)) {
    slurm_error("wattprint: the job and step ids are unavailable; the step is not measured");
    return g.config.failure_fails ? -1 : 0;
  }
  if (budget_refuses(g)) return -1;
  int rc = start_meter(g);
  if (g.meter > 0) open_note(g);
  return rc;
}

// In the batch task, before exec, with the job's stdio (and the job user's
// ids): its stdout is the batch output file.
int task_init(spank_t sp) {
  if (!in_remote(sp) || g.note[1] < 0) return 0;
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/fd/1", path, sizeof path - 1);
  if (n <= 0 || path[0] != '/') return 0;
  path[n] = '\0';
  struct stat by_fd {};
  struct stat by_path {};
  // Only a regular file that the path still names.
  if (fstat(1, &by_fd) != 0 || !S_ISREG(by_fd.st_mode) || stat(path, &by_path) != 0 ||
      by_fd.st_dev != by_path.st_dev || by_fd.st_ino != by_path.st_ino)
    return 0;
  std::string line = std::string(path) + "\n";  // at most PIPE_BUF: one atomic write
  if (!write_all(g.note[1], line))
    slurm_info("wattprint: cannot note the batch output's path: %s; no end-of-job block",
               std::strerror(errno));
  return 0;
}

int exit_step(spank_t sp) {
  if (!in_remote(sp) || g.meter <= 0) return 0;
  stop_meter(g);
  if (g.note[0] >= 0) write_block(g);
  return 0;
}

// No exception leaves a callback: Slurm is C, and a failure is logged.
template <typename F>
int guarded(const char* name, F body) {
  try {
    return body();
  } catch (const std::exception& e) {
    slurm_error("wattprint: %s: %s", name, e.what());
  } catch (...) {
    slurm_error("wattprint: %s failed", name);
  }
  return 0;
}

}  // namespace

extern "C" {

WATTPRINT_SPANK_EXPORT int slurm_spank_init(spank_t sp, int ac, char** av) {
  return guarded("init", [&] { return init(sp, ac, av); });
}

WATTPRINT_SPANK_EXPORT int slurm_spank_init_post_opt(spank_t sp, int, char**) {
  return guarded("init_post_opt", [&] { return init_post_opt(sp); });
}

WATTPRINT_SPANK_EXPORT int slurm_spank_user_init(spank_t sp, int, char**) {
  return guarded("user_init", [&] { return user_init(sp); });
}

WATTPRINT_SPANK_EXPORT int slurm_spank_task_init(spank_t sp, int, char**) {
  return guarded("task_init", [&] { return task_init(sp); });
}

WATTPRINT_SPANK_EXPORT int slurm_spank_exit(spank_t sp, int, char**) {
  return guarded("exit", [&] { return exit_step(sp); });
}

}  // extern "C"
