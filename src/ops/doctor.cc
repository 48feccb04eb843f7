// temporalite doctor: one line per check, OK / WARN / FAIL, exit code by the worst (0 / 1 / 2).
#include <admin/admin.grpc.pb.h>
#include <temporal/api/workflowservice/v1/request_response.pb.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "ops/backup.h"
#include "ops/backup_commands.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/format.h"
#include "cli/output.h"
#include "persistence/snapshot.h"
#include "persistence/store.h"

namespace temporalite::ops {
namespace {

namespace fs = std::filesystem;
namespace wsv1 = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;
using cli::Connection;
using cli::Context;
using cli::Json;

enum class Level { kOk = 0, kWarn = 1, kFail = 2 };
const char* LevelName(Level l) { return l == Level::kOk ? "OK" : l == Level::kWarn ? "WARN" : "FAIL"; }

struct Check {
  std::string name;
  Level level;
  std::string detail;
};

struct DoctorFlags {
  std::string db_filename;
  std::string backups;
  std::string max_backup_age = "8d";
  int64_t min_free_disk_mib = 1024;
  int64_t max_wal_mib = 1024;
  double long_running_factor = 3;
  std::string long_running_min = "10m";
  S3Flags* s3 = nullptr;
};

std::string Mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::chrono::nanoseconds ParseDurationOrThrow(const std::string& flag, const std::string& v) {
  // 90s, 10m, 2h, 8d
  if (v.size() < 2) throw cli::UsageError("invalid " + flag + " \"" + v + "\": want e.g. 90s, 10m, 2h, 8d");
  char unit = v.back();
  double n = std::atof(v.substr(0, v.size() - 1).c_str());
  double secs = unit == 's' ? n : unit == 'm' ? n * 60 : unit == 'h' ? n * 3600 : unit == 'd' ? n * 86400 : -1;
  if (secs <= 0) throw cli::UsageError("invalid " + flag + " \"" + v + "\": want e.g. 90s, 10m, 2h, 8d");
  return std::chrono::nanoseconds(static_cast<int64_t>(secs * 1e9));
}

std::chrono::nanoseconds PbDuration(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return std::chrono::seconds(b.seconds() - a.seconds()) + std::chrono::nanoseconds(b.nanos() - a.nanos());
}

std::chrono::nanoseconds Since(const google::protobuf::Timestamp& t) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now) - std::chrono::seconds(t.seconds()) -
         std::chrono::nanoseconds(t.nanos());
}

std::vector<temporal::api::workflow::v1::WorkflowExecutionInfo> ListAll(Context& ctx, const std::string& query, int max) {
  Connection& c = ctx.conn();
  std::vector<temporal::api::workflow::v1::WorkflowExecutionInfo> out;
  std::string token;
  do {
    wsv1::ListWorkflowExecutionsRequest req;
    req.set_namespace_(ctx.ns());
    req.set_query(query);
    req.set_page_size(std::min(max - static_cast<int>(out.size()), 1000));
    req.set_next_page_token(token);
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListWorkflowExecutions, "ListWorkflowExecutions", req,
                       "failed listing workflows");
    for (const auto& e : resp.executions()) out.push_back(e);
    token = resp.next_page_token();
  } while (!token.empty() && static_cast<int>(out.size()) < max);
  return out;
}

void CheckDatabaseFacts(const temporalite::admin::v1::GetServerInfoResponse& info, const DoctorFlags& f,
                        std::vector<Check>& out) {
  const int supported = persistence::LatestSchemaVersion();
  if (info.schema_version() == supported) {
    out.push_back({"schema version", Level::kOk, std::to_string(info.schema_version())});
  } else if (info.schema_version() > supported) {
    out.push_back({"schema version", Level::kFail,
                   std::to_string(info.schema_version()) + ", newer than this temporalite (" + std::to_string(supported) + ")"});
  } else {
    out.push_back({"schema version", Level::kWarn,
                   std::to_string(info.schema_version()) + " (this temporalite writes " + std::to_string(supported) +
                       "; the server migrates at start)"});
  }
  if (!info.quick_check().empty()) {
    if (info.quick_check() == "ok") {
      out.push_back({"integrity (quick_check)", Level::kOk, "ok"});
    } else {
      out.push_back({"integrity (quick_check)", Level::kFail,
                     info.quick_check() + " -- stop the server and restore: temporalite backup restore --from <backup> "
                                          "--db-filename " + info.db_path()});
    }
  }
  if (!info.db_path().empty()) {
    Level wal = info.wal_size_bytes() > f.max_wal_mib * 1024 * 1024 ? Level::kWarn : Level::kOk;
    out.push_back({"database size", wal, "database " + Mib(info.db_size_bytes()) + ", WAL " + Mib(info.wal_size_bytes()) +
                                             (wal == Level::kOk ? "" : " (WAL above --max-wal-mib: a long reader blocks checkpoints?)")});
    const int64_t free = info.free_disk_bytes();
    const int64_t need = info.db_size_bytes() + info.wal_size_bytes();
    Level disk = free < need || free < f.min_free_disk_mib * 1024 * 1024 ? Level::kFail
                 : free < 2 * need                                        ? Level::kWarn
                                                                           : Level::kOk;
    out.push_back({"free disk", disk,
                   Mib(free) + " free next to the database" +
                       (disk == Level::kOk ? "" : " (want at least the database size for snapshots and --min-free-disk-mib " +
                                                      std::to_string(f.min_free_disk_mib) + ")")});
  }
}

void CheckBackups(const temporalite::admin::v1::GetServerInfoResponse* info, const DoctorFlags& f, std::vector<Check>& out) {
  auto max_age = ParseDurationOrThrow("--max-backup-age", f.max_backup_age);
  std::string dest = f.backups;
  if (info && !info->scheduled_backup_destination().empty()) {
    // The server's own schedule: its last result, and (without --backups) its destination.
    if (info->last_scheduled_backup_unix_ms() > 0 && !info->last_scheduled_backup_ok()) {
      out.push_back({"scheduled backup", Level::kFail,
                     "the last backup to " + info->scheduled_backup_destination() + " failed: " +
                         info->last_scheduled_backup_error()});
    } else {
      out.push_back({"scheduled backup", Level::kOk,
                     "\"" + info->scheduled_backup_spec() + "\" to " + info->scheduled_backup_destination() +
                         (info->last_scheduled_backup_unix_ms() > 0 ? ", last " + info->last_scheduled_backup_name() : ", none yet since the server started")});
    }
    if (dest.empty()) dest = info->scheduled_backup_destination();
  }
  if (dest.empty()) {
    if (info && info->last_snapshot_unix_ms() > 0) {
      out.push_back({"last backup", Level::kOk, "a snapshot was taken since the server started (pass --backups DEST to check the stored ones)"});
    } else {
      out.push_back({"last backup", Level::kWarn, "unknown: pass --backups DEST (a directory or s3://bucket/prefix)"});
    }
    return;
  }
  Result<std::unique_ptr<ObjectStore>> store = OpenObjectStore(dest, Settings(*f.s3));
  Result<std::vector<Manifest>> all = store.ok() ? ListBackups(**store) : Result<std::vector<Manifest>>(store.status());
  if (!all.ok()) {
    out.push_back({"last backup", Level::kFail, "cannot list " + dest + ": " + all.status().message()});
    return;
  }
  if (all->empty()) {
    out.push_back({"last backup", Level::kFail, "no backups in " + dest});
    return;
  }
  const Manifest& m = all->back();
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto age = std::chrono::milliseconds(now_ms - m.created_at_unix_ms);
  bool old = age > max_age;
  out.push_back({"last backup", old ? Level::kFail : Level::kOk,
                 m.name + ", " + cli::FormatDuration(age) + " old" +
                     (old ? " (older than --max-backup-age " + f.max_backup_age + ")" : "")});
}

void CheckWorkflows(Context& ctx, const DoctorFlags& f, std::vector<Check>& out) {
  auto min_long = ParseDurationOrThrow("--long-running-min", f.long_running_min);
  auto running = ListAll(ctx, "ExecutionStatus='Running'", 5000);
  std::map<std::string, std::chrono::nanoseconds> typical;  // median of recent completed runs, by type
  std::vector<std::string> slow;
  std::set<std::string> queues;
  for (const auto& e : running) {
    queues.insert(e.task_queue());
    const std::string& type = e.type().name();
    if (!typical.count(type)) {
      std::string q = "WorkflowType='" + type + "' AND ExecutionStatus='Completed'";
      auto done = ListAll(ctx, q, 20);
      std::vector<std::chrono::nanoseconds> ds;
      for (const auto& d : done) ds.push_back(PbDuration(d.start_time(), d.close_time()));
      std::sort(ds.begin(), ds.end());
      typical[type] = ds.empty() ? std::chrono::nanoseconds::max() : ds[ds.size() / 2];
    }
    auto age = Since(e.start_time());
    auto limit = typical[type] == std::chrono::nanoseconds::max()
                     ? std::chrono::nanoseconds::max()
                     : std::max(min_long, std::chrono::nanoseconds(static_cast<int64_t>(typical[type].count() * f.long_running_factor)));
    if (age > limit) {
      slow.push_back(e.execution().workflow_id() + " (" + type + ") running " + cli::FormatDuration(age) + ", usually " +
                     cli::FormatDuration(typical[type]));
    }
  }
  if (slow.empty()) {
    out.push_back({"long-running workflows", Level::kOk, std::to_string(running.size()) + " running, none far beyond their type's usual duration"});
  } else {
    std::string d = std::to_string(slow.size()) + " running longer than " + std::to_string(f.long_running_factor).substr(0, 3) +
                    "x their type's median: ";
    for (size_t i = 0; i < slow.size() && i < 5; ++i) d += (i ? "; " : "") + slow[i];
    out.push_back({"long-running workflows", Level::kFail, d});
  }

  // Task queues of running workflows: a backlog that nobody polls is stuck.
  Connection& c = ctx.conn();
  std::vector<std::string> stuck;
  for (const std::string& tq : queues) {
    for (auto type : {enums::TASK_QUEUE_TYPE_WORKFLOW, enums::TASK_QUEUE_TYPE_ACTIVITY}) {
      wsv1::DescribeTaskQueueRequest req;
      req.set_namespace_(ctx.ns());
      req.mutable_task_queue()->set_name(tq);
      req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
      req.set_task_queue_type(type);
      req.set_report_stats(true);
      auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeTaskQueue, "DescribeTaskQueue", req,
                         "unable to describe task queue");
      if (resp.stats().approximate_backlog_count() > 0 && resp.pollers_size() == 0) {
        stuck.push_back(tq + " (" + (type == enums::TASK_QUEUE_TYPE_WORKFLOW ? "workflow" : "activity") + ", " +
                        std::to_string(resp.stats().approximate_backlog_count()) + " tasks waiting)");
      }
    }
  }
  if (stuck.empty()) {
    out.push_back({"task queues", Level::kOk, std::to_string(queues.size()) + " in use, none with a backlog and no pollers"});
  } else {
    std::string d = "backlog and no pollers in the last 5 minutes: ";
    for (size_t i = 0; i < stuck.size(); ++i) d += (i ? "; " : "") + stuck[i];
    out.push_back({"task queues", Level::kFail, d + " (are the workers running?)"});
  }

  // Schedules that skipped actions: missed catch-up windows (server down too long) or dropped buffered starts.
  std::vector<std::string> missed;
  int schedules = 0;
  std::string token;
  do {
    wsv1::ListSchedulesRequest req;
    req.set_namespace_(ctx.ns());
    req.set_maximum_page_size(1000);
    req.set_next_page_token(token);
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListSchedules, "ListSchedules", req, "failed listing schedules");
    for (const auto& s : resp.schedules()) {
      ++schedules;
      wsv1::DescribeScheduleRequest d;
      d.set_namespace_(ctx.ns());
      d.set_schedule_id(s.schedule_id());
      auto desc = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeSchedule, "DescribeSchedule", d,
                         "failed describing schedule");
      const auto& info = desc.info();
      // Actions that never ran: outside the catch-up window (server down too long), dropped from
      // a full buffer, or skipped because the previous run was still running.
      if (info.missed_catchup_window() > 0 || info.buffer_dropped() > 0 || info.overlap_skipped() > 0) {
        missed.push_back(s.schedule_id() + " (" + std::to_string(info.missed_catchup_window()) + " missed catch-up window, " +
                         std::to_string(info.buffer_dropped()) + " dropped, " + std::to_string(info.overlap_skipped()) +
                         " skipped while the previous run was still running)");
      }
    }
    token = resp.next_page_token();
  } while (!token.empty());
  if (missed.empty()) {
    out.push_back({"schedules", Level::kOk, std::to_string(schedules) + " schedules, none missed a run"});
  } else {
    std::string d;
    for (size_t i = 0; i < missed.size(); ++i) d += (i ? "; " : "") + missed[i];
    out.push_back({"schedules", Level::kFail, "missed runs: " + d});
  }
}

// Without a server: what can be learned from the database file alone.
void CheckOfflineDatabase(const DoctorFlags& f, std::vector<Check>& out) {
  temporalite::admin::v1::GetServerInfoResponse info;
  const std::string path = fs::absolute(f.db_filename).string();
  info.set_db_path(path);
  Result<int> v = persistence::ReadSchemaVersion(path);
  if (!v.ok()) {
    out.push_back({"database file", Level::kFail, v.status().message() +
                                                       " -- restore: temporalite backup restore --from <backup> --db-filename " + path});
    return;
  }
  info.set_schema_version(*v);
  Result<std::string> check = persistence::CheckDatabase(path, /*quick=*/true);
  info.set_quick_check(check.ok() ? *check : check.status().message());
  std::error_code ec;
  info.set_db_size_bytes(static_cast<int64_t>(fs::file_size(path, ec)));
  auto wal = fs::file_size(path + "-wal", ec);
  info.set_wal_size_bytes(ec ? 0 : static_cast<int64_t>(wal));
  auto space = fs::space(fs::path(path).parent_path(), ec);
  info.set_free_disk_bytes(ec ? 0 : static_cast<int64_t>(space.available));
  CheckDatabaseFacts(info, f, out);
}

int RunDoctor(Context& ctx, const DoctorFlags& f) {
  std::vector<Check> checks;
  Connection& c = ctx.conn();
  auto stub = temporalite::admin::v1::AdminService::NewStub(c.channel());
  temporalite::admin::v1::GetServerInfoRequest req;
  req.set_quick_check(true);
  temporalite::admin::v1::GetServerInfoResponse info;
  auto call = c.NewCallContext();
  call->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  grpc::Status st = stub->GetServerInfo(call.get(), req, &info);
  bool reachable = st.ok();
  if (reachable) {
    c.MarkConnected();
    checks.push_back({"server", Level::kOk, c.address() + " reachable, temporalite " + info.server_version()});
    CheckDatabaseFacts(info, f, checks);
  } else {
    std::string why;
    try {
      c.Fail(st, "GetServerInfo", "");
    } catch (const cli::CommandError& e) {
      why = e.what();
    }
    checks.push_back({"server", Level::kFail, why});
    if (!f.db_filename.empty()) CheckOfflineDatabase(f, checks);
  }
  CheckBackups(reachable ? &info : nullptr, f, checks);
  if (reachable) {
    try {
      CheckWorkflows(ctx, f, checks);
    } catch (const cli::CommandError& e) {
      checks.push_back({"workflows", Level::kFail, e.what()});
    }
  }

  Level worst = Level::kOk;
  for (const Check& ch : checks) worst = std::max(worst, ch.level);
  cli::Printer& p = ctx.out();
  if (p.json()) {
    Json arr = Json::array();
    for (const Check& ch : checks) arr.push_back({{"check", ch.name}, {"level", LevelName(ch.level)}, {"detail", ch.detail}});
    p.PrintJson({{"worst", LevelName(worst)}, {"checks", arr}});
  } else {
    for (const Check& ch : checks) {
      cli::Style style = ch.level == Level::kOk ? cli::Style::kGreen : ch.level == Level::kWarn ? cli::Style::kYellow : cli::Style::kRed;
      std::string tag = LevelName(ch.level);
      tag.resize(4, ' ');
      p.Line(p.Paint(style, tag) + "  " + ch.name + ": " + ch.detail);
    }
  }
  return static_cast<int>(worst);
}

}  // namespace

void RegisterDoctorCommand(CLI::App* app, int* exit_code) {
  auto f = std::make_shared<DoctorFlags>();
  auto s3 = std::make_shared<S3Flags>();
  f->s3 = s3.get();
  CLI::App* cmd = cli::AddCommand(
      app, "doctor", "Check a server and its database",
      "One line per check (server reachable, schema version, quick_check, database and WAL size, free\n"
      "disk, last backup age, workflows running far longer than usual, task queues with a backlog and no\n"
      "pollers, schedules that missed runs), each OK / WARN / FAIL. Exit code 0 when all are OK,\n"
      "1 when the worst is WARN, 2 when something FAILs:\n\n"
      "  temporalite doctor --address 127.0.0.1:7233 --db-filename .temporal-data/temporalite.db \\\n"
      "      --backups s3://backups/temporalite\n",
      exit_code, [f, s3, exit_code](Context& ctx) { *exit_code = RunDoctor(ctx, *f); });
  cmd->add_option("-f,--db-filename", f->db_filename, "The database file (checked directly when the server is down)");
  cmd->add_option("--backups", f->backups, "Backup destination whose newest backup's age is checked");
  cmd->add_option("--max-backup-age", f->max_backup_age, "FAIL when the newest backup is older (e.g. 8d, 36h)")->capture_default_str();
  cmd->add_option("--min-free-disk-mib", f->min_free_disk_mib, "FAIL below this much free disk")->capture_default_str();
  cmd->add_option("--max-wal-mib", f->max_wal_mib, "WARN when the WAL is larger")->capture_default_str();
  cmd->add_option("--long-running-factor", f->long_running_factor,
                  "FAIL for running workflows older than this many times their type's median completed duration")
      ->capture_default_str();
  cmd->add_option("--long-running-min", f->long_running_min, "...and older than this (e.g. 10m)")->capture_default_str();
  AddS3Flags(cmd, s3.get());
}

}  // namespace temporalite::ops
