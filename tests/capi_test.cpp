// The C API's contract as a C caller meets it (wattprint/wattprint.h):
// status codes and messages for misuse, a failed construction that still
// hands out a handle with its reason, unknown figures that are not 0, and
// one handle used from several threads. The installed library is tested
// from outside by tests/capi/consumer_test.py.
#include "wattprint/wattprint.h"

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "e2e/e2e_util.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::TempTree;

// Options over a fake RAPL tree, with nothing taken from the caller's
// location or files.
wp_options* FakeOptions(const TempTree& t) {
  wp_options* o = nullptr;
  EXPECT_EQ(wp_options_new(&o), WP_OK);
  EXPECT_EQ(wp_options_set(o, "sysfs_root", t.Path("sys").c_str()), WP_OK);
  EXPECT_EQ(wp_options_set(o, "cloud_metadata", "false"), WP_OK);
  EXPECT_EQ(wp_options_set(o, "detect_location", "false"), WP_OK);
  EXPECT_EQ(wp_options_set(o, "interval", "60"), WP_OK);
  return o;
}

TEST(CApi, NullHandlesAreInvalidArguments) {
  EXPECT_EQ(wp_tracker_start(nullptr), WP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wp_options_set(nullptr, "pue", "1"), WP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wp_options_new(nullptr), WP_ERR_INVALID_ARGUMENT);
  wp_tracker_free(nullptr);
  wp_options_free(nullptr);
  wp_free_string(nullptr);
  EXPECT_STREQ(wp_status_name(WP_ERR_UNAVAILABLE), "unavailable");
  EXPECT_STREQ(wp_status_name(static_cast<wp_status>(99)), "unknown");
  EXPECT_STREQ(wp_version(), WATTPRINT_VERSION_TEXT);
}

TEST(CApi, OptionsAreCheckedWhenSet) {
  wp_options* o = nullptr;
  ASSERT_EQ(wp_options_new(&o), WP_OK);
  EXPECT_EQ(wp_options_set(o, "pue", "abc"), WP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wp_options_errmsg(o)).find("wp_options_set(\"pue\", \"abc\")"), std::string::npos)
      << wp_options_errmsg(o);
  EXPECT_EQ(wp_options_set(o, "mpi_machine_scop", "every_rank"), WP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wp_options_errmsg(o)).find("did you mean 'mpi_machine_scope'"), std::string::npos);
  EXPECT_EQ(wp_options_set(o, "mpi_machine_scope", "sometimes"), WP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wp_options_set(o, "pue", "1.2"), WP_OK);
  EXPECT_STREQ(wp_options_errmsg(o), "");  // cleared by a call that succeeds
  wp_options_free(o);
}

TEST(CApi, AFailedConstructionKeepsItsReason) {
  TempTree t;
  wp_options* o = FakeOptions(t);
  ASSERT_EQ(wp_options_set(o, "country", "Atlantis"), WP_OK);  // a name, looked up when the tracker is made
  wp_tracker* tr = nullptr;
  EXPECT_NE(wp_tracker_new(o, &tr), WP_OK);
  ASSERT_NE(tr, nullptr);
  EXPECT_NE(std::string(wp_tracker_errmsg(tr)).find("Atlantis"), std::string::npos) << wp_tracker_errmsg(tr);
  EXPECT_EQ(wp_tracker_start(tr), WP_ERR_STATE);  // a failed handle refuses every call
  wp_tracker_free(tr);
  wp_options_free(o);
}

TEST(CApi, FiguresBeforeAReadingAndUnknownKindsAreNotZero) {
  TempTree t;
  testing::WriteRaplTree(t, 1000000000ULL, 1000000000ULL);
  wp_options* o = FakeOptions(t);
  wp_tracker* tr = nullptr;
  ASSERT_EQ(wp_tracker_new(o, &tr), WP_OK) << wp_tracker_errmsg(tr);
  wp_options_free(o);
  double j = -1;
  EXPECT_EQ(wp_tracker_energy_j(tr, WP_RUN, WP_KIND_CPU, WP_SCOPE_MACHINE, &j), WP_ERR_NOT_FOUND);
  EXPECT_EQ(j, -1);
  EXPECT_EQ(wp_tracker_start_task(tr, "early"), WP_ERR_STATE);
  ASSERT_EQ(wp_tracker_start(tr), WP_OK);
  EXPECT_EQ(wp_tracker_start(tr), WP_ERR_STATE);
  testing::OverwriteCounter(t.Path(std::string(testing::kPkgDir) + "/energy_uj"), 1000250000ULL);
  ASSERT_EQ(wp_tracker_flush(tr), WP_OK);
  EXPECT_EQ(wp_tracker_energy_j(tr, WP_RUN, WP_KIND_CPU, WP_SCOPE_MACHINE, &j), WP_OK);
  EXPECT_DOUBLE_EQ(j, 0.25);
  EXPECT_EQ(wp_tracker_energy_j(tr, WP_RUN, WP_KIND_PLATFORM, WP_SCOPE_MACHINE, &j), WP_ERR_UNAVAILABLE);
  EXPECT_EQ(wp_tracker_energy_j(tr, WP_RUN, static_cast<wp_kind>(17), WP_SCOPE_MACHINE, &j),
            WP_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(wp_tracker_stop(tr), WP_OK);
  EXPECT_EQ(wp_tracker_write_json(tr, nullptr), WP_ERR_INVALID_ARGUMENT);  // no path, no `json` key
  EXPECT_NE(std::string(wp_tracker_errmsg(tr)).find("json"), std::string::npos);
  wp_tracker_free(tr);
}

// Calls on one handle from several threads are serialised: every task
// boundary is a reading, and the tasks' energies add up to what moved.
TEST(CApi, OneHandleFromManyThreads) {
  TempTree t;
  testing::WriteRaplTree(t, 1000000000ULL, 1000000000ULL);
  wp_options* o = FakeOptions(t);
  wp_tracker* tr = nullptr;
  ASSERT_EQ(wp_tracker_new(o, &tr), WP_OK) << wp_tracker_errmsg(tr);
  wp_options_free(o);
  ASSERT_EQ(wp_tracker_start(tr), WP_OK);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([tr] {
      for (int k = 0; k < 25; ++k) {
        double j = 0;
        (void)wp_tracker_flush(tr);
        (void)wp_tracker_energy_j(tr, WP_RUN, WP_KIND_CPU, WP_SCOPE_MACHINE, &j);
        (void)wp_tracker_start_task(tr, "t");
        (void)wp_tracker_stop_task(tr);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  testing::OverwriteCounter(t.Path(std::string(testing::kPkgDir) + "/energy_uj"), 1001000000ULL);
  ASSERT_EQ(wp_tracker_stop(tr), WP_OK);
  int n = 0;
  ASSERT_EQ(wp_tracker_task_count(tr, &n), WP_OK);
  EXPECT_GE(n, 1);
  double run = 0;
  ASSERT_EQ(wp_tracker_energy_j(tr, WP_RUN, WP_KIND_CPU, WP_SCOPE_MACHINE, &run), WP_OK);
  EXPECT_DOUBLE_EQ(run, 1.0);
  wp_tracker_free(tr);
}

}  // namespace
}  // namespace wattprint
