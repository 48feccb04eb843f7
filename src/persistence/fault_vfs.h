// Storage fault injection for tests (issue 15, item 2): a SQLite VFS that wraps the default one
// and, when armed, makes the next write or sync of the database or its WAL fail the way a disk
// does. Off unless the environment variable TEMPORALITE_FAULT_INJECTION names a control file;
// production never sets it (the server logs a warning when it is set).
//
// Arming: write one of these words into the control file; the fault fires once (the file is
// removed when it does), on the first matching call after the file appears:
//   read-fail    the next read returns SQLITE_IOERR_READ (a failing disk; no write is involved)
//   write-fail   the next write returns SQLITE_IOERR_WRITE without writing (nothing reaches disk)
//   disk-full    the next write returns SQLITE_FULL without writing (as when the disk is full)
//   fsync-fail   the next sync returns SQLITE_IOERR_FSYNC without syncing
//   sync-lost    the next sync is performed and then reported failed (SQLITE_IOERR_FSYNC): the
//                transaction is on disk but the store is told it failed ("committed but
//                reported failed")
// The server must never acknowledge a write whose commit failed, must keep what it acknowledged,
// and stops with a clear message (the store's fatal error, exit status 70); a restart recovers.
#pragma once

#include "common/status.h"

namespace temporalite::persistence {

// Registers the fault-injecting VFS as SQLite's default when TEMPORALITE_FAULT_INJECTION is set
// (before any database is opened). Returns true when installed.
bool InstallFaultInjectionFromEnv();

}  // namespace temporalite::persistence
