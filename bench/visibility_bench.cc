// Visibility benchmark: loads N closed workflows (visibility + execution rows, 3 custom search
// attributes each) straight into a temp SQLite store in large batches (loading is not what is
// measured), then reports list latency (a filtered page of 100, first and following pages),
// count latency and the database size. Queries go through the same compiler the server uses.
//
//   visibility_bench [--workflows 1000000] [--iterations 200] [--dir /tmp] [--keep]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "persistence/store.h"
#include "temporal/api/workflow/v1/message.pb.h"
#include "visibility/query.h"
#include "visibility/search_attributes.h"

namespace {

using namespace temporalite;
namespace ev1 = ::temporal::api::enums::v1;
using Clock = std::chrono::steady_clock;

constexpr int kTypes = 10;
constexpr int64_t kNamespaceIdLen = 36;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

::temporal::api::common::v1::Payload Json(const std::string& data) {
  ::temporal::api::common::v1::Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(data);
  return p;
}

int Fail(const Status& s, const char* what) {
  std::fprintf(stderr, "error: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

struct Args {
  int64_t workflows = 1000000;
  int iterations = 200;
  std::string dir = std::filesystem::temp_directory_path().string();
  bool keep = false;
};

// 0 when the arguments are good, else the exit status (2, a usage error printed).
int ParseArgs(int argc, char** argv, Args* out) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--workflows") out->workflows = std::atoll(next().c_str());
    else if (a == "--iterations") out->iterations = std::atoi(next().c_str());
    else if (a == "--dir") out->dir = next();
    else if (a == "--keep") out->keep = true;
    else {
      std::fprintf(stderr, "usage: visibility_bench [--workflows N] [--iterations N] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  if (out->workflows < 1000 || out->iterations < 1) {
    std::fprintf(stderr, "error: want --workflows >= 1000 and --iterations >= 1\n");
    return 2;
  }
  return 0;
}

const visibility::TypeMap kCustom = {{"CustomerId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
                                     {"Amount", ev1::INDEXED_VALUE_TYPE_INT},
                                     {"Region", ev1::INDEXED_VALUE_TYPE_KEYWORD}};
const std::string kNamespaceId = std::string(kNamespaceIdLen - 4, 'n') + "0001";

// Statuses: 70% completed, 20% failed, 5% terminated, 5% timed out.
ev1::WorkflowExecutionStatus PickStatus(std::mt19937_64& rng) {
  int r = static_cast<int>(rng() % 100);
  if (r < 70) return ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED;
  if (r < 90) return ev1::WORKFLOW_EXECUTION_STATUS_FAILED;
  if (r < 95) return ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED;
  return ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
}

// Closed workflow `i`: its visibility row and the execution row a closed run keeps until
// retention (its state blob is ~300 bytes), added to `b`.
void AddClosedWorkflow(int64_t i, std::mt19937_64& rng, persistence::WriteBatch& b) {
  static const char* regions[] = {"eu-west", "eu-central", "us-east", "us-west", "ap-south"};
  const int64_t base_ns = 1704067200LL * 1000000000;  // 2024-01-01
  char run_id[64];
  std::snprintf(run_id, sizeof run_id, "%08llx-0000-7000-8000-%012llx", static_cast<unsigned long long>(i),
                static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  const std::string wid = "order-" + std::to_string(i);
  const std::string type = "Type" + std::to_string(i % kTypes);
  const int64_t start = base_ns + i * 1000000000LL;  // one start per second
  const int64_t close = start + static_cast<int64_t>(rng() % 600) * 1000000000LL;
  auto status = PickStatus(rng);

  ::temporal::api::common::v1::SearchAttributes sa;
  (*sa.mutable_indexed_fields())["CustomerId"] = Json("\"customer-" + std::to_string(rng() % 10000) + "\"");
  (*sa.mutable_indexed_fields())["Amount"] = Json(std::to_string(rng() % 100000));
  (*sa.mutable_indexed_fields())["Region"] = Json(std::string("\"") + regions[rng() % 5] + "\"");

  ::temporal::api::workflow::v1::WorkflowExecutionInfo info;
  info.mutable_execution()->set_workflow_id(wid);
  info.mutable_execution()->set_run_id(run_id);
  info.mutable_type()->set_name(type);
  info.mutable_start_time()->set_seconds(start / 1000000000);
  info.mutable_close_time()->set_seconds(close / 1000000000);
  info.mutable_execution_time()->set_seconds(start / 1000000000);
  info.set_status(status);
  info.set_history_length(11);
  info.set_task_queue("orders");
  info.set_state_transition_count(6);
  info.set_history_size_bytes(2100);
  info.set_first_run_id(run_id);
  *info.mutable_search_attributes() = sa;
  info.mutable_root_execution()->set_workflow_id(wid);
  info.mutable_root_execution()->set_run_id(run_id);
  info.mutable_execution_duration()->set_seconds((close - start) / 1000000000);

  persistence::VisibilityRow v;
  v.namespace_id = kNamespaceId;
  v.run_id = run_id;
  v.workflow_id = wid;
  v.workflow_type = type;
  v.task_queue = "orders";
  v.status = status;
  v.start_time = start;
  v.execution_time = start;
  v.close_time = close;
  v.execution_duration = close - start;
  v.history_length = 11;
  v.history_size_bytes = 2100;
  v.state_transition_count = 6;
  v.root_workflow_id = wid;
  v.root_run_id = run_id;
  v.search_attributes_json = visibility::ToJsonColumn(sa, kCustom);
  v.info = info.SerializeAsString();
  b.upsert_visibility.push_back(std::move(v));

  persistence::ExecutionRow e;
  e.namespace_id = kNamespaceId;
  e.workflow_id = wid;
  e.run_id = run_id;
  e.open = false;
  e.close_time_unix_nanos = close;
  e.state = std::string(300, 's');
  b.upsert_executions.push_back(std::move(e));
}

// The custom attributes' indexes (as AddSearchAttributes makes them), then `workflows` closed
// workflows in batches of 20,000.
int Load(persistence::Store& store, int64_t workflows) {
  {
    persistence::WriteBatch b;
    for (const auto& [name, type] : kCustom) b.index_search_attributes.push_back(name);
    Status s = store.CommitSync(std::move(b));
    if (!s.ok()) return Fail(s, "indexing custom attributes");
  }
  std::mt19937_64 rng(42);
  const int64_t batch_size = 20000;
  for (int64_t first = 0; first < workflows; first += batch_size) {
    persistence::WriteBatch b;
    const int64_t last = std::min(workflows, first + batch_size);
    for (int64_t i = first; i < last; ++i) AddClosedWorkflow(i, rng, b);
    Status s = store.CommitSync(std::move(b));
    if (!s.ok()) return Fail(s, "loading");
  }
  return 0;
}

persistence::VisibilityQuery Compile(const std::string& q) {
  auto c = visibility::CompileQuery(q, kCustom);
  if (!c.ok()) {
    std::fprintf(stderr, "error: %s\n", c.status().ToString().c_str());
    std::exit(1);
  }
  persistence::VisibilityQuery vq;
  vq.namespace_id = kNamespaceId;
  vq.where = c->where;
  vq.args = c->args;
  vq.order_by = c->order_by;
  return vq;
}

struct Timings {
  std::vector<double> first_page, next_pages, counts, custom_list, selective_list, selective_count;
  double count_all = 0, count_failed = 0;
  int64_t total = 0, failed = 0;
};

// Five pages of 100 of a type's failed runs (decoded as the server does) and their count.
int MeasurePagesAndCount(persistence::Store& store, const std::string& type, Timings& t) {
  auto q = Compile("WorkflowType='" + type + "' AND ExecutionStatus='Failed'");
  q.limit = 101;  // a page of 100 plus one to know whether there is a next page (as the server does)
  for (int page = 0; page < 5; ++page) {
    auto t0 = Clock::now();
    auto r = store.ListVisibility(q);
    double ms = Ms(Clock::now() - t0);
    if (!r.ok()) return Fail(r.status(), "list");
    if (r->infos.size() < 101) {
      std::fprintf(stderr, "error: expected full pages, got %zu rows\n", r->infos.size());
      return 1;
    }
    for (size_t k = 0; k < 100; ++k) {
      ::temporal::api::workflow::v1::WorkflowExecutionInfo info;
      if (!info.ParseFromString(r->infos[k])) return 1;
    }
    (page == 0 ? t.first_page : t.next_pages).push_back(ms);
    q.after = r->cursors[99];
  }
  auto cq = Compile("WorkflowType='" + type + "' AND ExecutionStatus='Failed'");
  auto t0 = Clock::now();
  auto n = store.CountVisibility(cq);
  t.counts.push_back(Ms(Clock::now() - t0));
  if (!n.ok()) return Fail(n.status(), "count");
  return 0;
}

// A custom attribute with the type, and a selective custom attribute alone (~100 of 1M rows:
// served by its expression index), listed and counted.
int MeasureCustom(persistence::Store& store, int it, const std::string& type, Timings& t) {
  auto uq = Compile("Region = 'eu-west' AND WorkflowType='" + type + "'");
  uq.limit = 101;
  auto t1 = Clock::now();
  auto r = store.ListVisibility(uq);
  t.custom_list.push_back(Ms(Clock::now() - t1));
  if (!r.ok()) return Fail(r.status(), "custom list");
  auto sq = Compile("CustomerId = 'customer-" + std::to_string(it * 37) + "'");
  sq.limit = 101;
  t1 = Clock::now();
  r = store.ListVisibility(sq);
  t.selective_list.push_back(Ms(Clock::now() - t1));
  if (!r.ok()) return Fail(r.status(), "selective list");
  t1 = Clock::now();
  auto sc = store.CountVisibility(sq);
  t.selective_count.push_back(Ms(Clock::now() - t1));
  if (!sc.ok()) return Fail(sc.status(), "selective count");
  return 0;
}

int Measure(persistence::Store& store, int iterations, Timings& t) {
  for (int it = 0; it < iterations; ++it) {
    const std::string type = "Type" + std::to_string(it % kTypes);
    if (int rc = MeasurePagesAndCount(store, type, t); rc != 0) return rc;
    if (it < 10) {
      if (int rc = MeasureCustom(store, it, type, t); rc != 0) return rc;
    }
  }
  auto t0 = Clock::now();
  auto total = store.CountVisibility(Compile(""));
  t.count_all = Ms(Clock::now() - t0);
  if (!total.ok()) return Fail(total.status(), "count all");
  t.total = *total;
  t0 = Clock::now();
  auto failed = store.CountVisibility(Compile("ExecutionStatus='Failed'"));
  t.count_failed = Ms(Clock::now() - t0);
  if (!failed.ok()) return Fail(failed.status(), "count failed");
  t.failed = *failed;
  return 0;
}

void Print(const Timings& t, int iterations, uintmax_t db_bytes) {
  std::printf("workflows loaded:            %lld (closed, 3 custom search attributes, %d types)\n",
              static_cast<long long>(t.total), kTypes);
  std::printf("list first page of 100:      p50 %.2f ms  p99 %.2f ms  (WorkflowType='X' AND ExecutionStatus='Failed', %d runs)\n",
              Percentile(t.first_page, 0.5), Percentile(t.first_page, 0.99), iterations);
  std::printf("list next pages (cursor):    p50 %.2f ms  p99 %.2f ms  (pages 2-5)\n", Percentile(t.next_pages, 0.5),
              Percentile(t.next_pages, 0.99));
  std::printf("count same filter:           p50 %.2f ms  p99 %.2f ms\n", Percentile(t.counts, 0.5),
              Percentile(t.counts, 0.99));
  std::printf("count ExecutionStatus='Failed': %.2f ms (%lld)\n", t.count_failed, static_cast<long long>(t.failed));
  std::printf("count all:                   %.2f ms\n", t.count_all);
  std::printf("list custom attribute filter: p50 %.2f ms  (Region='eu-west' AND WorkflowType='X', first page)\n",
              Percentile(t.custom_list, 0.5));
  std::printf("list/count CustomerId='c':   p50 %.2f ms / %.2f ms  (custom Keyword alone, ~0.01%% of rows, expression index)\n",
              Percentile(t.selective_list, 0.5), Percentile(t.selective_count, 0.5));
  std::printf("database size:               %.1f MB (visibility + execution rows, no history events)\n",
              static_cast<double>(db_bytes) / (1024 * 1024));
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int rc = ParseArgs(argc, argv, &args); rc != 0) return rc;
  std::string tmpl = (std::filesystem::path(args.dir) / "tl_visbench_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  persistence::SqliteOptions so;
  so.path = tmpl + "/temporalite.db";
  auto store_or = persistence::OpenSqliteStore(so);
  if (!store_or.ok()) return Fail(store_or.status(), "opening store");
  auto store = std::move(store_or).value();

  std::fprintf(stderr, "loading %lld closed workflows into %s ...\n", static_cast<long long>(args.workflows),
               so.path.c_str());
  auto load_start = Clock::now();
  if (int rc = Load(*store, args.workflows); rc != 0) return rc;
  std::fprintf(stderr, "loaded in %.1f s\n", Ms(Clock::now() - load_start) / 1000);
  // Reopen so measurements start from a cold page cache of this connection, not the writer's.
  store->Close();
  store.reset();
  store_or = persistence::OpenSqliteStore(so);
  if (!store_or.ok()) return Fail(store_or.status(), "reopening store");
  store = std::move(store_or).value();

  Timings t;
  if (int rc = Measure(*store, args.iterations, t); rc != 0) return rc;
  store->Close();
  uintmax_t db_bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(tmpl)) db_bytes += f.file_size();
  Print(t, args.iterations, db_bytes);
  if (!args.keep) std::filesystem::remove_all(tmpl);
  return 0;
}
