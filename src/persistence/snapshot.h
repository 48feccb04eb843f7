// Whole-database operations for backups and health checks, on connections of their own (never
// the store's writer or readers), so they can run while the server serves.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace temporalite::persistence {

// Writes a consistent copy of the database at `db_path` to `dest_path` (which must not exist)
// with VACUUM INTO on a fresh read-only connection. The copy is one read transaction: in WAL
// mode the store's writer keeps committing meanwhile (only WAL checkpoints wait for it).
Status SnapshotDatabase(const std::string& db_path, const std::string& dest_path);

// PRAGMA user_version of the database at `path` (opened read-only).
Result<int> ReadSchemaVersion(const std::string& path);

// Runs PRAGMA integrity_check (or quick_check) on the database at `path`, opened read-only.
// Returns "ok" or the problems SQLite reported (at most 10 lines, joined by "; "). A file that is
// not a database at all also yields its problem as text, not an error Status.
Result<std::string> CheckDatabase(const std::string& path, bool quick);

}  // namespace temporalite::persistence
