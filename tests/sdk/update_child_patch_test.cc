// C++ SDK: updates waited for until ACCEPTED (result fetched later), update-with-start's failure
// paths and its ACCEPTED wait, child workflows' parent close policies as the server applies
// them, and DeprecatePatch.
#include "sdk_fixture.h"

namespace sdk_test {
namespace {

// ---- update wait stage ACCEPTED ----

Task<int> Gate(WorkflowContext& ctx) {
  auto open = std::make_shared<bool>(false);
  auto total = std::make_shared<int>(0);
  ctx.SetSignalHandler("open", [open]() { *open = true; });
  ctx.SetUpdateHandler(
      "add",
      [&ctx, open, total](int v) -> Task<int> {
        auto opened = ctx.Condition([open] { return *open; });
        co_await opened;  // the update is accepted at once, completed only after "open"
        if (v == 13) throw ApplicationFailure("unlucky", "Unlucky");
        *total += v;
        co_return *total;
      },
      [](int v) {
        if (v < 0) throw ApplicationFailure("negative", "Invalid");
      });
  auto done = ctx.Condition([total] { return *total >= 100; });
  co_await done;
  co_return *total;
}

TEST_F(SdkTest, UpdateWaitedForUntilAcceptedReturnsBeforeItCompletes) {
  auto w = NewWorker();
  w->RegisterWorkflow("Gate", Gate);
  w->Start();
  auto h = client_->Start("Gate", Opts("gate-1"));
  auto t0 = std::chrono::steady_clock::now();
  Payloads accepted = h.UpdatePayloads("add", ToPayloads(40), UpdateWaitStage::kAccepted, "u-40");
  EXPECT_EQ(accepted.payloads_size(), 0);  // no result yet
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  h.UpdatePayloads("add", ToPayloads(13), UpdateWaitStage::kAccepted, "u-13");
  // Rejected by the validator: the ACCEPTED wait ends with the rejection.
  try {
    h.UpdatePayloads("add", ToPayloads(-1), UpdateWaitStage::kAccepted, "u-neg");
    FAIL() << "expected a rejection";
  } catch (const WorkflowUpdateFailedError& e) {
    auto* app = dynamic_cast<ApplicationFailure*>(e.cause().get());
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(app->type, "Invalid");
  }
  // Accepted updates are in the history before any of them completed.
  int accepted_events = 0, completed_events = 0;
  for (const auto& e : h.FetchHistory()) {
    accepted_events += e.has_workflow_execution_update_accepted_event_attributes();
    completed_events += e.has_workflow_execution_update_completed_event_attributes();
  }
  EXPECT_EQ(accepted_events, 2);
  EXPECT_EQ(completed_events, 0);
  h.Signal("open");
  EXPECT_EQ(FirstPayload<int>(h.UpdateResultPayloads("u-40")), 40);
  try {
    h.UpdateResultPayloads("u-13");
    FAIL() << "expected the handler's failure";
  } catch (const WorkflowUpdateFailedError& e) {
    EXPECT_EQ(e.cause()->message(), "unlucky");
  }
  // The same update id again: the server deduplicates and answers with the recorded outcome.
  EXPECT_EQ(FirstPayload<int>(h.UpdatePayloads("add", ToPayloads(40), UpdateWaitStage::kAccepted, "u-40")), 40);
  EXPECT_EQ(h.ExecuteUpdate<int>("add", 60), 100);
  EXPECT_EQ(h.Result<int>(20s), 100);
  // An unknown update id: NOT_FOUND.
  try {
    h.UpdateResultPayloads("u-none");
    FAIL() << "expected NOT_FOUND";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND) << e.what();
  }
}

TEST_F(SdkTest, UpdateWithStartFailsOnARunningWorkflowWithConflictPolicyFail) {
  auto w = NewWorker();
  w->RegisterWorkflow("Gate", Gate);
  w->Start();
  auto h = client_->Start("Gate", Opts("gate-uws"));
  auto o = Opts("gate-uws");
  o.id_conflict_policy = enums::WORKFLOW_ID_CONFLICT_POLICY_FAIL;
  Payloads r;
  try {
    client_->UpdateWithStartPayloads("Gate", o, {}, "add", ToPayloads(1), &r);
    FAIL() << "expected an error";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::ALREADY_EXISTS) << e.what();
  }
  h.Signal("open");
  // The default (USE_EXISTING) sends the update to the running workflow.
  auto h2 = client_->UpdateWithStartPayloads("Gate", Opts("gate-uws"), {}, "add", ToPayloads(100), &r);
  EXPECT_EQ(h2.run_id(), h.run_id());
  EXPECT_EQ(FirstPayload<int>(r), 100);
  EXPECT_EQ(h.Result<int>(20s), 100);
}

TEST_F(SdkTest, StartUpdateWithStartReturnsOnceTheUpdateIsAccepted) {
  auto w = NewWorker();
  w->RegisterWorkflow("Gate", Gate);
  w->Start();
  // The handler waits for "open": a COMPLETED wait would block here; ACCEPTED returns.
  auto uh = client_->StartUpdateWithStartPayloads("Gate", Opts("gate-uws-acc"), {}, "add", ToPayloads(30), "uws-30");
  EXPECT_EQ(uh.update_id(), "uws-30");
  const WorkflowHandle& h = uh.workflow();
  EXPECT_FALSE(h.run_id().empty());
  int accepted_events = 0, completed_events = 0;
  for (const auto& e : h.FetchHistory()) {
    accepted_events += e.has_workflow_execution_update_accepted_event_attributes();
    completed_events += e.has_workflow_execution_update_completed_event_attributes();
  }
  EXPECT_EQ(accepted_events, 1);
  EXPECT_EQ(completed_events, 0);
  // A second one reuses the running workflow (USE_EXISTING); a rejected one (validator) is
  // reported by its handle's result, as the TypeScript SDK's.
  auto uh2 = client_->StartUpdateWithStartPayloads("Gate", Opts("gate-uws-acc"), {}, "add", ToPayloads(13));
  EXPECT_EQ(uh2.workflow().run_id(), h.run_id());
  auto rejected = client_->StartUpdateWithStartPayloads("Gate", Opts("gate-uws-acc"), {}, "add", ToPayloads(-1));
  try {
    rejected.ResultPayloads();
    FAIL() << "expected the validator's rejection";
  } catch (const WorkflowUpdateFailedError& e) {
    auto* app = dynamic_cast<ApplicationFailure*>(e.cause().get());
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(app->type, "Invalid");
  }
  h.Signal("open");
  EXPECT_EQ(uh.Result<int>(), 30);  // polled with PollWorkflowExecutionUpdate
  try {
    uh2.ResultPayloads();
    FAIL() << "expected the handler's failure";
  } catch (const WorkflowUpdateFailedError& e) {
    EXPECT_EQ(e.cause()->message(), "unlucky");
  }
  EXPECT_EQ(client_->StartUpdateWithStartPayloads("Gate", Opts("gate-uws-acc"), {}, "add", ToPayloads(70)).Result<int>(),
            100);
  EXPECT_EQ(h.Result<int>(20s), 100);
}

// ---- parent close policy ----

Task<void> Forever(WorkflowContext& ctx) {
  co_await ctx.Sleep(std::chrono::hours(1));  // a cancellation ends it as cancelled
}

Task<std::string> Parent(WorkflowContext& ctx, bool fail) {
  const std::string base = ctx.info().workflow_id;
  std::vector<std::pair<std::string, enums::ParentClosePolicy>> kids = {
      {"-terminate", enums::PARENT_CLOSE_POLICY_TERMINATE},
      {"-cancel", enums::PARENT_CLOSE_POLICY_REQUEST_CANCEL},
      {"-abandon", enums::PARENT_CLOSE_POLICY_ABANDON}};
  std::vector<ChildWorkflowHandle> started;
  for (const auto& [suffix, policy] : kids) {
    ChildWorkflowOptions o;
    o.id = base + suffix;
    o.parent_close_policy = policy;
    started.push_back(ctx.StartChildWorkflow("Forever", o));
  }
  for (auto& c : started) co_await c.started;
  if (fail) throw ApplicationFailure("parent gives up", "ParentError", true);
  co_return std::string("parent done");
}

enums::WorkflowExecutionStatus WaitForClose(Client& client, const std::string& id) {
  enums::WorkflowExecutionStatus st = enums::WORKFLOW_EXECUTION_STATUS_RUNNING;
  for (int i = 0; i < 600 && st == enums::WORKFLOW_EXECUTION_STATUS_RUNNING; ++i) {
    st = client.GetHandle(id).Describe().workflow_execution_info().status();
    if (st == enums::WORKFLOW_EXECUTION_STATUS_RUNNING) std::this_thread::sleep_for(50ms);
  }
  return st;
}

void ExpectPoliciesApplied(Client& client, const std::string& parent) {
  EXPECT_EQ(WaitForClose(client, parent + "-terminate"), enums::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(WaitForClose(client, parent + "-cancel"), enums::WORKFLOW_EXECUTION_STATUS_CANCELED);
  // Abandoned: still running once the others are closed.
  auto abandoned = client.GetHandle(parent + "-abandon");
  auto d = abandoned.Describe();
  EXPECT_EQ(d.workflow_execution_info().status(), enums::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(d.workflow_execution_info().parent_execution().workflow_id(), parent);
  abandoned.Terminate("test cleanup");
}

TEST_F(SdkTest, ParentClosePolicyTerminatesCancelsOrAbandonsChildren) {
  auto w = NewWorker();
  w->RegisterWorkflow("Forever", Forever);
  w->RegisterWorkflow("Parent", Parent);
  w->Start();
  EXPECT_EQ(client_->Execute<std::string>("Parent", Opts("pcp-ok"), false), "parent done");
  ExpectPoliciesApplied(*client_, "pcp-ok");
  // The terminated child's reason names the parent close policy; the cancelled one saw a request.
  bool cancel_requested = false;
  for (const auto& e : client_->GetHandle("pcp-ok-cancel").FetchHistory()) {
    cancel_requested |= e.has_workflow_execution_cancel_requested_event_attributes();
  }
  EXPECT_TRUE(cancel_requested);
  // A parent that fails applies the policies as well.
  EXPECT_THROW(client_->Execute<std::string>("Parent", Opts("pcp-fail"), true), WorkflowFailedError);
  ExpectPoliciesApplied(*client_, "pcp-fail");
}

// ---- DeprecatePatch ----

Task<int> PrePatch(WorkflowContext& ctx) {  // the code before the change
  co_await ctx.Sleep(5ms);
  co_return 1;
}

Task<int> WithPatch(WorkflowContext& ctx) {  // the change behind Patched
  if (ctx.Patched("two-timers")) {
    co_await ctx.Sleep(2ms);
    co_await ctx.Sleep(3ms);
    co_return 2;
  }
  co_await ctx.Sleep(5ms);
  co_return 1;
}

Task<int> Deprecated(WorkflowContext& ctx) {  // no old run left: the patch deprecated
  ctx.DeprecatePatch("two-timers");
  co_await ctx.Sleep(2ms);
  co_await ctx.Sleep(3ms);
  co_return 2;
}

Task<int> PatchRemoved(WorkflowContext& ctx) {  // the call removed at last
  co_await ctx.Sleep(2ms);
  co_await ctx.Sleep(3ms);
  co_return 2;
}

std::vector<HistoryEvent> RunWith(std::shared_ptr<Client> client, const std::string& tq, const std::string& id,
                                  Task<int> (*fn)(WorkflowContext&), int want) {
  WorkerOptions wo;
  wo.task_queue = tq;
  Worker w(client, wo);
  w.RegisterWorkflow("Versioned", fn);
  w.Start();
  StartWorkflowOptions o;
  o.id = id;
  o.task_queue = tq;
  auto h = client->Start("Versioned", o);
  EXPECT_EQ(h.Result<int>(20s), want);
  return h.FetchHistory();
}

int PatchMarkers(const std::vector<HistoryEvent>& history, bool* deprecated) {
  int n = 0;
  for (const auto& e : history) {
    if (e.has_marker_recorded_event_attributes() && e.marker_recorded_event_attributes().marker_name() == "Patched") {
      ++n;
      *deprecated = FirstPayload<bool>(e.marker_recorded_event_attributes().details().at("deprecated"));
    }
  }
  return n;
}

bool Replays(Task<int> (*fn)(WorkflowContext&), const std::vector<HistoryEvent>& history, std::string* error) {
  Replayer r;
  r.RegisterWorkflow("Versioned", fn);
  try {
    r.ReplayHistory(history);
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

TEST_F(SdkTest, DeprecatePatchReplaysHistoriesWithAndWithoutTheMarker) {
  auto old_run = RunWith(client_, task_queue_, "ver-old", PrePatch, 1);
  auto patched_run = RunWith(client_, task_queue_, "ver-patched", WithPatch, 2);
  auto deprecated_run = RunWith(client_, task_queue_, "ver-deprecated", Deprecated, 2);
  auto removed_run = RunWith(client_, task_queue_, "ver-removed", PatchRemoved, 2);
  bool deprecated = false;
  EXPECT_EQ(PatchMarkers(patched_run, &deprecated), 1);
  EXPECT_FALSE(deprecated);
  EXPECT_EQ(PatchMarkers(deprecated_run, &deprecated), 1);  // still recorded, flagged deprecated
  EXPECT_TRUE(deprecated);
  EXPECT_EQ(PatchMarkers(removed_run, &deprecated), 0);
  std::string error;
  // The deprecated code replays runs of the patched code (marker), of itself and of the code
  // without the call (no marker) ...
  EXPECT_TRUE(Replays(Deprecated, patched_run, &error)) << error;
  EXPECT_TRUE(Replays(Deprecated, deprecated_run, &error)) << error;
  EXPECT_TRUE(Replays(Deprecated, removed_run, &error)) << error;
  // ... and the code without the call replays the deprecated code's runs (the marker is skipped).
  EXPECT_TRUE(Replays(PatchRemoved, deprecated_run, &error)) << error;
  EXPECT_TRUE(Replays(WithPatch, deprecated_run, &error)) << error;
  // Failure path: a run of the code from before the patch took the old branch, which the
  // deprecated code no longer has.
  EXPECT_FALSE(Replays(Deprecated, old_run, &error));
  EXPECT_NE(error.find("nondeterminism"), std::string::npos) << error;
  // The TypeScript SDK (sdk-core) sets no TemporalChangeVersion search attribute; neither does this one.
  for (const auto& e : deprecated_run) {
    EXPECT_FALSE(e.has_upsert_workflow_search_attributes_event_attributes());
  }
}

}  // namespace
}  // namespace sdk_test
