#include "ops/scheduled_backup.h"

#include <filesystem>

#include "common/log.h"
#include "ops/hash.h"
#include "persistence/snapshot.h"

namespace temporalite::ops {
namespace {

namespace fs = std::filesystem;

int64_t UnixMs(TimePoint t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }

}  // namespace

Result<Manifest> BackupDatabaseFile(const std::string& db_path, const std::string& dest, int keep,
                                    const std::string& server_version, int64_t now_unix_ms, const S3Settings& s3) {
  Result<std::unique_ptr<ObjectStore>> store = OpenObjectStore(dest, s3);
  if (!store.ok()) return store.status();
  // Work files next to the database (same file system, sized for a copy), removed afterwards.
  const fs::path work = fs::path(db_path).parent_path() / ("scheduled-backup-" + std::to_string(now_unix_ms));
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) return Unavailable("cannot create " + work.string() + ": " + ec.message());
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{work};
  const std::string raw = (work / "snapshot.db").string();
  const auto t0 = std::chrono::steady_clock::now();
  TL_RETURN_IF_ERROR(persistence::SnapshotDatabase(db_path, raw));
  Manifest m;
  m.name = BackupName(now_unix_ms);
  m.created_at = Rfc3339(now_unix_ms);
  m.created_at_unix_ms = now_unix_ms;
  m.server_version = server_version;
  m.snapshot_duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  Result<int> schema = persistence::ReadSchemaVersion(raw);
  if (!schema.ok()) return schema.status();
  m.schema_version = *schema;
  m.db_size_bytes = static_cast<int64_t>(fs::file_size(raw, ec));
  m.db_sha256 = Sha256File(raw);
  m.source = "scheduled (" + db_path + ")";
  TL_RETURN_IF_ERROR(StoreBackup(**store, raw, m, work.string()));
  if (keep > 0) {
    Result<std::vector<std::string>> deleted = ApplyRetention(**store, keep);
    if (!deleted.ok()) return deleted.status();
  }
  return m;
}

BackupScheduler::BackupScheduler(const Clock& clock, NextFn next, Options options, ResultFn on_result)
    : clock_(clock), next_(std::move(next)), options_(std::move(options)), on_result_(std::move(on_result)) {}

void BackupScheduler::Run() {
  TimePoint due = next_(clock_.Now());
  {
    ScheduledBackupResult pending;
    pending.next_unix_ms = due == TimePoint::max() ? 0 : UnixMs(due);
    on_result_(pending);
  }
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      while (!stop_ && clock_.Now() < due) {
        auto wait = std::min<Duration>(due - clock_.Now(), std::chrono::seconds(1));
        cv_.wait_for(l, wait);
      }
      if (stop_ || due == TimePoint::max()) return;
    }
    const int64_t now = UnixMs(clock_.Now());
    Result<Manifest> m = BackupDatabaseFile(options_.db_path, options_.dest, options_.keep, options_.server_version, now, options_.s3);
    ScheduledBackupResult r;
    r.at_unix_ms = now;
    r.ok = m.ok();
    if (m.ok()) {
      r.name = m->name;
      TL_LOG_INFO("scheduled backup %s stored in %s", m->name.c_str(), options_.dest.c_str());
    } else {
      r.error = m.status().message();
      TL_LOG_ERROR("scheduled backup to %s failed: %s", options_.dest.c_str(), r.error.c_str());
    }
    due = next_(clock_.Now());
    r.next_unix_ms = due == TimePoint::max() ? 0 : UnixMs(due);
    on_result_(r);
  }
}

void BackupScheduler::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  stop_ = true;
  cv_.notify_all();
}

}  // namespace temporalite::ops
