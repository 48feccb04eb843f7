// History replay (replay.h), ResetWorkflowExecution and the external signal / cancel commands,
// with a SimClock. Expected behaviour: Temporal's workflow_resetter.go and transfer-task
// semantics (see src/history/reset_workflow.cc and external.cc).
#include "engine_test_util.h"
#include "history/replay.h"
#include "history/signal_workflow.h"

namespace temporalite::history::testing {
namespace {

inline cmdv1::Command SignalExternal(const std::string& wid, const std::string& name,
                                     const std::function<void(cmdv1::SignalExternalWorkflowExecutionCommandAttributes&)>& edit = {}) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION);
  auto* a = c.mutable_signal_external_workflow_execution_command_attributes();
  a->mutable_execution()->set_workflow_id(wid);
  a->set_signal_name(name);
  *a->mutable_input() = TextPayloads("ext-" + name);
  if (edit) edit(*a);
  return c;
}

inline cmdv1::Command CancelExternal(const std::string& wid) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION);
  auto* a = c.mutable_request_cancel_external_workflow_execution_command_attributes();
  a->set_workflow_id(wid);
  a->set_reason("external cancel");
  return c;
}

inline cmdv1::Command Upsert(const std::string& key, const std::string& value) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
  auto* f = c.mutable_upsert_workflow_search_attributes_command_attributes()->mutable_search_attributes()->mutable_indexed_fields();
  (*f)[key] = TextPayloads(value).payloads(0);
  return c;
}

inline cmdv1::Command StartChild(const std::string& wid) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION);
  auto* a = c.mutable_start_child_workflow_execution_command_attributes();
  a->set_workflow_id(wid);
  a->mutable_workflow_type()->set_name("ChildWorkflow");
  a->mutable_task_queue()->set_name(kTaskQueue);
  return c;
}

class ResetTest : public FileEngineTest {
 protected:
  void SetUp() override {
    // The upserts below need a registered attribute (visibility validates them).
    options_.startup_search_attributes["CustomKeywordField"] = ::temporal::api::enums::v1::INDEXED_VALUE_TYPE_KEYWORD;
    FileEngineTest::SetUp();
  }
  std::vector<hv1::HistoryEvent> HistoryOf(const std::string& wid, const std::string& run_id) {
    Barrier();
    wsv1::GetWorkflowExecutionHistoryRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id(wid);
    req.mutable_execution()->set_run_id(run_id);
    req.set_maximum_page_size(1000);
    wsv1::GetWorkflowExecutionHistoryResponse resp;
    Status s = Call<wsv1::GetWorkflowExecutionHistoryResponse>(
        [&](auto* r, Done d) { engine_->GetWorkflowExecutionHistory(req, r, std::move(d)); }, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return {resp.history().events().begin(), resp.history().events().end()};
  }
  Status Reset(const std::string& wid, const std::string& run_id, int64_t finish_id, std::string* new_run,
               const std::function<void(wsv1::ResetWorkflowExecutionRequest&)>& edit = {}) {
    wsv1::ResetWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_workflow_execution()->set_workflow_id(wid);
    req.mutable_workflow_execution()->set_run_id(run_id);
    req.set_reason("unit reset");
    req.set_workflow_task_finish_event_id(finish_id);
    req.set_request_id("reset-" + std::to_string(++resets_));
    if (edit) edit(req);
    wsv1::ResetWorkflowExecutionResponse resp;
    Status s = Call<wsv1::ResetWorkflowExecutionResponse>(
        [&](auto* r, Done d) { engine_->ResetWorkflowExecution(req, r, std::move(d)); }, &resp);
    if (new_run) *new_run = resp.run_id();
    return s;
  }
  static int64_t LastOfType(const std::vector<hv1::HistoryEvent>& h, ev1::EventType t) {
    for (auto it = h.rbegin(); it != h.rend(); ++it) if (it->event_type() == t) return it->event_id();
    return 0;
  }
  int resets_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Replay

TEST_F(ResetTest, ReplayRebuildsPendingActivitiesTimersSignalsAndUpserts) {
  const std::string run = StartWorkflow("wf-replay");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {ScheduleActivity("a1", Sec(30)), ScheduleActivity("a2", Sec(30)),
                                             StartTimer("t1", Sec(60)), StartTimer("t2", Sec(5))}).ok());
  ASSERT_TRUE(Signal("wf-replay", "s1").ok());
  auto t2 = PollWft();
  ASSERT_TRUE(CompleteWft(t2.task_token(), {CancelTimer("t2"), Upsert("CustomKeywordField", "v1")}).ok());
  auto act = PollActivity();  // a1 completes; a2 stays pending
  ASSERT_TRUE(CompleteActivity(act.task_token(), "done").ok());
  auto h = History("wf-replay");

  state::ExecutionState st;
  ASSERT_TRUE(ReplayHistory(h, &st).ok());
  EXPECT_EQ(st.workflow_type(), "TestWorkflow");
  EXPECT_EQ(st.task_queue(), kTaskQueue);
  EXPECT_EQ(st.status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(st.next_event_id(), static_cast<int64_t>(h.size()) + 1);
  EXPECT_EQ(st.first_execution_run_id(), run);
  EXPECT_EQ(FromPb(st.workflow_task_timeout()), Sec(10));
  // The activity completion scheduled a third task (scheduled, not started).
  EXPECT_NE(st.wft().scheduled_event_id(), 0);
  EXPECT_EQ(st.wft().started_event_id(), 0);
  EXPECT_EQ(st.last_completed_wft_started_id(), t2.started_event_id());
  ASSERT_EQ(st.activities_size(), 1);
  const auto& ai = st.activities().begin()->second;
  EXPECT_EQ(ai.activity_id(), act.activity_id() == "a1" ? "a2" : "a1");
  EXPECT_EQ(FromPb(ai.start_to_close_timeout()), Sec(30));
  EXPECT_EQ(ai.attempt(), 1);
  EXPECT_FALSE(ai.started());
  ASSERT_EQ(st.timers_size(), 1);
  const auto& t = st.timers().at("t1");
  const auto& started = h[t.started_event_id() - 1];
  EXPECT_EQ(started.event_type(), ev1::EVENT_TYPE_TIMER_STARTED);
  EXPECT_EQ(FromPb(t.expiry_time()), FromPb(started.event_time()) + Sec(60));
  EXPECT_EQ(st.signal_count(), 1);
  ASSERT_EQ(st.signal_request_ids_size(), 1);
  EXPECT_EQ(st.signal_request_ids(0), "sig-s1");
  EXPECT_EQ(st.search_attributes().indexed_fields().count("CustomKeywordField"), 1u);
}

TEST_F(ResetTest, ReplayOfAPrefixEndingAtAStartedTaskHasThatTaskStarted) {
  StartWorkflow("wf-prefix");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {ScheduleActivity("a1", Sec(30))}).ok());
  auto h = History("wf-prefix");
  std::vector<hv1::HistoryEvent> prefix(h.begin(), h.begin() + 3);  // Started, WFTScheduled, WFTStarted
  state::ExecutionState st;
  ASSERT_TRUE(ReplayHistory(prefix, &st).ok());
  EXPECT_EQ(st.wft().scheduled_event_id(), 2);
  EXPECT_EQ(st.wft().started_event_id(), 3);
  EXPECT_EQ(st.activities_size(), 0);
  EXPECT_EQ(st.next_event_id(), 4);
}

TEST_F(ResetTest, ReplayRejectsMalformedHistories) {
  StartWorkflow("wf-bad");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {}).ok());
  auto h = History("wf-bad");
  state::ExecutionState st;
  EXPECT_EQ(ReplayHistory({}, &st).code(), Code::kInvalidArgument);
  std::vector<hv1::HistoryEvent> no_start(h.begin() + 1, h.end());
  EXPECT_EQ(ReplayHistory(no_start, &st).code(), Code::kInvalidArgument);
  std::vector<hv1::HistoryEvent> gap = {h[0], h[2]};
  EXPECT_EQ(ReplayHistory(gap, &st).code(), Code::kInvalidArgument);
  auto started_twice = h;
  started_twice[3] = h[2];
  started_twice[3].set_event_id(4);
  EXPECT_EQ(ReplayHistory(started_twice, &st).code(), Code::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Reset

TEST_F(ResetTest, ResetWhileActivityPendingReschedulesItInTheNewRun) {
  const std::string base = StartWorkflow("wf-r1");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {ScheduleActivity("a1", Sec(30))}).ok());
  auto base_act = PollActivity();  // attempt running in the base run
  ASSERT_TRUE(Signal("wf-r1", "s1").ok());
  auto t2 = PollWft();
  ASSERT_TRUE(CompleteWft(t2.task_token(), {}).ok());
  ASSERT_TRUE(Signal("wf-r1", "after").ok());  // after the reset point: reapplied
  auto bh = History("wf-r1");
  const int64_t finish = LastOfType(bh, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  const int64_t scheduled = LastOfType(bh, ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);

  std::string run;
  ASSERT_TRUE(Reset("wf-r1", base, finish, &run).ok());
  ASSERT_FALSE(run.empty());
  EXPECT_NE(run, base);
  EXPECT_EQ(DescribeWf("wf-r1").workflow_execution_info().execution().run_id(), run);

  // The base run is terminated by the resetter with the reason.
  auto after_base = HistoryOf("wf-r1", base);
  ASSERT_EQ(after_base.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_EQ(after_base.back().workflow_execution_terminated_event_attributes().reason(), "unit reset");
  EXPECT_EQ(after_base.back().workflow_execution_terminated_event_attributes().identity(), "history-resetter");
  // The base attempt can no longer complete.
  EXPECT_FALSE(CompleteActivity(base_act.task_token(), "late").ok());

  auto nh = HistoryOf("wf-r1", run);
  EXPECT_TRUE(WellFormed(nh));
  ASSERT_GE(nh.size(), static_cast<size_t>(finish + 2));
  for (int64_t i = 0; i < finish - 1; ++i) EXPECT_EQ(nh[i].SerializeAsString(), bh[i].SerializeAsString()) << i;
  const auto& failed = nh[finish - 1];
  ASSERT_EQ(failed.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED) << Describe(nh);
  const auto& fa = failed.workflow_task_failed_event_attributes();
  EXPECT_EQ(fa.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
  EXPECT_EQ(fa.base_run_id(), base);
  EXPECT_EQ(fa.new_run_id(), run);
  EXPECT_EQ(fa.failure().message(), "unit reset");
  EXPECT_TRUE(fa.failure().has_reset_workflow_failure_info());
  EXPECT_EQ(fa.started_event_id(), finish - 1);
  EXPECT_EQ(nh[finish].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  EXPECT_EQ(nh[finish].workflow_execution_signaled_event_attributes().signal_name(), "after");
  EXPECT_EQ(nh[finish + 1].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(nh[finish + 1].workflow_task_scheduled_event_attributes().attempt(), 1);

  // The pending activity of the prefix is dispatched again, for the new run, as attempt 1.
  auto act = PollActivity();
  EXPECT_EQ(act.workflow_execution().run_id(), run);
  EXPECT_EQ(act.activity_id(), "a1");
  EXPECT_EQ(act.attempt(), 1);
  ASSERT_TRUE(CompleteActivity(act.task_token(), "ok").ok());
  auto t3 = PollWft();
  EXPECT_EQ(t3.workflow_execution().run_id(), run);
  ASSERT_TRUE(CompleteWft(t3.task_token(), {CompleteWorkflow("reset-done")}).ok());
  auto final = HistoryOf("wf-r1", run);
  EXPECT_EQ(final.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  bool completed_prefix_activity = false;
  for (const auto& e : final) {
    if (e.has_activity_task_completed_event_attributes()) {
      completed_prefix_activity = e.activity_task_completed_event_attributes().scheduled_event_id() == scheduled;
    }
  }
  EXPECT_TRUE(completed_prefix_activity) << Describe(final);
}

TEST_F(ResetTest, ResetReArmsPendingTimersAndSurvivesARestart) {
  const std::string base = StartWorkflow("wf-r2");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {StartTimer("t1", Sec(30))}).ok());
  ASSERT_TRUE(Signal("wf-r2", "s1").ok());
  auto t2 = PollWft();
  ASSERT_TRUE(CompleteWft(t2.task_token(), {}).ok());
  std::string run;
  ASSERT_TRUE(Reset("wf-r2", base, LastOfType(History("wf-r2"), ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED), &run).ok());
  Restart();  // the reset run and its timer come back from the database
  auto t3 = PollWft();
  EXPECT_EQ(t3.workflow_execution().run_id(), run);
  ASSERT_TRUE(CompleteWft(t3.task_token(), {}).ok());
  Advance(Sec(31));
  auto h = HistoryOf("wf-r2", run);
  EXPECT_NE(LastOfType(h, ev1::EVENT_TYPE_TIMER_FIRED), 0) << Describe(h);
  auto t4 = PollWft();
  EXPECT_EQ(t4.workflow_execution().run_id(), run);
}

TEST_F(ResetTest, ResetToAScheduledTaskAddsItsStartedEvent) {
  const std::string base = StartWorkflow("wf-r3");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {CompleteWorkflow("first")}).ok());
  // finish id 3 = the WorkflowTaskStarted itself: the prefix ends at the scheduled task (event 2).
  std::string run;
  ASSERT_TRUE(Reset("wf-r3", base, 3, &run).ok());
  auto h = HistoryOf("wf-r3", run);
  EXPECT_TYPES(h, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(h[2].workflow_task_started_event_attributes().identity(), "history-service");
  // A completed base run stays completed.
  EXPECT_EQ(HistoryOf("wf-r3", base).back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
}

TEST_F(ResetTest, ReapplyTypeNoneAndExcludeSignalSkipSignals) {
  for (int variant = 0; variant < 2; ++variant) {
    const std::string wid = "wf-r4-" + std::to_string(variant);
    const std::string base = StartWorkflow(wid);
    auto t1 = PollWft();
    ASSERT_TRUE(CompleteWft(t1.task_token(), {}).ok());
    ASSERT_TRUE(Signal(wid, "late").ok());
    std::string run;
    ASSERT_TRUE(Reset(wid, base, 4, &run, [&](wsv1::ResetWorkflowExecutionRequest& r) {
                  if (variant == 0) r.set_reset_reapply_type(ev1::RESET_REAPPLY_TYPE_NONE);
                  else r.add_reset_reapply_exclude_types(ev1::RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
                }).ok());
    auto h = HistoryOf(wid, run);
    EXPECT_EQ(LastOfType(h, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 0) << Describe(h);
    auto t = PollWft();
    ASSERT_TRUE(CompleteWft(t.task_token(), {CompleteWorkflow("x")}).ok());
  }
}

// The signals a reset re-applies go through the signal unit's code (signal_event.h): their request
// ids are remembered as a delivery's are, bounded, the oldest forgotten. A client's retry of a
// re-applied signal to the reset run is a duplicate; one whose id the run reset had forgotten
// (more than SignalWorkflow::kMaxRememberedSignalRequestIds signals later) is delivered again, in
// the new run as it would have been in the old one.
TEST_F(ResetTest, ReappliedSignalsRequestIdsAreRememberedAsADeliverysAre) {
  const std::string wid = "wf-reapply-ids";
  const std::string base = StartWorkflow(wid);
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {}).ok());  // events 1-4; 4 is the reset point
  auto signal = [&](const std::string& request_id) {
    wsv1::SignalWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_workflow_execution()->set_workflow_id(wid);
    req.set_signal_name("s");
    req.set_identity("client");
    req.set_request_id(request_id);
    return Call([&](Done d) { engine_->SignalWorkflowExecution(req, std::move(d)); });
  };
  const int sent = SignalWorkflow::kMaxRememberedSignalRequestIds + 1;
  for (int i = 0; i < sent; ++i) ASSERT_TRUE(signal("r-" + std::to_string(i)).ok()) << i;
  auto signaled = [&](const std::string& run) {  // over every page of the run's history
    Barrier();
    int n = 0;
    wsv1::GetWorkflowExecutionHistoryRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id(wid);
    req.mutable_execution()->set_run_id(run);
    do {
      wsv1::GetWorkflowExecutionHistoryResponse resp;
      Status s = Call<wsv1::GetWorkflowExecutionHistoryResponse>(
          [&](auto* r, Done d) { engine_->GetWorkflowExecutionHistory(req, r, std::move(d)); }, &resp);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
      for (const auto& e : resp.history().events()) n += e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
      req.set_next_page_token(resp.next_page_token());
    } while (!req.next_page_token().empty());
    return n;
  };
  ASSERT_EQ(signaled(base), sent);
  std::string run;
  ASSERT_TRUE(Reset(wid, base, 4, &run).ok());
  ASSERT_EQ(signaled(run), sent);
  ASSERT_TRUE(signal("r-" + std::to_string(sent - 1)).ok());  // a retry of a re-applied signal
  EXPECT_EQ(signaled(run), sent);
  ASSERT_TRUE(signal("r-0").ok());  // forgotten (also by the run reset): delivered again
  EXPECT_EQ(signaled(run), sent + 1);
}

TEST_F(ResetTest, ResetValidationAndRequestIdDedupe) {
  const std::string base = StartWorkflow("wf-r5");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {CompleteWorkflow("first")}).ok());
  std::string run;
  for (int64_t bad : {0, 1, 6, 100}) {
    Status s = Reset("wf-r5", base, bad, &run);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(), "Workflow task finish ID must be > 1 && <= workflow last event ID.");
  }
  Status s = Reset("wf-r5", base, 2, &run);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "Can only reset workflow to event ID in range [WorkflowTaskScheduled +1, WorkflowTaskStarted + 1]: 2");
  EXPECT_EQ(Reset("wf-r5", base, 4, &run, [](auto& r) { r.clear_request_id(); }).message(), "RequestId is not set on request.");
  // An unknown reapply type is the client's error, not the server's (rpc_request fuzzer finding;
  // fuzz/regressions/rpc_request/): INVALID_ARGUMENT, never INTERNAL.
  s = Reset("wf-r5", base, 4, &run, [](auto& r) { r.set_reset_reapply_type(static_cast<ev1::ResetReapplyType>(45)); });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown reset reapply type: 45");
  EXPECT_EQ(Reset("nope", "", 4, &run).code(), Code::kNotFound);
  EXPECT_EQ(HistoryOf("wf-r5", base).size(), 5u) << "nothing written by rejected resets";

  std::string first, again;
  ASSERT_TRUE(Reset("wf-r5", base, 4, &first, [](auto& r) { r.set_request_id("same"); }).ok());
  ASSERT_TRUE(Reset("wf-r5", base, 4, &again, [](auto& r) { r.set_request_id("same"); }).ok());
  EXPECT_EQ(first, again);
}

TEST_F(ResetTest, ResetRunGetsFreshRunTimeout) {
  const std::string base = StartWorkflow("wf-r6", [](auto& r) { *r.mutable_workflow_run_timeout() = PbDur(Sec(60)); });
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {}).ok());
  Advance(Sec(50));
  std::string run;
  ASSERT_TRUE(Reset("wf-r6", base, 4, &run).ok());
  Advance(Sec(20));  // 70 s after the start: the base deadline has passed, the reset run's has not
  EXPECT_EQ(DescribeWf("wf-r6").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  Advance(Sec(41));  // 61 s after the reset
  EXPECT_EQ(DescribeWf("wf-r6").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
  EXPECT_EQ(DescribeWf("wf-r6").workflow_execution_info().execution().run_id(), run);
}

TEST_F(ResetTest, ResetRunAdoptsPendingChildren) {
  const std::string base = StartWorkflow("wf-parent");
  auto t1 = PollWft();
  ASSERT_TRUE(CompleteWft(t1.task_token(), {StartChild("wf-parent-child")}).ok());
  // Two tasks are queued now (the child's first and the parent's after ChildWorkflowExecutionStarted).
  auto a = PollWft();
  auto b = PollWft();
  auto& parent_task = a.workflow_execution().workflow_id() == "wf-parent" ? a : b;
  auto& child_task = a.workflow_execution().workflow_id() == "wf-parent" ? b : a;
  ASSERT_TRUE(CompleteWft(parent_task.task_token(), {}).ok());
  ASSERT_TRUE(CompleteWft(child_task.task_token(), {}).ok());
  const int64_t finish = LastOfType(History("wf-parent"), ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  std::string run;
  ASSERT_TRUE(Reset("wf-parent", base, finish, &run).ok());
  // No parent close policy (TERMINATE by default) for the run the reset terminated.
  EXPECT_EQ(DescribeWf("wf-parent-child").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  auto p = PollWft();  // the reset run's task
  ASSERT_EQ(p.workflow_execution().run_id(), run);
  ASSERT_TRUE(CompleteWft(p.task_token(), {}).ok());
  // The child closes: the report goes to the reset run, which holds its initiated event.
  ASSERT_TRUE(Signal("wf-parent-child", "go").ok());
  auto c = PollWft();
  ASSERT_EQ(c.workflow_execution().workflow_id(), "wf-parent-child");
  ASSERT_TRUE(CompleteWft(c.task_token(), {CompleteWorkflow("child-result")}).ok());
  Advance(Sec(0));  // the idle reset run was evicted: it is told by the close's deferred step
  auto h = HistoryOf("wf-parent", run);
  const int64_t closed = LastOfType(h, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED);
  ASSERT_NE(closed, 0) << Describe(h);
  EXPECT_EQ(h[closed - 1].child_workflow_execution_completed_event_attributes().result().payloads(0).data(),
            "\"child-result\"");
  EXPECT_EQ(LastOfType(HistoryOf("wf-parent", base), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 0);
}

// ---------------------------------------------------------------------------------------------
// External signals and cancel requests

TEST_F(ResetTest, ExternalSignalIsDeliveredOnceInTheCompletionsTransaction) {
  const std::string target_run = StartWorkflow("wf-target");
  auto tt = PollWft();
  ASSERT_TRUE(CompleteWft(tt.task_token(), {}).ok());
  const std::string src_run = StartWorkflow("wf-src");
  auto st = PollWft();
  ASSERT_TRUE(CompleteWft(st.task_token(), {SignalExternal("wf-target", "ping")}).ok());
  Restart();  // nothing pending across the crash: both sides are already durable
  auto sh = History("wf-src");
  EXPECT_TYPES(sh, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
               ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(sh[5].external_workflow_execution_signaled_event_attributes().initiated_event_id(), 5);
  auto th = History("wf-target");
  ASSERT_EQ(th.size(), 6u) << Describe(th);
  const auto& sig = th[4];
  ASSERT_EQ(sig.event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  EXPECT_EQ(sig.workflow_execution_signaled_event_attributes().signal_name(), "ping");
  EXPECT_EQ(sig.workflow_execution_signaled_event_attributes().external_workflow_execution().run_id(), src_run);
  EXPECT_FALSE(sig.workflow_execution_signaled_event_attributes().request_id().empty());
  EXPECT_EQ(th[5].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  // Both tasks are re-queued after the restart.
  auto a = PollWft();
  auto b = PollWft();
  EXPECT_NE(a.workflow_execution().workflow_id(), b.workflow_execution().workflow_id());
  (void)target_run;
}

TEST_F(ResetTest, ExternalSignalFailures) {
  StartWorkflow("wf-src2");
  auto t = PollWft();
  ASSERT_TRUE(CompleteWft(t.task_token(), {SignalExternal("wf-missing", "x"), SignalExternal("wf-src2", "self"),
                                           SignalExternal("wf-x", "y", [](auto& a) { a.set_namespace_("no-such-ns"); })}).ok());
  auto h = History("wf-src2");
  std::vector<ev1::SignalExternalWorkflowExecutionFailedCause> causes;
  for (const auto& e : h) {
    if (e.has_signal_external_workflow_execution_failed_event_attributes()) {
      causes.push_back(e.signal_external_workflow_execution_failed_event_attributes().cause());
    }
  }
  EXPECT_EQ(causes, (std::vector<ev1::SignalExternalWorkflowExecutionFailedCause>{
                        ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
                        ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
                        ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND}))
      << Describe(h);
}

TEST_F(ResetTest, BadExternalCommandAttributesFailTheTask) {
  StartWorkflow("wf-src3");
  auto t = PollWft();
  Status s = CompleteWft(t.task_token(), {SignalExternal("wf-x", "y", [](auto& a) { a.mutable_execution()->set_run_id("not-a-uuid"); })});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  auto h = History("wf-src3");
  ASSERT_EQ(h.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED);  // the retry is transient
  const auto& f = h.back().workflow_task_failed_event_attributes();
  EXPECT_EQ(f.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES);
  EXPECT_NE(f.failure().message().find("Invalid RunId set on SignalExternalWorkflowExecutionCommand"), std::string::npos);
}

TEST_F(ResetTest, PendingSignalAndCancelLimits) {
  CloseEngine();
  options_.pending_signals_limit = 2;
  options_.pending_request_cancels_limit = 1;
  OpenEngine(path());
  StartWorkflow("wf-lim");
  auto t = PollWft();
  Status s = CompleteWft(t.task_token(), {SignalExternal("a", "x"), SignalExternal("b", "x"), SignalExternal("c", "x")});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  auto h = History("wf-lim");
  auto f = h.back().workflow_task_failed_event_attributes();  // the retry is transient
  EXPECT_EQ(f.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED);
  EXPECT_NE(f.failure().message().find("the number of pending signals to external workflows, 2, has reached the per-workflow limit of 2"),
            std::string::npos)
      << f.failure().message();
  EXPECT_EQ(LastOfType(h, ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED), 0);

  auto t2 = PollWft();
  s = CompleteWft(t2.task_token(), {CancelExternal("a"), CancelExternal("b")});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("PendingRequestCancelLimitExceeded: ", 0), 0u) << s.message();
  // Attempt 2 was transient: its failure is not written; history still ends at the first one.
  EXPECT_EQ(History("wf-lim").size(), h.size());
  // At the limit is fine.
  auto t3 = PollWft();
  EXPECT_TRUE(CompleteWft(t3.task_token(), {SignalExternal("a", "x"), SignalExternal("b", "x"), CancelExternal("c")}).ok());
}

TEST_F(ResetTest, ExternalCancelRequestsTheTargetsCancellation) {
  StartWorkflow("wf-victim");
  auto v = PollWft();
  ASSERT_TRUE(CompleteWft(v.task_token(), {}).ok());
  const std::string src = StartWorkflow("wf-canceller");
  auto t = PollWft();
  ASSERT_TRUE(CompleteWft(t.task_token(), {CancelExternal("wf-victim"), CancelExternal("wf-absent")}).ok());
  auto vh = History("wf-victim");
  ASSERT_EQ(vh[4].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED) << Describe(vh);
  const auto& ca = vh[4].workflow_execution_cancel_requested_event_attributes();
  EXPECT_EQ(ca.cause(), "external cancel");
  EXPECT_EQ(ca.external_initiated_event_id(), 5);
  EXPECT_EQ(ca.external_workflow_execution().run_id(), src);
  auto ch = History("wf-canceller");
  EXPECT_TYPES(ch, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
               ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
               ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
               ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(ch[7].request_cancel_external_workflow_execution_failed_event_attributes().cause(),
            ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
}

}  // namespace
}  // namespace temporalite::history::testing
