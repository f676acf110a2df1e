// fork/exec of the real binary with stdout and stderr on pipes, drained
// with poll() until both close and the process exits, or the timeout
// kills it.
#include "e2e/run_binary.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace wattprint::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> MakeEnvironment(const RunSpec& spec) {
  std::map<std::string, std::string> env;
  const char* path = std::getenv("PATH");
  env["PATH"] = path ? path : "/usr/local/bin:/usr/bin:/bin";
  if (!spec.cwd.empty()) {
    env["HOME"] = spec.cwd;
  } else {
    char buf[4096];
    env["HOME"] = getcwd(buf, sizeof buf) ? buf : "/";
  }
  // The GPU libraries of the machine running the tests must not leak into
  // the results: unless a test points at a fake, none is loaded.
  env["WATTPRINT_NVML_LIBRARY"] = "/nonexistent/libnvidia-ml.so.1";
  env["WATTPRINT_ROCM_SMI_LIBRARY"] = "/nonexistent/librocm_smi64.so";
  // The same place on every machine: no time-zone country, no cloud probe
  // (CI runners are often cloud VMs). Tests of those steps override these.
  env["TZ"] = "UTC";
  env["WATTPRINT_CLOUD_METADATA"] = "false";
  for (const auto& [k, v] : spec.env) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

[[noreturn]] void ExecChild(const RunSpec& spec, const std::vector<std::string>& env, int out_w,
                            int err_w) {
  const int null = open("/dev/null", O_RDONLY);
  dup2(null, STDIN_FILENO);
  dup2(out_w, STDOUT_FILENO);
  dup2(err_w, STDERR_FILENO);
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) _exit(125);
  std::vector<char*> argv;
  std::string bin = WATTPRINT_BINARY;
  argv.push_back(bin.data());
  for (const std::string& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(argv[0], argv.data(), envp.data());
  _exit(125);
}

// Reads what is available on fd into *out; false at end of file.
bool Drain(int fd, std::string* out) {
  char buf[65536];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) out->append(buf, static_cast<size_t>(n));
  return n > 0 || (n < 0 && errno == EINTR);
}

}  // namespace

BinaryResult RunWattprint(const RunSpec& spec) {
  BinaryResult r;
  const std::vector<std::string> env = MakeEnvironment(spec);
  int out_p[2], err_p[2];
  if (pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe failed";
    return r;
  }
  const pid_t pid = fork();
  if (pid == 0) ExecChild(spec, env, out_p[1], err_p[1]);
  close(out_p[1]);
  close(err_p[1]);
  const Clock::time_point start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(spec.timeout_s);
  const auto signal_at = start + std::chrono::duration<double>(spec.signal_after_s);
  bool signalled = spec.signal == 0;
  pollfd fds[2] = {{out_p[0], POLLIN, 0}, {err_p[0], POLLIN, 0}};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto now = Clock::now();
    if (now >= deadline) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    const bool ready = spec.signal_when_stdout_has.empty() ||
                       r.out.find(spec.signal_when_stdout_has) != std::string::npos;
    if (!signalled && now >= signal_at && ready) {
      kill(pid, spec.signal);
      signalled = true;
    }
    const auto until = signalled || now >= signal_at ? deadline : std::min(deadline, signal_at);
    const int ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
    if (poll(fds, 2, std::max(ms, 1)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      if (!Drain(fds[i].fd, i == 0 ? &r.out : &r.err)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) ADD_FAILURE() << "wattprint did not finish within " << spec.timeout_s << " s";
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
  return r;
}

BinaryResult RunWattprint(const std::vector<std::string>& args, const std::string& cwd,
                          const std::map<std::string, std::string>& env, double timeout_s) {
  RunSpec spec;
  spec.args = args;
  spec.cwd = cwd;
  spec.env = env;
  spec.timeout_s = timeout_s;
  return RunWattprint(spec);
}

}  // namespace wattprint::testing
