#include "ops/backup_commands.h"

#include <admin/admin.grpc.pb.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "ops/backup.h"
#include "ops/hash.h"
#include "ops/restore.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/output.h"

namespace temporalite::ops {
namespace {

namespace fs = std::filesystem;
using cli::CommandError;
using cli::Context;
using cli::Json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}


[[noreturn]] void Fail(const Status& s) { throw CommandError(s.message()); }
template <class T>
T Must(Result<T> r) {
  if (!r.ok()) Fail(r.status());
  return std::move(r).value();
}
void Must(const Status& s) {
  if (!s.ok()) Fail(s);
}

// A private temporary directory, removed with everything in it.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& base) {
    std::string tmpl = (fs::path(base) / "temporalite-backup-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw CommandError("cannot create a temporary directory in " + base);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

Json ManifestJson(const Manifest& m) { return Json::parse(m.ToJson()); }

struct CreateFlags {
  std::string to;
  int keep = 0;
  int chunk_kib = 1024;
  std::string work_dir;
  S3Flags s3;
};

void RunCreate(Context& ctx, const CreateFlags& f) {
  if (f.keep < 0) throw cli::UsageError("--keep must be at least 1");
  std::unique_ptr<ObjectStore> store = Must(OpenObjectStore(f.to, Settings(f.s3)));
  TempDir tmp(f.work_dir.empty() ? fs::temp_directory_path().string() : f.work_dir);
  const std::string raw = (fs::path(tmp.path) / "snapshot.db").string();

  // Stream the server's snapshot into a local file, checking it arrived intact.
  cli::Connection& conn = ctx.conn();
  auto stub = temporalite::admin::v1::AdminService::NewStub(conn.channel());
  auto call = conn.NewCallContext();
  // A snapshot of a large database takes longer than a unary call: only --command-timeout bounds it.
  call->set_deadline(ctx.deadline() ? *ctx.deadline() : std::chrono::system_clock::now() + std::chrono::hours(6));
  temporalite::admin::v1::CreateSnapshotRequest req;
  req.set_chunk_size(f.chunk_kib * 1024);
  const int64_t started = NowMs();
  auto reader = stub->CreateSnapshot(call.get(), req);
  temporalite::admin::v1::SnapshotChunk chunk;
  std::ofstream out(raw, std::ios::binary | std::ios::trunc);
  Sha256 sum;
  int64_t received = 0;
  temporalite::admin::v1::SnapshotInfo info;
  bool have_info = false;
  while (reader->Read(&chunk)) {
    if (!chunk.data().empty()) {
      out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
      sum.Update(chunk.data());
      received += static_cast<int64_t>(chunk.data().size());
    }
    if (chunk.has_info()) {
      info = chunk.info();
      have_info = true;
    }
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) conn.Fail(st, "CreateSnapshot", "backup failed");
  conn.MarkConnected();
  out.close();
  if (!out) throw CommandError("cannot write " + raw);
  const std::string got = sum.HexDigest();
  if (!have_info || info.size_bytes() != received || info.sha256() != got) {
    throw CommandError("the snapshot arrived damaged (" + std::to_string(received) + " bytes, sha256 " + got +
                       "; the server sent " + std::to_string(info.size_bytes()) + " bytes, sha256 " + info.sha256() + ")");
  }

  Manifest m;
  m.name = BackupName(info.taken_at_unix_ms());
  m.created_at = Rfc3339(info.taken_at_unix_ms());
  m.created_at_unix_ms = info.taken_at_unix_ms();
  m.server_version = info.server_version();
  m.schema_version = info.schema_version();
  m.db_size_bytes = received;
  m.db_sha256 = got;
  m.source = conn.address();
  m.snapshot_duration_ms = info.duration_ms();
  Must(StoreBackup(*store, raw, m, tmp.path));
  std::vector<std::string> deleted;
  if (f.keep > 0) deleted = Must(ApplyRetention(*store, f.keep));

  cli::Printer& p = ctx.out();
  if (p.json()) {
    Json j = ManifestJson(m);
    j["location"] = store->Describe();
    j["deleted"] = deleted;
    p.PrintJson(j);
    return;
  }
  p.Line("Backup " + m.name + " stored in " + store->Describe());
  p.Card({{"Database", std::to_string(m.db_size_bytes) + " bytes, sha256 " + m.db_sha256},
          {"Compressed", std::to_string(m.compressed_size_bytes) + " bytes (gzip)"},
          {"SchemaVersion", std::to_string(m.schema_version)},
          {"Snapshot", std::to_string(m.snapshot_duration_ms) + " ms on the server"},
          {"Total", std::to_string(NowMs() - started) + " ms"}});
  for (const std::string& d : deleted) p.Line("Deleted old backup " + d + " (--keep " + std::to_string(f.keep) + ")");
}

void RunList(Context& ctx, const std::string& dest, const S3Flags& s3) {
  std::unique_ptr<ObjectStore> store = Must(OpenObjectStore(dest, Settings(s3)));
  std::vector<Manifest> all = Must(ListBackups(*store));
  cli::Printer& p = ctx.out();
  if (p.json()) {
    Json arr = Json::array();
    for (const Manifest& m : all) arr.push_back(ManifestJson(m));
    p.PrintJson(arr);
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Manifest& m : all) {
    rows.push_back({m.name, m.created_at, std::to_string(m.db_size_bytes), std::to_string(m.compressed_size_bytes),
                    std::to_string(m.schema_version), m.server_version});
  }
  if (rows.empty()) {
    cli::Message("No backups in " + store->Describe());
    return;
  }
  p.Table({{"Name"}, {"CreatedAt"}, {"DbBytes", 0, true}, {"StoredBytes", 0, true}, {"Schema", 0, true}, {"Server"}}, rows);
}

void RunVerify(Context& ctx, const std::string& ref, const S3Flags& s3) {
  BackupRef b = Must(ResolveBackup(ref, Settings(s3)));
  TempDir tmp(fs::temp_directory_path().string());
  cli::Printer& p = ctx.out();
  std::vector<std::string> steps;
  Status s = VerifyBackup(*b.store, b.manifest, tmp.path, (fs::path(tmp.path) / "verify.db").string(),
                          [&](const std::string& line) {
                            steps.push_back(line);
                            if (p.text()) p.Line("  " + line);
                          });
  if (!s.ok()) throw CommandError("verification of " + b.manifest.name + " in " + b.store->Describe() + " FAILED: " + s.message());
  if (p.json()) {
    Json j = ManifestJson(b.manifest);
    j["verified"] = true;
    j["checks"] = steps;
    p.PrintJson(j);
    return;
  }
  p.Line("Backup " + b.manifest.name + " in " + b.store->Describe() + " is OK");
}

struct RestoreFlags {
  std::string from;
  std::string db_filename;
  S3Flags s3;
};

void RunRestore(Context& ctx, const RestoreFlags& f) {
  BackupRef b = Must(ResolveBackup(f.from, Settings(f.s3)));
  cli::Printer& p = ctx.out();
  if (p.text()) p.Line("Restoring " + b.manifest.name + " from " + b.store->Describe());
  Result<RestoreResult> r = RestoreBackup(b, f.db_filename, NowMs(), [&](const std::string& line) {
    if (p.text()) p.Line("  " + line);
  });
  if (!r.ok()) throw CommandError("restore of " + b.manifest.name + " refused: " + r.status().message());
  if (p.json()) {
    p.PrintJson({{"restored", b.manifest.name}, {"dbFilename", r->db_path}, {"replacedAside", r->replaced_aside}});
    return;
  }
  p.Line("Restored " + b.manifest.name + " to " + r->db_path);
  if (!r->replaced_aside.empty()) p.Line("The previous database was kept as " + r->replaced_aside);
  p.Line("Start the server on it: temporalite server start-dev --db-filename " + r->db_path);
}

}  // namespace

void AddS3Flags(CLI::App* cmd, S3Flags* f) {
  cmd->add_option("--s3-endpoint", f->s.endpoint, "S3 endpoint URL (default AWS_ENDPOINT_URL, else AWS S3 of the region)")
      ->group("S3 Flags");
  cmd->add_option("--s3-region", f->s.region, "S3 region (default AWS_REGION, AWS_DEFAULT_REGION, us-east-1)")
      ->group("S3 Flags");
  cmd->add_option("--s3-path-style", f->s.path_style,
                  "true: endpoint/bucket/key URLs (default with a custom endpoint, e.g. Supabase); false: bucket.host")
      ->group("S3 Flags");
  cmd->add_option("--s3-access-key-id", f->s.access_key_id, "Access key id (default AWS_ACCESS_KEY_ID)")->group("S3 Flags");
  cmd->add_option("--s3-secret-access-key", f->s.secret_access_key, "Secret key (default AWS_SECRET_ACCESS_KEY)")
      ->group("S3 Flags");
  cmd->add_option("--s3-part-size-mib", f->part_size_mib, "Multipart upload above this size, in parts of it (MiB, >= 5)")
      ->capture_default_str()
      ->group("S3 Flags");
}

S3Settings Settings(const S3Flags& f) {
  S3Settings s = f.s;
  s.part_size = static_cast<int64_t>(f.part_size_mib) * 1024 * 1024;
  return s;
}

void RegisterBackupCommands(CLI::App* app, int* exit_code) {
  CLI::App* group = cli::AddGroup(
      app, "backup", "Back up and restore the server's database",
      "Online backups of a running server (a consistent SQLite snapshot, gzip-compressed, with a\n"
      "manifest) to a directory or S3-compatible storage (Supabase Storage, AWS S3, MinIO):\n\n"
      "  temporalite backup create --address 127.0.0.1:7233 --to s3://backups/temporalite --keep 8\n"
      "  temporalite backup list s3://backups/temporalite\n"
      "  temporalite backup verify s3://backups/temporalite          # the newest backup\n"
      "  temporalite backup restore --from ./backups/temporalite-20261206T020000000Z \\\n"
      "      --db-filename .temporal-data/temporalite.db\n\n"
      "S3 credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (AWS_REGION,\n"
      "AWS_ENDPOINT_URL), or the --s3-* flags.\n");

  auto cf = std::make_shared<CreateFlags>();
  CLI::App* create = cli::AddCommand(group, "create", "Back up a running server",
                                     "Takes a consistent online snapshot through the server (workflows keep running),\n"
                                     "compresses it and stores it with its manifest:\n\n"
                                     "  temporalite backup create --address 127.0.0.1:7233 --to ./backups --keep 4\n",
                                     exit_code, [cf](Context& ctx) { RunCreate(ctx, *cf); });
  create->add_option("--to", cf->to, "Destination: a directory or s3://bucket[/prefix]")->required();
  create->add_option("--keep", cf->keep, "Afterwards keep only the newest N backups at the destination");
  create->add_option("--chunk-size-kib", cf->chunk_kib, "Snapshot stream chunk size")->capture_default_str()->check(CLI::Range(1, 4096));
  create->add_option("--work-dir", cf->work_dir, "Where the snapshot is staged (default the system temp directory)");
  AddS3Flags(create, &cf->s3);

  auto lf = std::make_shared<std::pair<std::string, S3Flags>>();
  CLI::App* list = cli::AddCommand(group, "list", "List the backups at a destination",
                                   "  temporalite backup list ./backups\n  temporalite backup list s3://backups/temporalite -o json\n",
                                   exit_code, [lf](Context& ctx) { RunList(ctx, lf->first, lf->second); });
  list->add_option("destination", lf->first, "A directory or s3://bucket[/prefix]")->required();
  AddS3Flags(list, &lf->second);

  auto vf = std::make_shared<std::pair<std::string, S3Flags>>();
  CLI::App* verify = cli::AddCommand(
      group, "verify", "Download and check a backup",
      "Checks the stored file's checksum, decompresses it, checks the database's checksum, runs\n"
      "PRAGMA integrity_check and the schema version. BACKUP is DEST/NAME, or DEST for its newest backup:\n\n"
      "  temporalite backup verify ./backups/temporalite-20261206T020000000Z\n"
      "  temporalite backup verify s3://backups/temporalite\n",
      exit_code, [vf](Context& ctx) { RunVerify(ctx, vf->first, vf->second); });
  verify->add_option("backup", vf->first, "DEST/NAME, or DEST (its newest backup)")->required();
  AddS3Flags(verify, &vf->second);

  auto rf = std::make_shared<RestoreFlags>();
  CLI::App* restore = cli::AddCommand(
      group, "restore", "Restore a backup into a database file",
      "Refuses while a server holds the data directory. Verifies the backup in full before touching\n"
      "anything, keeps the replaced database as <db>.replaced-<time>, then puts the backup in place:\n\n"
      "  temporalite backup restore --from ./backups --db-filename .temporal-data/temporalite.db\n",
      exit_code, [rf](Context& ctx) { RunRestore(ctx, *rf); });
  restore->add_option("--from", rf->from, "DEST/NAME, or DEST (its newest backup)")->required();
  restore->add_option("-f,--db-filename", rf->db_filename, "Database file to restore into")->required();
  AddS3Flags(restore, &rf->s3);
}

}  // namespace temporalite::ops
