// End-to-end tests of the command line and the layered configuration:
// usage errors exit 2 with one line, and flags > environment > files.
#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"

namespace wattprint::testing {
namespace {

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(CliTest, VersionAndHelpExitZero) {
  TempTree cwd;
  BinaryResult v = RunWattprint({"--version"}, cwd.root());
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "wattprint 0.1.0\n");
  BinaryResult h = RunWattprint({"run", "--help"}, cwd.root());
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--sysfs-root DIR"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("Sample every SECONDS"), std::string::npos);
}

TEST(CliTest, UnknownFlagIsOneLineAndExitTwo) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"run", "--bogus", "--", "true"}, cwd.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("wattprint: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("wattprint run --help"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown option --bogus"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("-- --bogus"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// A value holding a newline still gives a one-line error; an empty --json
// is an error, not silently ignored.
TEST(CliTest, ErrorsStayOnOneLine) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"run", "--pue", "1\n2", "--", "true"}, cwd.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "wattprint: error: --pue 1\\n2: not a number\n");
  r = RunWattprint({"run", "--json", "", "--", "true"}, cwd.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("must not be empty"), std::string::npos) << r.err;
}

TEST(CliTest, MissingSubcommandAndCommandExitTwo) {
  TempTree cwd;
  EXPECT_EQ(RunWattprint({}, cwd.root()).exit_code, 2);
  BinaryResult r = RunWattprint({"run"}, cwd.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "wattprint: error: command is required (or --attach PID); run 'wattprint run --help' for usage\n");
}

TEST(CliTest, BadValuesNameWhereTheyCameFrom) {
  TempTree cwd;
  BinaryResult flag = RunWattprint({"run", "--pue", "0.5", "--", "true"}, cwd.root());
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_EQ(flag.err, "wattprint: error: --pue 0.5: must be from 1.0 (no data-centre overhead) to 10\n");
  BinaryResult env = RunWattprint({"run", "--", "true"}, cwd.root(), {{"WATTPRINT_PUE", "abc"}});
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_EQ(env.err, "wattprint: error: WATTPRINT_PUE=abc: not a number\n");
  BinaryResult scope = RunWattprint({"run", "--scope", "foo", "--", "true"}, cwd.root());
  EXPECT_EQ(scope.exit_code, 2);
  EXPECT_EQ(scope.err, "wattprint: error: --scope foo: scope must be 'machine' or 'process'\n");
  BinaryResult interval = RunWattprint({"monitor", "--interval", "-1"}, cwd.root());
  EXPECT_EQ(interval.exit_code, 2);
  EXPECT_EQ(interval.err, "wattprint: error: --interval -1: must be from 0.01 to 86400 seconds\n");
}

TEST(CliTest, UnknownCommandExitsTwoWithDidYouMean) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"rnu", "--", "true"}, cwd.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "wattprint: error: unknown command 'rnu'; did you mean 'run'? "
                   "(commands: run, monitor, doctor, intensity, compare, upload, job, budget, report, predict, serve, admin)\n");
  BinaryResult flag = RunWattprint({"--quiet", "run", "--", "true"}, cwd.root());
  EXPECT_EQ(flag.exit_code, 2);  // run's flags come after `run`
  EXPECT_NE(flag.err.find("--quiet"), std::string::npos) << flag.err;
  // Each command still gets its own flags (only the invoked one's are registered).
  for (const char* cmd : {"run", "monitor", "doctor", "intensity", "compare"}) {
    BinaryResult help = RunWattprint({cmd, "--help"}, cwd.root());
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_NE(help.out.find("--country"), std::string::npos) << cmd << help.out;
  }
}

TEST(CliTest, UnknownTomlKeyExitsTwoWithDidYouMean) {
  TempTree cwd;
  cwd.Write("wattprint.toml", "sysfs_rot = \"/host/sys\"\n");
  BinaryResult r = RunWattprint({"run", "--", "true"}, cwd.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "wattprint: error: ./wattprint.toml: unknown key 'sysfs_rot'; did you mean 'sysfs_root'?\n");
}

TEST(CliTest, UnknownEnvironmentVariableExitsTwo) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"doctor"}, cwd.root(), {{"WATTPRINT_QUITE", "1"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "wattprint: error: unknown environment variable WATTPRINT_QUITE; did you mean 'WATTPRINT_QUIET'?\n");
  // A reserved variable read by another module is not an error.
  EXPECT_EQ(RunWattprint({"doctor"}, cwd.root(), {{"WATTPRINT_NVML_LIBRARY", "/x.so"}}).exit_code, 0);
}

TEST(CliTest, UnknownCountryExitsTwoWithDidYouMean) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"run", "--country", "Frnace", "--", "true"}, cwd.root());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1u);
  EXPECT_NE(r.err.find("did you mean FRA (France)?"), std::string::npos) << r.err;
}

// The project name ends up in the CSV, so precedence is checked on the
// real output: user file < project file < environment < flag.
class PrecedenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteRaplTree(sys_, 1000000, 2000000);
    cwd_.Write(".config/wattprint/config.toml", "project_name = \"from-user\"\nexperiment_name = \"user-exp\"\n");
  }
  std::string ProjectOf(const std::vector<std::string>& extra, const std::map<std::string, std::string>& env) {
    std::vector<std::string> args = {"run", "--quiet", "--sysfs-root", sys_.Path("sys")};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "true"});
    BinaryResult r = RunWattprint(args, cwd_.root(), env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto rows = ReadCsv(cwd_.Path("emissions.csv"));
    cwd_.Remove("emissions.csv");
    return rows.empty() ? "" : rows.back()["project_name"];
  }
  TempTree sys_;
  TempTree cwd_;  // also HOME
};

TEST_F(PrecedenceTest, EachLayerOverridesTheOneBelow) {
  EXPECT_EQ(ProjectOf({}, {}), "from-user");
  cwd_.Write("wattprint.toml", "project_name = \"from-project\"\n");
  EXPECT_EQ(ProjectOf({}, {}), "from-project");
  EXPECT_EQ(ProjectOf({}, {{"WATTPRINT_PROJECT_NAME", "from-env"}}), "from-env");
  EXPECT_EQ(ProjectOf({"--project-name", "from-flag"}, {{"WATTPRINT_PROJECT_NAME", "from-env"}}), "from-flag");
  // XDG_CONFIG_HOME replaces ~/.config.
  TempTree xdg;
  xdg.Write("wattprint/config.toml", "project_name = \"from-xdg\"\n");
  cwd_.Remove("wattprint.toml");
  EXPECT_EQ(ProjectOf({}, {{"XDG_CONFIG_HOME", xdg.root()}}), "from-xdg");
}

TEST_F(PrecedenceTest, EnvironmentQuietAndSaveSwitches) {
  BinaryResult r = RunWattprint({"run", "--sysfs-root", sys_.Path("sys"), "--", "true"}, cwd_.root(),
                                {{"WATTPRINT_QUIET", "yes"}, {"WATTPRINT_SAVE_TO_FILE", "0"}});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ReadWholeFile(cwd_.Path("emissions.csv")), "");
}

TEST_F(PrecedenceTest, DoctorShowsTheOriginOfEachValue) {
  cwd_.Write("wattprint.toml", "pue = 1.2\n");
  BinaryResult r = RunWattprint({"doctor", "--interval", "0.5", "--sysfs-root", sys_.Path("sys")}, cwd_.root(),
                                {{"WATTPRINT_REGION", "quebec"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  pue              = 1.2                      (file ./wattprint.toml)\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  interval         = 0.5                      (flag --interval)\n"), std::string::npos);
  EXPECT_NE(r.out.find("  region           = quebec                   (env WATTPRINT_REGION)\n"), std::string::npos);
  EXPECT_NE(r.out.find("  experiment_name  = user-exp                 (file " + cwd_.root() +
                       "/.config/wattprint/config.toml)\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("  scope            = machine                  (default)\n"), std::string::npos);
}

}  // namespace
}  // namespace wattprint::testing
