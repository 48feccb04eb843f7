// Backups: a gzip-compressed database snapshot plus a JSON manifest, kept in an ObjectStore as
// <name>.db.gz and <name>.manifest.json, where <name> is "temporalite-<UTC time>" (sortable).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ops/object_store.h"
#include "common/status.h"

namespace temporalite::ops {

inline constexpr const char* kManifestSuffix = ".manifest.json";
inline constexpr const char* kDataSuffix = ".db.gz";

struct Manifest {
  int format = 1;
  std::string name;
  std::string created_at;  // RFC 3339 UTC, when the snapshot's read transaction began
  int64_t created_at_unix_ms = 0;
  std::string server_version;
  int schema_version = 0;
  int64_t db_size_bytes = 0;
  std::string db_sha256;  // of the uncompressed database
  int64_t compressed_size_bytes = 0;
  std::string compressed_sha256;  // of <name>.db.gz as stored
  std::string compression = "gzip";
  std::string source;  // server address
  int64_t snapshot_duration_ms = 0;

  std::string ToJson() const;
  static Result<Manifest> FromJson(const std::string& text);
};

// "temporalite-20261206T022300123Z" for a Unix time in ms.
std::string BackupName(int64_t unix_ms);

// RFC 3339 UTC time with milliseconds ("2026-12-06T02:00:00.000Z"), as manifests record it.
std::string Rfc3339(int64_t unix_ms);

// Compresses the database file `db_path` into `gz_path` (gzip, level 6).
Status GzipFile(const std::string& db_path, const std::string& gz_path);
// Decompresses `gz_path` into `out_path`; DATA_LOSS on a damaged stream.
Status GunzipFile(const std::string& gz_path, const std::string& out_path);

// Stores a finished snapshot: compresses `db_path`, fills the sizes and checksums of `m`, uploads
// the data first and the manifest last (a backup without a manifest is incomplete and ignored).
Status StoreBackup(ObjectStore& store, const std::string& db_path, Manifest& m, const std::string& work_dir);

// Manifests of complete backups in `store`, oldest first.
Result<std::vector<Manifest>> ListBackups(ObjectStore& store);

// Deletes all but the newest `keep` backups; returns the names deleted.
Result<std::vector<std::string>> ApplyRetention(ObjectStore& store, int keep);

// A backup reference from the command line: DEST/NAME (NAME may carry either suffix) or DEST
// alone (its newest backup). DEST is a directory or s3://bucket[/prefix].
struct BackupRef {
  std::unique_ptr<ObjectStore> store;
  Manifest manifest;
};
Result<BackupRef> ResolveBackup(const std::string& ref, const S3Settings& s3);

// Downloads and checks a backup: compressed checksum and size, decompression, database checksum
// and size, PRAGMA integrity_check, schema version. On success the database is at `db_out`.
// `progress` gets one line per step.
Status VerifyBackup(ObjectStore& store, const Manifest& m, const std::string& work_dir, const std::string& db_out,
                    const std::function<void(const std::string&)>& progress);

}  // namespace temporalite::ops
