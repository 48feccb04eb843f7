#include "ops/backup.h"

#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ops/hash.h"
#include "persistence/snapshot.h"
#include "persistence/store.h"

namespace temporalite::ops {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(n);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string Manifest::ToJson() const {
  Json j = {{"format", format},
            {"name", name},
            {"createdAt", created_at},
            {"createdAtUnixMs", created_at_unix_ms},
            {"serverVersion", server_version},
            {"schemaVersion", schema_version},
            {"dbSizeBytes", db_size_bytes},
            {"dbSha256", db_sha256},
            {"compressedSizeBytes", compressed_size_bytes},
            {"compressedSha256", compressed_sha256},
            {"compression", compression},
            {"source", source},
            {"snapshotDurationMs", snapshot_duration_ms}};
  return j.dump(2) + "\n";
}

Result<Manifest> Manifest::FromJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status(Code::kDataLoss, "backup manifest is not valid JSON");
  Manifest m;
  try {
    m.format = j.at("format").get<int>();
    m.name = j.at("name").get<std::string>();
    m.created_at = j.at("createdAt").get<std::string>();
    m.created_at_unix_ms = j.at("createdAtUnixMs").get<int64_t>();
    m.server_version = j.value("serverVersion", "");
    m.schema_version = j.at("schemaVersion").get<int>();
    m.db_size_bytes = j.at("dbSizeBytes").get<int64_t>();
    m.db_sha256 = j.at("dbSha256").get<std::string>();
    m.compressed_size_bytes = j.at("compressedSizeBytes").get<int64_t>();
    m.compressed_sha256 = j.at("compressedSha256").get<std::string>();
    m.compression = j.value("compression", "gzip");
    m.source = j.value("source", "");
    m.snapshot_duration_ms = j.value("snapshotDurationMs", int64_t{0});
  } catch (const Json::exception& e) {
    return Status(Code::kDataLoss, std::string("backup manifest is missing a field: ") + e.what());
  }
  if (m.format != 1) return FailedPrecondition("backup manifest format " + std::to_string(m.format) + " is not supported");
  if (m.compression != "gzip") return FailedPrecondition("backup compression " + m.compression + " is not supported");
  return m;
}

namespace {

// `unix_ms` in UTC: the seconds as strftime's `date_format`, then the milliseconds as printf's
// `ms_format`.
std::string FormatUtcMillis(int64_t unix_ms, const char* date_format, const char* ms_format) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, date_format, &tm);
  char ms[8];
  std::snprintf(ms, sizeof ms, ms_format, static_cast<int>(unix_ms % 1000));
  return std::string(buf) + ms;
}

}  // namespace

std::string Rfc3339(int64_t unix_ms) { return FormatUtcMillis(unix_ms, "%Y-%m-%dT%H:%M:%S", ".%03dZ"); }

std::string BackupName(int64_t unix_ms) {
  return "temporalite-" + FormatUtcMillis(unix_ms, "%Y%m%dT%H%M%S", "%03d") + "Z";
}

Status GzipFile(const std::string& db_path, const std::string& gz_path) {
  std::ifstream in(db_path, std::ios::binary);
  if (!in) return Unavailable("cannot read " + db_path);
  gzFile out = gzopen(gz_path.c_str(), "wb6");
  if (!out) return Unavailable("cannot create " + gz_path);
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n > 0 && gzwrite(out, buf.data(), static_cast<unsigned>(n)) != n) {
      gzclose(out);
      return Unavailable("cannot write " + gz_path);
    }
  }
  if (gzclose(out) != Z_OK) return Unavailable("cannot finish " + gz_path);
  return Status::Ok();
}

Status GunzipFile(const std::string& gz_path, const std::string& out_path) {
  gzFile in = gzopen(gz_path.c_str(), "rb");
  if (!in) return Unavailable("cannot read " + gz_path);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) {
    gzclose(in);
    return Unavailable("cannot create " + out_path);
  }
  std::string buf(1 << 20, '\0');
  for (;;) {
    int n = gzread(in, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(in, &err);
      gzclose(in);
      return Status(Code::kDataLoss, "backup data is damaged (" + msg + ")");
    }
    if (n == 0) break;
    out.write(buf.data(), n);
  }
  // gzclose_r reports a bad trailer (CRC / length) as Z_BUF_ERROR / Z_DATA_ERROR.
  int rc = gzclose(in);
  if (rc != Z_OK) return Status(Code::kDataLoss, "backup data is damaged (gzip check failed)");
  out.close();
  if (!out) return Unavailable("cannot write " + out_path);
  return Status::Ok();
}

Status StoreBackup(ObjectStore& store, const std::string& db_path, Manifest& m, const std::string& work_dir) {
  const std::string gz = (fs::path(work_dir) / (m.name + kDataSuffix)).string();
  TL_RETURN_IF_ERROR(GzipFile(db_path, gz));
  m.compressed_size_bytes = FileSize(gz);
  m.compressed_sha256 = Sha256File(gz);
  TL_RETURN_IF_ERROR(store.Put(m.name + kDataSuffix, gz));
  const std::string mf = (fs::path(work_dir) / (m.name + kManifestSuffix)).string();
  {
    std::ofstream out(mf, std::ios::binary | std::ios::trunc);
    out << m.ToJson();
    if (!out) return Unavailable("cannot write " + mf);
  }
  return store.Put(m.name + kManifestSuffix, mf);
}

Result<std::vector<Manifest>> ListBackups(ObjectStore& store) {
  Result<std::vector<ObjectInfo>> objects = store.List();
  if (!objects.ok()) return objects.status();
  std::vector<Manifest> out;
  fs::path tmp = fs::temp_directory_path() / ("temporalite-list-" + std::to_string(::getpid()));
  for (const ObjectInfo& o : *objects) {
    if (!EndsWith(o.key, kManifestSuffix)) continue;
    Status s = store.Get(o.key, tmp.string());
    if (!s.ok()) return s;
    std::ifstream in(tmp, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<Manifest> m = Manifest::FromJson(text);
    if (m.ok()) out.push_back(*m);
  }
  std::error_code ec;
  fs::remove(tmp, ec);
  std::sort(out.begin(), out.end(), [](const Manifest& a, const Manifest& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<std::string>> ApplyRetention(ObjectStore& store, int keep) {
  if (keep < 1) return InvalidArgument("--keep must be at least 1");
  Result<std::vector<Manifest>> all = ListBackups(store);
  if (!all.ok()) return all.status();
  std::vector<std::string> deleted;
  for (size_t i = 0; i + static_cast<size_t>(keep) < all->size(); ++i) {
    const std::string& name = (*all)[i].name;
    // Manifest first: a half-deleted backup is then simply incomplete, never listed.
    TL_RETURN_IF_ERROR(store.Delete(name + kManifestSuffix));
    TL_RETURN_IF_ERROR(store.Delete(name + kDataSuffix));
    deleted.push_back(name);
  }
  return deleted;
}

Result<BackupRef> ResolveBackup(const std::string& ref, const S3Settings& s3) {
  std::string r = ref;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  std::string dest = r, name;
  size_t slash = r.rfind('/');
  std::string last = slash == std::string::npos ? r : r.substr(slash + 1);
  for (const char* suffix : {kManifestSuffix, kDataSuffix}) {
    if (EndsWith(last, suffix)) last = last.substr(0, last.size() - std::strlen(suffix));
  }
  if (last.rfind("temporalite-", 0) == 0) {
    name = last;
    dest = slash == std::string::npos ? "." : r.substr(0, slash);
    if (dest == "s3:/") dest = r;  // "s3://temporalite-..." is a bucket, not a backup
    if (dest == r) name.clear();
  }
  Result<std::unique_ptr<ObjectStore>> store = OpenObjectStore(dest, s3);
  if (!store.ok()) return store.status();
  Result<std::vector<Manifest>> all = ListBackups(**store);
  if (!all.ok()) return all.status();
  BackupRef out;
  out.store = std::move(store).value();
  if (name.empty()) {
    if (all->empty()) return NotFound("no backups in " + out.store->Describe());
    out.manifest = all->back();
    return out;
  }
  for (const Manifest& m : *all) {
    if (m.name == name) {
      out.manifest = m;
      return out;
    }
  }
  return NotFound("backup " + name + " not found in " + out.store->Describe() + " (no " + name + kManifestSuffix + ")");
}

Status VerifyBackup(ObjectStore& store, const Manifest& m, const std::string& work_dir, const std::string& db_out,
                    const std::function<void(const std::string&)>& progress) {
  const std::string gz = (fs::path(work_dir) / (m.name + kDataSuffix + ".download")).string();
  struct Remove {
    std::string p;
    ~Remove() {
      std::error_code ec;
      fs::remove(p, ec);
    }
  } remove_gz{gz};
  TL_RETURN_IF_ERROR(store.Get(m.name + kDataSuffix, gz));
  const int64_t gz_size = FileSize(gz);
  const std::string gz_sum = Sha256File(gz);
  if (gz_size != m.compressed_size_bytes || gz_sum != m.compressed_sha256) {
    return Status(Code::kDataLoss, "backup " + m.name + " is damaged: " + m.name + kDataSuffix + " has sha256 " + gz_sum +
                                       " and " + std::to_string(gz_size) + " bytes, the manifest says " +
                                       m.compressed_sha256 + " and " + std::to_string(m.compressed_size_bytes));
  }
  progress("checksum OK (" + std::to_string(gz_size) + " bytes compressed, sha256 " + gz_sum + ")");
  TL_RETURN_IF_ERROR(GunzipFile(gz, db_out));
  const int64_t db_size = FileSize(db_out);
  const std::string db_sum = Sha256File(db_out);
  if (db_size != m.db_size_bytes || db_sum != m.db_sha256) {
    return Status(Code::kDataLoss, "backup " + m.name + " is damaged: the database has sha256 " + db_sum + ", the manifest says " +
                                       m.db_sha256);
  }
  progress("database checksum OK (" + std::to_string(db_size) + " bytes)");
  Result<std::string> check = persistence::CheckDatabase(db_out, /*quick=*/false);
  if (!check.ok()) return check.status();
  if (*check != "ok") return Status(Code::kDataLoss, "backup " + m.name + " fails PRAGMA integrity_check: " + *check);
  progress("integrity_check OK");
  Result<int> version = persistence::ReadSchemaVersion(db_out);
  if (!version.ok()) return version.status();
  if (*version != m.schema_version) {
    return Status(Code::kDataLoss, "backup " + m.name + " has schema version " + std::to_string(*version) +
                                       ", the manifest says " + std::to_string(m.schema_version));
  }
  if (*version > persistence::LatestSchemaVersion()) {
    return FailedPrecondition("backup " + m.name + " has schema version " + std::to_string(*version) +
                              " but this temporalite supports up to " + std::to_string(persistence::LatestSchemaVersion()) +
                              "; upgrade temporalite");
  }
  progress("schema version " + std::to_string(*version) + " OK");
  return Status::Ok();
}

}  // namespace temporalite::ops
