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

}  // namespace

int main(int argc, char** argv) {
  int64_t workflows = 1000000;
  int iterations = 200;
  std::string dir = std::filesystem::temp_directory_path().string();
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--workflows") workflows = std::atoll(next().c_str());
    else if (a == "--iterations") iterations = std::atoi(next().c_str());
    else if (a == "--dir") dir = next();
    else if (a == "--keep") keep = true;
    else {
      std::fprintf(stderr, "usage: visibility_bench [--workflows N] [--iterations N] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  if (workflows < 1000 || iterations < 1) {
    std::fprintf(stderr, "error: want --workflows >= 1000 and --iterations >= 1\n");
    return 2;
  }
  std::string tmpl = (std::filesystem::path(dir) / "tl_visbench_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string db_path = tmpl + "/temporalite.db";

  persistence::SqliteOptions so;
  so.path = db_path;
  auto store_or = persistence::OpenSqliteStore(so);
  if (!store_or.ok()) return Fail(store_or.status(), "opening store");
  auto store = std::move(store_or).value();

  const std::string ns_id = std::string(kNamespaceIdLen - 4, 'n') + "0001";
  const visibility::TypeMap custom = {{"CustomerId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
                                      {"Amount", ev1::INDEXED_VALUE_TYPE_INT},
                                      {"Region", ev1::INDEXED_VALUE_TYPE_KEYWORD}};
  const char* regions[] = {"eu-west", "eu-central", "us-east", "us-west", "ap-south"};
  std::mt19937_64 rng(42);
  // Statuses: 70% completed, 20% failed, 5% terminated, 5% timed out.
  auto pick_status = [&]() {
    int r = static_cast<int>(rng() % 100);
    if (r < 70) return ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED;
    if (r < 90) return ev1::WORKFLOW_EXECUTION_STATUS_FAILED;
    if (r < 95) return ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED;
    return ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
  };

  {
    // As AddSearchAttributes does: an expression index per (scalar) custom attribute.
    persistence::WriteBatch b;
    for (const auto& [name, type] : custom) b.index_search_attributes.push_back(name);
    Status s = store->CommitSync(std::move(b));
    if (!s.ok()) return Fail(s, "indexing custom attributes");
  }
  std::fprintf(stderr, "loading %lld closed workflows into %s ...\n", static_cast<long long>(workflows), db_path.c_str());
  auto load_start = Clock::now();
  const int64_t base_ns = 1704067200LL * 1000000000;  // 2024-01-01
  const int64_t batch_size = 20000;
  for (int64_t first = 0; first < workflows; first += batch_size) {
    persistence::WriteBatch b;
    int64_t last = std::min(workflows, first + batch_size);
    for (int64_t i = first; i < last; ++i) {
      char run_id[64];
      std::snprintf(run_id, sizeof run_id, "%08llx-0000-7000-8000-%012llx", static_cast<unsigned long long>(i),
                    static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
      const std::string wid = "order-" + std::to_string(i);
      const std::string type = "Type" + std::to_string(i % kTypes);
      const int64_t start = base_ns + i * 1000000000LL;  // one start per second
      const int64_t close = start + static_cast<int64_t>(rng() % 600) * 1000000000LL;
      auto status = pick_status();

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
      v.namespace_id = ns_id;
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
      v.search_attributes_json = visibility::ToJsonColumn(sa, custom);
      v.info = info.SerializeAsString();
      b.upsert_visibility.push_back(std::move(v));

      // The execution row a closed run keeps until retention (its state blob is ~300 bytes).
      persistence::ExecutionRow e;
      e.namespace_id = ns_id;
      e.workflow_id = wid;
      e.run_id = run_id;
      e.open = false;
      e.close_time_unix_nanos = close;
      e.state = std::string(300, 's');
      b.upsert_executions.push_back(std::move(e));
    }
    Status s = store->CommitSync(std::move(b));
    if (!s.ok()) return Fail(s, "loading");
  }
  std::fprintf(stderr, "loaded in %.1f s\n", Ms(Clock::now() - load_start) / 1000);
  // Reopen so measurements start from a cold page cache of this connection, not the writer's.
  store->Close();
  store.reset();
  store_or = persistence::OpenSqliteStore(so);
  if (!store_or.ok()) return Fail(store_or.status(), "reopening store");
  store = std::move(store_or).value();

  auto compile = [&](const std::string& q) {
    auto c = visibility::CompileQuery(q, custom);
    if (!c.ok()) {
      std::fprintf(stderr, "error: %s\n", c.status().ToString().c_str());
      std::exit(1);
    }
    persistence::VisibilityQuery vq;
    vq.namespace_id = ns_id;
    vq.where = c->where;
    vq.args = c->args;
    vq.order_by = c->order_by;
    return vq;
  };

  std::vector<double> first_page, next_pages, counts, custom_list, selective_list, selective_count;
  size_t rows_seen = 0;
  for (int it = 0; it < iterations; ++it) {
    const std::string type = "Type" + std::to_string(it % kTypes);
    auto q = compile("WorkflowType='" + type + "' AND ExecutionStatus='Failed'");
    q.limit = 101;  // a page of 100 plus one to know whether there is a next page (as the server does)
    for (int page = 0; page < 5; ++page) {
      auto t0 = Clock::now();
      auto r = store->ListVisibility(q);
      double ms = Ms(Clock::now() - t0);
      if (!r.ok()) return Fail(r.status(), "list");
      if (r->infos.size() < 101) {
        std::fprintf(stderr, "error: expected full pages, got %zu rows\n", r->infos.size());
        return 1;
      }
      // Decode the page like the server does.
      for (size_t k = 0; k < 100; ++k) {
        ::temporal::api::workflow::v1::WorkflowExecutionInfo info;
        if (!info.ParseFromString(r->infos[k])) return 1;
        rows_seen++;
      }
      (page == 0 ? first_page : next_pages).push_back(ms);
      q.after = r->cursors[99];
    }
    auto cq = compile("WorkflowType='" + type + "' AND ExecutionStatus='Failed'");
    auto t0 = Clock::now();
    auto n = store->CountVisibility(cq);
    counts.push_back(Ms(Clock::now() - t0));
    if (!n.ok()) return Fail(n.status(), "count");
    if (it < 10) {
      auto uq = compile("Region = 'eu-west' AND WorkflowType='" + type + "'");
      uq.limit = 101;
      auto t1 = Clock::now();
      auto r = store->ListVisibility(uq);
      custom_list.push_back(Ms(Clock::now() - t1));
      if (!r.ok()) return Fail(r.status(), "custom list");
      // A selective custom attribute alone (~100 of 1M rows): served by its expression index.
      auto sq = compile("CustomerId = 'customer-" + std::to_string(it * 37) + "'");
      sq.limit = 101;
      t1 = Clock::now();
      r = store->ListVisibility(sq);
      selective_list.push_back(Ms(Clock::now() - t1));
      if (!r.ok()) return Fail(r.status(), "selective list");
      t1 = Clock::now();
      auto sc = store->CountVisibility(sq);
      selective_count.push_back(Ms(Clock::now() - t1));
      if (!sc.ok()) return Fail(sc.status(), "selective count");
    }
  }
  auto all = compile("");
  auto t0 = Clock::now();
  auto total = store->CountVisibility(all);
  double count_all = Ms(Clock::now() - t0);
  if (!total.ok()) return Fail(total.status(), "count all");
  auto failed = compile("ExecutionStatus='Failed'");
  t0 = Clock::now();
  auto nfailed = store->CountVisibility(failed);
  double count_failed = Ms(Clock::now() - t0);
  store->Close();

  uintmax_t db_bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(tmpl)) db_bytes += f.file_size();

  std::printf("workflows loaded:            %lld (closed, 3 custom search attributes, %d types)\n",
              static_cast<long long>(*total), kTypes);
  std::printf("list first page of 100:      p50 %.2f ms  p99 %.2f ms  (WorkflowType='X' AND ExecutionStatus='Failed', %d runs)\n",
              Percentile(first_page, 0.5), Percentile(first_page, 0.99), iterations);
  std::printf("list next pages (cursor):    p50 %.2f ms  p99 %.2f ms  (pages 2-5)\n", Percentile(next_pages, 0.5),
              Percentile(next_pages, 0.99));
  std::printf("count same filter:           p50 %.2f ms  p99 %.2f ms\n", Percentile(counts, 0.5), Percentile(counts, 0.99));
  std::printf("count ExecutionStatus='Failed': %.2f ms (%lld)\n", count_failed, static_cast<long long>(nfailed.value()));
  std::printf("count all:                   %.2f ms\n", count_all);
  std::printf("list custom attribute filter: p50 %.2f ms  (Region='eu-west' AND WorkflowType='X', first page)\n",
              Percentile(custom_list, 0.5));
  std::printf("list/count CustomerId='c':   p50 %.2f ms / %.2f ms  (custom Keyword alone, ~0.01%% of rows, expression index)\n",
              Percentile(selective_list, 0.5), Percentile(selective_count, 0.5));
  std::printf("database size:               %.1f MB (visibility + execution rows, no history events)\n",
              static_cast<double>(db_bytes) / (1024 * 1024));
  if (!keep) std::filesystem::remove_all(tmpl);
  return 0;
}
