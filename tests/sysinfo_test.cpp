// System facts for run metadata: platform string, /proc/cpuinfo and
// /proc/meminfo parsing through fixture trees, UUID v4 run ids.
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "output/sysinfo.h"
#include "support/fault_fs.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

constexpr const char* kCpuinfoX86 =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7-8650U CPU @ "
    "1.90GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz\n\n";
constexpr const char* kCpuinfoArm =
    "processor\t: 0\nBogoMIPS\t: 108.00\n\nprocessor\t: 1\n\nHardware\t: BCM2835\nModel\t: "
    "Raspberry Pi 4 Model B Rev 1.4\n";
constexpr const char* kMeminfo = "MemTotal:       16314368 kB\nMemFree:         1000000 kB\n";

TEST(Platform, FormatsLikePython) {
  EXPECT_EQ(FormatPlatform("Linux", "6.1.0-18-amd64", "x86_64", "2.36"),
            "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36");
  EXPECT_EQ(FormatPlatform("Linux", "6.1", "aarch64", ""), "Linux-6.1-aarch64");
  EXPECT_EQ(PlatformString().rfind("Linux-", 0), 0u);
}

TEST(Cpuinfo, ModelAndCount) {
  EXPECT_EQ(ParseCpuModel(kCpuinfoX86), "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz");
  EXPECT_EQ(ParseCpuCount(kCpuinfoX86), 2);
  EXPECT_EQ(ParseCpuModel(kCpuinfoArm), "BCM2835");
  EXPECT_EQ(ParseCpuCount(kCpuinfoArm), 2);
  EXPECT_EQ(ParseCpuModel(""), "");
  EXPECT_EQ(ParseCpuCount(""), 0);
}

TEST(Meminfo, MemTotalInBytes) {
  EXPECT_EQ(ParseMemTotalBytes(kMeminfo), 16314368ULL * 1024);
  EXPECT_FALSE(ParseMemTotalBytes("MemTotal: lots\n").has_value());
  EXPECT_FALSE(ParseMemTotalBytes("MemFree: 1 kB\n").has_value());
  EXPECT_FALSE(ParseMemTotalBytes("").has_value());
}

TEST(RunId, IsUuidV4AndFresh) {
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewRunId();
    EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(CollectMetadata, ReadsFromTheProcfsRoot) {
  testing::TempTree tree;
  tree.Write("proc/cpuinfo", kCpuinfoX86);
  tree.Write("proc/meminfo", kMeminfo);
  SystemRoots roots;
  roots.procfs = tree.Path("proc");
  RunMetadata m = CollectMetadata(roots, *PosixFileSystem());
  EXPECT_EQ(m.cpu_model, "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz");
  EXPECT_EQ(m.cpu_count, 2);
  EXPECT_EQ(m.ram_total_bytes, 16314368ULL * 1024);
  EXPECT_EQ(m.run_id.size(), 36u);
  EXPECT_FALSE(m.tool_version.empty());
  EXPECT_EQ(m.os.rfind("Linux-", 0), 0u);
}

TEST(CollectMetadata, UnreadableFactsStayUnknown) {
  testing::TempTree tree;
  tree.Write("proc/cpuinfo", kCpuinfoX86);
  SystemRoots roots;
  roots.procfs = tree.Path("proc");
  testing::FaultFs fs(PosixFileSystem());
  fs.Set(roots.Proc("cpuinfo"), testing::FaultFs::Fault::kPermissionDenied);
  RunMetadata m = CollectMetadata(roots, fs);
  EXPECT_EQ(m.cpu_model, "");
  EXPECT_EQ(m.cpu_count, 0);
  EXPECT_EQ(m.ram_total_bytes, 0u);  // meminfo is missing
}

}  // namespace
}  // namespace wattprint
