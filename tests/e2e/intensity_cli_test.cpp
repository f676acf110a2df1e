// `wattprint intensity` and `wattprint compare` end to end. Expected figures
// come from the library's lookup (itself checked against data/ in
// intensity_test), never from copies of the output.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"
#include "support/temp_tree.h"
#include "wattprint/grid.h"
#include "wattprint/intensity.h"

namespace wattprint::testing {
namespace {

using nlohmann::json;

GridIntensity Lookup(GridLocation w) { return *LookupGridIntensity(w); }

void ExpectUsageError(const BinaryResult& r, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
}

TEST(IntensityCommand, ZoneAsJsonCarriesFullProvenance) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"intensity", "--zone", "SE-SE1", "--json"}, cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GridLocation w;
  w.zone = "SE-SE1";
  const GridIntensity g = Lookup(w);
  const json j = json::parse(r.out);
  EXPECT_EQ(j["g_per_kwh"].get<double>(), g.g_per_kwh);
  EXPECT_EQ(j["source"], g.source);
  EXPECT_EQ(j["year"], g.year);
  EXPECT_EQ(j["basis"], "average");
  EXPECT_EQ(j["dataset"], "electricitymaps");
  EXPECT_EQ(j["zone"], "SE-SE1");
  EXPECT_EQ(j["country_iso3"], "SWE");
  EXPECT_EQ(j["is_default"], false);
}

TEST(IntensityCommand, CloudRegionAsText) {
  TempTree cwd;
  BinaryResult r =
      RunWattprint({"intensity", "--cloud-provider", "aws", "--cloud-region", "ca-central-1"}, cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GridLocation w;
  w.cloud_provider = "aws";
  w.cloud_region = "ca-central-1";
  const GridIntensity g = Lookup(w);
  EXPECT_NE(r.out.find(fmt::format("intensity  {} g CO2e/kWh\n", g.g_per_kwh)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("zone       CA-QC\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("source     " + g.source + "\n"), std::string::npos) << r.out;
}

TEST(IntensityCommand, EnvironmentAndMarginalSelection) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"intensity", "--dataset", "unfccc", "--json"}, cwd.root(),
                                {{"WATTPRINT_COUNTRY", "India"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GridLocation w;
  w.country = "IND";
  GridSelection s;
  s.dataset = GridDataset::kUnfccc;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["g_per_kwh"].get<double>(), LookupGridIntensity(w, s)->g_per_kwh);
  EXPECT_EQ(j["basis"], "marginal");
  EXPECT_EQ(j["year"], 2021);
}

TEST(IntensityCommand, NoLocationIsTheWorldAverageSaidPlainly) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"intensity", "--json"}, cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["g_per_kwh"].get<double>(), WorldAverageIntensity().points[0].value.g_per_kwh());
  EXPECT_EQ(j["is_default"], true);
  EXPECT_EQ(j["zone"], "WORLD");
  EXPECT_TRUE(j["country_iso3"].is_null());
}

TEST(IntensityCommand, ListHoldsEveryZoneAndCloudRegion) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"intensity", "--list", "--json"}, cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["zones"].size(), ListZones().size());
  EXPECT_EQ(j["cloud_regions"].size(), ListCloudRegions().size());
}

TEST(IntensityCommand, BadInputIsAOneLineUsageError) {
  TempTree cwd;
  ExpectUsageError(RunWattprint({"intensity", "--country", "Frnace"}, cwd.root()), "did you mean FRA (France)?");
  ExpectUsageError(RunWattprint({"intensity", "--zone", "US-CAL-CISOO"}, cwd.root()), "did you mean US-CAL-CISO?");
  ExpectUsageError(RunWattprint({"intensity", "--cloud-provider", "ibm", "--cloud-region", "x"}, cwd.root()),
                   "cloud provider must be 'aws', 'gcp' or 'azure'");
  ExpectUsageError(RunWattprint({"intensity", "--zone", "FR", "--intensity-year", "2019"}, cwd.root()),
                   "no Electricity Maps figure for zone FR in 2019");
  ExpectUsageError(RunWattprint({"intensity", "--country", "FR", "--dataset", "iea"}, cwd.root()),
                   "unknown intensity data set 'iea'");
}

TEST(RunCommand, ZoneFeedsTheRunRecord) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"run", "--region", "Quebec", "--intensity-year", "2022", "--no-save", "--json",
                                 cwd.Path("run.json"), "--quiet", "--", "true"},
                                cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(ReadWholeFile(cwd.Path("run.json")));
  GridLocation w;
  w.zone = "CA-QC";
  GridSelection s;
  s.year = 2022;
  EXPECT_EQ(j["intensity"]["g_per_kwh"].get<double>(), LookupGridIntensity(w, s)->g_per_kwh);
  EXPECT_EQ(j["intensity"]["year"], 2022);
  EXPECT_EQ(j["intensity"]["zone"], "CA-QC");
  EXPECT_EQ(j["intensity"]["region"], "Quebec (CA-QC)");
  EXPECT_EQ(j["intensity"]["is_default"], false);
}

TEST(RunCommand, ExplicitIntensityIsLabelledUserSupplied) {
  TempTree cwd;
  BinaryResult r = RunWattprint(
      {"run", "--intensity", "123.5", "--no-save", "--json", cwd.Path("run.json"), "--quiet", "--", "true"},
      cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(ReadWholeFile(cwd.Path("run.json")));
  EXPECT_EQ(j["intensity"]["g_per_kwh"].get<double>(), 123.5);
  EXPECT_EQ(j["intensity"]["source"], "user-supplied (flag --intensity)");
  EXPECT_EQ(j["intensity"]["is_default"], false);
}

// The lowest `top` alternatives as `compare` orders them.
struct Alt {
  std::string name, label, zone;
  int year;
  double g;
};
std::vector<Alt> LowestCloud(size_t top) {
  std::vector<Alt> out;
  for (const CloudRegionInfo& c : ListCloudRegions()) {
    for (const GridZoneFigure& z : ListZones()) {
      if (z.zone == c.zone) out.push_back({c.region, c.provider + ", " + c.location, c.zone, z.year, z.g_per_kwh});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Alt& a, const Alt& b) { return a.g < b.g; });
  out.resize(std::min(top, out.size()));
  return out;
}

TEST(CompareCommand, CsvLastAndChosenRow) {
  TempTree cwd;
  cwd.Write("emissions.csv",
            "timestamp,project_name,emissions,energy_consumed,country_name,country_iso_code,cpu_model\n"
            "2024-05-01T12:00:00,p,0.5,1.0,Germany,DEU,\"Xeon, 2 sockets\"\n"
            "2024-05-01T13:00:00,p,0.25,2.0,France,FRA,x\n");
  BinaryResult last = RunWattprint({"compare", cwd.Path("emissions.csv"), "--top", "2"}, cwd.root());
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_NE(last.out.find("This run: 2 kWh, 0.25 kg CO2e (France (FRA), "), std::string::npos) << last.out;
  for (const Alt& a : LowestCloud(2)) {
    const double kg = 2.0 * a.g / 1000.0;
    const std::string line = fmt::format(
        "  had this run in {} ({}; zone {}, {} g CO2e/kWh in {}) it would have emitted {:.3g} kg, {:.3g} kg less\n",
        a.name, a.label, a.zone, a.g, a.year, kg, 0.25 - kg);
    EXPECT_NE(last.out.find(line), std::string::npos) << line << "\n" << last.out;
  }

  BinaryResult first = RunWattprint({"compare", cwd.Path("emissions.csv"), "--row", "1", "--json"}, cwd.root());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const json j = json::parse(first.out);
  EXPECT_EQ(j["run"]["energy_kwh"].get<double>(), 1.0);
  EXPECT_EQ(j["run"]["kg"].get<double>(), 0.5);
  ASSERT_EQ(j["cloud_regions"].size(), 5u);
  const Alt best = LowestCloud(1).front();
  EXPECT_EQ(j["cloud_regions"][0]["name"], best.name);
  EXPECT_EQ(j["cloud_regions"][0]["kg"].get<double>(), 1.0 * best.g / 1000.0);
  EXPECT_EQ(j["cloud_regions"][0]["kg_less"].get<double>(), 0.5 - 1.0 * best.g / 1000.0);
  ASSERT_EQ(j["zones"].size(), 5u);
}

TEST(CompareCommand, EnergyWithALocationAndJsonRecord) {
  TempTree cwd;
  BinaryResult r = RunWattprint({"compare", "--energy-kwh", "3", "--zone", "IN-WE", "--top", "1", "--json"},
                                cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GridLocation w;
  w.zone = "IN-WE";
  const json j = json::parse(r.out);
  EXPECT_EQ(j["run"]["kg"].get<double>(), 3.0 * Lookup(w).g_per_kwh / 1000.0);
  ASSERT_EQ(j["zones"].size(), 1u);

  // A real record, as `run --json` writes it (the models estimate here).
  cwd.Write("sys/class/empty", "");
  BinaryResult run = RunWattprint({"run", "--sysfs-root", cwd.Path("sys"), "--country", "POL", "--no-save", "--json",
                                   cwd.Path("run.json"), "--", "true"},
                                  cwd.root());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json record = json::parse(ReadWholeFile(cwd.Path("run.json")));
  BinaryResult rec = RunWattprint({"compare", cwd.Path("run.json"), "--top", "1", "--json"}, cwd.root());
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const json c = json::parse(rec.out);
  EXPECT_EQ(c["run"]["kg"], record["emissions"]["kg"]);
  EXPECT_EQ(c["run"]["energy_kwh"], record["emissions"]["machine"]["energy"]["kwh"]);
  EXPECT_EQ(c["run"]["what"].get<std::string>().rfind("Poland, ", 0), 0u) << c.dump();
}

// A record that is not whole, or holds negative energy, is refused with the
// field named; a CSV from a spreadsheet (byte order mark) is read.
TEST(CompareCommand, RecordsAreReadByTheTypedReader) {
  TempTree cwd;
  cwd.Write("partial.json", R"({"emissions": {"scope": "machine", "kg": 0.002,
      "machine": {"kg": 0.002, "energy": {"kwh": 0.004, "j": 14400}}}})");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("partial.json")}, cwd.root()), "record.schema_version: missing");
  cwd.Write("sys/class/empty", "");
  ASSERT_EQ(RunWattprint({"run", "--sysfs-root", cwd.Path("sys"), "--no-save", "--json", cwd.Path("run.json"), "--",
                          "true"},
                         cwd.root())
                .exit_code,
            0);
  json j = json::parse(ReadWholeFile(cwd.Path("run.json")));
  j["emissions"]["machine"]["energy"]["j"] = -5.0;
  cwd.Write("negative.json", j.dump());
  ExpectUsageError(RunWattprint({"compare", cwd.Path("negative.json")}, cwd.root()), "non-negative");
  cwd.Write("bom.csv", "\xef\xbb\xbf" "emissions,energy_consumed\n0.1,0.2\n");
  BinaryResult r = RunWattprint({"compare", cwd.Path("bom.csv"), "--top", "1"}, cwd.root());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("This run: 0.2 kWh"), std::string::npos) << r.out;
}

TEST(CompareCommand, BadInputIsAOneLineUsageError) {
  TempTree cwd;
  cwd.Write("bad.csv", "a,b\n1,2\n");
  cwd.Write("ok.csv", "emissions,energy_consumed\n0.1,x\n");
  cwd.Write("bad.json", "{\"emissions\": 3}");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("missing.csv")}, cwd.root()), "cannot open");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("bad.csv")}, cwd.root()), "not an emissions CSV");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("ok.csv")}, cwd.root()), "is not a non-negative number");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("ok.csv"), "--row", "4"}, cwd.root()), "out of range (1..1)");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("ok.csv"), "--row", "0"}, cwd.root()), "out of range (1..1)");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("bad.json")}, cwd.root()), "not a wattprint JSON record");
  ExpectUsageError(RunWattprint({"compare"}, cwd.root()), "give either a run");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("ok.csv"), "--energy-kwh", "1"}, cwd.root()),
                   "give either a run");
  ExpectUsageError(RunWattprint({"compare", "--energy-kwh", "1", "--top", "0"}, cwd.root()), "--top");
}

// Bytes that are not UTF-8, and control characters, in files that wattprint
// did not write: a JSON record is refused with a one-line usage error (exit
// 2, no raw exception text); a CSV's text reaches the terminal cleaned, so
// it cannot carry escape sequences.
TEST(CompareCommand, NonUtf8AndControlCharacters) {
  TempTree cwd;
  cwd.Write("latin1.json", "{\"schema_version\": 2, \"project_name\": \"caf\xe9\"}");
  BinaryResult j = RunWattprint({"compare", cwd.Path("latin1.json")}, cwd.root());
  ExpectUsageError(j, "not JSON (invalid UTF-8 at byte");
  EXPECT_EQ(j.err.find("json.exception"), std::string::npos) << j.err;
  cwd.Write("broken.json", "{\"schema_version\": ");
  ExpectUsageError(RunWattprint({"compare", cwd.Path("broken.json")}, cwd.root()), "not JSON (syntax error at byte");

  cwd.Write("odd.csv", "emissions,energy_consumed,country_name\n0.1,0.2,Fr\xe9nce\x1b[2J\n");
  BinaryResult r = RunWattprint({"compare", cwd.Path("odd.csv"), "--top", "1"}, cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("This run: 0.2 kWh, 0.1 kg CO2e (Fr\xef\xbf\xbdnce?[2J, "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  BinaryResult js = RunWattprint({"compare", cwd.Path("odd.csv"), "--top", "1", "--json"}, cwd.root());
  ASSERT_EQ(js.exit_code, 0) << js.err;
  EXPECT_EQ(json::parse(js.out)["run"]["what"].get<std::string>().rfind("Fr\xef\xbf\xbdnce\x1b[2J, ", 0), 0u);
  cwd.Write("esc.csv", "emissions,energy_consumed\n0.1,\x1b]0;x\x07\n");
  BinaryResult e = RunWattprint({"compare", cwd.Path("esc.csv")}, cwd.root());
  ExpectUsageError(e, "'?]0;x?' is not a non-negative number");
}

}  // namespace
}  // namespace wattprint::testing
