// The project's versioned PostgreSQL migrations (frozen once released; add a new version for a
// change). Applied in order under an advisory lock, each in its own transaction; a database
// migrated by a newer build is refused.
#pragma once

#include <pqxx/pqxx>

#include "ingest/status.h"

namespace tillless::ingest {

// Highest migration version this build knows.
int LatestMigrationVersion();

// Brings the database to LatestMigrationVersion(). Returns the number of migrations applied.
Result<int> Migrate(pqxx::connection& conn);

}  // namespace tillless::ingest
