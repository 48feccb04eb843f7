// C++ SDK: search attributes and memo, the workflow metadata query, update-with-start,
// schedules, and the hello-world example run as a process.
#include <fcntl.h>

#include "sdk_fixture.h"

namespace sdk_test {
namespace {

Task<std::string> GreetWorkflow(WorkflowContext& ctx, std::string name) {
  std::string greeting = co_await ctx.ExecuteActivity<std::string>("Hello", Short(), name);
  co_return greeting + "!";
}

// ---- search attributes, memo, workflow metadata ----

TEST_F(SdkTest, UpsertSearchAttributesMemoAndWorkflowMetadataQuery) {
  std::string cmd = ServerBinary() + " operator search-attribute create --address " + server_->address() +
                    " --name SdkCustomer --type Keyword >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto w = NewWorker();
  w->RegisterWorkflow("Tagged", [](WorkflowContext& ctx) -> Task<std::string> {
    ctx.SetQueryHandler("state", []() { return std::string("ok"); });
    auto go = std::make_shared<bool>(false);
    ctx.SetSignalHandler("go", [go]() { *go = true; });
    ctx.SetUpdateHandler("bump", [](int v) { return v + 1; });
    ctx.UpsertSearchAttribute("SdkCustomer", std::string("acme"));
    ctx.UpsertMemo("note", std::string("first"));
    ctx.UpsertMemo("drop", std::string("x"));
    ctx.SetCurrentDetails("waiting for go");
    auto gone = ctx.Condition([go] { return *go; });
    co_await gone;
    ctx.UpsertMemoPayloads({{"drop", NullPayload()}});
    std::string seen = FromPayload<std::string>(ctx.info().search_attributes.at("SdkCustomer"));
    co_return seen + " " + std::to_string(ctx.info().memo.size());
  });
  w->Start();
  auto h = client_->Start("Tagged", Opts("tagged-1"));
  temporal::api::sdk::v1::WorkflowMetadata md;
  for (int i = 0; i < 200; ++i) {
    md = h.Query<temporal::api::sdk::v1::WorkflowMetadata>("__temporal_workflow_metadata");
    if (!md.current_details().empty()) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(md.definition().type(), "Tagged");
  EXPECT_EQ(md.current_details(), "waiting for go");
  std::vector<std::string> queries;
  for (const auto& q : md.definition().query_definitions()) queries.push_back(q.name());
  EXPECT_EQ(queries, (std::vector<std::string>{"__stack_trace", "__temporal_workflow_metadata", "state"}));
  ASSERT_EQ(md.definition().signal_definitions_size(), 1);
  EXPECT_EQ(md.definition().signal_definitions(0).name(), "go");
  ASSERT_EQ(md.definition().update_definitions_size(), 1);
  EXPECT_EQ(md.definition().update_definitions(0).name(), "bump");
  // Visible to the server: memo and search attributes of the running workflow.
  auto d = h.Describe();
  EXPECT_TRUE(d.workflow_execution_info().memo().fields().count("note"));
  EXPECT_TRUE(d.workflow_execution_info().search_attributes().indexed_fields().count("SdkCustomer"));
  h.Signal("go");
  EXPECT_EQ(h.Result<std::string>(20s), "acme 1");  // "drop" removed again
  d = h.Describe();
  EXPECT_FALSE(d.workflow_execution_info().memo().fields().count("drop"));
  EXPECT_EQ(client_->Count("SdkCustomer = 'acme'"), 1);
  Replayer r;
  r.RegisterWorkflow("Tagged", [](WorkflowContext& ctx) -> Task<std::string> {
    ctx.UpsertSearchAttribute("SdkCustomer", std::string("acme"));
    ctx.UpsertMemo("other", std::string("first"));  // changed memo key: non-determinism
    co_return std::string();
  });
  try {
    r.ReplayHistory(h.FetchHistory());
    FAIL() << "expected a non-determinism error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("memo=note"), std::string::npos) << e.what();
  }
}

// ---- update-with-start and schedules ----

TEST_F(SdkTest, UpdateWithStartStartsOrReusesTheWorkflow) {
  auto w = NewWorker();
  w->RegisterWorkflow("Counter", [](WorkflowContext& ctx) -> Task<int> {
    auto total = std::make_shared<int>(0);
    auto done = std::make_shared<bool>(false);
    ctx.SetUpdateHandler("add", [total](int v) {
      *total += v;
      return *total;
    });
    ctx.SetSignalHandler("done", [done]() { *done = true; });
    auto finished = ctx.Condition([done] { return *done; });
    co_await finished;
    co_return *total;
  });
  w->Start();
  Payloads r1, r2;
  auto h1 = client_->UpdateWithStartPayloads("Counter", Opts("counter-1"), {}, "add", ToPayloads(5), &r1);
  EXPECT_EQ(FirstPayload<int>(r1), 5);
  auto h2 = client_->UpdateWithStartPayloads("Counter", Opts("counter-1"), {}, "add", ToPayloads(3), &r2);
  EXPECT_EQ(FirstPayload<int>(r2), 8);
  EXPECT_EQ(h1.run_id(), h2.run_id());  // the running workflow was used
  h2.Signal("done");
  EXPECT_EQ(h2.Result<int>(20s), 8);
  // An update the workflow does not handle fails; the workflow was started all the same.
  Payloads r3;
  EXPECT_THROW(client_->UpdateWithStartPayloads("Counter", Opts("counter-2"), {}, "nope", {}, &r3),
               WorkflowUpdateFailedError);
  EXPECT_EQ(client_->GetHandle("counter-2").Describe().workflow_execution_info().status(),
            enums::WORKFLOW_EXECUTION_STATUS_RUNNING);
  client_->GetHandle("counter-2").Terminate();
}

TEST_F(SdkTest, SchedulesCreateDescribeUpdatePauseTriggerBackfillListDelete) {
  auto w = NewWorker();
  w->RegisterWorkflow("Greet", GreetWorkflow);
  w->RegisterActivity("Hello", [](std::string name) { return "Hello, " + name; });
  w->Start();
  temporal::api::schedule::v1::Schedule sched;
  auto* interval = sched.mutable_spec()->add_interval();
  *interval->mutable_interval() = ToProtoDuration(std::chrono::hours(1));
  *sched.mutable_action() = client_->MakeStartWorkflowAction("Greet", Opts("scheduled-greet"), ToPayloads(std::string("S")));
  client_->CreateSchedule("sdk-schedule", sched);
  EXPECT_THROW(client_->CreateSchedule("sdk-schedule", sched), RpcError);  // already exists
  auto d = client_->DescribeSchedule("sdk-schedule");
  EXPECT_EQ(d.schedule().action().start_workflow().workflow_type().name(), "Greet");
  EXPECT_FALSE(d.schedule().state().paused());
  client_->PauseSchedule("sdk-schedule", "maintenance");
  d = client_->DescribeSchedule("sdk-schedule");
  EXPECT_TRUE(d.schedule().state().paused());
  EXPECT_EQ(d.schedule().state().notes(), "maintenance");
  client_->UnpauseSchedule("sdk-schedule");
  EXPECT_FALSE(client_->DescribeSchedule("sdk-schedule").schedule().state().paused());
  client_->TriggerSchedule("sdk-schedule");
  auto now = std::chrono::system_clock::now();
  client_->BackfillSchedule("sdk-schedule", now - std::chrono::hours(3) - 1min, now - 1min);
  int64_t actions = 0;
  for (int i = 0; i < 200 && actions < 4; ++i) {
    actions = client_->DescribeSchedule("sdk-schedule").info().action_count();
    if (actions < 4) std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(actions, 4);  // the trigger and three backfilled intervals
  *sched.mutable_spec()->mutable_interval(0)->mutable_interval() = ToProtoDuration(std::chrono::hours(2));
  client_->UpdateSchedule("sdk-schedule", sched);
  d = client_->DescribeSchedule("sdk-schedule");
  EXPECT_EQ(FromProtoDuration(d.schedule().spec().interval(0).interval()), std::chrono::hours(2));
  bool listed = false;
  for (int i = 0; i < 100 && !listed; ++i) {
    for (const auto& e : client_->ListSchedules()) listed |= e.schedule_id() == "sdk-schedule";
    if (!listed) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(listed);
  client_->DeleteSchedule("sdk-schedule");
  try {
    client_->DescribeSchedule("sdk-schedule");
    FAIL() << "expected NOT_FOUND";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  }
}

// Each example (examples/) is a complete program: run against the server, it exits 0.
TEST_F(SdkTest, ExamplesRunToCompletion) {
  for (const std::string name :
       {"hello_world", "retries_heartbeats", "signal_query_update", "child_workflows", "schedule"}) {
    const std::string bin = std::string(EXAMPLES_BIN_DIR) + "/" + name;
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("TEMPORAL_ADDRESS", server_->address().c_str(), 1);
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      execl(bin.c_str(), bin.c_str(), nullptr);
      _exit(127);
    }
    int status = 0;
    for (int i = 0; i < 600 && waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << name << " did not finish in 30 s";
      continue;
    }
    ASSERT_TRUE(WIFEXITED(status)) << name;
    EXPECT_EQ(WEXITSTATUS(status), 0) << name;
  }
}

}  // namespace
}  // namespace sdk_test
