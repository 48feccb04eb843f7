#include "admin/admin_service.h"

#include <openssl/evp.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "auth/call_gate.h"
#include "common/log.h"
#include "frontend/grpc_status.h"
#include "persistence/snapshot.h"
#include "persistence/store.h"

namespace temporalite::admin {
namespace {

namespace fs = std::filesystem;

int64_t UnixMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

std::string Hex(const unsigned char* p, unsigned n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

// Removes the snapshot's temporary file on every path out of CreateSnapshot.
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

AdminServiceImpl::AdminServiceImpl(const Clock& clock, AdminOptions options)
    : clock_(clock), options_(std::move(options)), started_at_ms_(UnixMs(clock.Now())) {}

grpc::Status AdminServiceImpl::CreateSnapshot(grpc::ServerContext* ctx, const v1::CreateSnapshotRequest* req,
                                              grpc::ServerWriter<v1::SnapshotChunk>* writer) {
  if (auto denial = auth::CallDenial(ctx)) return *denial;  // auth/call_gate.h
  if (options_.db_path.empty()) {
    return frontend::ToGrpc(FailedPrecondition("this server is ephemeral (in memory): there is no database to back up"));
  }
  if (req->chunk_size() < 0 || req->chunk_size() > 4 * 1024 * 1024) {
    return frontend::ToGrpc(InvalidArgument("chunk_size must be between 0 (default 1 MiB) and 4194304"));
  }
  const size_t chunk = req->chunk_size() > 0 ? static_cast<size_t>(req->chunk_size()) : 1024 * 1024;
  std::lock_guard<std::mutex> one_at_a_time(snapshot_mu_);
  // Next to the database: same file system, sized for a copy of it.
  const TimePoint start = clock_.Now();
  RemoveOnExit tmp{(fs::path(options_.db_path).parent_path() /
                    ("snapshot-" + std::to_string(UnixMs(start)) + ".tmp")).string()};
  std::error_code ec;
  fs::remove(tmp.path, ec);
  Status s = persistence::SnapshotDatabase(options_.db_path, tmp.path);
  if (!s.ok()) return frontend::ToGrpc(s);
  const int64_t duration_ms = UnixMs(clock_.Now()) - UnixMs(start);
  Result<int> schema = persistence::ReadSchemaVersion(tmp.path);
  if (!schema.ok()) return frontend::ToGrpc(schema.status());
  TL_LOG_INFO("snapshot of %s taken in %lld ms (%lld bytes)", options_.db_path.c_str(),
              static_cast<long long>(duration_ms), static_cast<long long>(FileSize(tmp.path)));

  std::ifstream in(tmp.path, std::ios::binary);
  if (!in) return frontend::ToGrpc(Unavailable("cannot read snapshot " + tmp.path));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  std::string buf(chunk, '\0');
  int64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "snapshot cancelled by the client");
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
    total += n;
    v1::SnapshotChunk c;
    c.set_data(buf.data(), static_cast<size_t>(n));
    if (!writer->Write(c)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away during the snapshot");
  }
  if (in.bad()) return frontend::ToGrpc(Unavailable("error reading snapshot " + tmp.path));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned digest_len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &digest_len);
  v1::SnapshotChunk last;
  v1::SnapshotInfo* info = last.mutable_info();
  info->set_server_version(options_.server_version);
  info->set_schema_version(*schema);
  info->set_size_bytes(total);
  info->set_sha256(Hex(digest, digest_len));
  info->set_taken_at_unix_ms(UnixMs(start));
  info->set_duration_ms(duration_ms);
  if (!writer->Write(last)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away during the snapshot");
  last_snapshot_ms_.store(UnixMs(start));
  return grpc::Status::OK;
}

void AdminServiceImpl::SetBackupSchedule(std::string destination, std::string spec) {
  std::lock_guard<std::mutex> l(backup_mu_);
  scheduled_.set_scheduled_backup_destination(std::move(destination));
  scheduled_.set_scheduled_backup_spec(std::move(spec));
}

void AdminServiceImpl::RecordScheduledBackup(int64_t at_unix_ms, bool ok, std::string name, std::string error,
                                             int64_t next_unix_ms) {
  std::lock_guard<std::mutex> l(backup_mu_);
  if (at_unix_ms > 0) {
    scheduled_.set_last_scheduled_backup_unix_ms(at_unix_ms);
    scheduled_.set_last_scheduled_backup_ok(ok);
    scheduled_.set_last_scheduled_backup_name(std::move(name));
    scheduled_.set_last_scheduled_backup_error(std::move(error));
  }
  scheduled_.set_next_scheduled_backup_unix_ms(next_unix_ms);
}

grpc::Status AdminServiceImpl::GetServerInfo(grpc::ServerContext* ctx, const v1::GetServerInfoRequest* req,
                                             v1::GetServerInfoResponse* resp) {
  if (auto denial = auth::CallDenial(ctx)) return *denial;  // auth/call_gate.h
  {
    std::lock_guard<std::mutex> l(backup_mu_);
    resp->MergeFrom(scheduled_);
  }
  resp->set_server_version(options_.server_version);
  resp->set_supported_schema_version(persistence::LatestSchemaVersion());
  resp->set_started_at_unix_ms(started_at_ms_);
  resp->set_last_snapshot_unix_ms(last_snapshot_ms_.load());
  if (options_.db_path.empty()) {
    resp->set_schema_version(persistence::LatestSchemaVersion());
    return grpc::Status::OK;
  }
  resp->set_db_path(options_.db_path);
  resp->set_db_size_bytes(FileSize(options_.db_path));
  resp->set_wal_size_bytes(FileSize(options_.db_path + "-wal"));
  struct statvfs sv;
  if (statvfs(fs::path(options_.db_path).parent_path().c_str(), &sv) == 0) {
    resp->set_free_disk_bytes(static_cast<int64_t>(sv.f_bavail) * static_cast<int64_t>(sv.f_frsize));
  }
  Result<int> schema = persistence::ReadSchemaVersion(options_.db_path);
  if (!schema.ok()) return frontend::ToGrpc(schema.status());
  resp->set_schema_version(*schema);
  if (req->quick_check()) {
    Result<std::string> check = persistence::CheckDatabase(options_.db_path, /*quick=*/true);
    if (!check.ok()) return frontend::ToGrpc(check.status());
    resp->set_quick_check(*check);
  }
  return grpc::Status::OK;
}

}  // namespace temporalite::admin
