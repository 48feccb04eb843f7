// The server's built-in backup schedule (--backup-schedule "<cron or runbook phrase>" --backup-to
// DEST): at each scheduled time a snapshot of the database file (persistence::SnapshotDatabase, the
// same consistent online copy the admin API streams), compressed and stored with its manifest,
// then retention. Results are reported to a callback (the admin service shows the last one to
// doctor).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "ops/backup.h"

namespace temporalite::ops {

struct ScheduledBackupResult {
  int64_t at_unix_ms = 0;
  bool ok = false;
  std::string name;   // when ok
  std::string error;  // when not
  int64_t next_unix_ms = 0;
};

// One backup of the database file at `db_path` to `dest`, now. Returns the stored manifest.
Result<Manifest> BackupDatabaseFile(const std::string& db_path, const std::string& dest, int keep,
                                    const std::string& server_version, int64_t now_unix_ms, const S3Settings& s3);

class BackupScheduler {
 public:
  struct Options {
    std::string db_path;
    std::string dest;
    int keep = 0;
    std::string server_version;
    S3Settings s3;
  };
  using NextFn = std::function<TimePoint(TimePoint after)>;
  using ResultFn = std::function<void(const ScheduledBackupResult&)>;
  BackupScheduler(const Clock& clock, NextFn next, Options options, ResultFn on_result);

  // Waits for each scheduled time and backs up, until Stop(). On a thread made by main.
  void Run();
  void Stop();

 private:
  const Clock& clock_;
  NextFn next_;
  const Options options_;
  ResultFn on_result_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace temporalite::ops
