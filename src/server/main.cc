// Composition root: the only place that reads flags, creates threads, and wires the clock,
// store, engine and gRPC services together.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/timer_service.h"
#include "frontend/grpc_log.h"
#include "frontend/operator_service.h"
#include "frontend/request_decoding.h"
#include "frontend/workflow_service.h"
#include "history/engine.h"
#include "persistence/store.h"
#include "scheduler/scheduler.h"
#include "scheduler/spec.h"
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
  bool skip_integrity_check = false;
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
  frontend::InstallGrpcLogHandler();
  if (f.port < 0 || f.port > 65535) {
    std::fprintf(stderr, "error: invalid --port %d\n", f.port);
    return 2;
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
    auto l = persistence::DirLock::AcquireForDatabase(db_path);
    if (!l.ok()) {
      std::fprintf(stderr, "error: %s\n", l.status().message().c_str());
      return 1;
    }
    lock = std::move(l).value();
  }
  persistence::SqliteOptions so;
  so.path = db_path;
  so.extra_pragmas = f.sqlite_pragmas;
  so.integrity_check = !f.skip_integrity_check;
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
  engine.set_run_closed_listener([&sched](const history::Engine::RunClosed& rc) {
    sched.OnRunClosed(rc.namespace_id, rc.workflow_id, rc.run_id, rc.status, rc.chain_continues, rc.failure_message,
                      rc.result, rc.failure);
  });
  Status s = engine.Recover();
  if (s.ok()) s = sched.Recover();
  if (!s.ok()) {
    std::fprintf(stderr, "error: recovery failed: %s\n", s.ToString().c_str());
    return 1;
  }
  engine.StartRetention();
  std::thread timer_thread([&timers] { timers.RunLoop(); });

  frontend::WorkflowServiceImpl workflow_service(engine, sched, clock, {std::string(kVersion)});
  frontend::OperatorServiceImpl operator_service(engine);
  grpc::EnableDefaultHealthCheckService(true);
  frontend::InstallProtobufLogHandler();
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(frontend::NewDecodeErrorInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  int bound_port = 0;
  builder.AddListeningPort(f.ip + ":" + std::to_string(f.port), grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&workflow_service);
  builder.RegisterService(&operator_service);
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
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "error: cannot listen on %s:%d (is another server running?)\n", f.ip.c_str(), f.port);
    timers.Stop();
    timer_thread.join();
    store->Close();
    return 1;
  }
  // Health by service name, as grpc-health-probe and the Java SDK ask (the empty name is SERVING
  // by default).
  server->GetHealthCheckService()->SetServingStatus("temporal.api.workflowservice.v1.WorkflowService", true);
  server->GetHealthCheckService()->SetServingStatus("temporal.api.operatorservice.v1.OperatorService", true);
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
  dev->add_flag("--skip-integrity-check", f.skip_integrity_check,
                "Skip SQLite's quick_check of the database at start (it reads the whole file)");
  dev->add_option("--search-attribute", f.search_attributes, "Search attributes to register at start, Name=Type (repeatable)");
  int rc = 0;
  dev->callback([&] { rc = RunServer(f); });
  temporalite::cli::RegisterCommands(app, &rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (as `temporal` does); --help/--version exit 0.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return rc;
}
