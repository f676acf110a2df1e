// Tests of the layered configuration: defaults, TOML files, environment,
// flags, precedence, origins and error messages.
#include "wattprint/config.h"

#include <sys/stat.h>
#include <filesystem>
#include <gtest/gtest.h>

#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::TempTree;

TEST(ConfigTest, DefaultsAreDocumentedValues) {
  Result<Config> c = LoadConfig(ConfigInputs{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->pue, 1.0);
  EXPECT_EQ(c->interval_s, 1.0);
  EXPECT_EQ(c->scope, Scope::kMachine);
  EXPECT_EQ(c->output_dir, ".");
  EXPECT_EQ(c->output_file, "emissions.csv");
  EXPECT_EQ(c->project_name, "codecarbon");
  EXPECT_EQ(c->sysfs_root, "/sys");
  EXPECT_EQ(c->procfs_root, "/proc");
  EXPECT_FALSE(c->cpu_power_w.has_value());
  EXPECT_FALSE(c->quiet);
  EXPECT_TRUE(c->save_to_file);
  EXPECT_EQ(c->save_interval_s, 60.0);
  EXPECT_EQ(c->OriginOf("pue"), "default");
}

TEST(ConfigTest, TomlFileSetsEveryType) {
  Config c;
  Status st = ApplyConfigToml(&c, R"(
country = "FRA"
pue = 1.5
interval = 2
scope = "process"
quiet = true
save_to_file = false
cpu_power = 65
)", "/etc/x.toml");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.place.country, "FRA");
  EXPECT_EQ(c.pue, 1.5);
  EXPECT_EQ(c.interval_s, 2.0);
  EXPECT_EQ(c.scope, Scope::kProcess);
  EXPECT_TRUE(c.quiet);
  EXPECT_FALSE(c.save_to_file);
  EXPECT_EQ(c.cpu_power_w.value_or(0), 65.0);
  EXPECT_EQ(c.OriginOf("pue"), "file /etc/x.toml");
}

TEST(ConfigTest, UnknownTomlKeyNamesFileAndSuggests) {
  Config c;
  Status st = ApplyConfigToml(&c, "sysfs_rot = \"/host/sys\"\n", "/p/wattprint.toml");
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "/p/wattprint.toml: unknown key 'sysfs_rot'; did you mean 'sysfs_root'?");
}

TEST(ConfigTest, UnknownTomlKeyWithoutCloseMatch) {
  Config c;
  Status st = ApplyConfigToml(&c, "zzzzzzzzzzzz = 1\n", "f.toml");
  EXPECT_EQ(st.message(), "f.toml: unknown key 'zzzzzzzzzzzz'");
}

TEST(ConfigTest, TomlWrongTypeIsAnError) {
  Config c;
  EXPECT_EQ(ApplyConfigToml(&c, "pue = \"abc\"\n", "f.toml").message(), "f.toml: pue: expected a number");
  EXPECT_EQ(ApplyConfigToml(&c, "quiet = 1\n", "f.toml").message(), "f.toml: quiet: expected true or false");
  EXPECT_EQ(ApplyConfigToml(&c, "country = 3\n", "f.toml").message(), "f.toml: country: expected a string");
}

// toml++ 3.3.0 has undefined behaviour on some non-ASCII and control
// characters (found by fuzz_config): the parser only ever sees ASCII, and
// strings keep their characters.
TEST(ConfigTest, TomlNonAsciiStringsKeepTheirCharacters) {
  Config c;
  Status st = ApplyConfigToml(&c,
                              "# réglages \u3000 \xce\x90\n"
                              "project_name = \"Café \xce\x90 \\\" \xf0\x9f\x8c\x8d\"\n"
                              "experiment_name = 'C:\\été \"x\"'\n"
                              "output_dir = \"\"\"\nß/\"\"\" # après\n"
                              "output_file = \'\'\'\nà\'\'\'\n",
                              "f.toml");
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(c.project_name, "Café \xce\x90 \" \xf0\x9f\x8c\x8d");
  EXPECT_EQ(c.experiment_name, "C:\\été \"x\"");
  EXPECT_EQ(c.output_dir, "ß/");
  EXPECT_EQ(c.output_file, "à");
}

TEST(ConfigTest, TomlInputThatTheParserCannotTakeIsRefusedFirst) {
  struct Case {
    std::string toml, message;
  } cases[] = {
      {"uk_regi\xce\x90lc = 1\n", "f.toml:1:8: a non-ASCII character outside a string"},
      {"pue = 1\nproject_name = 0\"Caf\xc3\xa9\"\n", "f.toml:2:"},
      {std::string("[\t\0project_name = 1\n", 20), "f.toml:1:3: a control character (0x00)"},
      {"[ =\n", "f.toml:1:1: '[': the configuration has no tables or arrays"},
      {"pue = 1\n[wattprint]\n", "f.toml:2:1: '['"},
      {"pue = {a = 1}\n", "f.toml:1:7: '{'"},
      {"project_name = \"\xff\"\n", "f.toml:1:17: not UTF-8"},
      {"project_name = \"\\\xc3\xa9\"\n", "f.toml:1:17: a backslash before a non-ASCII character"},
  };
  for (const Case& k : cases) {
    Config c;
    Status st = ApplyConfigToml(&c, k.toml, "f.toml");
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << k.toml;
    EXPECT_EQ(st.message().rfind(k.message, 0), 0u) << st.message();
  }
}

TEST(ConfigTest, TomlSyntaxErrorGivesLine) {
  Config c;
  Status st = ApplyConfigToml(&c, "pue = 1.2\npue2 = = 3\n", "f.toml");
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("f.toml:2:", 0), 0u) << st.message();
}

TEST(ConfigTest, BadValuesNameTheirOrigin) {
  Config c;
  std::vector<std::string> env = {"WATTPRINT_PUE=abc"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(), "WATTPRINT_PUE=abc: not a number");
  env = {"WATTPRINT_PUE=0.9"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(),
            "WATTPRINT_PUE=0.9: must be from 1.0 (no data-centre overhead) to 10");
  env = {"WATTPRINT_INTERVAL=-1"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(), "WATTPRINT_INTERVAL=-1: must be from 0.01 to 86400 seconds");
  env = {"WATTPRINT_INTERVAL=0.001"};
  EXPECT_FALSE(ApplyConfigEnvironment(&c, env).ok());
  env = {"WATTPRINT_SCOPE=foo"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(), "WATTPRINT_SCOPE=foo: scope must be 'machine' or 'process'");
  env = {"WATTPRINT_QUIET=maybe"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(),
            "WATTPRINT_QUIET=maybe: expected true/false, yes/no, on/off or 1/0");
  env = {"WATTPRINT_CPU_POWER=0"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(), "WATTPRINT_CPU_POWER=0: must be more than 0 and at most 1,000,000 watts");
  env = {"WATTPRINT_PUE=1.2x"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(), "WATTPRINT_PUE=1.2x: not a number");
  // Nothing was applied by the failures.
  EXPECT_EQ(c.pue, 1.0);
  EXPECT_EQ(c.interval_s, 1.0);
}

TEST(ConfigTest, EnvironmentBooleansAndIgnoredVariables) {
  for (const char* yes : {"1", "true", "yes", "TRUE", "on"}) {
    Config c;
    std::vector<std::string> env = {std::string("WATTPRINT_QUIET=") + yes, "PATH=/bin", "HOME=/root"};
    ASSERT_TRUE(ApplyConfigEnvironment(&c, env).ok()) << yes;
    EXPECT_TRUE(c.quiet) << yes;
    EXPECT_EQ(c.OriginOf("quiet"), "env WATTPRINT_QUIET");
  }
}

TEST(ConfigTest, UnknownEnvironmentVariableSuggests) {
  Config c;
  std::vector<std::string> env = {"WATTPRINT_SYSFS_ROTO=/x"};
  EXPECT_EQ(ApplyConfigEnvironment(&c, env).message(),
            "unknown environment variable WATTPRINT_SYSFS_ROTO; did you mean 'WATTPRINT_SYSFS_ROOT'?");
}

TEST(ConfigTest, ReservedEnvironmentVariablesAreAccepted) {
  Config c;
  std::vector<std::string> env;
  for (std::string_view r : ReservedEnvironmentVariables()) env.push_back(std::string(r) + "=/opt/lib.so");
  EXPECT_TRUE(ApplyConfigEnvironment(&c, env).ok());
}

TEST(ConfigTest, GpuLibraryPathsAndGpuIdsAreKeys) {
  Config c;
  std::vector<std::string> env = {"WATTPRINT_NVML_LIBRARY=/opt/nvml.so", "WATTPRINT_ROCM_SMI_LIBRARY=/opt/rsmi.so",
                                  "WATTPRINT_GPU_IDS=0,GPU-ab12,MIG-cd34"};
  ASSERT_TRUE(ApplyConfigEnvironment(&c, env).ok());
  EXPECT_EQ(c.nvml_library, "/opt/nvml.so");
  EXPECT_EQ(c.rocm_smi_library, "/opt/rsmi.so");
  EXPECT_EQ(c.gpu_ids, "0,GPU-ab12,MIG-cd34");
  // Parsed once, here: the sources get the selectors.
  ASSERT_EQ(c.gpu_selection.size(), 3u);
  EXPECT_EQ(c.gpu_selection[1].kind, GpuSelector::Kind::kGpuUuid);
  EXPECT_EQ(c.gpu_selection[2].uuid, "MIG-cd34");
  EXPECT_EQ(c.OriginOf("nvml_library"), "env WATTPRINT_NVML_LIBRARY");
  EXPECT_EQ(ConfigValueText(c, "gpu_ids"), "0,GPU-ab12,MIG-cd34");
  EXPECT_EQ(ApplyConfigToml(&c, "gpu_ids = \"1,x\"\n", "w.toml").message(),
            "w.toml: gpu_ids: 'x' is not a GPU index, GPU-<uuid> or MIG-<uuid>");
}

TEST(ConfigTest, PrecedenceFlagsOverEnvOverProjectOverUser) {
  TempTree t;
  t.Write("xdg/wattprint/config.toml", "pue = 1.1\ninterval = 3\ncountry = \"DEU\"\nregion = \"bavaria\"\n");
  t.Write("proj/wattprint.toml", "pue = 1.2\ninterval = 4\ncountry = \"FRA\"\n");
  ConfigInputs in;
  in.xdg_config_home = t.Path("xdg");
  in.home = t.Path("home");
  in.cwd = t.Path("proj");
  in.environment = {"WATTPRINT_PUE=1.3", "WATTPRINT_INTERVAL=5"};
  in.flags = {{"pue", "1.4"}};
  std::vector<std::string> files;
  Result<Config> c = LoadConfig(in, &files);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->pue, 1.4);
  EXPECT_EQ(c->OriginOf("pue"), "flag --pue");
  EXPECT_EQ(c->interval_s, 5.0);
  EXPECT_EQ(c->OriginOf("interval"), "env WATTPRINT_INTERVAL");
  EXPECT_EQ(c->place.country, "FRA");
  EXPECT_EQ(c->OriginOf("country"), "file " + t.Path("proj/wattprint.toml"));
  EXPECT_EQ(c->place.region, "bavaria");
  EXPECT_EQ(c->OriginOf("region"), "file " + t.Path("xdg/wattprint/config.toml"));
  EXPECT_EQ(files, (std::vector<std::string>{t.Path("xdg/wattprint/config.toml"),
                                             t.Path("proj/wattprint.toml")}));
}

// A FIFO named wattprint.toml must not hang wattprint before the command
// starts, and a directory of that name is an error, not silence.
TEST(ConfigTest, ConfigFileThatIsNotARegularFileIsAnError) {
  TempTree t;
  std::filesystem::create_directories(t.Path("fifo"));
  ASSERT_EQ(mkfifo(t.Path("fifo/wattprint.toml").c_str(), 0644), 0);
  std::filesystem::create_directories(t.Path("dir/wattprint.toml"));
  for (const char* where : {"fifo", "dir"}) {
    ConfigInputs in;
    in.cwd = t.Path(where);
    in.home = t.Path("home");
    Result<Config> c = LoadConfig(in);
    ASSERT_FALSE(c.ok()) << where;
    EXPECT_NE(c.status().message().find("wattprint.toml: not a regular file"), std::string::npos)
        << c.status().message();
  }
}

TEST(ConfigTest, UserFileFallsBackToHome) {
  TempTree t;
  t.Write("home/.config/wattprint/config.toml", "project_name = \"from-home\"\n");
  ConfigInputs in;
  in.home = t.Path("home");
  in.cwd = t.Path("nowhere");
  EXPECT_EQ(UserConfigPath(in), t.Path("home/.config/wattprint/config.toml"));
  Result<Config> c = LoadConfig(in);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->project_name, "from-home");
  in.xdg_config_home = t.Path("xdg");  // set but holding no file: HOME is not consulted
  EXPECT_EQ(LoadConfig(in)->project_name, "codecarbon");
}

TEST(ConfigTest, BooleanFlagsAndErrorsFromFlags) {
  ConfigInputs in;
  in.cwd = "/nonexistent-dir";
  in.flags = {{"quiet", "true"}, {"save_to_file", "false"}};
  Result<Config> c = LoadConfig(in);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->quiet);
  EXPECT_FALSE(c->save_to_file);
  EXPECT_EQ(c->OriginOf("save_to_file"), "flag --no-save");
  in.flags = {{"pue", "abc"}};
  EXPECT_EQ(LoadConfig(in).status().message(), "--pue abc: not a number");
}

TEST(ConfigTest, FileErrorStopsLoading) {
  TempTree t;
  t.Write("wattprint.toml", "scope = \"procss\"\n");
  ConfigInputs in;
  in.cwd = t.root();
  EXPECT_EQ(LoadConfig(in).status().message(),
            t.Path("wattprint.toml") + ": scope: scope must be 'machine' or 'process'");
}

TEST(ConfigTest, ValueTextRoundTrips) {
  Config c;
  c.pue = 1.25;
  c.scope = Scope::kProcess;
  EXPECT_EQ(ConfigValueText(c, "pue"), "1.25");
  EXPECT_EQ(ConfigValueText(c, "scope"), "process");
  EXPECT_EQ(ConfigValueText(c, "cpu_power"), "");
  EXPECT_EQ(ConfigValueText(c, "save_to_file"), "true");
  for (const ConfigKey& k : ConfigKeys()) {
    Config copy;
    const std::string text = ConfigValueText(c, k.key);
    if (text.empty()) continue;
    EXPECT_TRUE(ApplyConfigValue(&copy, k.key, text, k.key, "test").ok()) << k.key;
    EXPECT_EQ(ConfigValueText(copy, k.key), text) << k.key;
  }
}

TEST(ConfigTest, EditDistanceAndClosestMatch) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("pue", "pue"), 0u);
  const std::vector<std::string> c = {"interval", "save_interval", "pue"};
  EXPECT_EQ(ClosestMatch("intervl", c), "interval");
  EXPECT_EQ(ClosestMatch("pu", c), "pue");
  EXPECT_EQ(ClosestMatch("xyzxyzxyz", c), "");
}

}  // namespace
}  // namespace wattprint

namespace wattprint {
namespace {

// Every numeric key has a sane range: 1e308 once overflowed durations (414
// live requests in 3 s) and put inf and nan in the CSV.
TEST(ConfigRanges, AbsurdValuesAreOneLineErrors) {
  const std::pair<const char*, const char*> bad[] = {
      {"pue", "1e308"},           {"pue", "0.5"},          {"interval", "1e308"},
      {"interval", "0.001"},      {"save_interval", "1e308"}, {"cpu_power", "1e308"},
      {"intensity", "1e308"},     {"intensity", "-1"},     {"live_cache_ttl", "1e308"},
      {"live_cache_ttl", "-1"},
  };
  for (const auto& [key, value] : bad) {
    Config c;
    Status st = ApplyConfigValue(&c, key, value, std::string("--") + key + " " + value, "flag");
    EXPECT_FALSE(st.ok()) << key << "=" << value;
    EXPECT_EQ(st.message().find('\n'), std::string::npos);
  }
  Config c;
  for (const auto& [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
           {"pue", "1.58"}, {"interval", "0.1"}, {"intensity", "1200"}, {"live_cache_ttl", "0"}}) {
    EXPECT_TRUE(ApplyConfigValue(&c, key, value, key, "flag").ok()) << key;
  }
}

}  // namespace
}  // namespace wattprint
