// C++ SDK: local activities run in the worker, recorded as markers, replayed from them.
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
  for (const auto& e : events) {
    if (e.has_marker_recorded_event_attributes() && e.marker_recorded_event_attributes().marker_name() == "LocalActivity") {
      ++markers;
    }
    scheduled += e.has_activity_task_scheduled_event_attributes();
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

}  // namespace
}  // namespace sdk_test
