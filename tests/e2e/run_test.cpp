// End-to-end tests of `wattprint run` on a fake RAPL tree whose counters
// the tracked command itself moves mid-run.
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"
#include "wattprint/activity.h"

namespace wattprint::testing {
namespace {

class RunTest : public ::testing::Test {
 protected:
  TempTree sys_;
  TempTree out_;
  std::string Pkg() const { return sys_.Path(std::string(kPkgDir) + "/energy_uj"); }
  std::string Dram() const { return sys_.Path(std::string(kDramDir) + "/energy_uj"); }
  std::vector<std::string> Args(const std::string& script) const {
    return {"run", "--sysfs-root", sys_.Path("sys"), "--procfs-root", "/proc", "--output-dir",
            out_.root(), "--json", out_.Path("run.json"), "--interval", "0.1",
            "--", "sh", "-c", script};
  }
};

TEST_F(RunTest, CounterDeltasGiveExactEnergyInCsvAndJson) {
  WriteRaplTree(sys_, 1000000, 2000000);
  const std::string script = "sleep 0.3; " + ShellOverwrite(Pkg(), 8200000) + "; " +
                             ShellOverwrite(Dram(), 2900000) + "; sleep 0.3";
  BinaryResult r = RunWattprint(Args(script), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_KWH(rows[0]["cpu_energy"], KwhOfMicrojoules(7200000));
  EXPECT_KWH(rows[0]["ram_energy"], KwhOfMicrojoules(900000));
  EXPECT_KWH(rows[0]["energy_consumed"], KwhOfMicrojoules(8100000));
  EXPECT_EQ(rows[0]["gpu_energy"], "0.0");  // no GPU here: a measured 0 J
  EXPECT_EQ(rows[0]["gpu_power"], "0.0");
  EXPECT_EQ(rows[0]["tracking_mode"], "machine");
  EXPECT_EQ(rows[0]["project_name"], "codecarbon");
  EXPECT_GE(std::stod(rows[0]["duration"]), 0.6);

  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["command"], (std::vector<std::string>{"sh", "-c", script}));
  EXPECT_NEAR(j["kinds"]["cpu"]["machine"]["j"].get<double>(), 7.2, 7.2 * 1e-12);
  EXPECT_NEAR(j["kinds"]["dram"]["machine"]["j"].get<double>(), 0.9, 0.9 * 1e-12);
  EXPECT_EQ(j["kinds"]["cpu"]["method"], "measured_counter");
  EXPECT_EQ(j["intensity"]["is_default"], true);
}

bool HasEventKind(const nlohmann::json& j, const std::string& kind) {
  for (const nlohmann::json& e : j["events"]) {
    if (e["kind"] == kind) return true;
  }
  return false;
}

// A DRAM counter that restarts (driver reload, firmware update) mid-run is a
// reset: no range's worth of energy is invented, and the figure says it is a
// lower bound.
TEST_F(RunTest, CounterResetIsDroppedNotBookedAsAWrap) {
  WriteRaplTree(sys_, 1000000, 3000000);
  const std::string script = "sleep 0.3; " + ShellOverwrite(Dram(), 1000000) + "; sleep 0.3; " +
                             ShellOverwrite(Dram(), 1500000) + "; sleep 0.3";
  BinaryResult r = RunWattprint(Args(script), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  const double dram_j = j["kinds"]["dram"]["machine"]["j"].get<double>();
  EXPECT_NEAR(dram_j, 0.5, 1e-9);  // 1 J -> 1.5 J after the reset; not 262,141 J
  EXPECT_EQ(j["kinds"]["dram"]["lower_bound"], true);
  EXPECT_EQ(j["kinds"]["cpu"]["lower_bound"], false);
  EXPECT_TRUE(HasEventKind(j, "reset")) << j["events"].dump();
  EXPECT_FALSE(HasEventKind(j, "wrap"));
  for (const nlohmann::json& c : j["channels"]) {
    if (c["kind"] == "dram") {
      EXPECT_EQ(c["resets"], 1);
      EXPECT_EQ(c["wraps"], 0);
    }
  }
  EXPECT_NE(r.err.find("lower bound"), std::string::npos) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_KWH(rows[0]["ram_energy"], KwhOfMicrojoules(500000));
}

// Through the CLI: a counter stepping back 1 µJ is not a 262,143 J wrap in
// 100 ms, and a jump to 1e18 µJ is not accepted.
TEST_F(RunTest, ImplausibleCounterStepsAreDroppedThroughTheCli) {
  WriteRaplTree(sys_, 1000000000, 2000000000);
  const std::string script = "sleep 0.3; " + ShellOverwrite(Pkg(), 999999999) + "; sleep 0.3; " +
                             ShellOverwrite(Dram(), 99999999999) + "; sleep 0.3";
  BinaryResult r = RunWattprint(Args(script), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_LT(j["kinds"]["cpu"]["machine"]["j"].get<double>(), 1.0);   // not 262,143 J
  EXPECT_LT(j["kinds"]["dram"]["machine"]["j"].get<double>(), 1.0);  // not 97,999 J
  EXPECT_TRUE(HasEventKind(j, "reset")) << j["events"].dump();
  EXPECT_TRUE(HasEventKind(j, "jump")) << j["events"].dump();
  EXPECT_EQ(j["kinds"]["cpu"]["lower_bound"], true);
}

// wattprint itself stopped (SIGSTOP) for longer than its counters' minimum
// wrap time: the gap is an event and the energy a lower bound; the command's
// exit code is untouched.
TEST_F(RunTest, StoppedWattprintFlagsTheGap) {
  WriteRaplTree(sys_, 1000000, 2000000, 1000000000ULL);  // 1000 J range: a wrap every 1 s at 1000 W
  const std::string script = "sleep 0.3; kill -STOP $PPID; sleep 2.5; " + ShellOverwrite(Pkg(), 1500000) +
                             "; kill -CONT $PPID; sleep 0.3; exit 3";
  BinaryResult r = RunWattprint(Args(script), out_.root());
  ASSERT_EQ(r.exit_code, 3) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_TRUE(HasEventKind(j, "stall")) << j["events"].dump();
  EXPECT_TRUE(HasEventKind(j, "long_gap")) << j["events"].dump();
  EXPECT_EQ(j["kinds"]["cpu"]["lower_bound"], true);
  EXPECT_NEAR(j["kinds"]["cpu"]["machine"]["j"].get<double>(), 0.5, 1e-9);
  // A 1000 J counter at the 1000 W default ceiling: sampling is capped at 0.5 s.
  EXPECT_EQ(r.err.find("instead of"), std::string::npos) << r.err;  // 0.1 s asked: no cap needed
}

// Without counters the models estimate CPU and RAM, and every estimate is a
// range: the bounds reach the JSON (per kind and for emissions) and the
// summary.
TEST_F(RunTest, EstimatesCarryTheirBounds) {
  sys_.Write("sys/class/empty", "");
  BinaryResult r = RunWattprint(Args("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  for (const char* kind : {"cpu", "dram"}) {
    const nlohmann::json& k = j["kinds"][kind];
    ASSERT_EQ(k["method"], "estimated") << kind;
    const double e = k["machine"]["j"].get<double>();
    EXPECT_LT(k["bounds"]["machine"]["low_j"].get<double>(), e) << kind;
    EXPECT_GT(k["bounds"]["machine"]["high_j"].get<double>(), e) << kind;
  }
  const nlohmann::json& em = j["emissions"]["machine"];
  EXPECT_LT(em["bounds"]["kg_low"].get<double>(), em["kg"].get<double>());
  EXPECT_GT(em["bounds"]["kg_high"].get<double>(), em["kg"].get<double>());
  EXPECT_NE(r.err.find("(bounds "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(range "), std::string::npos) << r.err;
  // A model's numeric inputs are numbers in the record.
  for (const nlohmann::json& c : j["channels"]) {
    if (c["id"] == "estimate_ram:machine") {
      EXPECT_TRUE(c["model"]["dimms"].is_number()) << c.dump();
    }
  }
}

// The tree's CPU time comes from the inherited perf counter where the kernel
// allows it, else from procfs, and the JSON says which.
TEST_F(RunTest, JsonNamesTheSourceOfTheTreeCpuTime) {
  WriteRaplTree(sys_, 1000000, 2000000);
  BinaryResult r = RunWattprint(Args("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  const std::string source = j["process_tree"]["cpu_time_source"];
  const int probe = OpenInheritedTaskClock();
  if (probe >= 0) {
    close(probe);
    EXPECT_EQ(source, "perf_event task-clock (inherited)");
  } else {
    EXPECT_EQ(source, std::string("procfs walk (perf_event_open: ") + std::strerror(-probe) + ")");
  }
  EXPECT_FALSE(j["kinds"]["cpu"]["process"].is_null());
}

// The record states wattprint's own cost, and it is its own: a command that
// burns CPU does not show up in it.
TEST_F(RunTest, JsonStatesWattprintsOwnCostNotTheCommands) {
  WriteRaplTree(sys_, 1000000, 2000000);
  // About 0.3 s of the command's CPU time.
  BinaryResult r = RunWattprint(Args("end=$(( $(date +%s%N) + 300000000 )); "
                                     "while [ $(date +%s%N) -lt $end ]; do :; done"),
                                out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  ASSERT_TRUE(j.contains("overhead")) << j.dump();
  const double cpu_s = j["overhead"]["cpu_s"].get<double>();
  EXPECT_GT(cpu_s, 0.0);
  EXPECT_LT(cpu_s, 0.15);  // the command's 0.3 s are not in it
  EXPECT_GT(j["overhead"]["peak_rss_kib"].get<long>(), 512);
  EXPECT_LT(j["overhead"]["peak_rss_kib"].get<long>(), 64 * 1024);
  EXPECT_EQ(j["overhead"]["method"], "getrusage(RUSAGE_SELF) after the last reading, before the outputs");
}

TEST_F(RunTest, CounterWrapAddsRangeMinusPreviousPlusCurrent) {
  // Range 9999999 µJ; the package counter goes 9000000 -> 2000000.
  WriteRaplTree(sys_, 9000000, 5000000, 9999999);
  const std::string script = "sleep 0.3; " + ShellOverwrite(Pkg(), 2000000) + "; sleep 0.3";
  BinaryResult r = RunWattprint(Args(script), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_KWH(rows[0]["cpu_energy"], KwhOfMicrojoules(9999999.0 - 9000000 + 2000000));
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  int wraps = 0;
  for (const auto& c : j["channels"]) wraps += c["wraps"].get<int>();
  EXPECT_EQ(wraps, 1);
}

TEST_F(RunTest, ExitCodeOfTheCommandIsReturned) {
  WriteRaplTree(sys_, 1000000, 2000000);
  BinaryResult r = RunWattprint(Args("exit 7"), out_.root());
  EXPECT_EQ(r.exit_code, 7);
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_EQ(j["exit_code"], 7);
  EXPECT_EQ(ReadCsv(out_.Path("emissions.csv")).size(), 1u);
}

TEST_F(RunTest, CommandKilledBySignalGives128PlusSignal) {
  WriteRaplTree(sys_, 1000000, 2000000);
  BinaryResult r = RunWattprint(Args("kill -TERM $$"), out_.root());
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_EQ(j["signal"], SIGTERM);
  EXPECT_TRUE(j["exit_code"].is_null());
}

// A byte that is not UTF-8, in argv or the project name, must neither change
// the exit code nor lose the JSON record; it is written as U+FFFD.
TEST_F(RunTest, NonUtf8BytesKeepTheExitCodeAndTheRecord) {
  WriteRaplTree(sys_, 1000000, 2000000);
  std::vector<std::string> args = Args("exit 3 # caf\xe9");
  args.insert(args.begin() + 1, {"--project-name", "proj\xff"});
  BinaryResult r = RunWattprint(args, out_.root());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_EQ(j["metadata"]["project_name"], "proj\xef\xbf\xbd");
  EXPECT_EQ(j["command"][2], "exit 3 # caf\xef\xbf\xbd");
  EXPECT_EQ(ReadCsv(out_.Path("emissions.csv")).size(), 1u);
}

// With stderr a closed pipe, wattprint's summary cannot kill it (SIGPIPE):
// the command's exit code is kept, and the command itself still gets the
// default SIGPIPE (`yes` ends on it, as without wattprint).
TEST_F(RunTest, ClosedStderrKeepsTheExitCode) {
  WriteRaplTree(sys_, 1000000, 2000000);
  const std::string bin = WATTPRINT_BINARY;
  const std::string rc = out_.Path("rc");
  const std::string script = "(" + bin + " run --sysfs-root " + sys_.Path("sys") + " --output-dir " + out_.root() +
                             " -- sh -c 'echo a; sleep 0.3; exit 3' 2>&1; echo $? > " + rc + ") | head -1";
  // The outer wattprint is only a way to start a shell here.
  BinaryResult r =
      RunWattprint({"run", "--no-save", "--quiet", "--sysfs-root", sys_.Path("sys"), "--", "sh", "-c", script},
                   out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadWholeFile(rc), "3\n");
  const std::string yes_rc = out_.Path("yes_rc");
  const std::string yes = "(" + bin + " run --quiet --no-save --sysfs-root " + sys_.Path("sys") +
                          " -- yes; echo $? > " + yes_rc + ") | head -1 >/dev/null";
  r = RunWattprint({"run", "--no-save", "--quiet", "--sysfs-root", sys_.Path("sys"), "--", "sh", "-c", yes},
                   out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadWholeFile(yes_rc), std::to_string(128 + SIGPIPE) + "\n");
}

// An energy_uj that opens but never parses is not "found": the CPU model
// fills in, and doctor says why the counter was skipped.
TEST_F(RunTest, ACounterThatNeverParsesLeavesTheKindToTheNextSource) {
  WriteRaplTree(sys_, 1000000, 2000000);
  sys_.Write(std::string(kPkgDir) + "/energy_uj", "\n");
  BinaryResult r = RunWattprint(Args("true"), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_EQ(j["kinds"]["cpu"]["method"], "estimated");
  EXPECT_EQ(j["kinds"]["dram"]["method"], "measured_counter");
  BinaryResult d = RunWattprint({"doctor", "--sysfs-root", sys_.Path("sys")}, out_.root());
  EXPECT_NE(d.out.find("empty value, skipped"), std::string::npos) << d.out;
}

TEST_F(RunTest, MissingCommandExits127LikeAShell) {
  WriteRaplTree(sys_, 1000000, 2000000);
  // A path inside this test's own directory, so no machine can have it.
  const std::string missing = out_.Path("no-such-dir/no-such-command");
  BinaryResult r = RunWattprint({"run", "--sysfs-root", sys_.Path("sys"), "--output-dir", out_.root(),
                                 "--", missing},
                                out_.root());
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.err, "wattprint: cannot run '" + missing + "': No such file or directory\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(RunTest, NonExecutableCommandExits126) {
  WriteRaplTree(sys_, 1000000, 2000000);
  BinaryResult r = RunWattprint({"run", "--sysfs-root", sys_.Path("sys"), "--output-dir", out_.root(),
                                 "--", out_.root()},
                                out_.root());
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_EQ(r.err, "wattprint: cannot run '" + out_.root() + "': Permission denied\n");
}

TEST_F(RunTest, ChildOutputPassesThroughByteExact) {
  WriteRaplTree(sys_, 1000000, 2000000);
  // NUL, 0xff, CR and no trailing newline on stdout; a line on stderr.
  const std::string script = "printf 'a\\000b\\377\\r\\nend'; printf 'child-err\\n' >&2";
  BinaryResult r = RunWattprint(Args(script), out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("a\0b\xff\r\nend", 9));
  // wattprint's summary follows the child's stderr; it never touches stdout.
  ASSERT_EQ(r.err.rfind("child-err\n", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("wattprint: sh -c"), std::string::npos) << r.err;
}

TEST_F(RunTest, QuietPrintsNothingAtAll) {
  WriteRaplTree(sys_, 1000000, 2000000);
  std::vector<std::string> args = Args("printf 'x\\n'; printf 'y\\n' >&2");
  args.insert(args.begin() + 1, "--quiet");
  BinaryResult r = RunWattprint(args, out_.root());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "x\n");
  EXPECT_EQ(r.err, "y\n");
}

TEST_F(RunTest, NoSaveWritesNoCsv) {
  WriteRaplTree(sys_, 1000000, 2000000);
  std::vector<std::string> args = Args("true");
  args.insert(args.begin() + 1, "--no-save");
  BinaryResult r = RunWattprint(args, out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadWholeFile(out_.Path("emissions.csv")), "");
  EXPECT_NE(ReadWholeFile(out_.Path("run.json")), "");
}

TEST_F(RunTest, OutputErrorIsReportedButTheCommandsCodeIsKept) {
  WriteRaplTree(sys_, 1000000, 2000000);
  out_.Write("not-a-dir", "x");
  BinaryResult r = RunWattprint({"run", "--sysfs-root", sys_.Path("sys"), "--output-dir", out_.Path("not-a-dir/sub"),
                                 "--quiet", "--", "sh", "-c", "exit 3"},
                                out_.root());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err.rfind("wattprint: error: cannot write the CSV row: ", 0), 0u) << r.err;
}

TEST_F(RunTest, ProcessScopeFeedsTheCsv) {
  WriteRaplTree(sys_, 1000000, 2000000);
  std::vector<std::string> args = Args("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done");
  args.insert(args.begin() + 1, {"--scope", "process"});
  BinaryResult r = RunWattprint(args, out_.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["tracking_mode"], "process");
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out_.Path("run.json")));
  EXPECT_EQ(j["scope"], "process");
}

TEST_F(RunTest, SignalFromAProcessIsForwardedToTheCommand) {
  WriteRaplTree(sys_, 1000000, 2000000);
  RunSpec spec;
  spec.args = Args("trap 'kill $!; exit 42' USR1; sleep 5 >/dev/null 2>&1 & echo ready; wait");
  spec.cwd = out_.root();
  spec.signal = SIGUSR1;
  spec.signal_when_stdout_has = "ready";
  spec.timeout_s = 4;
  BinaryResult r = RunWattprint(spec);
  EXPECT_EQ(r.exit_code, 42) << r.err;
  EXPECT_EQ(r.out, "ready\n");
  EXPECT_EQ(ReadCsv(out_.Path("emissions.csv")).size(), 1u);
}

TEST_F(RunTest, SigtermToWattprintEndsTheCommandAndStillWritesOutputs) {
  WriteRaplTree(sys_, 1000000, 2000000);
  RunSpec spec;
  spec.args = Args("sleep 5 >/dev/null 2>&1 & echo ready; wait");
  spec.cwd = out_.root();
  spec.signal = SIGTERM;
  spec.signal_when_stdout_has = "ready";
  spec.timeout_s = 4;
  BinaryResult r = RunWattprint(spec);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_EQ(ReadCsv(out_.Path("emissions.csv")).size(), 1u);
}

}  // namespace
}  // namespace wattprint::testing
