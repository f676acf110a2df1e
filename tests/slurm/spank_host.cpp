// A fake SPANK host for wattprint_spank.so: this executable defines the
// spank_* and slurm_* functions the plugin calls (exported with -rdynamic,
// so the dlopen'ed plugin resolves them here), drives them from a per-test
// scenario (context, job, step, job environment) and records the log lines.
// Each test calls the callbacks in the order slurmstepd, srun or sbatch do.
//
// Instead of the real wattprint, the plugin runs a small sh script written to
// the test's directory: it records its argv and environment in NAME.calls
// (NAME: budget, run or job), and for `budget check` answers as the test
// asks, for `run --attach` waits for SIGINT, for `job --block` prints a block.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <slurm/spank.h>
}

struct spank_handle {
  int unused;
};

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint32_t kBatchStep = 0xfffffffb;   // SLURM_BATCH_SCRIPT
constexpr uint32_t kExternStep = 0xfffffffc;  // SLURM_EXTERN_CONT
constexpr uint32_t kInteractiveStep = 0xfffffffa;

// spank.h's ESPANK_SUCCESS is a plain 0, not one of the enum's values.
constexpr spank_err_t kSpankOk = static_cast<spank_err_t>(ESPANK_SUCCESS);

struct LogLine {
  std::string level, text;
};

struct Scenario {
  spank_context_t context = S_CTX_REMOTE;
  uint32_t job_id = 4242;
  uint32_t step_id = kBatchStep;
  uid_t uid = getuid();
  std::map<std::string, std::string> env;
  std::vector<LogLine> logs;
  std::vector<spank_option> options;  // as registered
};

Scenario* current = nullptr;  // the running test's

void record(const char* level, const char* fmt, va_list ap) {
  char buf[4096];
  vsnprintf(buf, sizeof buf, fmt, ap);
  if (current) current->logs.push_back({level, buf});
  std::fprintf(stderr, "  [plugin %s] %s\n", level, buf);
}

}  // namespace

// ------------------------------------------- the SPANK API, as spank.h has it

extern "C" {

int spank_remote(spank_t) { return current->context == S_CTX_REMOTE ? 1 : 0; }

spank_context_t spank_context(void) { return current->context; }

spank_err_t spank_option_register(spank_t, struct spank_option* opt) {
  if (!opt || !opt->name || !opt->usage) return ESPANK_BAD_ARG;
  current->options.push_back(*opt);
  return kSpankOk;
}

spank_err_t spank_get_item(spank_t, spank_item_t item, ...) {
  va_list ap;
  va_start(ap, item);
  spank_err_t rc = kSpankOk;
  bool remote = current->context == S_CTX_REMOTE;
  switch (item) {
    case S_JOB_ID:
      if (remote)
        *va_arg(ap, uint32_t*) = current->job_id;
      else
        rc = ESPANK_NOT_AVAIL;
      break;
    case S_JOB_STEPID:
      if (remote)
        *va_arg(ap, uint32_t*) = current->step_id;
      else
        rc = ESPANK_NOT_AVAIL;
      break;
    case S_JOB_UID:
      *va_arg(ap, uid_t*) = current->uid;
      break;
    default:
      rc = ESPANK_BAD_ARG;
  }
  va_end(ap);
  return rc;
}

spank_err_t spank_getenv(spank_t, const char* var, char* buf, int len) {
  if (current->context != S_CTX_REMOTE) return ESPANK_NOT_REMOTE;
  auto it = current->env.find(var);
  if (it == current->env.end()) return ESPANK_ENV_NOEXIST;
  if (len < 0 || it->second.size() + 1 > static_cast<size_t>(len)) return ESPANK_NOSPACE;
  std::memcpy(buf, it->second.c_str(), it->second.size() + 1);
  return kSpankOk;
}

void slurm_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record("error", fmt, ap);
  va_end(ap);
}

void slurm_info(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record("info", fmt, ap);
  va_end(ap);
}

void slurm_verbose(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record("verbose", fmt, ap);
  va_end(ap);
}

void slurm_debug(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record("debug", fmt, ap);
  va_end(ap);
}

}  // extern "C"

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// Waits for a file to appear, at most `limit`.
bool wait_for(const fs::path& p, std::chrono::milliseconds limit = 3000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!fs::exists(p)) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The parent pid (field 4) of a process, from /proc.
pid_t parent_of(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  char state = 0;
  int ppid = -1;
  std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid);
  return ppid;
}

// Gone, or a zombie waiting for init.
bool process_ended(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || stat[paren + 2] == 'Z' || stat[paren + 2] == 'X';
}

// What `budget check` does in the fake, as sh.
std::string budget_answers(int code, const std::string& line) {
  return "printf '%s\\n' '" + line + "'; exit " + std::to_string(code);
}
const char* kBudgetHangs = "sleep 10 & echo $! > \"$d/budget-sleep.pid\"; wait; exit 0";

// Points fd 1 at a file, as slurmstepd does for the batch task, and back.
class StdoutTo {
 public:
  explicit StdoutTo(const fs::path& file) {
    std::fflush(stdout);
    saved_ = dup(1);
    int fd = open(file.c_str(), O_WRONLY | O_APPEND);
    dup2(fd, 1);
    close(fd);
  }
  ~StdoutTo() {
    std::fflush(stdout);
    dup2(saved_, 1);
    close(saved_);
  }

 private:
  int saved_ = -1;
};

class SpankHost : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wattprint-spank-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    spool_ = dir_ / "spool";
    fs::create_directory(spool_);
    std::ofstream(dir_ / "token") << "  s3cret-token  \nsecond line\n";
    current = &scenario_;
    plugin_ = dlopen(WATTPRINT_SPANK_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(plugin_, nullptr) << dlerror();
    setenv("WP_HOST_ONLY", "1", 1);  // must not reach the children
  }

  void TearDown() override {
    // Measuring processes a failed test left running (all the fakes ever
    // started are in run.pids).
    std::ifstream pids(dir_ / "run.pids");
    for (pid_t pid = 0; pids >> pid;)
      if (pid > 0 && !process_ended(pid) &&
          contains(slurp("/proc/" + std::to_string(pid) + "/cmdline"), dir_.string()))
        kill(pid, SIGKILL);
    if (plugin_) dlclose(plugin_);
    current = nullptr;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The fake wattprint; `budget` is the sh run for `budget check`.
  std::string fake(const std::string& budget = budget_answers(0, "")) {
    fs::path script = dir_ / "wattprint";
    std::ofstream out(script);
    out << "#!/bin/sh\n"
        << "d='" << dir_.string() << "'\n"
        << "{ printf 'ARGV'; for a in \"$@\"; do printf ' <%s>' \"$a\"; done; printf '\\n'\n"
        << "  env | sort | sed 's/^/ENV /'; } >> \"$d/$1.calls\"\n"
        << "case \"$1\" in\n"
        << "budget) " << budget << " ;;\n"
        << "run) # the trap first: the test sends SIGINT once run.pid exists\n"
        << "  trap 'echo stopped > \"$d/run.stopped\"; exit 0' INT\n"
        << "  echo $$ >> \"$d/run.pids\"\n"
        << "  echo $$ > \"$d/run.pid.new\" && mv \"$d/run.pid.new\" \"$d/run.pid\"\n"
        << "  while :; do sleep 0.05; done ;;\n"
        << "job) printf '== wattprint: job %s ==\\nenergy 12.3 Wh, 4.5 gCO2e\\n' \"$2\" ;;\n"
        << "esac\n";
    out.close();
    fs::permissions(script, fs::perms::owner_all);
    return script.string();
  }

  std::vector<std::string> args(const std::string& wattprint, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"wattprint=" + wattprint, "collector=http://collector.test:8080",
                                  "token_file=" + (dir_ / "token").string(), "interval=7",
                                  "spool=" + spool_.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  void remote_job(uint32_t step = kBatchStep) {
    scenario_.context = S_CTX_REMOTE;
    scenario_.step_id = step;
    scenario_.env = {{"SLURM_JOB_ACCOUNT", "proj1"},
                     {"SLURM_CLUSTER_NAME", "wptest"},
                     {"SLURMD_NODENAME", "n1"},
                     {"SLURM_JOB_USER", "alice"},
                     {"SLURM_JOB_PARTITION", "debug"}};
  }

  // ------------------------------------------------------- the callbacks

  int call(const char* name, std::vector<std::string> av = {}) {
    auto fn = reinterpret_cast<spank_f*>(dlsym(plugin_, name));
    if (!fn) {
      ADD_FAILURE() << name << " is not exported";
      return -99;
    }
    std::vector<char*> argv;
    for (auto& s : av) argv.push_back(s.data());
    argv.push_back(nullptr);
    return fn(&handle_, static_cast<int>(av.size()), argv.data());
  }

  int init(const std::vector<std::string>& av) { return call("slurm_spank_init", av); }
  int post_opt() { return call("slurm_spank_init_post_opt"); }
  int user_init() { return call("slurm_spank_user_init"); }
  int task_init() { return call("slurm_spank_task_init"); }
  int exit_cb() { return call("slurm_spank_exit"); }

  // task_init as slurmstepd runs it: in a forked task process whose stdout
  // is the job's output file. Returns the callback's result.
  int task_init_in_task(const fs::path& output) {
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(output.c_str(), O_WRONLY | O_APPEND);
      if (fd < 0 || dup2(fd, 1) < 0) _exit(100);
      close(fd);
      _exit(task_init() == 0 ? 0 : 101);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -98;
    return WEXITSTATUS(status) == 0 ? 0 : -1;
  }

  // --wattprint=VALUE, as Slurm hands it to the option's callback.
  int option(const char* value) {
    for (auto& o : scenario_.options)
      if (std::string(o.name) == "wattprint") return o.cb(o.val, value, scenario_.context == S_CTX_REMOTE);
    ADD_FAILURE() << "--wattprint is not registered";
    return -99;
  }

  // ------------------------------------------------------- what happened

  std::vector<std::string> logs(const std::string& level) const {
    std::vector<std::string> out;
    for (auto& l : scenario_.logs)
      if (l.level == level) out.push_back(l.text);
    return out;
  }
  bool logged(const std::string& level, const std::string& text) const {
    for (auto& l : logs(level))
      if (contains(l, text)) return true;
    return false;
  }
  std::string calls(const std::string& name) const { return slurp(dir_ / (name + ".calls")); }
  std::string argv_of(const std::string& name) const {
    std::string c = calls(name);
    return c.substr(0, c.find('\n'));
  }
  bool ran(const std::string& name) const { return fs::exists(dir_ / (name + ".calls")); }
  bool ran_anything() const { return ran("budget") || ran("run") || ran("job"); }

  pid_t meter_pid() {
    if (!wait_for(dir_ / "run.pid")) return -1;
    pid_t pid = -1;
    std::ifstream(dir_ / "run.pid") >> pid;
    return pid;
  }

  Scenario scenario_;
  spank_handle handle_{};
  void* plugin_ = nullptr;
  fs::path dir_, spool_;
};

std::string P(const fs::path& p) { return "<" + p.string() + ">"; }

TEST_F(SpankHost, BatchStepChecksBudgetMeasuresAndAppendsTheBlock) {
  remote_job(kBatchStep);
  scenario_.env["SLURM_JOB_GPUS"] = "0,1";
  scenario_.env["CUDA_VISIBLE_DEVICES"] = "0,1";
  std::string wp = fake();
  ASSERT_EQ(init(args(wp)), 0);
  ASSERT_EQ(post_opt(), 0);
  ASSERT_EQ(user_init(), 0);

  // The budget check: the account, the collector and the policy on argv;
  // the token only in the environment.
  EXPECT_EQ(argv_of("budget"),
            "ARGV <budget> <check> <proj1> <--collector> <http://collector.test:8080> <--policy> <allow>");
  EXPECT_TRUE(contains(calls("budget"), "ENV WATTPRINT_COLLECTOR_TOKEN=s3cret-token\n")) << calls("budget");

  // The measuring process: attached to the host (slurmstepd's) pid.
  pid_t meter = meter_pid();
  ASSERT_GT(meter, 0);
  EXPECT_EQ(argv_of("run"), "ARGV <run> <--attach> <" + std::to_string(getpid()) +
                                "> <--scope> <process> <--collector> <http://collector.test:8080> <--spool-dir> " + P(spool_) +
                                " <--interval> <7> <--no-save> <--quiet> <--json> " +
                                P(spool_ / "wattprint-4242.batch.n1.json") + " <--gpu-ids> <0,1>");
  std::string env = calls("run");
  for (const char* want : {"WATTPRINT_COLLECTOR_TOKEN=s3cret-token", "SLURM_JOB_ID=4242",
                           "SLURM_STEP_ID=batch", "SLURM_CLUSTER_NAME=wptest", "SLURMD_NODENAME=n1",
                           "SLURM_JOB_USER=alice", "SLURM_JOB_ACCOUNT=proj1", "SLURM_JOB_PARTITION=debug"})
    EXPECT_TRUE(contains(env, std::string("ENV ") + want + "\n")) << want << "\n" << env;
  EXPECT_FALSE(contains(env, "CUDA_VISIBLE_DEVICES")) << "the GPUs go by --gpu-ids";
  EXPECT_FALSE(contains(env, "WP_HOST_ONLY")) << "the environment is built from nothing";
  for (const char* name : {"budget", "run"}) EXPECT_FALSE(contains(argv_of(name), "s3cret")) << name;

  // Not the host's child: reparented, in a session of its own.
  errno = 0;
  EXPECT_EQ(waitpid(meter, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_NE(parent_of(meter), getpid());
  EXPECT_NE(getsid(meter), getsid(0));
  EXPECT_TRUE(wait_for(spool_ / "wattprint-4242.batch.n1.log")) << "its stdout goes to the spool's log";

  // task_init in the batch task, whose stdout is the job's output file.
  fs::path output = dir_ / "slurm-4242.out";
  std::ofstream(output) << "hello from the job\n";
  EXPECT_EQ(task_init_in_task(output), 0);

  // exit: SIGINT to the measuring process, then the block in the output.
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(fs::exists(dir_ / "run.stopped")) << "the batch step's exit waits for the measurement to end";
  EXPECT_EQ(argv_of("job"),
            "ARGV <job> <4242> <--cluster> <wptest> <--collector> <http://collector.test:8080> <--block>");
  EXPECT_TRUE(contains(calls("job"), "ENV WATTPRINT_COLLECTOR_TOKEN=s3cret-token\n"));
  EXPECT_EQ(slurp(output), "hello from the job\n== wattprint: job 4242 ==\nenergy 12.3 Wh, 4.5 gCO2e\n");
  // The path went from the task to slurmstepd on a pipe, not a file.
  for (auto& entry : fs::directory_iterator(spool_))
    EXPECT_EQ(entry.path().filename(), "wattprint-4242.batch.n1.log");
  EXPECT_TRUE(logs("error").empty());
}

TEST_F(SpankHost, BudgetRefusedStopsTheStepAndStartsNothing) {
  remote_job();
  const std::string why = "wattprint: account proj1 has used its budget (120.0 of 120 kgCO2e)";
  ASSERT_EQ(init(args(fake(budget_answers(1, why)))), 0);
  ASSERT_EQ(post_opt(), 0);
  EXPECT_EQ(user_init(), -1);
  auto errors = logs("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], why);
  EXPECT_FALSE(ran("run"));
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_FALSE(ran("job"));
}

TEST_F(SpankHost, BudgetWarningIsShownAndTheStepRuns) {
  remote_job(0);
  const std::string warning = "wattprint: account proj1 has used 92% of its budget";
  ASSERT_EQ(init(args(fake(budget_answers(0, warning)))), 0);
  ASSERT_EQ(post_opt(), 0);
  EXPECT_EQ(user_init(), 0);
  EXPECT_EQ(logs("error"), std::vector<std::string>{warning});
  EXPECT_GT(meter_pid(), 0);
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
}

TEST_F(SpankHost, BudgetCheckThatHangsFollowsThePolicy) {
  for (const char* policy : {"allow", "refuse"}) {
    SCOPED_TRACE(policy);
    fs::remove(dir_ / "budget.calls");
    fs::remove(dir_ / "run.pid");
    scenario_.logs.clear();
    remote_job(0);
    ASSERT_EQ(init(args(fake(kBudgetHangs), {std::string("policy=") + policy})), 0);
    ASSERT_EQ(post_opt(), 0);
    auto start = std::chrono::steady_clock::now();
    int rc = user_init();
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, 2800ms);  // 2 s for the check, then the kill and the start
    EXPECT_GE(took, 1900ms);
    EXPECT_TRUE(logged("error", "did not answer within 2 s"));
    EXPECT_TRUE(contains(argv_of("budget"), std::string("<--policy> <") + policy + ">"));
    // The check's whole process group is killed, its `sleep` too.
    pid_t sleeper = -1;
    std::ifstream(dir_ / "budget-sleep.pid") >> sleeper;
    ASSERT_GT(sleeper, 0);
    auto end = std::chrono::steady_clock::now() + 1s;
    while (!process_ended(sleeper) && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(process_ended(sleeper));
    if (std::string(policy) == "allow") {
      EXPECT_EQ(rc, 0);
      EXPECT_GT(meter_pid(), 0);
      EXPECT_EQ(exit_cb(), 0);
      EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
    } else {
      EXPECT_EQ(rc, -1);
      EXPECT_FALSE(fs::exists(dir_ / "run.pid"));
      EXPECT_EQ(exit_cb(), 0);
    }
  }
}

TEST_F(SpankHost, OptOutWhenAllowedLeavesTheStepAlone) {
  remote_job();
  ASSERT_EQ(init(args(fake())), 0);
  EXPECT_EQ(option("off"), 0);  // forwarded from sbatch --wattprint=off
  ASSERT_EQ(post_opt(), 0);
  EXPECT_EQ(user_init(), 0);
  fs::path output = dir_ / "slurm-4242.out";
  std::ofstream(output) << "job\n";
  {
    StdoutTo redirect(output);
    EXPECT_EQ(task_init(), 0);
  }
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_FALSE(ran_anything());
  EXPECT_TRUE(fs::is_empty(spool_));
  EXPECT_EQ(slurp(output), "job\n");
  EXPECT_TRUE(logs("error").empty());
}

TEST_F(SpankHost, OptOutWhenDeniedIsRefusedAtSubmission) {
  scenario_.context = S_CTX_ALLOCATOR;
  ASSERT_EQ(init(args(fake(), {"optout=deny"})), 0);
  EXPECT_EQ(option("off"), -1);
  EXPECT_TRUE(logged("error", "--wattprint=off is not allowed"));
  EXPECT_TRUE(logged("error", "optout=deny"));
  EXPECT_EQ(post_opt(), -1);
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_FALSE(ran_anything());
}

TEST_F(SpankHost, OptOutWhenDeniedIsIgnoredInSlurmstepd) {
  // A user who skipped the submit-side refusal is measured anyway.
  remote_job(0);
  ASSERT_EQ(init(args(fake(), {"optout=deny"})), 0);
  EXPECT_EQ(option("off"), 0);
  ASSERT_EQ(post_opt(), 0);
  EXPECT_EQ(user_init(), 0);
  EXPECT_GT(meter_pid(), 0);
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
}

TEST_F(SpankHost, OptionValuesOtherThanOnOrOffAreRefusedAtSubmission) {
  scenario_.context = S_CTX_LOCAL;
  ASSERT_EQ(init(args(fake())), 0);
  EXPECT_EQ(option("on"), 0);
  EXPECT_EQ(option("off"), 0);
  EXPECT_EQ(option("maybe"), -1);
  EXPECT_TRUE(logged("error", "'maybe'"));
}

TEST_F(SpankHost, UnknownKeyIsOneErrorLineAndChangesNothingElse) {
  remote_job(0);
  ASSERT_EQ(init(args(fake(), {"colour=blue"})), 0);
  EXPECT_EQ(logs("error"),
            std::vector<std::string>{"wattprint: unknown plugstack.conf key 'colour' (ignored)"});
  EXPECT_EQ(post_opt(), 0);
  EXPECT_EQ(user_init(), 0);
  EXPECT_GT(meter_pid(), 0);
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
  EXPECT_EQ(logs("error").size(), 1u);
}

TEST_F(SpankHost, MissingBinaryIsLoggedAndIgnoredUnlessFailureIsFail) {
  for (const char* failure : {"ignore", "fail"}) {
    SCOPED_TRACE(failure);
    scenario_.logs.clear();
    remote_job(0);
    ASSERT_EQ(init(args((dir_ / "no-such-wattprint").string(), {std::string("failure=") + failure})), 0);
    ASSERT_EQ(post_opt(), 0);
    EXPECT_EQ(user_init(), std::string(failure) == "fail" ? -1 : 0);
    EXPECT_TRUE(logged("error", "cannot start " + (dir_ / "no-such-wattprint").string()));
    EXPECT_TRUE(logged("error", "could not be run"))  // the budget check, under policy=allow
        << "the budget check could not run either";
    EXPECT_EQ(exit_cb(), 0);
  }
}

TEST_F(SpankHost, LocalAndAllocatorContextsStartNothing) {
  for (spank_context_t ctx : {S_CTX_LOCAL, S_CTX_ALLOCATOR}) {
    SCOPED_TRACE(ctx);
    scenario_ = Scenario{};
    scenario_.context = ctx;
    scenario_.env = {{"SLURM_JOB_ACCOUNT", "proj1"}};
    ASSERT_EQ(init(args(fake())), 0);
    ASSERT_EQ(scenario_.options.size(), 1u) << "--wattprint is registered";
    EXPECT_STREQ(scenario_.options[0].name, "wattprint");
    EXPECT_EQ(scenario_.options[0].has_arg, 1);
    EXPECT_EQ(option("on"), 0);
    EXPECT_EQ(post_opt(), 0);
    EXPECT_EQ(dlsym(plugin_, "slurm_spank_local_user_init"), nullptr) << "nothing to do in srun's user init";
    EXPECT_EQ(user_init(), 0);
    EXPECT_EQ(task_init(), 0);
    EXPECT_EQ(exit_cb(), 0);
    EXPECT_FALSE(ran_anything());
    EXPECT_TRUE(logs("error").empty());
  }
}

TEST_F(SpankHost, SlurmdAndJobScriptContextsDoNothing) {
  for (spank_context_t ctx : {S_CTX_SLURMD, S_CTX_JOB_SCRIPT}) {
    scenario_ = Scenario{};
    scenario_.context = ctx;
    EXPECT_EQ(init(args(fake(), {"colour=blue"})), 0);
    EXPECT_TRUE(scenario_.options.empty());
    EXPECT_TRUE(scenario_.logs.empty()) << "the arguments are not even read";
    EXPECT_EQ(exit_cb(), 0);
  }
  EXPECT_FALSE(ran_anything());
}

TEST_F(SpankHost, WithoutCollectorNothingHappensAndOneDebugLineSaysSo) {
  remote_job();
  ASSERT_EQ(init({"wattprint=" + fake(), "spool=" + spool_.string()}), 0);
  EXPECT_EQ(option("on"), 0);
  EXPECT_EQ(post_opt(), 0);
  EXPECT_EQ(user_init(), 0);
  EXPECT_EQ(task_init(), 0);
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_FALSE(ran_anything());
  ASSERT_EQ(scenario_.logs.size(), 1u);
  EXPECT_EQ(scenario_.logs[0].level, "debug");
  EXPECT_TRUE(contains(scenario_.logs[0].text, "collector"));
}

TEST_F(SpankHost, StepsAreNamedInTheEnvironmentAndTheRecord) {
  struct Case {
    uint32_t step;
    const char* name;
  };
  for (Case c : {Case{0, "0"}, Case{kExternStep, "extern"}, Case{kInteractiveStep, "4294967290"}}) {
    SCOPED_TRACE(c.name);
    for (const char* f : {"run.calls", "run.pid", "run.stopped"}) fs::remove(dir_ / f);
    remote_job(c.step);
    scenario_.env["CUDA_VISIBLE_DEVICES"] = "1";  // no SLURM_JOB_GPUS: passed through
    ASSERT_EQ(init(args(fake())), 0);
    ASSERT_EQ(post_opt(), 0);
    ASSERT_EQ(user_init(), 0);
    ASSERT_GT(meter_pid(), 0);
    EXPECT_TRUE(contains(calls("run"), std::string("ENV SLURM_STEP_ID=") + c.name + "\n"));
    EXPECT_TRUE(contains(calls("run"), "ENV CUDA_VISIBLE_DEVICES=1\n"));
    EXPECT_FALSE(contains(argv_of("run"), "--gpu-ids"));
    EXPECT_TRUE(contains(argv_of("run"), P(spool_ / ("wattprint-4242." + std::string(c.name) + ".n1.json"))));
    EXPECT_EQ(exit_cb(), 0);
    EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
    EXPECT_FALSE(ran("job")) << "only the batch step writes the block";
  }
}

TEST_F(SpankHost, BlockIsNotAppendedToAFileOfAnotherUser) {
  remote_job(kBatchStep);
  scenario_.uid = getuid() + 1000;  // the job's user does not own the output
  ASSERT_EQ(init(args(fake())), 0);
  ASSERT_EQ(post_opt(), 0);
  ASSERT_EQ(user_init(), 0);
  ASSERT_GT(meter_pid(), 0);
  fs::path output = dir_ / "slurm-4242.out";
  std::ofstream(output) << "job\n";
  {
    StdoutTo redirect(output);
    EXPECT_EQ(task_init(), 0);
  }
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(ran("job"));
  EXPECT_EQ(slurp(output), "job\n");
  EXPECT_TRUE(logged("info", "not a regular file of the job's user"));
}

TEST_F(SpankHost, BudgetOffRunsNoCheckAndUserInitIsQuick) {
  remote_job(0);
  ASSERT_EQ(init(args(fake(), {"budget=off"})), 0);
  ASSERT_EQ(post_opt(), 0);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(user_init(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms) << "user_init does not wait for the measurement";
  EXPECT_FALSE(ran("budget"));
  EXPECT_GT(meter_pid(), 0);
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
}

TEST_F(SpankHost, OutputOffWritesNoBlock) {
  remote_job(kBatchStep);
  ASSERT_EQ(init(args(fake(), {"output=off"})), 0);
  ASSERT_EQ(post_opt(), 0);
  ASSERT_EQ(user_init(), 0);
  ASSERT_GT(meter_pid(), 0);
  fs::path output = dir_ / "slurm-4242.out";
  std::ofstream(output) << "job\n";
  {
    StdoutTo redirect(output);
    EXPECT_EQ(task_init(), 0);
  }
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(wait_for(dir_ / "run.stopped")) << "still stopped";
  EXPECT_FALSE(ran("job"));
  EXPECT_EQ(slurp(output), "job\n");
}

TEST_F(SpankHost, WithoutSpoolThereIsNoRecordButStillTheBlock) {
  remote_job(kBatchStep);
  ASSERT_EQ(init({"wattprint=" + fake(), "collector=http://collector.test:8080"}), 0);
  ASSERT_EQ(post_opt(), 0);
  ASSERT_EQ(user_init(), 0);
  ASSERT_GT(meter_pid(), 0);
  EXPECT_EQ(argv_of("run"),
            "ARGV <run> <--attach> <" + std::to_string(getpid()) +
                "> <--scope> <process> <--collector> <http://collector.test:8080> <--interval> <10> <--no-save> <--quiet>");
  EXPECT_FALSE(contains(calls("run"), "WATTPRINT_COLLECTOR_TOKEN")) << "no token_file, no token";
  fs::path output = dir_ / "slurm-4242.out";
  std::ofstream(output) << "job\n";
  EXPECT_EQ(task_init_in_task(output), 0);
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(fs::exists(dir_ / "run.stopped"));
  EXPECT_EQ(slurp(output), "job\n== wattprint: job 4242 ==\nenergy 12.3 Wh, 4.5 gCO2e\n");
  EXPECT_TRUE(fs::is_empty(spool_));
}

TEST_F(SpankHost, OutputThatIsNotARegularFileGetsNoBlock) {
  remote_job(kBatchStep);
  ASSERT_EQ(init(args(fake())), 0);
  ASSERT_EQ(post_opt(), 0);
  ASSERT_EQ(user_init(), 0);
  ASSERT_GT(meter_pid(), 0);
  EXPECT_EQ(task_init_in_task("/dev/null"), 0);  // sbatch --output=/dev/null
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_FALSE(ran("job"));
  EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
}

TEST_F(SpankHost, UnplainJobValuesStayOffTheCommandLine) {
  remote_job(0);
  scenario_.env["SLURM_JOB_ACCOUNT"] = "--help";
  scenario_.env["SLURM_JOB_GPUS"] = "0 --quiet";
  ASSERT_EQ(init(args(fake())), 0);
  ASSERT_EQ(post_opt(), 0);
  EXPECT_EQ(user_init(), 0);
  EXPECT_FALSE(ran("budget"));
  EXPECT_TRUE(logged("error", "account name '--help' is not plain"));
  ASSERT_GT(meter_pid(), 0);
  EXPECT_FALSE(contains(argv_of("run"), "--gpu-ids"));
  EXPECT_EQ(exit_cb(), 0);
  EXPECT_TRUE(wait_for(dir_ / "run.stopped"));
}

}  // namespace
