// The agent's spool and sender (wattprint/upload.h) against a fake
// collector on 127.0.0.1: what is stored leaves the spool, what is not stays
// whole, refusals are set aside with their reason, and a crashed sender's
// claim comes back.
#include "wattprint/upload.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/fake_http.h"

namespace wattprint {
namespace {

namespace fs = std::filesystem;

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wp-upload-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    server_.server().Post("/api/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
      bodies_.push_back(req.body);
      auth_ = req.get_header_value("Authorization");
      res.status = status_;
      res.set_content(R"({"id":"x"})", "application/json");
    });
    server_.Start();
    options_.url = server_.url();
    options_.token = "wpt_t";
    options_.spool_dir = (dir_ / "spool").string();
    options_.wait = std::chrono::milliseconds(2000);
  }
  void TearDown() override {
    server_.Stop();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  testing::FakeHttpServer server_;
  UploadOptions options_;
  int status_ = 201;
  std::vector<std::string> bodies_;
  std::string auth_;
};

TEST_F(UploadTest, AStoredRecordLeavesNothingBehind) {
  Result<std::string> note = DeliverRecord(options_, "run-1", R"({"a":1})");
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(*note, "");
  ASSERT_EQ(bodies_.size(), 1u);
  EXPECT_EQ(bodies_[0], R"({"a":1})");
  EXPECT_EQ(auth_, "Bearer wpt_t");
  EXPECT_TRUE(SpooledRecords(options_.spool_dir).empty());
  EXPECT_TRUE(fs::is_empty(options_.spool_dir + "/sending"));
  EXPECT_TRUE(fs::is_empty(options_.spool_dir + "/tmp"));
}

TEST_F(UploadTest, AnUnavailableCollectorLeavesTheRecordSpooledWhole) {
  status_ = 503;
  Result<std::string> note = DeliverRecord(options_, "run-2", R"({"b":2})");
  ASSERT_TRUE(note.ok());
  EXPECT_NE(note->find("spooled"), std::string::npos) << *note;
  EXPECT_NE(note->find("503"), std::string::npos) << *note;
  ASSERT_EQ(SpooledRecords(options_.spool_dir), std::vector<std::string>{"run-2.json"});
  std::ifstream in(options_.spool_dir + "/run-2.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, R"({"b":2})");
  struct stat st {};
  ASSERT_EQ(stat((options_.spool_dir + "/run-2.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // a record names hosts and users
  // It comes back.
  status_ = 200;
  const ReplayCounts c = ReplaySpool(options_, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(c.stored, 1);
  EXPECT_EQ(c.kept, 0);
  EXPECT_TRUE(SpooledRecords(options_.spool_dir).empty());
  EXPECT_EQ(bodies_.back(), R"({"b":2})");
}

TEST_F(UploadTest, ARefusedRecordIsSetAsideWithTheReason) {
  status_ = 422;
  Result<std::string> note = DeliverRecord(options_, "run-3", "{}");
  ASSERT_TRUE(note.ok());
  EXPECT_NE(note->find("refused"), std::string::npos);
  EXPECT_TRUE(SpooledRecords(options_.spool_dir).empty());
  EXPECT_TRUE(fs::exists(options_.spool_dir + "/rejected/run-3.json"));
  std::ifstream reason(options_.spool_dir + "/rejected/run-3.json.reason");
  std::string why((std::istreambuf_iterator<char>(reason)), {});
  EXPECT_NE(why.find("HTTP 422"), std::string::npos) << why;
}

TEST_F(UploadTest, ReplayStopsAtTheFirstRecordThatMustWait) {
  status_ = 503;
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(DeliverRecord(options_, id, "{}").ok());
  bodies_.clear();
  const ReplayCounts c = ReplaySpool(options_, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(bodies_.size(), 1u);  // the collector is down: no point asking three times
  EXPECT_EQ(c.kept, 3);
  EXPECT_EQ(SpooledRecords(options_.spool_dir).size(), 3u);
}

TEST_F(UploadTest, ANameFromARecordCannotLeaveTheSpool) {
  status_ = 503;
  ASSERT_TRUE(DeliverRecord(options_, "../../etc/passwd", "{}").ok());
  const auto names = SpooledRecords(options_.spool_dir);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].find('/'), std::string::npos);
  EXPECT_EQ(names[0].find(".."), std::string::npos) << names[0];
}

TEST_F(UploadTest, DistinctIdsNeverShareASpoolFile) {
  status_ = 503;
  const std::string long_a(300, 'a'), long_b = std::string(299, 'a') + "b";
  for (const std::string& id : {std::string("a.b"), std::string("a_b"), long_a, long_b, std::string()}) {
    ASSERT_TRUE(DeliverRecord(options_, id, "{}").ok()) << id;
  }
  EXPECT_EQ(SpooledRecords(options_.spool_dir).size(), 5u);
}

TEST_F(UploadTest, AClaimLeftByACrashedSenderComesBack) {
  fs::create_directories(options_.spool_dir + "/sending");
  const std::string stale = options_.spool_dir + "/sending/old.json";
  std::ofstream(stale) << R"({"old":true})";
  // Older than any live claim.
  timespec times[2] = {{time(nullptr) - 3600, 0}, {time(nullptr) - 3600, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, stale.c_str(), times, 0), 0);
  const ReplayCounts c = ReplaySpool(options_, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(c.stored, 1);
  EXPECT_EQ(bodies_.back(), R"({"old":true})");
  EXPECT_FALSE(fs::exists(stale));
}

TEST_F(UploadTest, ANoCollectorAtAllIsQuickAndSpools) {
  options_.url = "http://127.0.0.1:1";  // nothing listens on port 1
  options_.wait = std::chrono::milliseconds(500);
  const auto start = std::chrono::steady_clock::now();
  Result<std::string> note = DeliverRecord(options_, "run-4", "{}");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(SpooledRecords(options_.spool_dir).size(), 1u);
}

TEST_F(UploadTest, AnUnwritableSpoolIsAnError) {
  if (geteuid() == 0) {
    options_.spool_dir = "/proc/wattprint-spool";  // not even root may write there
  } else {
    options_.spool_dir = "/wattprint-spool-unwritable";
  }
  Result<std::string> note = DeliverRecord(options_, "run-5", "{}");
  EXPECT_FALSE(note.ok());
}

}  // namespace
}  // namespace wattprint
