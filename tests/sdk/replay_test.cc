// C++ SDK: side effects and patches across replay, non-determinism detection, the Replayer.
#include "sdk_fixture.h"

namespace sdk_test {
namespace {

TEST_F(SdkTest, SideEffectsRandomUuidAndPatchesReplay) {
  static std::atomic<int> side_effect_calls{0};
  side_effect_calls = 0;
  auto v1 = [](WorkflowContext& ctx) -> Task<std::string> {
    int v = ctx.SideEffect([] {
      ++side_effect_calls;
      return 7;
    });
    std::string id = ctx.Uuid();
    co_await ctx.Sleep(10ms);
    co_return std::to_string(v) + ":" + id;
  };
  auto w = NewWorker();
  w->RegisterWorkflow("Effects", v1);
  w->Start();
  auto h = client_->Start("Effects", Opts("effects-1"));
  std::string out = h.Result<std::string>();
  EXPECT_EQ(out.substr(0, 2), "7:");
  EXPECT_EQ(out.size(), 2u + 36u);
  EXPECT_EQ(side_effect_calls.load(), 1);  // replays of later tasks took the recorded value
  auto history = h.FetchHistory();
  Replayer same;
  same.RegisterWorkflow("Effects", v1);
  EXPECT_NO_THROW(same.ReplayHistory(history));
  EXPECT_EQ(side_effect_calls.load(), 1);

  // A patched version replays the old history (old branch) and runs the new branch live.
  auto v2 = [](WorkflowContext& ctx) -> Task<std::string> {
    int v = ctx.SideEffect([] { return 7; });
    std::string id = ctx.Uuid();
    if (ctx.Patched("extra-timer")) co_await ctx.Sleep(5ms);
    co_await ctx.Sleep(10ms);
    co_return std::to_string(v) + ":" + id;
  };
  Replayer patched;
  patched.RegisterWorkflow("Effects", v2);
  EXPECT_NO_THROW(patched.ReplayHistory(history));
  w->Shutdown();
  auto w2 = NewWorker();
  w2->RegisterWorkflow("Effects", v2);
  w2->Start();
  auto h2 = client_->Start("Effects", Opts("effects-2"));
  h2.Result<std::string>();
  auto history2 = h2.FetchHistory();
  int timers = 0;
  for (const auto& e : history2) timers += e.has_timer_started_event_attributes();
  EXPECT_EQ(timers, 2);
  EXPECT_NO_THROW(patched.ReplayHistory(history2));
  // The unpatched code cannot replay the new history.
  EXPECT_THROW(same.ReplayHistory(history2), std::runtime_error);
}

TEST_F(SdkTest, ChangedWorkflowFailsTaskWithNondeterminismMessage) {
  auto v1 = [](WorkflowContext& ctx) -> Task<std::string> {
    co_await ctx.ExecuteActivity<void>("A", Short());
    auto go = std::make_shared<bool>(false);
    ctx.SetSignalHandler("go", [go]() { *go = true; });
    auto went = ctx.Condition([go] { return *go; });
    co_await went;
    co_return std::string("v1");
  };
  auto v2 = [](WorkflowContext& ctx) -> Task<std::string> {
    co_await ctx.ExecuteActivity<void>("B", Short());
    co_return std::string("v2");
  };
  {
    auto w = NewWorker();
    w->RegisterWorkflow("Changing", v1);
    w->RegisterActivity("A", []() {});
    w->Start();
    auto h = client_->Start("Changing", Opts("changing-1"));
    // Wait until the workflow waits for the signal (activity done, second task completed).
    for (int i = 0; i < 200; ++i) {
      auto hist = h.FetchHistory();
      if (hist.size() >= 10 && hist.back().event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED) break;
      std::this_thread::sleep_for(50ms);
    }
    Replayer r;
    r.RegisterWorkflow("Changing", v2);
    try {
      r.ReplayHistory(h.FetchHistory());
      FAIL() << "expected a non-determinism error";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("ActivityTaskScheduled(activity_id=1, activity_type=A)"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("ScheduleActivityTask(activity_id=1, activity_type=B)"), std::string::npos)
          << e.what();
    }
  }
  // A worker with the changed code picks the running workflow up: its task fails.
  auto w2 = NewWorker();
  w2->RegisterWorkflow("Changing", v2);
  w2->RegisterActivity("B", []() {});
  w2->Start();
  auto h = client_->GetHandle("changing-1");
  h.Signal("go");
  std::string message;
  for (int i = 0; i < 200 && message.empty(); ++i) {
    for (const auto& e : h.FetchHistory()) {
      if (e.has_workflow_task_failed_event_attributes()) {
        EXPECT_EQ(e.workflow_task_failed_event_attributes().cause(),
                  enums::WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR);
        message = e.workflow_task_failed_event_attributes().failure().message();
      }
    }
    if (message.empty()) std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(message.find("does not match the workflow's command ScheduleActivityTask"), std::string::npos) << message;
  h.Terminate("test done");
}

// Its activity id is derived from the workflow id: a replay must know the id.
Task<std::string> IdWorkflow(WorkflowContext& ctx) {
  ActivityOptions o = Short();
  o.activity_id = ctx.info().workflow_id + "-a";
  co_await ctx.ExecuteActivity<void>("A", o);
  co_return ctx.info().workflow_id;
}

// The JSON of `events` as the Web UI's download (an array of proto3-JSON events) or, with
// `pascal`, in the older form ({"events": [...]}, enums in PascalCase without their prefix).
std::string HistoryJson(const std::vector<HistoryEvent>& events, bool pascal) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : events) {
    std::string s;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(e, &s).ok());
    arr.push_back(nlohmann::json::parse(s));
  }
  if (!pascal) return arr.dump();
  auto pascal_of = [](std::string v, const std::string& prefix) {
    v = v.substr(prefix.size());
    std::string out;
    bool up = true;
    for (char c : v) {
      if (c == '_') { up = true; continue; }
      out += up ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      up = false;
    }
    return out;
  };
  for (auto& e : arr) {
    e["eventType"] = pascal_of(e["eventType"].get<std::string>(), "EVENT_TYPE_");
    for (auto& [k, attrs] : e.items()) {
      if (attrs.is_object() && attrs.contains("taskQueue") && attrs["taskQueue"].contains("kind")) {
        attrs["taskQueue"]["kind"] = pascal_of(attrs["taskQueue"]["kind"].get<std::string>(), "TASK_QUEUE_KIND_");
      }
    }
  }
  return nlohmann::json{{"events", arr}}.dump();
}

TEST_F(SdkTest, ReplayerReadsUiDownloadAndPascalCaseJsonAndKnowsTheWorkflowId) {
  auto w = NewWorker();
  w->RegisterWorkflow("IdWf", IdWorkflow);
  w->RegisterActivity("A", []() {});
  w->Start();
  auto h = client_->Start("IdWf", Opts("replay-id-1"));
  ASSERT_EQ(h.Result<std::string>(30s), "replay-id-1");
  const auto events = h.FetchHistory();
  const std::string ui = HistoryJson(events, false);
  const std::string old = HistoryJson(events, true);
  ASSERT_NE(old.find("\"eventType\":\"WorkflowExecutionStarted\""), std::string::npos);
  ASSERT_NE(old.find("\"kind\":\"Normal\""), std::string::npos);
  auto parsed = Replayer::ParseHistoryJson(old);
  ASSERT_EQ(parsed.size(), events.size());
  EXPECT_EQ(parsed[0].event_type(), enums::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  EXPECT_EQ(parsed[0].workflow_execution_started_event_attributes().task_queue().kind(), enums::TASK_QUEUE_KIND_NORMAL);

  Replayer r;
  r.RegisterWorkflow("IdWf", IdWorkflow);
  EXPECT_NO_THROW(r.ReplayHistoryJson(ui, "replay-id-1"));
  EXPECT_NO_THROW(r.ReplayHistoryJson(old, "replay-id-1"));
  // Another workflow id gives another activity id: the replay sees the mismatch.
  try {
    r.ReplayHistoryJson(ui, "someone-else");
    FAIL() << "expected a non-determinism error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("activity_id=replay-id-1-a"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("activity_id=someone-else-a"), std::string::npos) << e.what();
  }
  // Without an id the replay still has one (not empty).
  Replayer probe;
  auto seen = std::make_shared<std::string>();
  probe.RegisterWorkflow("IdWf", [seen](WorkflowContext& ctx) -> Task<std::string> {
    *seen = ctx.info().workflow_id;
    ActivityOptions o = Short();
    o.activity_id = "replay-id-1-a";
    co_await ctx.ExecuteActivity<void>("A", o);
    co_return std::string();
  });
  probe.ReplayHistoryJson(ui);
  EXPECT_EQ(*seen, "replay-" + h.Describe().workflow_execution_info().execution().run_id());

  EXPECT_THROW(Replayer::ParseHistoryJson("{\"nope\": 1}"), std::invalid_argument);
  EXPECT_THROW(Replayer::ParseHistoryJson("[{\"eventId\": \"x\"}]"), std::invalid_argument);
  EXPECT_THROW(r.ReplayHistoryJson("not json"), std::invalid_argument);
}

}  // namespace
}  // namespace sdk_test
