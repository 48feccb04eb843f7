// C++ SDK: local activities run in the worker, recorded as markers, replayed from them.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdk_fixture.h"

namespace sdk_test {
namespace {

// ---- local activities ----

std::atomic<int> g_triple_calls{0}, g_flaky_calls{0};

Task<std::string> LocalWorkflow(WorkflowContext& ctx) {
  LocalActivityOptions lo;
  auto a = ctx.ExecuteLocalActivity<int>("Triple", lo, 7);
  int x = co_await a;
  LocalActivityOptions flaky;
  flaky.retry_policy = RetryPolicy{.initial_interval = 10ms, .maximum_attempts = 5};
  auto b = ctx.ExecuteLocalActivity<std::string>("Flaky", flaky);
  std::string y = co_await b;
  auto t = ctx.Sleep(10ms);
  co_await t;
  std::string z;
  auto c = ctx.ExecuteLocalActivity<void>("Broken", lo);
  try {
    co_await c;
  } catch (const ActivityFailure& f) {
    auto* app = dynamic_cast<ApplicationFailure*>(f.cause().get());
    z = app ? app->type : "?";
  }
  co_return std::to_string(x) + " " + y + " " + z;
}

TEST_F(SdkTest, LocalActivitiesRunInTheWorkerAndReplayFromMarkers) {
  g_triple_calls = 0;
  g_flaky_calls = 0;
  auto w = NewWorker();
  w->RegisterWorkflow("Local", LocalWorkflow);
  w->RegisterActivity("Triple", [](int v) {
    ++g_triple_calls;
    return 3 * v;
  });
  w->RegisterActivity("Flaky", [](ActivityContext& ctx) {
    ++g_flaky_calls;
    if (ctx.info().attempt < 3) throw std::runtime_error("not yet");
    return std::string("ok after ") + std::to_string(ctx.info().attempt);
  });
  w->RegisterActivity("Broken", []() { throw ApplicationFailure::NonRetryable("broken", "BrokenError"); });
  w->Start();
  auto h = client_->Start("Local", Opts("local-1"));
  EXPECT_EQ(h.Result<std::string>(30s), "21 ok after 3 BrokenError");
  EXPECT_EQ(g_triple_calls.load(), 1);
  EXPECT_EQ(g_flaky_calls.load(), 3);
  auto events = h.FetchHistory();
  int markers = 0, scheduled = 0;
  std::vector<nlohmann::json> data;
  for (const auto& e : events) {
    if (e.has_marker_recorded_event_attributes()) {
      // sdk-core's format: "core_local_activity", details "data" (JSON) and "result".
      const auto& m = e.marker_recorded_event_attributes();
      EXPECT_EQ(m.marker_name(), "core_local_activity");
      ++markers;
      const auto& p = m.details().at("data").payloads(0);
      EXPECT_EQ(p.metadata().at("encoding"), "json/plain");
      data.push_back(nlohmann::json::parse(p.data()));
      EXPECT_EQ(m.has_failure(), data.back()["activity_type"] == "Broken");
      EXPECT_EQ(m.details().count("result") == 1, !m.has_failure());
    }
    scheduled += e.has_activity_task_scheduled_event_attributes();
  }
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0]["seq"], 1);
  EXPECT_EQ(data[0]["activity_id"], "1");
  EXPECT_EQ(data[0]["activity_type"], "Triple");
  EXPECT_EQ(data[0]["attempt"], 1);
  EXPECT_EQ(data[1]["activity_type"], "Flaky");
  EXPECT_EQ(data[1]["attempt"], 3);
  for (const auto& d : data) {
    for (const char* k : {"seq", "attempt", "activity_id", "activity_type", "complete_time", "backoff",
                          "original_schedule_time"}) {
      EXPECT_TRUE(d.contains(k)) << k << " in " << d.dump();
    }
    EXPECT_TRUE(d["complete_time"].contains("seconds"));
  }
  EXPECT_EQ(markers, 3);
  EXPECT_EQ(scheduled, 0);
  // Replay reads the markers: nothing runs again.
  Replayer r;
  r.RegisterWorkflow("Local", LocalWorkflow);
  EXPECT_NO_THROW(r.ReplayHistory(events));
  EXPECT_EQ(g_triple_calls.load(), 1);
  // A changed local activity is a non-determinism error.
  Replayer changed;
  changed.RegisterWorkflow("Local", [](WorkflowContext& ctx) -> Task<std::string> {
    LocalActivityOptions lo;
    auto a = ctx.ExecuteLocalActivity<int>("Quadruple", lo, 7);
    int x = co_await a;
    co_return std::to_string(x);
  });
  try {
    changed.ReplayHistory(events);
    FAIL() << "expected a non-determinism error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("local activity Quadruple"), std::string::npos) << e.what();
  }
}

// ---- a local activity longer than the workflow task timeout: workflow-task heartbeats ----

std::atomic<bool> g_slow_started{false};

Task<std::string> LongLocalWorkflow(WorkflowContext& ctx) {
  auto signals = std::make_shared<std::vector<std::string>>();
  ctx.SetSignalHandler("note", [signals](std::string s) { signals->push_back(s); });
  // A timer issued before the local activity: its command leaves with the first heartbeat.
  auto timer = ctx.Sleep(1h);
  LocalActivityOptions lo;
  lo.schedule_to_close = 30s;
  auto a = ctx.ExecuteLocalActivity<std::string>("SlowLocal", lo, 8500);
  std::string r = co_await a;
  co_return r + " signals=" + std::to_string(signals->size());
}

TEST_F(SdkTest, LocalActivityLongerThanTheTaskTimeoutHeartbeatsTheTask) {
  g_slow_started = false;
  auto w = NewWorker();
  w->RegisterWorkflow("LongLocal", LongLocalWorkflow);
  w->RegisterActivity("SlowLocal", [](int ms) {
    g_slow_started = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return std::string("slept");
  });
  w->Start();
  auto o = Opts("long-local-1");
  o.task_timeout = 4s;  // heartbeats at 3.2 s: a margin for a loaded machine
  auto h = client_->Start("LongLocal", o);
  for (int i = 0; i < 200 && !g_slow_started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(g_slow_started.load());
  std::this_thread::sleep_for(300ms);
  h.Signal("note", std::string("during the local activity"));
  EXPECT_EQ(h.Result<std::string>(30s), "slept signals=1");
  auto events = h.FetchHistory();
  std::vector<int> types;
  int heartbeats = 0, markers = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    EXPECT_FALSE(e.has_workflow_task_timed_out_event_attributes()) << "event " << e.event_id();
    EXPECT_FALSE(e.has_workflow_task_failed_event_attributes()) << "event " << e.event_id();
    if (e.has_workflow_task_started_event_attributes() && i > 2) {
      // Tasks after the first were started by the heartbeat completions, not by polls.
      if (e.workflow_task_started_event_attributes().request_id() == "request-from-RespondWorkflowTaskCompleted") {
        ++heartbeats;
      }
    }
    markers += e.has_marker_recorded_event_attributes();
  }
  EXPECT_GE(heartbeats, 2);
  EXPECT_EQ(markers, 1);
  // The timer left with the first heartbeat: right after the first WorkflowTaskCompleted.
  ASSERT_GT(events.size(), 5u);
  EXPECT_TRUE(events[3].has_workflow_task_completed_event_attributes());
  EXPECT_TRUE(events[4].has_timer_started_event_attributes());
  // The history replays: the signal applied between heartbeats, the marker read in a later task.
  Replayer r;
  r.RegisterWorkflow("LongLocal", LongLocalWorkflow);
  EXPECT_NO_THROW(r.ReplayHistory(events));
}

// A history recorded by the official TypeScript SDK (1.24) against this server
// (testdata/ts_local_activity_history.json, `temporalite workflow show -o json`): its
// retryingLocalActivityWorkflow (tests/compat/workflows/wft-heartbeat.js) ran one local activity
// that failed twice, then slept past 80 % of the 4 s workflow task timeout, so the worker heartbeated its
// task: the history has WorkflowTaskCompleted/Scheduled/Started triples before sdk-core's
// core_local_activity marker (attempt 3). The same workflow in C++ replays it.
Task<std::string> TsRetryingLocalActivity(WorkflowContext& ctx, std::string key, int ms) {
  LocalActivityOptions o;
  o.start_to_close = 60s;
  auto a = ctx.ExecuteLocalActivity<std::string>("flakySleep", o, key, ms);
  co_return co_await a;
}

std::string ReadTestData(const std::string& name) {
  // __FILE__ is relative to the compiler's directory (build/tests) when ccache's base dir is set.
  std::filesystem::path here = std::filesystem::path(__FILE__).parent_path();
  if (here.is_relative()) here = std::filesystem::path(TEMPORALITE_DEFAULT_BIN).parent_path() / "tests" / here;
  std::ifstream in(here / "testdata" / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LocalActivityInterop, ReplaysATypeScriptHistoryWithHeartbeatsAndItsMarker) {
  const std::string json = ReadTestData("ts_local_activity_history.json");
  ASSERT_FALSE(json.empty());
  auto events = Replayer::ParseHistoryJson(json);
  int heartbeats = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    heartbeats += events[i].has_workflow_task_completed_event_attributes() &&
                  events[i + 1].has_workflow_task_scheduled_event_attributes();
  }
  EXPECT_GE(heartbeats, 1) << "the recorded history has heartbeat tasks";
  Replayer r;
  r.RegisterWorkflow("retryingLocalActivityWorkflow", TsRetryingLocalActivity);
  EXPECT_NO_THROW(r.ReplayHistoryJson(json));
  // The marker's type is checked: another local activity is a non-determinism error.
  Replayer changed;
  changed.RegisterWorkflow("retryingLocalActivityWorkflow", [](WorkflowContext& ctx) -> Task<std::string> {
    auto a = ctx.ExecuteLocalActivity<std::string>("otherActivity", LocalActivityOptions{});
    co_return co_await a;
  });
  try {
    changed.ReplayHistoryJson(json);
    FAIL() << "expected a non-determinism error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("local activity otherActivity"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sdk_test
