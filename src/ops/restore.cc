#include "ops/restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "persistence/store.h"

namespace temporalite::ops {
namespace {

namespace fs = std::filesystem;

Status Fsync(const std::string& path, bool dir) {
  int fd = open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path + " to sync it");
  int rc = fsync(fd);
  close(fd);
  return rc == 0 ? Status::Ok() : Unavailable("fsync " + path + " failed");
}

}  // namespace

Result<RestoreResult> RestoreBackup(BackupRef& ref, const std::string& db_path, int64_t now_unix_ms,
                                    const std::function<void(const std::string&)>& progress) {
  if (db_path.empty() || db_path == ":memory:") return InvalidArgument("--db-filename must name a database file");
  const fs::path db = fs::absolute(db_path);
  const std::string dir = db.parent_path().string();
  Result<std::unique_ptr<persistence::DirLock>> lock = persistence::DirLock::Acquire(dir);
  if (!lock.ok()) {
    return Status(lock.status().code(), "refusing to restore: " + lock.status().message());
  }
  const std::string restoring = db.string() + ".restoring";
  struct Remove {
    std::string p;
    ~Remove() {
      std::error_code ec;
      fs::remove(p, ec);
    }
  } cleanup{restoring};
  // Nothing is touched before the backup has been downloaded and checked in full.
  TL_RETURN_IF_ERROR(VerifyBackup(*ref.store, ref.manifest, dir, restoring, progress));
  TL_RETURN_IF_ERROR(Fsync(restoring, false));

  RestoreResult out;
  out.db_path = db.string();
  std::error_code ec;
  const std::string stamp = BackupName(now_unix_ms).substr(std::string("temporalite-").size());
  const std::string aside = db.string() + ".replaced-" + stamp;
  bool had_db = fs::exists(db, ec);
  // The -wal and -shm files belong to the old database: they move with it (a new database
  // next to an old WAL would replay foreign pages).
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = db.string() + suffix;
    if (!fs::exists(from, ec)) continue;
    fs::rename(from, aside + suffix, ec);
    if (ec) return Unavailable("cannot move " + from + " aside to " + aside + suffix + ": " + ec.message());
  }
  if (had_db) out.replaced_aside = aside;
  fs::rename(restoring, db, ec);
  if (ec) return Unavailable("cannot move the restored database into place at " + db.string() + ": " + ec.message());
  TL_RETURN_IF_ERROR(Fsync(dir, true));
  return out;
}

}  // namespace temporalite::ops
