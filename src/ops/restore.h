// Restoring a backup into a database path, refusing while a server holds its directory.
#pragma once

#include <functional>
#include <string>

#include "ops/backup.h"

namespace temporalite::ops {

struct RestoreResult {
  std::string db_path;
  std::string replaced_aside;  // where the previous database went ("" if there was none)
};

// Locks the directory of `db_path` (FAILED_PRECONDITION while a server runs on it), downloads
// and verifies the backup next to it, moves an existing database (with its -wal/-shm) aside as
// <db>.replaced-<time>, then renames the verified copy into place (fsync'd).
Result<RestoreResult> RestoreBackup(BackupRef& ref, const std::string& db_path, int64_t now_unix_ms,
                                    const std::function<void(const std::string&)>& progress);

}  // namespace temporalite::ops
