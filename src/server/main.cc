// Composition root: the only place that reads flags, creates threads, and wires the clock,
// store, engine and gRPC services together.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "admin/admin_service.h"
#include "alerts/alerter.h"
#include "ops/scheduled_backup.h"
#include "ops/webhook.h"
#include "scheduler/phrase.h"
#include "ops/backup_commands.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/timer_service.h"
#include "frontend/operator_service.h"
#include "frontend/workflow_service.h"
#include "history/engine.h"
#include "persistence/store.h"
#include "scheduler/scheduler.h"
#include "scheduler/spec.h"
#include "server/config_file.h"
#include "server/engine_runner.h"

namespace {

constexpr const char* kVersion = "0.1.0";

struct StartDevFlags {
  std::string ip = "127.0.0.1";
  int port = 7233;
  std::string db_filename;
  bool ephemeral = false;
  bool headless = false;
  int ui_port = 0;
  int http_port = 0;
  int metrics_port = 0;
  std::string log_level = "info";
  std::string log_format = "text";
  std::vector<std::string> namespaces;
  std::vector<std::string> sqlite_pragmas;
  std::vector<std::string> search_attributes;
  std::string alert_webhook;
  int alert_after = 2;
  std::string backup_schedule;
  std::string backup_to;
  int backup_keep = 0;
};

int RunServer(const StartDevFlags& f) {
  using namespace temporalite;
  LogLevel level;
  if (!ParseLogLevel(f.log_level, &level)) {
    std::fprintf(stderr, "error: invalid --log-level %s (debug, info, warn, error, never)\n", f.log_level.c_str());
    return 2;
  }
  SetLogLevel(level);
  SetLogJson(f.log_format == "json");
  if (f.port < 0 || f.port > 65535) {
    std::fprintf(stderr, "error: invalid --port %d\n", f.port);
    return 2;
  }
  // --backup-schedule: the runbook's phrase ("daily at 02:00 Africa/Johannesburg") or a cron
  // string ("CRON_TZ=Africa/Johannesburg 0 2 * * 0", "@every 12h").
  std::optional<scheduler::CompiledSpec> backup_spec;
  if (!f.backup_schedule.empty() || !f.backup_to.empty()) {
    if (f.backup_schedule.empty() || f.backup_to.empty()) {
      std::fprintf(stderr, "error: --backup-schedule and --backup-to go together\n");
      return 2;
    }
    if (f.ephemeral) {
      std::fprintf(stderr, "error: --backup-schedule needs a database file (not --ephemeral)\n");
      return 2;
    }
    auto phrase = scheduler::ParseSchedulePhrase(f.backup_schedule);
    temporal::api::schedule::v1::ScheduleSpec spec;
    if (phrase.ok()) {
      spec = *phrase;
    } else {
      spec.add_cron_string(f.backup_schedule);
    }
    auto compiled = scheduler::CompiledSpec::Compile(spec);
    if (!compiled.ok()) {
      std::fprintf(stderr, "error: invalid --backup-schedule \"%s\": not a schedule phrase (%s) nor a cron string (%s)\n",
                   f.backup_schedule.c_str(), phrase.status().message().c_str(), compiled.status().message().c_str());
      return 2;
    }
    backup_spec = std::move(compiled).value();
  }
  if (f.ui_port || f.http_port || f.metrics_port) {
    TL_LOG_WARN("--ui-port, --http-port and --metrics-port are accepted but not implemented yet");
  }
  // --search-attribute Name=Type (Type case-insensitive, as the temporal CLI).
  visibility::TypeMap startup_sas;
  for (const auto& kv : f.search_attributes) {
    size_t eq = kv.find('=');
    std::string name = eq == std::string::npos ? "" : kv.substr(0, eq);
    auto type = eq == std::string::npos ? std::nullopt : visibility::ParseTypeName(kv.substr(eq + 1));
    if (name.empty()) {
      std::fprintf(stderr, "error: invalid search attributes: %s: want KEY=VALUE\n", kv.c_str());
      return 2;
    }
    if (!type) {
      std::fprintf(stderr, "error: invalid search attribute value type \"%s\"\n", kv.substr(eq + 1).c_str());
      return 2;
    }
    if (!visibility::IsValidName(name)) {
      std::fprintf(stderr, "error: invalid search attribute name %s: use letters, digits, '_', '-' and '.', starting with a letter\n",
                   name.c_str());
      return 2;
    }
    if (visibility::IsReserved(name)) {
      std::fprintf(stderr, "error: search attribute %s is reserved by system\n", name.c_str());
      return 2;
    }
    startup_sas[name] = *type;
  }

  // Block termination signals in every thread; the main thread waits for them with sigwait.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  std::string db_path = f.ephemeral ? ":memory:" : f.db_filename;
  if (db_path.empty()) db_path = ".temporal-data/temporalite.db";
  std::unique_ptr<persistence::DirLock> lock;
  if (db_path != ":memory:") {
    std::filesystem::path p = std::filesystem::absolute(db_path);
    db_path = p.string();
    auto l = persistence::DirLock::Acquire(p.parent_path().string());
    if (!l.ok()) {
      std::fprintf(stderr, "error: %s\n", l.status().message().c_str());
      return 1;
    }
    lock = std::move(l).value();
  }
  persistence::SqliteOptions so;
  so.path = db_path;
  so.extra_pragmas = f.sqlite_pragmas;
  auto store_or = persistence::OpenSqliteStore(so);
  if (!store_or.ok()) {
    std::fprintf(stderr, "error: cannot open database %s: %s\n", db_path.c_str(), store_or.status().message().c_str());
    return 1;
  }
  std::unique_ptr<persistence::Store> store = std::move(store_or).value();

  SystemClock clock;
  TimerService timers(clock);
  history::EngineOptions eo;
  eo.extra_namespaces = f.namespaces;
  eo.startup_search_attributes = startup_sas;
  history::Engine engine(*store, clock, timers, eo);
  // Cron workflows (cronSchedule on start): the next fire time from the schedule-spec library.
  engine.set_cron_next([](const std::string& cron, TimePoint after) {
    temporal::api::schedule::v1::ScheduleSpec spec;
    spec.add_cron_string(cron);
    auto compiled = scheduler::CompiledSpec::Compile(spec);
    return compiled.ok() ? compiled->Next(after) : TimePoint::max();
  });
  // Schedules: the scheduler drives the engine through EngineRunner and hears about closes.
  server::EngineRunner runner(engine, clock);
  scheduler::Scheduler sched(*store, clock, timers, runner);
  // Failure alerts (--alert-webhook): reads closes back from visibility; state next to the database.
  std::unique_ptr<alerts::Alerter> alerter;
  if (!f.alert_webhook.empty()) {
    if (f.alert_after < 1) {
      std::fprintf(stderr, "error: --alert-after must be at least 1\n");
      return 2;
    }
    alerts::AlerterOptions ao;
    ao.alert_after = f.alert_after;
    if (db_path != ":memory:") ao.state_path = (std::filesystem::path(db_path).parent_path() / "alerts-state.json").string();
    const std::string url = f.alert_webhook;
    alerter = std::make_unique<alerts::Alerter>(*store, clock, ao, [url](const std::string& json) { return ops::PostJson(url, json); });
    Status as = alerter->Load();
    if (!as.ok()) {
      std::fprintf(stderr, "error: %s\n", as.message().c_str());
      return 1;
    }
  }
  engine.set_run_closed_listener([&sched, &alerter](const history::Engine::RunClosed& rc) {
    sched.OnRunClosed(rc.namespace_id, rc.workflow_id, rc.run_id, rc.status, rc.chain_continues, rc.failure_message,
                      rc.result, rc.failure);
    if (alerter) alerter->Nudge();
  });
  Status s = engine.Recover();
  if (s.ok()) s = sched.Recover();
  if (!s.ok()) {
    std::fprintf(stderr, "error: recovery failed: %s\n", s.ToString().c_str());
    return 1;
  }
  engine.StartRetention();
  std::thread timer_thread([&timers] { timers.RunLoop(); });
  std::thread alert_thread;
  if (alerter) alert_thread = std::thread([&alerter] { alerter->Run(); });

  frontend::WorkflowServiceImpl workflow_service(engine, sched, clock, {std::string(kVersion)});
  frontend::OperatorServiceImpl operator_service(engine);
  admin::AdminServiceImpl admin_service(clock, {std::string(kVersion), db_path == ":memory:" ? "" : db_path});
  std::unique_ptr<ops::BackupScheduler> backups;
  std::thread backup_thread;
  if (backup_spec) {
    admin_service.SetBackupSchedule(f.backup_to, f.backup_schedule);
    ops::BackupScheduler::Options bo{db_path, f.backup_to, f.backup_keep, std::string(kVersion), {}};
    backups = std::make_unique<ops::BackupScheduler>(
        clock, [&backup_spec](TimePoint after) { return backup_spec->Next(after); }, bo,
        [&admin_service](const ops::ScheduledBackupResult& r) {
          admin_service.RecordScheduledBackup(r.at_unix_ms, r.ok, r.name, r.error, r.next_unix_ms);
        });
    backup_thread = std::thread([&backups] { backups->Run(); });
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(f.ip + ":" + std::to_string(f.port), grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&workflow_service);
  builder.RegisterService(&operator_service);
  builder.RegisterService(&admin_service);
  builder.SetMaxReceiveMessageSize(128 * 1024 * 1024);
  builder.SetMaxSendMessageSize(128 * 1024 * 1024);
  // SDKs ping every 30 s even when idle; permit it rather than answer with GOAWAY too_many_pings.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "error: cannot listen on %s:%d (is another server running?)\n", f.ip.c_str(), f.port);
    if (alerter) {
      alerter->Stop();
      alert_thread.join();
    }
    if (backups) {
      backups->Stop();
      backup_thread.join();
    }
    timers.Stop();
    timer_thread.join();
    store->Close();
    return 1;
  }
  std::printf("Temporalite %s (Temporal API from @temporalio/core-bridge 1.24.0)\n\n", kVersion);
  std::printf("Server:  %s:%d\n", f.ip.c_str(), bound_port);
  std::printf("Data:    %s\n", db_path.c_str());
  std::printf("UI:      not available yet\n");
  std::fflush(stdout);
  TL_LOG_INFO("serving Temporal gRPC on %s:%d, data in %s", f.ip.c_str(), bound_port, db_path.c_str());

  int sig = 0;
  sigwait(&sigs, &sig);
  TL_LOG_INFO("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Ends waiting long polls and lets in-flight requests finish (their commits complete).
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  server->Wait();
  if (alerter) {
    alerter->Stop();
    alert_thread.join();
  }
  if (backups) {
    backups->Stop();  // a backup in progress finishes first
    backup_thread.join();
  }
  timers.Stop();
  timer_thread.join();
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
  dev->add_option("--ui-port", f.ui_port, "Port for the Web UI (not implemented yet)");
  dev->add_option("--http-port", f.http_port, "Port for the HTTP API (not implemented yet)");
  dev->add_option("--metrics-port", f.metrics_port, "Port for /metrics (not implemented yet)");
  dev->add_option("--log-level", f.log_level, "debug, info, warn, error or never")->capture_default_str();
  dev->add_option("--log-format", f.log_format, "text or json")->check(CLI::IsMember({"text", "json", "pretty"}));
  dev->add_option("-n,--namespace", f.namespaces, "Namespaces to create at launch (default always exists)");
  dev->add_option("--sqlite-pragma", f.sqlite_pragmas, "SQLite pragma name=value applied at start");
  dev->add_option("--search-attribute", f.search_attributes, "Search attributes to register at start, Name=Type (repeatable)");
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
  std::string config_path;
  dev->add_option("--config", config_path,
                  "YAML file with any of these flags as keys (e.g. port: 7233); flags given here win (env TEMPORALITE_CONFIG)")
      ->envname("TEMPORALITE_CONFIG");
  int rc = 0;
  dev->callback([&] { rc = RunServer(f); });
  temporalite::cli::RegisterCommands(app, &rc);
  temporalite::ops::RegisterBackupCommands(&app, &rc);
  temporalite::ops::RegisterDoctorCommand(&app, &rc);
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
        std::fprintf(stderr, "error: %s\n", extra.status().message().c_str());
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
