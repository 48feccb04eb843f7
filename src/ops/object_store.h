// Where backups are kept: a local directory or an S3-compatible bucket (s3://bucket/prefix).
// Keys are file names relative to the destination (no '/').
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace temporalite::ops {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Stores the local file `path` as `key` (replacing it), durably before returning OK.
  virtual Status Put(const std::string& key, const std::string& path) = 0;
  // Copies `key` into the local file `path`. NOT_FOUND if it does not exist.
  virtual Status Get(const std::string& key, const std::string& path) = 0;
  // Every key (sorted ascending).
  virtual Result<std::vector<ObjectInfo>> List() = 0;
  virtual Status Delete(const std::string& key) = 0;
  // "s3://bucket/prefix" or the directory, for messages.
  virtual std::string Describe() const = 0;
};

// S3 connection settings; empty fields come from AWS_* environment variables.
struct S3Settings {
  std::string endpoint;  // AWS_ENDPOINT_URL (e.g. http://127.0.0.1:4568 or https://<ref>.supabase.co/storage/v1/s3)
  std::string region;    // AWS_REGION / AWS_DEFAULT_REGION, default us-east-1
  std::string access_key_id;      // AWS_ACCESS_KEY_ID
  std::string secret_access_key;  // AWS_SECRET_ACCESS_KEY
  std::string session_token;      // AWS_SESSION_TOKEN
  // Path-style URLs (endpoint/bucket/key). Default: on with a custom endpoint, off for AWS.
  std::string path_style;  // "", "true" or "false"
  int64_t part_size = 8 * 1024 * 1024;  // multipart above this size, parts of this size (>= 5 MiB)
  int max_attempts = 5;
};

// A local directory (created on first Put) or, for "s3://bucket[/prefix]", an S3 bucket.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& dest, const S3Settings& s3);

Result<std::unique_ptr<ObjectStore>> OpenLocalStore(const std::string& dir);
Result<std::unique_ptr<ObjectStore>> OpenS3Store(const std::string& bucket, const std::string& prefix,
                                                 S3Settings settings);

}  // namespace temporalite::ops
