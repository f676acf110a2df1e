// The agent's side of the collector: sending a run's record, and the spool
// that keeps what could not be sent.
//
// Exactly once. A record is first made durable in the spool (written, fsync,
// atomic rename, fsync of the directory), then sent; it leaves the spool
// only when the collector has said it is stored (201) or was already (200).
// An agent killed after sending but before the answer leaves it spooled, and
// the collector, idempotent by run id, stores the resend once.
//
// Never disturbing the measured work: sending is bounded by a short wait
// (UploadOptions::wait), and whatever is not sent by then stays spooled for
// the next agent or `wattprint upload`.
//
// Thread safety: functions may be called from several threads and
// processes at once; a spool entry is claimed by renaming it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "wattprint/report.h"
#include "wattprint/status.h"

namespace wattprint {

struct UploadOptions {
  std::string url;    // the collector, "http://host:port"; empty = no upload
  std::string token;  // a project token (Authorization: Bearer)
  std::string spool_dir;
  std::chrono::milliseconds wait{1000};  // the longest an agent waits at the end of a run
};

// $XDG_STATE_HOME/wattprint/spool, else $HOME/.local/state/wattprint/spool,
// else /tmp/wattprint-spool-UID.
std::string DefaultSpoolDir();

enum class SendOutcome {
  kStored,      // 201 or 200: the collector has it
  kRetryLater,  // transport failure, timeout, 5xx, 429: keep it
  kRejected,    // another 4xx: the collector will never take it as it is
};

struct SendResult {
  SendOutcome outcome = SendOutcome::kRetryLater;
  std::string detail;  // "HTTP 503: the database is unavailable", "connection refused"
};

// POSTs one JSON record to {url}/api/v1/runs, within timeout.
SendResult SendRecord(const UploadOptions& o, const std::string& record, std::chrono::milliseconds timeout);

// Spools the record (named by its run id), then sends it within o.wait;
// removes it from the spool once stored. A rejected record moves to the
// spool's rejected/ folder with the reason beside it. Returns a one-line
// note for the user when it was not stored; an error only when the record
// could not be made durable either.
Result<std::string> DeliverRecord(const UploadOptions& o, const std::string& run_id, const std::string& record);

struct ReplayCounts {
  int stored = 0, kept = 0, rejected = 0;
};

// Sends every spooled record, oldest first, until `deadline`; stops at the
// first that must wait (the collector is down: the rest would wait too).
// `later_deadline`, when given, is read before each record: steady-clock
// nanoseconds that may move the deadline earlier while the replay runs.
ReplayCounts ReplaySpool(const UploadOptions& o, std::chrono::steady_clock::time_point deadline,
                         const std::atomic<int64_t>* later_deadline = nullptr);

// A live run's intervals, sent in batches as `monitor` writes its rows
// (POST /api/v1/runs/ID/intervals, idempotent by seq). A batch the
// collector does not take is kept and sent again with the next one, up to
// kMaxPending intervals (the oldest go first beyond that: the final record
// still carries the exact total).
class IntervalStream {
 public:
  static constexpr size_t kMaxPending = 100000;
  IntervalStream(UploadOptions o, std::string run_id);
  // metadata: the record's metadata object, as JSON text (it creates the
  // run on the collector with the first batch). interval: one interval as
  // a JSON object's text (docs/COLLECTOR.md).
  void Add(const std::string& metadata, std::string interval);
  // Sends what is pending, within the wait; returns the last outcome.
  SendResult Flush();
  size_t pending() const { return pending_.size(); }

 private:
  UploadOptions options_;
  std::string run_id_, metadata_;
  std::vector<std::string> pending_;
  int64_t dropped_ = 0;
};

// One interval for IntervalStream, from the CSV row of the polls it covers,
// ending at `end`: JSON object text with seq, start, end, the energies
// (kWh), emissions (kg), duration (s), powers (W) and utilisations (%).
std::string IntervalText(const CsvRecord& row, int64_t seq, SystemTime end);

// Replays the spool on a thread while an agent measures. Finish() (or the
// destructor) gives it UploadOptions::wait more, then joins: the agent
// waits at most that long after its command for earlier runs' records.
class BackgroundReplay {
 public:
  explicit BackgroundReplay(UploadOptions o);
  ~BackgroundReplay();
  BackgroundReplay(const BackgroundReplay&) = delete;
  BackgroundReplay& operator=(const BackgroundReplay&) = delete;
  ReplayCounts Finish();

 private:
  UploadOptions options_;
  std::atomic<int64_t> deadline_ns_;
  ReplayCounts counts_;
  std::thread thread_;
};

// The records in the spool, oldest first (file names).
std::vector<std::string> SpooledRecords(const std::string& spool_dir);

}  // namespace wattprint
