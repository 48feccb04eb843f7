// tillless-ingest: the ingestion without the server (the runbook's offline fallback), the
// project's migrations, and a pg-boss command line over the C++ client.
//   tillless-ingest run [--input '{"storeId":"sixty60-jhb","forceRefresh":true}'] [--store-id ID]
//                       [--force-refresh] [--run-id ID] [--env-file .env] [--concurrency N]
//                       [--deadline-seconds N]
//   tillless-ingest worker [--env-file .env] [--task-queue Q]   (the checkers-ingestion worker
//       service: CheckersIngestionWorkflow and its activities on Temporalite, plus the pg-boss
//       consumer of PG_BOSS_QUEUE starting workflows; SIGINT/SIGTERM stop it gracefully)
//   tillless-ingest consume [--once] [--offline] [--env-file .env]   (ingestion requests from
//       PG_BOSS_QUEUE: each starts CheckersIngestionWorkflow, or runs in process with --offline)
//   tillless-ingest check-config [--env-file .env]
//   tillless-ingest migrate                     (DATABASE_URL from the environment or --env-file)
//   tillless-ingest pgboss check|dashboard|create-queue Q|send Q JSON [--id UUID]
//       [--singleton-key K] [--singleton-seconds N] [--retry-limit N] [--expire-in-seconds N]
//       | fetch Q [--batch N] | complete Q ID [JSON] | fail Q ID [JSON]
// Data goes to stdout (JSON), diagnostics to stderr. Exit 0 ok, 1 failed, 2 bad usage/config.
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

#include "ingest/config.h"
#include "ingest/migrations.h"
#include "ingest/offline_runner.h"
#include "ingest/request_consumer.h"
#include "ingest/sixty60_source.h"
#include "worker/checkers_workflow.h"
#include "worker/workflow_starter.h"

using namespace tillless::ingest;  // NOLINT(build/namespaces): a main file

namespace {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

const std::set<std::string> kBoolFlags = {"--force-refresh", "--once", "--offline"};

Args Parse(int argc, char** argv, int from) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      size_t eq = s.find('=');
      if (eq != std::string::npos) {
        a.flags[s.substr(0, eq)] = s.substr(eq + 1);
      } else if (kBoolFlags.count(s) || i + 1 >= argc) {
        a.flags[s] = "true";
      } else {
        a.flags[s] = argv[++i];
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

int Fail(const Status& s, int code) {
  std::cerr << "tillless-ingest: " << s.ToString() << "\n";
  return code;
}

std::string Flag(const Args& a, const std::string& k, const std::string& def = "") {
  auto it = a.flags.find(k);
  return it == a.flags.end() ? def : it->second;
}

void Sleep(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

Result<std::string> DatabaseUrl(const Args& a) {
  if (auto url = Flag(a, "--database-url"); !url.empty()) return url;
  if (const char* e = std::getenv("DATABASE_URL"); e && *e) return std::string(e);
  std::string path = Flag(a, "--env-file", ".env");
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto env = ParseDotEnv(ss.str());
    if (!env.ok()) return env.status();
    if (auto it = env->find("DATABASE_URL"); it != env->end() && !it->second.empty()) return it->second;
  }
  return InvalidArgument("DATABASE_URL is not set (in .env or the environment)");
}

// Everything a run needs, built from the config (the composition root of this binary).
struct Wiring {
  explicit Wiring(const IngestConfig& c)
      : config(c),
        pool(c.database_url),
        boss(pool),
        source(SourceOptions(c), Sleep),
        store(pool),
        activities(source, store, nullptr, c.pgboss_price_queue),
        runner(activities, store, Sleep, [](const std::string& m) { std::cerr << "tillless-ingest: " << m << "\n"; }) {}

  static Sixty60Options SourceOptions(const IngestConfig& c) {
    Sixty60Options so;
    so.base_url = c.retailer_base_url;
    so.client_id = c.retailer_client_id;
    so.client_secret = c.retailer_client_secret;
    so.page_size = c.page_size;
    so.http.request_timeout = std::chrono::milliseconds(c.http_timeout_ms);
    return so;
  }

  // Migrates and checks pg-boss. `require_boss`: a missing pg-boss is an error, not a warning.
  // Returns the exit code on failure, 0 when ready.
  int Prepare(bool require_boss) {
    auto migrated = pool.With([](pqxx::connection& c) { return Migrate(c).status(); });
    if (!migrated.ok()) return Fail(migrated, 1);
    if (Status s = boss.Open(); s.ok()) {
      if (Status q = boss.CreateQueue(config.pgboss_price_queue); !q.ok()) return Fail(q, 1);
      activities.set_publisher(&boss);
    } else if (!require_boss && s.message().find("not installed") != std::string::npos) {
      std::cerr << "tillless-ingest: pg-boss is not installed; price changes are not published\n";
    } else {
      return Fail(s, 2);
    }
    return 0;
  }

  Result<std::string> Run(const RunOptions& o) {
    auto summary = runner.Run(o);
    if (!summary.ok()) return summary.status();
    HttpStats hs = source.Stats();
    auto j = nlohmann::json::parse(summary->ToJson());
    j["http"] = {{"requests", hs.attempts}, {"retried429", hs.retries_429}, {"retried5xx", hs.retries_5xx},
                 {"retriedTransport", hs.retries_transport}};
    return j.dump();
  }

  IngestConfig config;
  ConnectionPool pool;
  PgBossClient boss;
  Sixty60Source source;
  PriceStore store;
  IngestionActivities activities;
  OfflineRunner runner;
};

// Runs pg-boss requests in this process with the offline runner (`consume --offline`).
class OfflineStarter : public RunStarter {
 public:
  explicit OfflineStarter(Wiring& w) : w_(w) {}
  Result<std::string> Run(const IngestRequest& r) override {
    RunOptions o;
    o.store_id = r.store_id;
    o.force_refresh = r.force_refresh;
    o.run_id = r.run_id;
    o.concurrency = w_.config.concurrency;
    return w_.Run(o);
  }

 private:
  Wiring& w_;
};

int RunCommand(const Args& a) {
  std::string env_file = Flag(a, "--env-file", ".env");
  auto config = LoadConfigFromFile(env_file, a.flags.count("--env-file") > 0);
  if (!config.ok()) return Fail(config.status(), 2);
  RunOptions o;
  o.concurrency = config->concurrency;
  if (auto in = Flag(a, "--input"); !in.empty()) {
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("storeId") || !j["storeId"].is_string() ||
        (j.contains("forceRefresh") && !j["forceRefresh"].is_boolean())) {
      return Fail(InvalidArgument("--input must be {\"storeId\": string, \"forceRefresh\": bool}"), 2);
    }
    o.store_id = j["storeId"];
    o.force_refresh = j.value("forceRefresh", false);
  }
  if (auto s = Flag(a, "--store-id"); !s.empty()) o.store_id = s;
  if (Flag(a, "--force-refresh") == "true") o.force_refresh = true;
  if (o.store_id.empty()) return Fail(InvalidArgument("a store id is required (--store-id or --input)"), 2);
  try {
    if (auto c = Flag(a, "--concurrency"); !c.empty()) o.concurrency = std::stoi(c);
    if (auto d = Flag(a, "--deadline-seconds"); !d.empty()) o.deadline = std::chrono::seconds(std::stoi(d));
    if (auto m = Flag(a, "--max-attempts"); !m.empty()) o.max_attempts = std::stoi(m);
  } catch (...) {
    return Fail(InvalidArgument("--concurrency, --deadline-seconds and --max-attempts take integers"), 2);
  }
  o.run_id = Flag(a, "--run-id");
  if (o.run_id.empty()) {
    char buf[32];
    std::time_t now = std::time(nullptr);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    o.run_id = "offline-" + o.store_id + "-" + buf;
  }
  Wiring w(config.value());
  if (int rc = w.Prepare(false); rc != 0) return rc;
  auto out = w.Run(o);
  if (!out.ok()) return Fail(out.status(), 1);
  std::cout << out.value() << std::endl;
  return 0;
}

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop = true; }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// The workflow run's SLA (its execution timeout) when the consumer starts it.
constexpr std::chrono::seconds kWorkflowSla{3600};

// Connects to Temporalite as configured; a clear message naming the settings when it cannot.
Result<std::shared_ptr<temporalite::sdk::Client>> ConnectTemporal(const IngestConfig& c) {
  auto options = temporalite::sdk::ClientOptions::FromEnvironment();
  options.address = c.temporal_address;
  options.ns = c.temporal_namespace;
  try {
    auto probe_options = options;
    probe_options.max_attempts = 3;
    probe_options.rpc_timeout = std::chrono::seconds(5);
    temporalite::sdk::Client::Connect(probe_options);
    return temporalite::sdk::Client::Connect(options);
  } catch (const temporalite::sdk::RpcError& e) {
    Code code = e.code() == grpc::StatusCode::NOT_FOUND ? Code::kNotFound : Code::kUnavailable;
    return Status(code, "cannot use Temporalite at TEMPORAL_ADDRESS=" + c.temporal_address +
                            " with TEMPORAL_NAMESPACE=" + c.temporal_namespace + ": " + e.what());
  }
}

// Takes ingestion requests from PG_BOSS_QUEUE until `g_stop` (or, with `once`, until the queue
// is empty). Returns the number handled, or the error that stopped it.
Result<int> ConsumeLoop(PgBossClient& boss, const std::string& queue, RunStarter& starter, bool once) {
  RequestConsumer consumer(boss, queue, starter);
  int handled = 0;
  while (!g_stop) {
    auto n = consumer.PollOnce(1);
    if (!n.ok()) {
      if (!IsRetryable(n.status())) return n.status();
      std::cerr << "tillless-ingest: " << n.status().ToString() << "; polling again\n";
    } else {
      handled += n.value();
      if (n.value() > 0) continue;
      if (once) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return handled;
}

// Takes ingestion requests from PG_BOSS_QUEUE; --once handles what is queued and exits.
// Each request starts CheckersIngestionWorkflow (a worker must poll the task queue), or runs in
// this process with --offline.
int ConsumeCommand(const Args& a) {
  auto config = LoadConfigFromFile(Flag(a, "--env-file", ".env"), a.flags.count("--env-file") > 0);
  if (!config.ok()) return Fail(config.status(), 2);
  Wiring w(config.value());
  if (int rc = w.Prepare(true); rc != 0) return rc;
  if (Status q = w.boss.CreateQueue(config->pgboss_queue); !q.ok()) return Fail(q, 1);
  InstallStopHandlers();
  OfflineStarter offline(w);
  std::unique_ptr<tillless::worker::WorkflowRunStarter> through_workflows;
  std::shared_ptr<temporalite::sdk::Client> client;
  RunStarter* starter = &offline;
  if (Flag(a, "--offline") != "true") {
    auto c = ConnectTemporal(config.value());
    if (!c.ok()) return Fail(c.status(), 1);
    client = c.value();
    through_workflows = std::make_unique<tillless::worker::WorkflowRunStarter>(
        client, Flag(a, "--task-queue", config->task_queue), kWorkflowSla, g_stop);
    starter = through_workflows.get();
  }
  auto handled = ConsumeLoop(w.boss, config->pgboss_queue, *starter, Flag(a, "--once") == "true");
  if (!handled.ok()) return Fail(handled.status(), 1);
  std::cout << nlohmann::json{{"handled", handled.value()}}.dump() << std::endl;
  return 0;
}

// The checkers-ingestion worker service (`pnpm temporal:worker --worker checkers-ingestion`):
// CheckersIngestionWorkflow and its activities on the task queue, and consumers of
// PG_BOSS_QUEUE that start workflows. Runs until SIGINT/SIGTERM, then stops taking work,
// lets running activities finish (up to the grace period) and exits 0.
int WorkerCommand(const Args& a) {
  auto config = LoadConfigFromFile(Flag(a, "--env-file", ".env"), a.flags.count("--env-file") > 0);
  if (!config.ok()) return Fail(config.status(), 2);
  if (!config->pgboss_queue_set) {
    return Fail(InvalidArgument("PG_BOSS_QUEUE is not set (in .env or the environment): the worker takes "
                                "ingestion requests from that pg-boss queue"), 2);
  }
  std::string task_queue = Flag(a, "--task-queue", config->task_queue);
  InstallStopHandlers();
  Wiring w(config.value());
  if (int rc = w.Prepare(true); rc != 0) return rc;
  if (Status q = w.boss.CreateQueue(config->pgboss_queue); !q.ok()) return Fail(q, 1);
  auto client = ConnectTemporal(config.value());
  if (!client.ok()) return Fail(client.status(), 1);

  temporalite::sdk::WorkerOptions wo;
  wo.task_queue = task_queue;
  wo.max_concurrent_activities = std::max(8, 2 * config->concurrency);
  temporalite::sdk::Worker worker(client.value(), wo);
  tillless::worker::RegisterCheckersIngestion(worker, w.activities, w.store);
  worker.Start();

  tillless::worker::WorkflowRunStarter starter(client.value(), task_queue, kWorkflowSla, g_stop);
  constexpr int kConsumers = 2;
  std::vector<std::thread> consumers;
  std::atomic<bool> consumer_failed{false};
  for (int i = 0; i < kConsumers; ++i) {
    consumers.emplace_back([&] {
      auto r = ConsumeLoop(w.boss, config->pgboss_queue, starter, /*once=*/false);
      if (!r.ok()) {
        std::cerr << "tillless-ingest worker: pg-boss consumer stopped: " << r.status().ToString() << "\n";
        consumer_failed = true;
        g_stop = true;
      }
    });
  }
  std::cerr << "tillless-ingest worker: pid " << getpid() << " polling task queue " << task_queue << " on "
            << config->temporal_address << " (namespace " << config->temporal_namespace
            << "); pg-boss requests from " << config->pgboss_queue << ", price changes to "
            << config->pgboss_price_queue << std::endl;
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cerr << "tillless-ingest worker: stopping (finishing running activities)" << std::endl;
  for (auto& t : consumers) t.join();
  worker.Shutdown();
  std::cerr << "tillless-ingest worker: stopped" << std::endl;
  return consumer_failed ? 1 : 0;
}

int PgBossCommand(const Args& a) {
  if (a.positional.size() < 2) return Fail(InvalidArgument("pgboss needs a subcommand"), 2);
  auto url = DatabaseUrl(a);
  if (!url.ok()) return Fail(url.status(), 2);
  ConnectionPool pool(url.value());
  PgBossClient boss(pool);
  const std::string& cmd = a.positional[1];
  auto arg = [&](size_t i) { return i < a.positional.size() ? a.positional[i] : std::string(); };
  if (cmd != "dashboard") {
    if (Status s = boss.Open(); !s.ok()) return Fail(s, 2);
  }
  if (cmd == "check") {
    std::cout << nlohmann::json{{"schemaVersion", kPgBossSchemaVersion}}.dump() << std::endl;
    return 0;
  }
  if (cmd == "create-queue") {
    Status s = boss.CreateQueue(arg(2), Flag(a, "--policy", "standard"));
    return s.ok() ? 0 : Fail(s, 1);
  }
  if (cmd == "send") {
    SendOptions o;
    o.id = Flag(a, "--id");
    o.singleton_key = Flag(a, "--singleton-key");
    try {
      if (auto v = Flag(a, "--singleton-seconds"); !v.empty()) o.singleton_seconds = std::stoi(v);
      if (auto v = Flag(a, "--retry-limit"); !v.empty()) o.retry_limit = std::stoi(v);
      if (auto v = Flag(a, "--retry-delay"); !v.empty()) o.retry_delay_seconds = std::stoi(v);
      if (auto v = Flag(a, "--expire-in-seconds"); !v.empty()) o.expire_in_seconds = std::stoi(v);
    } catch (...) {
      return Fail(InvalidArgument("numeric pgboss send options take integers"), 2);
    }
    auto id = boss.Send(arg(2), arg(3).empty() ? "{}" : arg(3), o);
    if (!id.ok()) return Fail(id.status(), 1);
    std::cout << nlohmann::json{{"id", id.value().empty() ? nlohmann::json() : nlohmann::json(id.value())}}.dump()
              << std::endl;
    return 0;
  }
  if (cmd == "fetch") {
    int batch = 0;
    try {
      batch = std::stoi(Flag(a, "--batch", "1"));
    } catch (...) {
    }
    if (batch < 1) return Fail(InvalidArgument("--batch takes a positive integer"), 2);
    auto jobs = boss.Fetch(arg(2), batch);
    if (!jobs.ok()) return Fail(jobs.status(), 1);
    nlohmann::json out = nlohmann::json::array();
    for (const Job& j : jobs.value()) {
      out.push_back({{"id", j.id}, {"name", j.queue}, {"data", nlohmann::json::parse(j.data_json)},
                     {"retryCount", j.retry_count}, {"expireInSeconds", j.expire_in_seconds}});
    }
    std::cout << out.dump() << std::endl;
    return 0;
  }
  if (cmd == "complete" || cmd == "fail") {
    std::string payload = arg(4).empty() ? "{}" : arg(4);
    auto r = cmd == "complete" ? boss.Complete(arg(2), arg(3), payload) : boss.Fail(arg(2), arg(3), payload);
    if (!r.ok()) return Fail(r.status(), 1);
    std::cout << nlohmann::json{{"updated", r.value()}}.dump() << std::endl;
    return r.value() ? 0 : 1;
  }
  if (cmd == "dashboard") {
    auto d = boss.Dashboard();
    if (!d.ok()) return Fail(d.status(), 1);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& q : d.value()) {
      out.push_back({{"queue", q.queue}, {"created", q.created}, {"retry", q.retry}, {"active", q.active},
                     {"completed", q.completed}, {"cancelled", q.cancelled}, {"failed", q.failed}});
    }
    std::cout << out.dump() << std::endl;
    return 0;
  }
  return Fail(InvalidArgument("unknown pgboss subcommand " + cmd), 2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: tillless-ingest run|worker|consume|check-config|migrate|pgboss ... (see the file header)\n";
    return 2;
  }
  std::string cmd = argv[1];
  Args a = Parse(argc, argv, 1);
  if (cmd == "run") return RunCommand(a);
  if (cmd == "consume") return ConsumeCommand(a);
  if (cmd == "worker") return WorkerCommand(a);
  if (cmd == "check-config") {
    auto c = LoadConfigFromFile(Flag(a, "--env-file", ".env"), a.flags.count("--env-file") > 0);
    if (!c.ok()) return Fail(c.status(), 2);
    std::cout << "config OK\n";
    return 0;
  }
  if (cmd == "migrate") {
    auto url = DatabaseUrl(a);
    if (!url.ok()) return Fail(url.status(), 2);
    ConnectionPool pool(url.value());
    int applied = 0;
    Status s = pool.With([&](pqxx::connection& c) {
      auto r = Migrate(c);
      if (r.ok()) applied = r.value();
      return r.status();
    });
    if (!s.ok()) return Fail(s, 1);
    std::cout << nlohmann::json{{"applied", applied}, {"version", LatestMigrationVersion()}}.dump() << std::endl;
    return 0;
  }
  if (cmd == "pgboss") return PgBossCommand(a);
  return Fail(InvalidArgument("unknown command " + cmd), 2);
}
