// Composition root: the only place that reads flags, creates threads, and wires the clock,
// store, engine and gRPC services together.
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "admin/admin_service.h"
#include "alerts/alerter.h"
#include "auth/key_command.h"
#include "auth/key_file_watch.h"
#include "auth/server_security.h"
#include "ops/scheduled_backup.h"
#include "ops/webhook.h"
#include "scheduler/phrase.h"
#include "ops/backup_commands.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/log_format.h"
#include "common/namespace_name.h"
#include "common/timer_service.h"
#include "frontend/grpc_log.h"
#include "frontend/metrics_interceptor.h"
#include "frontend/operator_service.h"
#include "frontend/rate_limit.h"
#include "frontend/request_decoding.h"
#include "frontend/workflow_service.h"
#include "history/dynamic_config.h"
#include "history/engine.h"
#include "http/handler.h"
#include "http/invoker.h"
#include "http/listener.h"
#include "http/static_files.h"
#include "metrics/metrics.h"
#include "persistence/sqlite_store.h"
#include "persistence/store.h"
#include "scheduler/scheduler.h"
#include "scheduler/spec.h"
#include "server/config_file.h"
#include "server/engine_runner.h"
#include "server/signals.h"
#include "server/storage_resume.h"
#include "server/storage_wait_http.h"
#include "server/storage_wait_server.h"
#include "ui/embedded_ui.h"

namespace {

// main.cc is the composition root: it names most of the project's subsystems.
using namespace temporalite;  // NOLINT(build/namespaces)

constexpr const char* kVersion = "0.1.0";

// An error that ends the start (its exit code follows): "error: ..." on stderr, or with
// --log-format json (once the flag is read) a log line at level error, printed whatever
// --log-level says.
__attribute__((format(printf, 1, 2))) void StartError(const char* fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!LogJson()) {
    std::fprintf(stderr, "error: %s\n", msg);
    return;
  }
  SetLogLevel(LogLevel::kError);  // the process exits next: even --log-level never shows why
  Log(LogLevel::kError, "%s", msg);
}

struct StartDevFlags {
  std::string ip = "127.0.0.1";
  int port = 7233;
  std::string db_filename;
  bool ephemeral = false;
  bool headless = false;
  int ui_port = -1;       // -1: gRPC port + 1000 (a free port when --port 0)
  int http_port = -1;     // -1: 7243 (a free port when --port 0)
  int metrics_port = -1;  // -1: off
  std::string ui_assets_dir;  // hidden: serve the built UI from this directory
  std::string log_level = "info";
  std::string log_format = "text";
  std::vector<std::string> namespaces;
  std::vector<std::string> sqlite_pragmas;
  std::vector<std::string> search_attributes;
  std::vector<std::string> dynamic_config_values;
  std::string alert_webhook;
  int alert_after = 2;
  bool skip_integrity_check = false;
  std::string backup_schedule;
  std::string backup_to;
  int backup_keep = 0;
  temporalite::auth::SecurityFlags security;  // --tls-*-file, --api-key-file, --audit-log-file
  bool exit_on_storage_failure = false;  // exit 70 instead of resuming in-process (server/storage_resume.h)
  std::vector<std::string> argv;         // the command line, for the re-exec after a storage failure
};

// Temporal's workflow close counters by namespace and workflow type.
void CountClose(temporalite::metrics::Registry& m, const temporalite::history::Engine::RunClosed& rc) {
  using temporal::api::enums::v1::WorkflowExecutionStatus;
  const char* name = nullptr;
  switch (rc.status) {
    case WorkflowExecutionStatus::WORKFLOW_EXECUTION_STATUS_COMPLETED: name = "workflow_success"; break;
    case WorkflowExecutionStatus::WORKFLOW_EXECUTION_STATUS_FAILED: name = "workflow_failed"; break;
    case WorkflowExecutionStatus::WORKFLOW_EXECUTION_STATUS_TIMED_OUT: name = "workflow_timeout"; break;
    case WorkflowExecutionStatus::WORKFLOW_EXECUTION_STATUS_TERMINATED: name = "workflow_terminate"; break;
    case WorkflowExecutionStatus::WORKFLOW_EXECUTION_STATUS_CANCELED: name = "workflow_cancel"; break;
    case WorkflowExecutionStatus::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: name = "workflow_continued_as_new"; break;
    default: return;
  }
  m.counter(name, "Workflow runs closed with this outcome, by namespace and workflow type",
            {{"namespace", rc.namespace_name}, {"workflow_type", rc.workflow_type}})
      .Inc();
}

// Gauges read at scrape time: open workflows, database and WAL file sizes.
void AddGaugeCollectors(temporalite::metrics::Registry& m, temporalite::history::Engine& engine, const std::string& db_path) {
  m.AddCollector([&engine, db_path](temporalite::metrics::Registry& r) {
    r.gauge("temporalite_open_workflows", "Open workflow executions").Set(static_cast<double>(engine.OpenWorkflowCount()));
    r.gauge("temporalite_history_long_polls", "History long polls (waitNewEvent) waiting for a run's next event")
        .Set(static_cast<double>(engine.HistoryWaiterCount()));
    for (const auto& q : engine.TaskQueueGauges()) {
      temporalite::metrics::Labels l = {{"namespace", q.namespace_name}, {"task_type", q.activity ? "activity" : "workflow"},
                                        {"taskqueue", q.name}};
      // Temporal's approximate_backlog_count, without the _count suffix Prometheus' lint reserves.
      r.gauge("approximate_backlog", "Tasks queued on a task queue", l).Set(static_cast<double>(q.backlog));
      r.gauge("temporalite_task_queue_pollers", "Long polls waiting on a task queue now", l).Set(static_cast<double>(q.waiting_polls));
    }
    if (db_path == ":memory:") return;
    std::error_code ec;
    auto size = std::filesystem::file_size(db_path, ec);
    r.gauge("temporalite_database_size_bytes", "Size of the SQLite database file").Set(ec ? 0 : static_cast<double>(size));
    auto wal = std::filesystem::file_size(db_path + "-wal", ec);
    r.gauge("temporalite_wal_size_bytes", "Size of the SQLite write-ahead log").Set(ec ? 0 : static_cast<double>(wal));
  });
}

// --backup-schedule: the runbook's phrase ("daily at 02:00 Africa/Johannesburg") or a cron
// string ("CRON_TZ=Africa/Johannesburg 0 2 * * 0", "@every 12h"). Returns 0, or the exit code after
// printing the error; leaves *backup_spec empty when no schedule is given.
int ParseBackupSchedule(const StartDevFlags& f, std::optional<temporalite::scheduler::CompiledSpec>* backup_spec) {
  if (f.backup_schedule.empty() && f.backup_to.empty()) return 0;
  if (f.backup_schedule.empty() || f.backup_to.empty()) {
    StartError("--backup-schedule and --backup-to go together");
    return 2;
  }
  if (f.ephemeral) {
    StartError("--backup-schedule needs a database file (not --ephemeral)");
    return 2;
  }
  auto phrase = temporalite::scheduler::ParseSchedulePhrase(f.backup_schedule);
  temporal::api::schedule::v1::ScheduleSpec spec;
  if (phrase.ok()) {
    spec = *phrase;
  } else {
    spec.add_cron_string(f.backup_schedule);
  }
  auto compiled = temporalite::scheduler::CompiledSpec::Compile(spec);
  if (!compiled.ok()) {
    StartError("invalid --backup-schedule \"%s\": not a schedule phrase (%s) nor a cron string (%s)",
                 f.backup_schedule.c_str(), phrase.status().message().c_str(), compiled.status().message().c_str());
    return 2;
  }
  *backup_spec = std::move(compiled).value();
  return 0;
}

// --- RunServer's steps, in the order it takes them. Each returns 0 or the process exit code
// after printing the error. ---

// --log-level / --log-format, and the port flags' ranges.
int ConfigureLoggingAndPorts(const StartDevFlags& f) {
  LogLevel level;
  if (!ParseLogLevel(f.log_level, &level)) {
    StartError("invalid --log-level %s (debug, info, warn, error, never)", f.log_level.c_str());
    return 2;
  }
  SetLogLevel(level);
  SetLogJson(f.log_format == "json");
  frontend::InstallGrpcLogHandler();
  if (f.port < 0 || f.port > 65535) {
    StartError("invalid --port %d", f.port);
    return 2;
  }
  for (auto [name, port] : {std::pair{"--ui-port", f.ui_port}, {"--http-port", f.http_port}, {"--metrics-port", f.metrics_port}}) {
    if (port < -1 || port > 65535) {
      StartError("invalid %s %d", name, port);
      return 2;
    }
  }
  return 0;
}

// The web UI's files: --ui-assets-dir (or TEMPORALITE_UI_ASSETS_DIR), else the UI built into this
// binary (src/ui) if it was built in. None with --headless.
int LoadUiFiles(const StartDevFlags& f, std::unique_ptr<http::StaticFiles>* ui_files) {
  if (f.headless) return 0;
  std::string ui_dir = f.ui_assets_dir;
  if (ui_dir.empty() && std::getenv("TEMPORALITE_UI_ASSETS_DIR")) ui_dir = std::getenv("TEMPORALITE_UI_ASSETS_DIR");
  if (!ui_dir.empty()) {
    std::string err;
    *ui_files = http::LoadStaticFilesFromDirectory(ui_dir, &err);
    if (!*ui_files) {
      StartError("--ui-assets-dir: %s", err.c_str());
      return 2;
    }
  }
  if (!*ui_files) {
    std::string why;
    *ui_files = ui::EmbeddedUi(&why);
    if (!*ui_files) TL_LOG_WARN("%s", why.c_str());
  }
  return 0;
}

// --search-attribute Name=Type (Type case-insensitive, as the temporal CLI).
int ParseStartupSearchAttributes(const StartDevFlags& f, visibility::TypeMap* out) {
  for (const auto& kv : f.search_attributes) {
    size_t eq = kv.find('=');
    std::string name = eq == std::string::npos ? "" : kv.substr(0, eq);
    auto type = eq == std::string::npos ? std::nullopt : visibility::ParseTypeName(kv.substr(eq + 1));
    if (name.empty()) {
      StartError("invalid search attributes: %s: want KEY=VALUE", kv.c_str());
      return 2;
    }
    if (!type) {
      StartError("invalid search attribute value type \"%s\"", kv.substr(eq + 1).c_str());
      return 2;
    }
    if (!visibility::IsValidName(name)) {
      StartError("invalid search attribute name %s: use letters, digits, '_', '-' and '.', starting with a letter",
                   name.c_str());
      return 2;
    }
    if (visibility::IsReserved(name)) {
      StartError("search attribute %s is reserved by system", name.c_str());
      return 2;
    }
    (*out)[name] = *type;
  }
  return 0;
}

// Everything the flags decide before anything is opened.
struct StartupConfig {
  std::unique_ptr<http::StaticFiles> ui_files;
  std::optional<scheduler::CompiledSpec> backup_spec;
  std::optional<auth::ServerSecurity> security;
  history::EngineOptions engine_options;
  frontend::RateLimitOptions rate_limits;  // frontend.rps, frontend.namespaceRPS, ... (frontend/rate_limit.h)
};

// One --dynamic-config-value KEY=VALUE, for whichever part owns KEY (the frontend's rate limits,
// the engine's options). An unknown key names every key of both, from their own lists.
Status ApplyDynamicConfigValue(const std::string& kv, StartupConfig* c) {
  Status s = frontend::ApplyRateLimitConfigValue(kv, &c->rate_limits);
  if (s.code() == Code::kNotFound) s = history::ApplyDynamicConfigValue(kv, &c->engine_options);
  if (s.code() != Code::kNotFound) return s;
  std::vector<std::string> keys = frontend::RateLimitConfigKeys();
  for (std::string& k : history::DynamicConfigKeys()) keys.push_back(std::move(k));
  std::string known;
  for (const std::string& k : keys) known += (known.empty() ? "" : ", ") + k;
  return Status(Code::kInvalidArgument,
                "unknown dynamic config key \"" + kv.substr(0, kv.find('=')) + "\" (known: " + known + ")");
}

int ReadStartupConfig(const StartDevFlags& f, StartupConfig* c) {
  if (int rc = ConfigureLoggingAndPorts(f); rc != 0) return rc;
  if (int rc = LoadUiFiles(f, &c->ui_files); rc != 0) return rc;
  if (int rc = ParseBackupSchedule(f, &c->backup_spec); rc != 0) return rc;
  auto security_or = auth::SetUpSecurity(f.security);
  if (!security_or.ok()) {
    StartError("%s", security_or.status().message().c_str());
    return 2;
  }
  c->security.emplace(std::move(security_or).value());
  if (std::string w = c->security->ExposureWarning(f.ip); !w.empty()) TL_LOG_WARN("%s", w.c_str());
  for (const std::string& ns : f.namespaces) {
    if (Status s = ValidateNamespaceName(ns, c->engine_options.max_id_length); !s.ok()) {
      StartError("--namespace \"%s\": %s", EscapeControlCharacters(ns).c_str(), s.message().c_str());
      return 2;
    }
  }
  c->engine_options.extra_namespaces = f.namespaces;
  // Crash tests: widens the window between a close's commit and its deferred step.
  if (const char* d = std::getenv("TEMPORALITE_TEST_DEFERRED_STEP_DELAY_MS")) {
    c->engine_options.deferred_step_delay = std::chrono::milliseconds(std::atoi(d));
  }
  if (int rc = ParseStartupSearchAttributes(f, &c->engine_options.startup_search_attributes); rc != 0) return rc;
  for (const auto& kv : f.dynamic_config_values) {
    Status s = ApplyDynamicConfigValue(kv, c);
    if (!s.ok()) {
      StartError("%s", s.message().c_str());
      return 2;
    }
  }
  return 0;
}

// Blocks termination signals in every thread (call before starting any); the main thread waits
// for them with sigwait. A thread that does not block them (started earlier, or one that set
// its own mask) forwards them to the main thread (server/signals.h).
sigset_t BlockTerminationSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);   // reload the API key file
  sigaddset(&sigs, SIGUSR2);  // raised by the store's fatal-error listener (OpenStore)
  if (!server::InstallSignalForwarding(sigs)) TL_LOG_WARN("cannot install the signal handlers: %s", std::strerror(errno));
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

// The database: its directory lock, then the store. Sets *db_path to the absolute path (or
// ":memory:").
int OpenStore(const StartDevFlags& f, metrics::Registry* registry, std::string* db_path,
              std::unique_ptr<persistence::DirLock>* lock, std::unique_ptr<persistence::Store>* store,
              persistence::SqliteStore** sqlite) {
  *db_path = f.ephemeral ? ":memory:" : f.db_filename;
  if (db_path->empty()) *db_path = ".temporal-data/temporalite.db";
  if (*db_path != ":memory:") {
    *db_path = std::filesystem::absolute(*db_path).string();
    auto l = persistence::DirLock::AcquireForDatabase(*db_path);
    if (!l.ok()) {
      StartError("%s", l.status().message().c_str());
      return 1;
    }
    *lock = std::move(l).value();
  }
  persistence::SqliteOptions so;
  so.path = *db_path;
  so.extra_pragmas = f.sqlite_pragmas;
  so.metrics = registry;
  so.integrity_check = !f.skip_integrity_check;
  // A large file's integrity check waits for recovery (RecoveryFinished after it).
  auto store_or = persistence::SqliteStore::Open(so, persistence::SqliteStore::kIntegrityCheckSyncMaxBytes,
                                                 /*defer_background_check=*/true);
  if (!store_or.ok()) {
    StartError("cannot open database %s: %s", db_path->c_str(), store_or.status().message().c_str());
    return 1;
  }
  *sqlite = store_or->get();
  *store = std::move(store_or).value();
  // A write the database refused leaves the engine's memory ahead of the disk; the store now
  // refuses every write, and this process stops serving (OnStorageFailure) and recovers from
  // disk by re-executing itself, or exits for a supervisor to restart it.
  // To this (the main) thread, which waits for it with sigwait: a process-directed signal may be
  // delivered to a thread that does not block it (some of gRPC's threads do not), whose default
  // action then kills the process.
  (*store)->set_fatal_error_listener([main_thread = pthread_self()](const Status&) { pthread_kill(main_thread, SIGUSR2); });
  return 0;
}

// Failure alerts (--alert-webhook): reads closes back from visibility; state next to the database.
int MakeAlerter(const StartDevFlags& f, persistence::Store& store, const Clock& clock, const std::string& db_path,
                std::unique_ptr<alerts::Alerter>* alerter) {
  if (f.alert_webhook.empty()) return 0;
  if (f.alert_after < 1) {
    StartError("--alert-after must be at least 1");
    return 2;
  }
  alerts::AlerterOptions ao;
  ao.alert_after = f.alert_after;
  // State in the database (server_state); the side file of earlier versions is migrated.
  if (db_path != ":memory:") ao.legacy_state_path = (std::filesystem::path(db_path).parent_path() / "alerts-state.json").string();
  const std::string url = f.alert_webhook;
  *alerter = std::make_unique<alerts::Alerter>(store, clock, ao, [url](const std::string& json) { return ops::PostJson(url, json); });
  Status as = (*alerter)->Load();
  if (!as.ok()) {
    StartError("%s", as.message().c_str());
    return 1;
  }
  return 0;
}

// Scheduled backups (--backup-schedule): results go to the admin service and the metrics.
std::unique_ptr<ops::BackupScheduler> MakeBackupScheduler(const StartDevFlags& f, const Clock& clock,
                                                          const scheduler::CompiledSpec& spec, const std::string& db_path,
                                                          admin::AdminServiceImpl& admin_service, metrics::Registry* m) {
  admin_service.SetBackupSchedule(f.backup_to, f.backup_schedule);
  ops::BackupScheduler::Options bo{db_path, f.backup_to, f.backup_keep, std::string(kVersion), {}};
  return std::make_unique<ops::BackupScheduler>(
      clock, [&spec](TimePoint after) { return spec.Next(after); }, bo,
      [&admin_service, m](const ops::ScheduledBackupResult& r) {
        admin_service.RecordScheduledBackup(r.at_unix_ms, r.ok, r.name, r.error, r.next_unix_ms);
        if (!m) return;
        m->gauge("temporalite_backup_last_run_timestamp_seconds", "When the last scheduled backup ran (Unix time)")
            .Set(static_cast<double>(r.at_unix_ms) / 1000);
        m->gauge("temporalite_backup_last_run_success", "1 if the last scheduled backup succeeded, 0 if it failed")
            .Set(r.ok ? 1 : 0);
        if (r.ok) {
          m->gauge("temporalite_backup_last_success_timestamp_seconds", "When a scheduled backup last succeeded (Unix time)")
              .Set(static_cast<double>(r.at_unix_ms) / 1000);
        }
        m->counter(r.ok ? "temporalite_backups" : "temporalite_backup_failures",
                   r.ok ? "Scheduled backups completed" : "Scheduled backups that failed")
            .Inc();
      });
}

// The threads besides gRPC's and HTTP's: timers, alerts, scheduled backups. Stop() ends them in
// that order's reverse (a backup in progress finishes first), on every way out of RunServer.
class BackgroundThreads {
 public:
  BackgroundThreads(TimerService& timers, alerts::Alerter* alerter, ops::BackupScheduler* backups)
      : timers_(timers), alerter_(alerter), backups_(backups) {
    timer_thread_ = std::thread([this] { timers_.RunLoop(); });
    if (alerter_) alert_thread_ = std::thread([this] { alerter_->Run(); });
    if (backups_) backup_thread_ = std::thread([this] { backups_->Run(); });
  }
  ~BackgroundThreads() { Stop(); }
  void Stop() {
    if (alert_thread_.joinable()) {
      alerter_->Stop();
      alert_thread_.join();
    }
    if (backup_thread_.joinable()) {
      backups_->Stop();
      backup_thread_.join();
    }
    if (timer_thread_.joinable()) {
      timers_.Stop();
      timer_thread_.join();
    }
  }

 private:
  TimerService& timers_;
  alerts::Alerter* alerter_;
  ops::BackupScheduler* backups_;
  std::thread timer_thread_, alert_thread_, backup_thread_;
};

// The gRPC server on --ip:--port with the three services; null (after printing the error) when it
// cannot listen. Sets *bound_port.
std::unique_ptr<grpc::Server> StartGrpcServer(const StartDevFlags& f, const auth::ServerSecurity& security,
                                              frontend::RateLimiter* rate_limiter,
                                              metrics::Registry* registry, history::Engine& engine, const std::string& db_path,
                                              const std::vector<grpc::Service*>& services, int* bound_port) {
  grpc::EnableDefaultHealthCheckService(true);
  frontend::InstallProtobufLogHandler();
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // The auth gate first; then one interceptor per RPC either way: the metrics interceptor also
  // handles decode errors.
  // Rate limits before the auth gate in the list: gRPC runs the hooks after a message arrives in
  // reverse order, so the limiter sees the gate's decision and does not answer refused calls.
  if (rate_limiter) interceptors.push_back(frontend::NewRateLimitInterceptorFactory(rate_limiter));
  if (auto auth_interceptor = security.Interceptor()) interceptors.push_back(std::move(auth_interceptor));
  if (registry) {
    interceptors.push_back(std::make_unique<frontend::MetricsInterceptorFactory>(*registry));
    AddGaugeCollectors(*registry, engine, db_path);
  } else {
    interceptors.push_back(frontend::NewDecodeErrorInterceptorFactory());
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.AddListeningPort(f.ip + ":" + std::to_string(f.port), security.credentials, bound_port);
  for (grpc::Service* s : services) builder.RegisterService(s);
  builder.SetMaxReceiveMessageSize(128 * 1024 * 1024);
  builder.SetMaxSendMessageSize(128 * 1024 * 1024);
  // SDKs ping every 30 s even when idle; permit it rather than answer with GOAWAY too_many_pings.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a port this one serves
  // and split the clients between two databases; without it the second bind fails.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || *bound_port == 0) {
    StartError("cannot listen on %s:%d (is another server running?)", f.ip.c_str(), f.port);
    return nullptr;
  }
  // Health by service name, as grpc-health-probe and the Java SDK ask (the empty name is SERVING
  // by default).
  server->GetHealthCheckService()->SetServingStatus("temporal.api.workflowservice.v1.WorkflowService", true);
  server->GetHealthCheckService()->SetServingStatus("temporal.api.operatorservice.v1.OperatorService", true);
  return server;
}

// The HTTP listeners (API, UI, metrics), each on its own thread.
class HttpPorts {
 public:
  explicit HttpPorts(std::string ip) : ip_(std::move(ip)) {}
  ~HttpPorts() { Stop(); }
  // The bound port, or -1 after printing the error.
  int Open(std::unique_ptr<http::Listener> l, int want, const char* what) {
    if (!l->ok()) {
      StartError("cannot serve TLS on %s: the certificate or key could not be loaded", what);
      return -1;
    }
    int got = l->Bind(ip_, want);
    if (got <= 0) {
      StartError("cannot listen on %s:%d for %s", ip_.c_str(), want, what);
      return -1;
    }
    Port p;
    p.listener = std::move(l);
    http::Listener* raw = p.listener.get();
    p.thread = std::thread([raw] { raw->Run(); });
    ports_.push_back(std::move(p));
    return got;
  }
  // Stops accepting; threads end in Stop.
  void StopListening() {
    for (auto& p : ports_) p.listener->Stop();
  }
  void Stop() {
    for (auto& p : ports_) p.listener->Stop();
    for (auto& p : ports_) p.thread.join();
    ports_.clear();
  }

 private:
  struct Port {
    std::unique_ptr<http::Listener> listener;
    std::thread thread;
  };
  std::string ip_;
  std::vector<Port> ports_;
};

// Prometheus /metrics on its own listener.
std::unique_ptr<http::Listener> MetricsListener(metrics::Registry* m) {
  auto serve = [m](const http::Request& r) {
    http::Response resp;
    std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
    if (path == "/metrics" && r.method == "GET") {
      resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
      resp.body = m->Expose();
    } else {
      resp.status = 404;
      resp.content_type = "text/plain; charset=utf-8";
      resp.body = "not found: metrics are at /metrics\n";
    }
    return resp;
  };
  return std::make_unique<http::Listener>(serve, 1 << 16, [] { return http::JsonError(3, "body too large", 400); }, 4);
}

// Readiness for /readyz: recovery is done before the ports open; the database is writable when a
// commit goes through.
std::string StoreReadiness(persistence::Store& store) {
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  store.Commit(persistence::WriteBatch{}, [done](const Status& s) { done->set_value(s); });
  if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return "database commit timed out";
  Status s = fut.get();
  return s.ok() ? "" : "database: " + s.message();
}

struct BoundPorts {
  int grpc = 0, http = 0, ui = 0, metrics = 0;
};

// HTTP API, then the Web UI (unless --headless), then metrics (with --metrics-port). Returns false
// (after printing the error) when one cannot listen.
// The HTTP API and UI ports serve HTTPS with the gRPC port's certificate (and client CA), as
// Temporal's HTTP API uses the frontend's TLS settings (`tls` non-null); the metrics port stays
// plain HTTP.
bool OpenHttpListeners(const StartDevFlags& f, http::Handler& handler, const http::ListenerTls* tls,
                       metrics::Registry* registry, HttpPorts& ports, BoundPorts* bound) {
  auto make_listener = [&handler, tls](bool ui) {
    return std::make_unique<http::Listener>([&handler, ui](const http::Request& r) { return handler.Handle(r, ui); },
                                            handler.max_body_bytes(), [&handler] { return handler.BodyTooLarge(); }, 32,
                                            tls);
  };
  bound->http = ports.Open(make_listener(false), f.http_port >= 0 ? f.http_port : (f.port == 0 ? 0 : 7243), "the HTTP API");
  if (bound->http > 0 && !f.headless) {
    bound->ui = ports.Open(make_listener(true), f.ui_port >= 0 ? f.ui_port : (f.port == 0 ? 0 : bound->grpc + 1000), "the Web UI");
  }
  if (registry && bound->http > 0 && bound->ui >= 0) bound->metrics = ports.Open(MetricsListener(registry), f.metrics_port, "metrics");
  return bound->http >= 0 && bound->ui >= 0 && bound->metrics >= 0;
}

void PrintBanner(const StartDevFlags& f, const BoundPorts& p, bool ui_built, bool metrics, bool https,
                 const std::string& db_path) {
  const char* scheme = https ? "https" : "http";
  std::printf("Temporalite %s (Temporal API from @temporalio/core-bridge 1.24.0)\n\n", kVersion);
  std::printf("Server:  %s:%d\n", f.ip.c_str(), p.grpc);
  if (f.headless) {
    std::printf("UI:      off (--headless)\n");
  } else {
    std::printf("UI:      %s://%s:%d%s\n", scheme, f.ip.c_str(), p.ui, ui_built ? "" : " (not built: the port answers with a notice, the API and health)");
  }
  std::printf("HTTP:    %s://%s:%d\n", scheme, f.ip.c_str(), p.http);
  if (metrics) std::printf("Metrics: http://%s:%d/metrics\n", f.ip.c_str(), p.metrics);
  std::printf("Data:    %s\n", db_path.c_str());
  std::fflush(stdout);
  TL_LOG_INFO("serving Temporal gRPC on %s:%d, HTTP API on %d, data in %s", f.ip.c_str(), p.grpc, p.http, db_path.c_str());
}

// Waits for SIGINT / SIGTERM (returns false: shut down cleanly) or the store's fatal error
// (SIGUSR2: returns true, see OnStorageFailure). SIGHUP re-reads the API key file and waits on.
bool WaitForShutdownSignal(const sigset_t& sigs, auth::ServerSecurity& security) {
  int sig = 0;
  for (;;) {
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
    // A file that does not parse leaves the keys in force.
    if (Status s = security.ReloadKeys(); s.ok()) {
      TL_LOG_INFO("SIGHUP: %s", security.keys ? ("reloaded " + std::to_string(security.keys->Current()->size()) + " API keys from " +
                                                 security.keys->path()).c_str()
                                              : "no --api-key-file to reload");
    } else {
      TL_LOG_ERROR("SIGHUP: API keys not reloaded, the previous keys stay in force: %s", s.message().c_str());
    }
  }
  if (sig == SIGUSR2) return true;
  TL_LOG_INFO("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  return false;
}

// While OnStorageFailure waits: the HTTP API and UI ports (their listeners stopped and joined
// first) answer every request with 503 and `answer`'s code and message; with API keys, checked
// as the HTTP API checks them (storage_wait_http.h). Metrics stay closed.
void AnswerHttpWhileWaiting(const StartDevFlags& f, const server::ResumeState& st, const http::ListenerTls* tls,
                            const grpc::Status& answer, const auth::ServerSecurity& security, HttpPorts& http) {
  http::HandlerOptions ho;
  ho.bind_ip = f.ip;
  ho.secure_cookie = tls != nullptr;
  auto waiting = std::make_shared<const server::StorageWaitHttp>(answer, security.keys.get(), security.audit.get(), ho);
  for (const auto& [port, what] : {std::pair<int, const char*>{st.http, "the HTTP API"}, {st.ui, "the Web UI"}}) {
    if (port <= 0) continue;
    const bool ui_port = port == st.ui;
    http.Open(std::make_unique<http::Listener>([waiting, ui_port](const http::Request& req) { return waiting->Handle(req, ui_port); },
                                               1 << 16, [waiting] { return waiting->Unreadable(); }, 2, tls, 4),
              port, what);
  }
}

// After a write the database refused, the engine's memory may be ahead of the disk: nothing more
// is acknowledged. The server stops serving; then either exits with status 70 (EX_SOFTWARE;
// --exit-on-storage-failure, or an in-memory database) so that a supervisor restarts it, or waits
// until a probe write in the data directory succeeds and re-executes itself (same pid), which
// recovers from the database as any restart does; while it waits, its gRPC port answers every
// call with the reason (storage_wait_server.h), and its HTTP API and UI ports with 503. Never
// returns.
[[noreturn]] void OnStorageFailure(const StartDevFlags& f, const sigset_t& sigs, grpc::Server& server, HttpPorts& http,
                                   const auth::ServerSecurity& security, const http::ListenerTls* tls,
                                   persistence::Store& store, const std::string& db_path,
                                   const server::ResumeState& st) {
  const bool resume = !f.exit_on_storage_failure && db_path != ":memory:";
  TL_LOG_ERROR("fatal: the database refused a write (%s); nothing is acknowledged from now on, %s",
               store.fatal_error().ToString().c_str(),
               resume ? "stopped serving until a write in the data directory succeeds, then the server re-executes "
                        "itself to recover from the database (--exit-on-storage-failure exits instead)"
                      : "exiting with status 70 so that a restart recovers from the database");
  http.StopListening();
  // In-flight RPCs get their (error) replies for a moment; nothing new is accepted.
  server.Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  std::fflush(nullptr);
  if (!resume) std::_Exit(70);
  const std::string dir = std::filesystem::path(db_path).parent_path().string();
  // Meanwhile the gRPC port answers every call with an error that says why (no write path runs):
  // clients see a server that waits, not a closed port. With API keys, only callers with a valid
  // key are told why; the others get the server's own UNAUTHENTICATED / PERMISSION_DENIED.
  const grpc::Status answer = server::StorageWaitStatus(store.fatal_error(), dir);
  const auth::KeyRing* keys = security.keys.get();
  auto answering = server::StorageWaitServer::Start(f.ip + ":" + std::to_string(st.grpc), security.credentials, answer, keys,
                                                    std::chrono::seconds(5), security.audit.get());
  http.Stop();  // in-flight HTTP calls ended with the gRPC server above
  AnswerHttpWhileWaiting(f, st, tls, answer, security, http);
  // A failure right after a resume waits longer each time (0.5 s, 1 s, ... up to 30 s).
  const auto first_wait = std::chrono::milliseconds(500) * (1 << std::min(st.resumes, 6));
  if (!server::WaitUntilWritable(dir, sigs, std::min(first_wait, std::chrono::milliseconds(30000)))) {
    TL_LOG_ERROR("stopped while waiting for the data directory to take writes; exiting with status 70");
    std::fflush(nullptr);
    std::_Exit(70);
  }
  // The resumed server binds the same ports.
  if (answering) answering->Stop();
  http.Stop();
  server::ResumeState next = st;
  next.resumes++;
  TL_LOG_WARN("storage: writes in %s succeed again; re-executing the server (pid %d) to recover from the database",
              dir.c_str(), static_cast<int>(getpid()));
  Status s = server::ReExec(f.argv, next);
  TL_LOG_ERROR("fatal: %s; exiting with status 70", s.message().c_str());
  std::fflush(nullptr);
  std::_Exit(70);
}

// After a storage failure this process re-executed itself (OnStorageFailure): it serves on the
// ports it had. True (and *state filled) when this start is such a resume.
bool TakeResumedPorts(StartDevFlags* f, server::ResumeState* state) {
  if (!server::TakeResumeState(state)) return false;
  f->port = state->grpc;
  if (state->http > 0) f->http_port = state->http;
  if (state->ui > 0) f->ui_port = state->ui;
  if (state->metrics > 0) f->metrics_port = state->metrics;
  return true;
}

// The key file is also re-read when it changes (checked every second), not only on SIGHUP.
// nullptr without --api-key-file.
std::unique_ptr<auth::KeyFileWatcher> WatchKeyFile(const auth::ServerSecurity& security) {
  if (!security.keys) return nullptr;
  auth::KeyRing* keys = security.keys.get();
  auto watch = std::make_unique<auth::KeyFileWatcher>(*keys, [keys](const Status& s) {
    if (s.ok()) {
      TL_LOG_INFO("API key file changed: reloaded %zu API keys from %s", keys->Current()->size(), keys->path().c_str());
    } else {
      TL_LOG_ERROR("API key file changed: API keys not reloaded, the previous keys stay in force: %s", s.message().c_str());
    }
  });
  watch->Start(std::chrono::seconds(1));
  return watch;
}

int RunServer(const StartDevFlags& flags) {
  StartDevFlags f = flags;
  server::ResumeState resumed;
  const bool is_resume = TakeResumedPorts(&f, &resumed);
  // Debian's Abseil is built with its debug checks, so every absl::Mutex (gRPC takes several per
  // RPC) maintains a lock-order graph for deadlock detection: about 1-2 % of the server's CPU in
  // a profile of the workflow benchmark. gRPC's own tests cover its lock order; skip it here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // First: threads started from here on (ReadStartupConfig may start gRPC's) inherit the mask.
  const sigset_t sigs = BlockTerminationSignals();
  StartupConfig config;
  if (int rc = ReadStartupConfig(f, &config); rc != 0) return rc;

  // Metrics only when --metrics-port is given: off costs nothing.
  std::unique_ptr<metrics::Registry> registry;
  if (f.metrics_port >= 0) registry = std::make_unique<metrics::Registry>();
  std::string db_path;
  std::unique_ptr<persistence::DirLock> lock;
  std::unique_ptr<persistence::Store> store;
  persistence::SqliteStore* sqlite = nullptr;
  if (int rc = OpenStore(f, registry.get(), &db_path, &lock, &store, &sqlite); rc != 0) return rc;

  SystemClock clock;
  TimerService timers(clock);
  history::Engine engine(*store, clock, timers, config.engine_options);
  // Cron workflows (cronSchedule on start): the next fire time from the schedule-spec library.
  engine.set_cron_next([](const std::string& cron, TimePoint after) {
    temporal::api::schedule::v1::ScheduleSpec spec;
    spec.add_cron_string(cron);
    auto compiled = scheduler::CompiledSpec::Compile(spec);
    return compiled.ok() ? compiled->Next(after) : TimePoint::max();
  });
  // Schedules: the scheduler drives the engine through EngineRunner and hears about closes.
  server::EngineRunner runner(engine, clock, registry.get());
  scheduler::SchedulerOptions sched_options;
  sched_options.metrics = registry.get();
  scheduler::Scheduler sched(*store, clock, timers, runner, sched_options);
  std::unique_ptr<alerts::Alerter> alerter;
  if (int rc = MakeAlerter(f, *store, clock, db_path, &alerter); rc != 0) return rc;
  engine.set_run_closed_listener([&sched, &alerter, m = registry.get()](const history::Engine::RunClosed& rc) {
    sched.OnRunClosed(rc.namespace_id, rc.workflow_id, rc.run_id, rc.status, rc.chain_continues, rc.failure_message,
                      rc.result, rc.failure);
    if (m) CountClose(*m, rc);
    if (alerter) alerter->Nudge();
  });
  Status s = engine.Recover();
  if (s.ok()) s = sched.Recover();
  if (!s.ok()) {
    StartError("recovery failed: %s", s.ToString().c_str());
    return 1;
  }
  engine.StartRetention();
  sqlite->RecoveryFinished();

  frontend::WorkflowServiceImpl workflow_service(engine, sched, clock, {std::string(kVersion)}, &timers);
  frontend::OperatorServiceImpl operator_service(engine);
  admin::AdminServiceImpl admin_service(clock, {std::string(kVersion), db_path == ":memory:" ? "" : db_path});
  std::unique_ptr<ops::BackupScheduler> backups;
  if (config.backup_spec) {
    backups = MakeBackupScheduler(f, clock, *config.backup_spec, db_path, admin_service, registry.get());
  }
  BackgroundThreads background(timers, alerter.get(), backups.get());

  BoundPorts ports;
  std::unique_ptr<frontend::RateLimiter> rate_limiter;
  if (config.rate_limits.enabled()) rate_limiter = std::make_unique<frontend::RateLimiter>(clock, config.rate_limits);
  std::unique_ptr<grpc::Server> server = StartGrpcServer(f, *config.security, rate_limiter.get(), registry.get(), engine, db_path,
                                                         {&workflow_service, &operator_service, &admin_service}, &ports.grpc);
  if (!server) {
    background.Stop();
    store->Close();
    return 1;
  }
  // HTTP API, UI and health: the same services through an in-process channel, on HTTP threads.
  http::ChannelInvoker invoker(server->InProcessChannel(grpc::ChannelArguments()));
  http::HandlerOptions ho;
  ho.bind_ip = f.ip;
  ho.api_keys = !f.security.api_key_file.empty();  // the UI port's login page (http/ui_login.h)
  ho.secure_cookie = config.security->tls;
  ho.ready = [&store] { return StoreReadiness(*store); };
  if (registry) {
    temporalite::metrics::Gauge* waiting = &registry->gauge("temporalite_http_long_polls",
                                               "HTTP API long polls waiting (history with waitNewEvent, Poll* routes)");
    ho.long_polls_changed = [waiting](int n) { waiting->Set(n); };
  }
  http::Handler http_handler(invoker, config.ui_files.get(), ho);
  HttpPorts http_ports(f.ip);
  http::ListenerTls http_tls{f.security.tls.cert_file, f.security.tls.key_file, f.security.tls.ca_file};
  const http::ListenerTls* tls = config.security->tls ? &http_tls : nullptr;
  if (!OpenHttpListeners(f, http_handler, tls, registry.get(), http_ports, &ports)) {
    http_ports.Stop();
    server->Shutdown();
    background.Stop();
    store->Close();
    return 1;
  }
  std::unique_ptr<auth::KeyFileWatcher> key_watch = WatchKeyFile(*config.security);
  PrintBanner(f, ports, config.ui_files != nullptr, registry != nullptr, tls != nullptr, db_path);
  if (is_resume) {
    TL_LOG_WARN("resumed after a storage failure: recovered from the database (pid %d, resume %d)",
                static_cast<int>(getpid()), resumed.resumes);
  }

  if (WaitForShutdownSignal(sigs, *config.security)) {
    server::ResumeState st{ports.grpc, ports.http, ports.ui, ports.metrics, resumed.resumes};
    OnStorageFailure(f, sigs, *server, http_ports, *config.security, tls, *store, db_path, st);
  }
  // HTTP first: its in-flight calls end when the gRPC server shuts down below.
  key_watch.reset();
  http_ports.StopListening();
  // Ends waiting long polls and lets in-flight requests finish (their commits complete).
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  server->Wait();
  http_ports.Stop();
  background.Stop();
  store->Close();
  TL_LOG_INFO("stopped cleanly");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Temporalite: a single-node, Temporal-compatible workflow server and CLI"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(kVersion));
  auto* server = app.add_subcommand("server", "Run a Temporal server");
  server->require_subcommand(1);
  StartDevFlags f;
  auto* dev = server->add_subcommand("start-dev", "Start a development server (embedded SQLite)");
  dev->add_option("--ip", f.ip, "IP address to bind the frontend service to")->capture_default_str();
  dev->add_option("-p,--port", f.port, "Port for the frontend gRPC service (0 picks a free port)")->capture_default_str();
  dev->add_option("-f,--db-filename", f.db_filename,
                  "File in which to persist state (default .temporal-data/temporalite.db; ':memory:' for none)");
  dev->add_flag("--ephemeral", f.ephemeral, "Keep all state in memory (tests only: nothing survives a restart)");
  dev->add_flag("--headless", f.headless, "Disable the Web UI");
  dev->add_option("--ui-port", f.ui_port, "Port for the Web UI (default: --port + 1000; also serves /api/v1, /healthz, /readyz)");
  dev->add_option("--http-port", f.http_port, "Port for the HTTP API (default 7243; /api/v1, /healthz, /readyz)");
  dev->add_option("--metrics-port", f.metrics_port, "Port for Prometheus /metrics (default off)");
  dev->add_option("--ui-assets-dir", f.ui_assets_dir, "Serve the Web UI from this directory of built files")
      ->group("");  // hidden: development of the UI build
  dev->add_option("--log-level", f.log_level, "debug, info, warn, error or never")->capture_default_str();
  dev->add_option("--log-format", f.log_format, "text or json")->check(CLI::IsMember({"text", "json", "pretty"}));
  dev->add_option("-n,--namespace", f.namespaces, "Namespaces to create at launch (default always exists)");
  dev->add_option("--sqlite-pragma", f.sqlite_pragmas, "SQLite pragma name=value applied at start");
  dev->add_flag("--skip-integrity-check", f.skip_integrity_check,
                "Skip SQLite's quick_check of the database at start (it reads the whole file)");
  dev->add_option("--search-attribute", f.search_attributes, "Search attributes to register at start, Name=Type (repeatable)");
  dev->add_option("--dynamic-config-value", f.dynamic_config_values,
                  "Temporal dynamic config KEY=VALUE (repeatable; e.g. limit.historyCount.suggestContinueAsNew=100, frontend.namespaceRPS=50)");
  dev->add_option("--alert-webhook", f.alert_webhook,
                  "POST Slack incoming-webhook JSON here after --alert-after consecutive failed runs of a workflow type "
                  "or schedule, and when it recovers (env TEMPORALITE_ALERT_WEBHOOK)")
      ->envname("TEMPORALITE_ALERT_WEBHOOK");
  dev->add_option("--alert-after", f.alert_after, "Consecutive failed (or timed-out) runs that make an alert")->capture_default_str();
  dev->add_option("--backup-schedule", f.backup_schedule,
                  "Back up on this schedule: a runbook phrase (\"daily at 02:00 Africa/Johannesburg\") or a cron string "
                  "(\"CRON_TZ=Africa/Johannesburg 0 2 * * 0\", \"@every 12h\")");
  dev->add_option("--backup-to", f.backup_to, "Scheduled backups go here: a directory or s3://bucket/prefix (AWS_* variables)");
  dev->add_option("--backup-keep", f.backup_keep, "After each scheduled backup keep only the newest N (0: keep all)");
  dev->add_option("--tls-cert-file", f.security.tls.cert_file, "Serve gRPC, the HTTP API and the UI over TLS with this PEM certificate (chain)");
  dev->add_option("--tls-key-file", f.security.tls.key_file, "The PEM private key of --tls-cert-file");
  dev->add_option("--tls-ca-file", f.security.tls.ca_file,
                  "Mutual TLS (gRPC, HTTP API, UI): require client certificates signed by this PEM CA bundle");
  dev->add_option("--api-key-file", f.security.api_key_file,
                  "Require API keys (authorization: Bearer <key>): lines of <name> <key> <role>[@<namespace>]..., "
                  "role reader, writer or admin");
  dev->add_option("--audit-log-file", f.security.audit_log_file,
                  "Append a JSON line per client write, admin call and denied call (who, method, namespace, "
                  "workflow id, outcome)");
  dev->add_flag("--exit-on-storage-failure", f.exit_on_storage_failure,
                "After a write the database refused (disk full, I/O error), exit with status 70 for a supervisor to "
                "restart the server, instead of waiting for space and re-executing in-process");
  f.argv.assign(argv, argv + argc);
  std::string config_path;
  dev->add_option("--config", config_path,
                  "YAML file with any of these flags as keys (e.g. port: 7233); flags given here win (env TEMPORALITE_CONFIG)")
      ->envname("TEMPORALITE_CONFIG");
  int rc = 0;
  dev->callback([&] { rc = RunServer(f); });
  temporalite::cli::RegisterCommands(app, &rc);
  temporalite::ops::RegisterBackupCommands(&app, &rc);
  temporalite::ops::RegisterDoctorCommand(&app, &rc);
  temporalite::auth::RegisterHashApiKeyCommand(server, &rc);
  temporalite::ops::RegisterAlertCommands(&app, &rc);
  // temporalite.yaml: its keys become start-dev arguments placed before the command line's.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "server" && args[1] == "start-dev") {
    std::vector<std::string> given(args.begin() + 2, args.end());
    std::string path;
    for (size_t i = 0; i < given.size(); ++i) {
      if (given[i] == "--config" && i + 1 < given.size()) path = given[i + 1];
      if (given[i].rfind("--config=", 0) == 0) path = given[i].substr(9);
    }
    if (path.empty() && std::getenv("TEMPORALITE_CONFIG") != nullptr) path = std::getenv("TEMPORALITE_CONFIG");
    if (!path.empty()) {
      auto extra = temporalite::server::ConfigFileArgs(path, *dev, given);
      if (!extra.ok()) {
        StartError("%s", extra.status().message().c_str());
        return 2;
      }
      args.insert(args.begin() + 2, extra->begin(), extra->end());
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  if (app.get_name().empty()) app.name(argv[0]);  // as parse(argc, argv) names it
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (as `temporal` does); --help/--version exit 0.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return rc;
}
