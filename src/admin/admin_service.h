// temporalite.admin.v1.AdminService: online snapshots for `backup create` and facts about the
// database for `doctor`. Works on the database file through its own connections
// (persistence/snapshot.h), never through the engine.
#pragma once

#include <admin/admin.grpc.pb.h>

#include <atomic>
#include <mutex>
#include <string>

#include "common/clock.h"

namespace temporalite::admin {

struct AdminOptions {
  std::string server_version;
  std::string db_path;  // absolute; empty for an ephemeral server (no snapshots)
};

class AdminServiceImpl final : public temporalite::admin::v1::AdminService::Service {
 public:
  AdminServiceImpl(const Clock& clock, AdminOptions options);

  grpc::Status CreateSnapshot(grpc::ServerContext* ctx, const v1::CreateSnapshotRequest* req,
                              grpc::ServerWriter<v1::SnapshotChunk>* writer) override;
  // The server's backup schedule, shown by GetServerInfo (set once before serving).
  void SetBackupSchedule(std::string destination, std::string spec);
  // Result of the latest scheduled backup (or only its next time). Thread-safe.
  void RecordScheduledBackup(int64_t at_unix_ms, bool ok, std::string name, std::string error, int64_t next_unix_ms);

  grpc::Status GetServerInfo(grpc::ServerContext* ctx, const v1::GetServerInfoRequest* req,
                             v1::GetServerInfoResponse* resp) override;

 private:
  const Clock& clock_;
  const AdminOptions options_;
  const int64_t started_at_ms_;
  std::mutex snapshot_mu_;  // one snapshot at a time (each one is a full copy on disk)
  std::atomic<int64_t> last_snapshot_ms_{0};
  std::mutex backup_mu_;
  temporalite::admin::v1::GetServerInfoResponse scheduled_;  // only the scheduled_* / *_scheduled_* fields
};

}  // namespace temporalite::admin
