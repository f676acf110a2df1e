// Manufacturing emissions (wattprint/embodied.h): the compiled-in table and
// its sources, GPU name matching as the vendor libraries spell the names,
// the amortisation in both scopes, and the config's overrides with their
// errors.
#include "wattprint/embodied.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>

#include "output/sysinfo.h"
#include "support/temp_tree.h"
#include "wattprint/config.h"
#include "wattprint/run_record.h"

namespace wattprint {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr double kYearS = 365.25 * 86400;

const EmbodiedFactor& Row(const std::vector<EmbodiedFactor>& t, const std::string& key) {
  auto it = std::find_if(t.begin(), t.end(), [&](const EmbodiedFactor& f) { return f.key == key; });
  EXPECT_NE(it, t.end()) << key;
  return *it;
}

// ---- The table -------------------------------------------------------------

TEST(EmbodiedTable, EveryRowHasItsSourceLicenceAndPositiveFigures) {
  const std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  ASSERT_GE(t.size(), 4u);
  std::set<std::string> keys;
  int servers = 0;
  for (const EmbodiedFactor& f : t) {
    SCOPED_TRACE(f.key);
    EXPECT_TRUE(keys.insert(f.key).second) << "twice";
    EXPECT_FALSE(f.source.empty());
    EXPECT_FALSE(f.licence.empty());
    EXPECT_GT(f.kg_co2e, 0);
    EXPECT_GT(f.lifetime_years, 0);
    EXPECT_EQ(f.unit, EmbodiedUnitOf(f.kind));
    EXPECT_TRUE(ValidateEmbodiedFactor(f).ok()) << ValidateEmbodiedFactor(f).ToString();
    servers += f.kind == EmbodiedKind::kServer;
  }
  EXPECT_EQ(servers, 1);
  for (const char* key : {"server", "cpu", "dram"}) EXPECT_TRUE(keys.count(key)) << key;
}

// The compiled-in table is the CSV in data/: one row per line, in order.
TEST(EmbodiedTable, IsTheCsvInData) {
  std::ifstream csv(std::string(WATTPRINT_DATA) + "/embodied/embodied.csv");
  ASSERT_TRUE(csv) << "data/embodied/embodied.csv";
  std::string line;
  std::getline(csv, line);
  EXPECT_THAT(line, StartsWith("key,kind,model_match,unit,kg_co2e,lifetime_years,"));
  std::vector<std::string> keys;
  while (std::getline(csv, line)) {
    if (!line.empty()) keys.push_back(line.substr(0, line.find(',')));
  }
  std::vector<std::string> built;
  for (const EmbodiedFactor& f : BuiltinEmbodiedFactors()) built.push_back(f.key);
  EXPECT_EQ(built, keys);
}

// A figure divided out of a published one says so, and its arithmetic holds.
TEST(EmbodiedTable, DerivedRowsCarryTheirDerivation) {
  const std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  const EmbodiedFactor& h100 = Row(t, "gpu_h100_sxm");
  EXPECT_THAT(h100.derivation, HasSubstr("1312 kg per 8-GPU baseboard / 8"));
  EXPECT_DOUBLE_EQ(h100.kg_co2e * 8, 1312);
  const EmbodiedFactor& b200 = Row(t, "gpu_b200");
  EXPECT_THAT(b200.derivation, HasSubstr("2274 kg per 8-GPU baseboard / 8"));
  EXPECT_DOUBLE_EQ(b200.kg_co2e * 8, 2274);
  // As published: no derivation.
  EXPECT_EQ(Row(t, "gpu_a100_sxm4_80gb").derivation, "");
  EXPECT_EQ(Row(t, "server").derivation, "");
  // The server figure includes a socket and 16 GB, which cpu and dram skip.
  EXPECT_EQ(Row(t, "server").includes_cpu_sockets, 1);
  EXPECT_EQ(Row(t, "server").includes_dram_gb, 16);
}

// Names as NVML reports them (nvmlDeviceGetName), and near misses that are
// other products.
TEST(EmbodiedTable, MatchesGpuNamesAsTheVendorLibrariesSpellThem) {
  const std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  const struct {
    const char* name;
    const char* key;  // "" = no row
  } cases[] = {
      {"NVIDIA A100-SXM4-80GB", "gpu_a100_sxm4_80gb"},
      {"A100-SXM4-80GB", "gpu_a100_sxm4_80gb"},
      {"NVIDIA A100-SXM4-40GB", ""},
      {"NVIDIA A100-PCIE-40GB", ""},
      {"NVIDIA A100 80GB PCIe", ""},
      {"NVIDIA H100 80GB HBM3", "gpu_h100_sxm"},
      {"nvidia h100 80gb hbm3", "gpu_h100_sxm"},
      {"NVIDIA H100 SXM5 80GB", "gpu_h100_sxm"},
      {"NVIDIA H100 PCIe", ""},
      {"NVIDIA H100 NVL", ""},
      {"NVIDIA H200", ""},
      {"NVIDIA GH200 480GB", ""},
      {"NVIDIA B200", "gpu_b200"},
      {"NVIDIA GB200", ""},
      {"Tesla V100-SXM2-16GB", ""},
      {"Tesla T4", ""},
      {"AMD Instinct MI300X", ""},
  };
  for (const auto& c : cases) {
    const EmbodiedFactor* f = MatchGpuFactor(t, c.name);
    EXPECT_EQ(f ? f->key : std::string(), c.key) << c.name;
  }
}

TEST(EmbodiedTable, LaterRowsWinAndStarIsTheFallback) {
  std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  EmbodiedOverride any{.key = "gpu_any", .kind = "gpu", .model_match = "*", .source = "a survey"};
  any.kg_co2e = 150;
  any.lifetime_years = 4;
  ASSERT_TRUE(ApplyEmbodiedOverride(&t, any, "test").ok());
  EXPECT_EQ(MatchGpuFactor(t, "Tesla T4")->key, "gpu_any");
  EXPECT_EQ(MatchGpuFactor(t, "NVIDIA H100 80GB HBM3")->key, "gpu_h100_sxm");  // specific beats "*"
  EmbodiedOverride mine{.key = "gpu_site_h100", .kind = "gpu", .model_match = "H100"};
  mine.kg_co2e = 170;
  mine.lifetime_years = 5;
  ASSERT_TRUE(ApplyEmbodiedOverride(&t, mine, "test").ok());
  EXPECT_EQ(MatchGpuFactor(t, "NVIDIA H100 80GB HBM3")->key, "gpu_site_h100");  // added after the built-in
  EXPECT_EQ(MatchGpuFactor(t, "NVIDIA H100 PCIe")->key, "gpu_site_h100");
}

// Sockets are the distinct "physical id"s; a kernel that writes none (most
// ARM ones) leaves the count unknown, 0.
TEST(EmbodiedInputs, SocketsFromCpuinfo) {
  const std::string two_sockets =
      "processor\t: 0\nphysical id\t: 0\ncore id\t\t: 0\n\n"
      "processor\t: 1\nphysical id\t: 0\ncore id\t\t: 1\n\n"
      "processor\t: 2\nphysical id\t: 1\ncore id\t\t: 0\n\n"
      "processor\t: 3\nphysical id\t: 1\ncore id\t\t: 1\n";
  EXPECT_EQ(ParseCpuSockets(two_sockets), 2);
  EXPECT_EQ(ParseCpuSockets("processor\t: 0\nphysical id\t: 0\n"), 1);
  EXPECT_EQ(ParseCpuSockets("processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n"), 0);
}

// ---- Amortisation ----------------------------------------------------------

// Round figures, so that every expected value below is worked by hand.
std::vector<EmbodiedFactor> TestFactors() {
  auto row = [](std::string key, EmbodiedKind k, double kg, double years) {
    EmbodiedFactor f;
    f.key = std::move(key);
    f.kind = k;
    f.unit = EmbodiedUnitOf(k);
    f.kg_co2e = kg;
    f.lifetime_years = years;
    f.source = "source of " + f.key;
    f.licence = "licence of " + f.key;
    return f;
  };
  EmbodiedFactor server = row("server", EmbodiedKind::kServer, 1000, 4);
  server.includes_cpu_sockets = 1;
  server.includes_dram_gb = 16;
  EmbodiedFactor gpu = row("gpu_x", EmbodiedKind::kGpu, 200, 5);
  gpu.model_match = "X1000";
  return {server, row("cpu", EmbodiedKind::kCpu, 100, 4), row("dram", EmbodiedKind::kDram, 2, 4), gpu};
}

// 0.04 years: a time share of 0.01 over 4 years, 0.008 over 5.
EmbodiedInputs TestInputs(Scope s) {
  EmbodiedInputs in;
  in.scope = s;
  in.duration = Seconds(0.04 * kYearS);
  in.cpu_sockets = 2;
  in.ram_total_bytes = 48ULL << 30;
  in.gpus = {{"gpu0", "Acme X1000", std::nullopt}, {"gpu1", "Tesla T4", std::nullopt}, {"gpu2", std::nullopt, 0.5}};
  return in;
}

const EmbodiedItemRecord* Item(const EmbodiedRecord& r, const std::string& device) {
  for (const EmbodiedItemRecord& i : r.items) {
    if (i.device == device) return &i;
  }
  return nullptr;
}

TEST(EmbodiedAmortise, MachineScopeCountsWholeDevicesOverTheirLifetimes) {
  const EmbodiedRecord r = AmortiseEmbodied(TestInputs(Scope::kMachine), TestFactors());
  EXPECT_EQ(r.scope, "machine");
  ASSERT_EQ(r.items.size(), 4u);
  const EmbodiedItemRecord* server = Item(r, "server");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->factor, "server");
  EXPECT_EQ(server->count, 1);
  EXPECT_EQ(server->manufacture_kg, 1000);
  EXPECT_EQ(server->lifetime_years, 4);
  EXPECT_NEAR(server->time_share, 0.01, 1e-12);
  EXPECT_EQ(server->use_share, 1);
  EXPECT_NEAR(server->kg, 10, 1e-9);
  EXPECT_EQ(server->source, "source of server");
  EXPECT_EQ(server->licence, "licence of server");
  EXPECT_EQ(Item(r, "cpu")->count, 1);  // 2 sockets, 1 in the server figure
  EXPECT_NEAR(Item(r, "cpu")->kg, 1, 1e-9);
  EXPECT_NEAR(Item(r, "dram")->count, 32, 1e-9);  // 48 GiB, 16 in the server figure
  EXPECT_NEAR(Item(r, "dram")->kg, 0.64, 1e-9);
  EXPECT_EQ(Item(r, "gpu0")->factor, "gpu_x");
  EXPECT_NEAR(Item(r, "gpu0")->time_share, 0.008, 1e-12);
  EXPECT_NEAR(Item(r, "gpu0")->kg, 1.6, 1e-9);
  EXPECT_NEAR(r.kg, 13.24, 1e-9);
  // Hardware without a figure is named with why, never counted as 0.
  EXPECT_THAT(r.not_counted, ::testing::ElementsAre("gpu1 Tesla T4: no published figure in the table",
                                                    "gpu2: GPU model unknown"));
  EXPECT_EQ(Item(r, "gpu1"), nullptr);
}

TEST(EmbodiedAmortise, ProcessScopeSharesByCpuRamAndEachGpu) {
  EmbodiedInputs in = TestInputs(Scope::kProcess);
  in.cpu_share = 0.25;
  in.ram_share = 0.5;
  in.gpus[0].process_share = 0.75;
  in.gpus[1].name = "Acme X1000 Pro";  // matches, but its share is unknown
  const EmbodiedRecord r = AmortiseEmbodied(in, TestFactors());
  EXPECT_EQ(r.scope, "process");
  EXPECT_EQ(Item(r, "server")->use_share, 0.25);
  EXPECT_NEAR(Item(r, "server")->kg, 2.5, 1e-9);
  EXPECT_NEAR(Item(r, "cpu")->kg, 0.25, 1e-9);
  EXPECT_EQ(Item(r, "dram")->use_share, 0.5);
  EXPECT_NEAR(Item(r, "dram")->kg, 0.32, 1e-9);
  EXPECT_NEAR(Item(r, "gpu0")->kg, 1.2, 1e-9);
  EXPECT_NEAR(r.kg, 4.27, 1e-9);
  EXPECT_THAT(r.not_counted, ::testing::Contains("gpu1 Acme X1000 Pro: the run's share of it is unknown"));
  // The process figure never exceeds the machine one.
  EXPECT_LT(r.kg, AmortiseEmbodied(TestInputs(Scope::kMachine), TestFactors()).kg);
}

TEST(EmbodiedAmortise, UnknownSharesAndCountsAreNotCounted) {
  EmbodiedInputs in = TestInputs(Scope::kProcess);
  in.gpus.clear();
  in.cpu_sockets.reset();
  const EmbodiedRecord r = AmortiseEmbodied(in, TestFactors());
  EXPECT_TRUE(r.items.empty());
  EXPECT_EQ(r.kg, 0);
  EXPECT_THAT(r.not_counted, ::testing::ElementsAre("server: the run's CPU share is unknown",
                                                    "cpu: socket count unknown (no \"physical id\" in /proc/cpuinfo)",
                                                    "dram: the run's RAM share is unknown"));
}

TEST(EmbodiedAmortise, WhatTheServerFigureIncludesIsNotCountedAgain) {
  EmbodiedInputs in = TestInputs(Scope::kMachine);
  in.cpu_sockets = 1;
  in.ram_total_bytes = 8ULL << 30;
  in.gpus.clear();
  const EmbodiedRecord r = AmortiseEmbodied(in, TestFactors());
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].device, "server");
  EXPECT_TRUE(r.not_counted.empty());
}

TEST(EmbodiedAmortise, BuiltinTableOnAnH100Node) {
  EmbodiedInputs in;
  in.duration = Seconds(3600);
  in.cpu_sockets = 2;
  in.ram_total_bytes = 2048ULL << 30;
  for (int i = 0; i < 8; ++i) in.gpus.push_back({"gpu" + std::to_string(i), "NVIDIA H100 80GB HBM3", {}});
  const std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  const EmbodiedRecord r = AmortiseEmbodied(in, t);
  EXPECT_TRUE(r.not_counted.empty());
  ASSERT_EQ(r.items.size(), 11u);
  double expected = 0;
  expected += Row(t, "server").kg_co2e * 3600 / (Row(t, "server").lifetime_years * kYearS);
  expected += 1 * Row(t, "cpu").kg_co2e * 3600 / (Row(t, "cpu").lifetime_years * kYearS);
  expected += (2048 - 16) * Row(t, "dram").kg_co2e * 3600 / (Row(t, "dram").lifetime_years * kYearS);
  expected += 8 * 164.0 * 3600 / (6 * kYearS);
  EXPECT_NEAR(r.kg, expected, 1e-12);
  EXPECT_EQ(Item(r, "gpu7")->source, Row(t, "gpu_h100_sxm").source);
}

// ---- Overrides -------------------------------------------------------------

TEST(EmbodiedOverrides, ChangeARowAndItsSourceFollows) {
  std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  EmbodiedOverride o{.key = "gpu_a100_sxm4_80gb"};
  o.kg_co2e = 160;
  ASSERT_TRUE(ApplyEmbodiedOverride(&t, o, "file /etc/wattprint/config.toml").ok());
  const EmbodiedFactor& f = Row(t, "gpu_a100_sxm4_80gb");
  EXPECT_EQ(f.kg_co2e, 160);
  EXPECT_EQ(f.lifetime_years, 6);  // kept
  EXPECT_EQ(f.model_match, "A100-SXM4-80GB");
  EXPECT_EQ(f.source, "file /etc/wattprint/config.toml [embodied_factors.gpu_a100_sxm4_80gb]");
  EXPECT_EQ(f.licence, "local setting");
  o.source = "our supplier's LCA, 2025";
  o.licence = "internal";
  ASSERT_TRUE(ApplyEmbodiedOverride(&t, o, "file x").ok());
  EXPECT_EQ(Row(t, "gpu_a100_sxm4_80gb").source, "our supplier's LCA, 2025");
  EXPECT_EQ(Row(t, "gpu_a100_sxm4_80gb").licence, "internal");
  // The published figure applied to other cards is no longer the source's.
  EmbodiedOverride wider{.key = "gpu_h100_sxm", .model_match = "H100"};
  ASSERT_TRUE(ApplyEmbodiedOverride(&t, wider, "file y").ok());
  EXPECT_EQ(Row(t, "gpu_h100_sxm").kg_co2e, 164);
  EXPECT_EQ(Row(t, "gpu_h100_sxm").source, "file y [embodied_factors.gpu_h100_sxm]");
  EXPECT_EQ(Row(t, "gpu_h100_sxm").derivation, "");
  // Notes alone leave the source.
  EmbodiedOverride noted{.key = "cpu", .notes = "two sockets per node here"};
  ASSERT_TRUE(ApplyEmbodiedOverride(&t, noted, "file y").ok());
  const std::vector<EmbodiedFactor> builtin = BuiltinEmbodiedFactors();
  EXPECT_EQ(Row(t, "cpu").source, Row(builtin, "cpu").source);
  EXPECT_EQ(Row(t, "cpu").notes, "two sockets per node here");
}

TEST(EmbodiedOverrides, AddARow) {
  std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  const size_t n = t.size();
  EmbodiedOverride o{.key = "gpu_l4", .kind = "gpu", .model_match = "\\bL4\\b", .source = "vendor PCF"};
  o.kg_co2e = 40;
  o.lifetime_years = 5;
  ASSERT_TRUE(ApplyEmbodiedOverride(&t, o, "file f").ok());
  ASSERT_EQ(t.size(), n + 1);
  EXPECT_EQ(t.back().unit, "device");
  EXPECT_EQ(t.back().licence, "local setting");
  EXPECT_EQ(MatchGpuFactor(t, "NVIDIA L4")->key, "gpu_l4");
  EXPECT_EQ(MatchGpuFactor(t, "NVIDIA L40S"), nullptr);
}

TEST(EmbodiedOverrides, BadValuesAreErrorsAndLeaveTheTable) {
  const std::vector<EmbodiedFactor> builtin = BuiltinEmbodiedFactors();
  const struct {
    EmbodiedOverride o;
    const char* message;
  } cases[] = {
      {{.key = "cpu", .kg_co2e = -1}, "kg_co2e: must be at least 0"},
      {{.key = "cpu", .lifetime_years = 0}, "lifetime_years: must be more than 0"},
      {{.key = "cpu", .lifetime_years = -3}, "lifetime_years: must be more than 0"},
      {{.key = "cpu", .kind = "gpu"}, "kind: a row's kind cannot change"},
      {{.key = "cpu", .model_match = "Xeon"}, "model_match: is for gpu rows only"},
      {{.key = "cpu", .unit = "gb"}, "unit: a cpu row is per 'socket'"},
      {{.key = "gpu_b200", .model_match = "B200("}, "model_match: 'B200(' is not a regular expression"},
      {{.key = "gpu_new", .kind = "gpu", .kg_co2e = 1, .lifetime_years = 1}, "model_match: a gpu row needs"},
      {{.key = "gpu_new", .kind = "tpu", .kg_co2e = 1, .lifetime_years = 1}, "kind: 'tpu' is not server"},
      {{.key = "new", .kg_co2e = 1, .lifetime_years = 1}, "kind: a new row needs its kind"},
      {{.key = "new", .kind = "cpu", .lifetime_years = 1}, "kg_co2e: a new row needs"},
      {{.key = "new", .kind = "cpu", .kg_co2e = 1}, "lifetime_years: a new row needs"},
      {{.key = "Bad Key", .kind = "cpu", .kg_co2e = 1, .lifetime_years = 1}, "key: use lower-case"},
  };
  for (const auto& c : cases) {
    std::vector<EmbodiedFactor> t = builtin;
    const Status s = ApplyEmbodiedOverride(&t, c.o, "file f");
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.message;
    EXPECT_THAT(s.message(), StartsWith(c.message));
    EXPECT_EQ(t, builtin) << c.message;
  }
}

// ---- Config ------------------------------------------------------------------

TEST(EmbodiedConfig, FactorTablesInAFile) {
  Config c;
  const Status s = ApplyConfigToml(&c,
                                   "pue = 1.2\n"
                                   "embodied_factors.cpu.kg_co2e = 90\n"
                                   "[embodied_factors.gpu_a100_sxm4_80gb]\n"
                                   "kg_co2e = 160\n"
                                   "lifetime_years = 5\n"
                                   "source = \"site LCA 2025\"\n"
                                   "  [ embodied_factors.gpu_l4 ]  # a card the table lacks\n"
                                   "kind = \"gpu\"\n"
                                   "model_match = \"\\\\bL4\\\\b\"\n"
                                   "kg_co2e = 40\n"
                                   "lifetime_years = 5\n",
                                   "/etc/wattprint/config.toml");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.pue, 1.2);
  EXPECT_EQ(Row(c.embodied_factors, "cpu").kg_co2e, 90);
  EXPECT_EQ(Row(c.embodied_factors, "gpu_a100_sxm4_80gb").kg_co2e, 160);
  EXPECT_EQ(Row(c.embodied_factors, "gpu_a100_sxm4_80gb").lifetime_years, 5);
  EXPECT_EQ(Row(c.embodied_factors, "gpu_a100_sxm4_80gb").source, "site LCA 2025");
  EXPECT_EQ(Row(c.embodied_factors, "gpu_l4").model_match, "\\bL4\\b");
  EXPECT_EQ(Row(c.embodied_factors, "gpu_l4").source,
            "file /etc/wattprint/config.toml [embodied_factors.gpu_l4]");
  EXPECT_EQ(c.OriginOf("embodied_factors.gpu_l4"), "file /etc/wattprint/config.toml");
  EXPECT_EQ(c.OriginOf("embodied_factors.server"), "default");
}

TEST(EmbodiedConfig, BadTablesAreOneLineErrorsNamingTheFileAndKey) {
  const struct {
    const char* toml;
    const char* message;
  } cases[] = {
      {"[embodied_factors.gpu_b200]\nlifetime_year = 5\n",
       "site.toml: embodied_factors.gpu_b200: unknown field 'lifetime_year'; did you mean 'lifetime_years'?"},
      {"[embodied_factors.gpu_b200]\nkg_co2e = -5\n",
       "site.toml: embodied_factors.gpu_b200.kg_co2e: must be at least 0 and at most 1000000"},
      {"[embodied_factors.gpu_b200]\nlifetime_years = 0\n",
       "site.toml: embodied_factors.gpu_b200.lifetime_years: must be more than 0 and at most 100"},
      {"[embodied_factors.gpu_b200]\nkg_co2e = \"lots\"\n", "site.toml: embodied_factors.gpu_b200.kg_co2e: expected a number"},
      {"[embodied_factors.gpu_b200]\nsource = 3\n", "site.toml: embodied_factors.gpu_b200.source: expected a string"},
      {"[embodied_factors.gpu_b200]\npue = 1.2\n", "site.toml: embodied_factors.gpu_b200: unknown field 'pue'"},
      {"[embodied_factors.tpu_v4]\nkind = \"tpu\"\nkg_co2e = 1\nlifetime_years = 4\n",
       "site.toml: embodied_factors.tpu_v4.kind: 'tpu' is not server, cpu, dram or gpu"},
      {"embodied_factors = 3\n", "site.toml: embodied_factors: expected [embodied_factors.NAME] tables"},
      {"embodied_factors.gpu_b200 = 3\n", "site.toml: embodied_factors.gpu_b200: expected a table of fields"},
      {"embodied_factor.cpu.kg_co2e = 1\n", "site.toml: unknown key 'embodied_factor'; did you mean 'embodied_factors'?"},
      {"[embodied.gpu_b200]\nkg_co2e = 1\n", "site.toml:1:1: '[': the configuration has no tables or arrays"},
      {"pue = [1]\n", "site.toml:1:7: '['"},
      {"[[embodied_factors.x]]\n", "site.toml:1:1: '['"},
      {"[embodied_factors.]\n", "site.toml:1:1: '['"},
      {"pue = 1 [embodied_factors.x]\n", "site.toml:1:9: '['"},
  };
  for (const auto& k : cases) {
    Config c;
    const Status s = ApplyConfigToml(&c, k.toml, "site.toml");
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << k.toml;
    EXPECT_THAT(s.message(), StartsWith(k.message)) << k.toml;
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
}

TEST(EmbodiedConfig, SwitchOffByFileVariableOrFlag) {
  Config c;
  EXPECT_TRUE(c.embodied);
  ASSERT_TRUE(ApplyConfigToml(&c, "embodied = false\n", "f.toml").ok());
  EXPECT_FALSE(c.embodied);
  EXPECT_EQ(ConfigValueText(c, "embodied"), "false");
  ConfigInputs in;
  in.cwd = "/nonexistent-dir";
  in.site_config = "";
  in.environment = {"WATTPRINT_EMBODIED=no"};
  EXPECT_FALSE(LoadConfig(in)->embodied);
  in.environment.clear();
  in.flags = {{"embodied", "false"}};
  Result<Config> flagged = LoadConfig(in);
  ASSERT_TRUE(flagged.ok());
  EXPECT_FALSE(flagged->embodied);
  EXPECT_EQ(flagged->OriginOf("embodied"), "flag --no-embodied");
  in.flags.clear();
  in.environment = {"WATTPRINT_EMBODIED=maybe"};
  EXPECT_THAT(LoadConfig(in).status().message(), StartsWith("WATTPRINT_EMBODIED=maybe: expected true/false"));
}

// The site's file, then the user's: the later file wins row by row.
TEST(EmbodiedConfig, SiteThenUserFiles) {
  testing::TempTree t;
  t.Write("etc/config.toml",
          "[embodied_factors.server]\nkg_co2e = 2500\nlifetime_years = 6\nincludes_cpu_sockets = 2\n"
          "includes_dram_gb = 512\nsource = \"BLOOM paper, server node\"\n"
          "[embodied_factors.gpu_any]\nkind = \"gpu\"\nmodel_match = \"*\"\nkg_co2e = 150\nlifetime_years = 4\n");
  t.Write("xdg/wattprint/config.toml", "[embodied_factors.server]\nlifetime_years = 5\n");
  ConfigInputs in;
  in.cwd = t.Path("nowhere");
  in.site_config = t.Path("etc/config.toml");
  in.xdg_config_home = t.Path("xdg");
  Result<Config> c = LoadConfig(in);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const EmbodiedFactor& server = Row(c->embodied_factors, "server");
  EXPECT_EQ(server.kg_co2e, 2500);
  EXPECT_EQ(server.lifetime_years, 5);
  EXPECT_EQ(server.includes_dram_gb, 512);
  EXPECT_EQ(server.source, "file " + t.Path("xdg/wattprint/config.toml") + " [embodied_factors.server]");
  EXPECT_EQ(MatchGpuFactor(c->embodied_factors, "Tesla T4")->key, "gpu_any");
  EXPECT_EQ(c->OriginOf("embodied_factors.server"), "file " + t.Path("xdg/wattprint/config.toml"));
}

}  // namespace
}  // namespace wattprint
