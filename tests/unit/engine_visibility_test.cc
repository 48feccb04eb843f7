// Engine visibility: rows written with the state change, list/count over them, and retention
// (closed runs past the namespace retention are deleted by the TimerService-driven sweep).
#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

class VisibilityEngineTest : public FileEngineTest {
 protected:
  wsv1::ListWorkflowExecutionsResponse List(const std::string& query, Status* status = nullptr) {
    wsv1::ListWorkflowExecutionsRequest req;
    req.set_namespace_(kNamespace);
    req.set_query(query);
    wsv1::ListWorkflowExecutionsResponse resp;
    Status s = Call<wsv1::ListWorkflowExecutionsResponse>(
        [&](auto* r, Done d) { engine_->ListWorkflowExecutions(req, r, std::move(d)); }, &resp);
    if (status) *status = s;
    else EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  int64_t Count(const std::string& query) {
    wsv1::CountWorkflowExecutionsRequest req;
    req.set_namespace_(kNamespace);
    req.set_query(query);
    wsv1::CountWorkflowExecutionsResponse resp;
    Status s = Call<wsv1::CountWorkflowExecutionsResponse>(
        [&](auto* r, Done d) { engine_->CountWorkflowExecutions(req, r, std::move(d)); }, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp.count();
  }
  Status DescribeStatus(const std::string& wid) {
    wsv1::DescribeWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id(wid);
    return Call<wsv1::DescribeWorkflowExecutionResponse>(
        [&](auto* r, Done d) { engine_->DescribeWorkflowExecution(req, r, std::move(d)); }, nullptr);
  }
  Status HistoryStatus(const std::string& wid, const std::string& run_id) {
    wsv1::GetWorkflowExecutionHistoryRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id(wid);
    req.mutable_execution()->set_run_id(run_id);
    return Call<wsv1::GetWorkflowExecutionHistoryResponse>(
        [&](auto* r, Done d) { engine_->GetWorkflowExecutionHistory(req, r, std::move(d)); }, nullptr);
  }
  // Starts `wid` and completes it at once; returns the run id.
  std::string StartAndFinish(const std::string& wid) {
    StartAndComplete(wid, {CompleteWorkflow("done")});
    return DescribeWf(wid).workflow_execution_info().execution().run_id();
  }
};

TEST_F(VisibilityEngineTest, CompletedCountMatchesVisibilityAcrossRestart) {
  for (int i = 0; i < 5; ++i) StartAndFinish("done-" + std::to_string(i));
  StartWorkflow("open-1");
  EXPECT_EQ(Count("ExecutionStatus = 'Completed'"), 5);
  EXPECT_EQ(Count("ExecutionStatus = 'Running'"), 1);
  auto resp = List("WorkflowId = 'done-3'");
  ASSERT_EQ(resp.executions_size(), 1);
  const auto& info = resp.executions(0);
  EXPECT_EQ(info.status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_TRUE(info.has_close_time());
  // Recorded at close, as Temporal does: the full history and the transition count.
  EXPECT_EQ(info.history_length(), static_cast<int64_t>(History("done-3").size()));
  EXPECT_GT(info.state_transition_count(), 0);
  Restart();
  EXPECT_EQ(Count("ExecutionStatus = 'Completed'"), 5);
  EXPECT_EQ(Count(""), 6);
}

TEST_F(VisibilityEngineTest, InvalidQueryIsInvalidArgument) {
  Status s;
  List("NoSuchAttribute = 1", &s);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid query: invalid expression: column name 'NoSuchAttribute' is not a valid search attribute");
}

TEST_F(VisibilityEngineTest, RetentionDeletesRunsClosedLongerAgoThanRetention) {
  // Namespace retention is the engine default (24 h) for `default`.
  const std::string old_run = StartAndFinish("old");
  Advance(std::chrono::hours(20));
  const std::string new_run = StartAndFinish("new");
  StartWorkflow("still-open");
  engine_->StartRetention();
  Advance(std::chrono::hours(5));  // "old" closed 25 h ago, "new" 5 h ago; the sweep timer fires
  // Advance fires the sweep and waits for its commit.
  EXPECT_EQ(DescribeStatus("old").code(), Code::kNotFound);
  EXPECT_EQ(HistoryStatus("old", old_run).code(), Code::kNotFound);
  EXPECT_EQ(List("WorkflowId = 'old'").executions_size(), 0);
  EXPECT_TRUE(DescribeStatus("new").ok());
  EXPECT_TRUE(HistoryStatus("new", new_run).ok());
  EXPECT_EQ(List("WorkflowId = 'new'").executions_size(), 1);
  EXPECT_TRUE(DescribeStatus("still-open").ok());  // open runs are never deleted
  // The sweep keeps running: once "new" is past retention too, it goes.
  Advance(std::chrono::hours(20));
  EXPECT_EQ(DescribeStatus("new").code(), Code::kNotFound);
  EXPECT_EQ(Count(""), 1);
}

TEST_F(VisibilityEngineTest, RetentionDeletesInSmallBatches) {
  CloseEngine();
  options_.retention_batch = 3;
  OpenEngine(path());
  for (int i = 0; i < 7; ++i) StartAndFinish("batch-" + std::to_string(i));
  clock_.Advance(std::chrono::hours(25));
  std::vector<int64_t> deleted;
  for (int i = 0; i < 4; ++i) {
    auto p = std::make_shared<std::promise<int64_t>>();
    engine_->RetentionSweep([p](int64_t n) { p->set_value(n); });
    auto f = p->get_future();
    ASSERT_EQ(f.wait_for(kCallbackWait), std::future_status::ready);
    deleted.push_back(f.get());
  }
  EXPECT_EQ(deleted, (std::vector<int64_t>{3, 3, 1, 0}));
  EXPECT_EQ(Count(""), 0);
}

}  // namespace
}  // namespace temporalite::history::testing
