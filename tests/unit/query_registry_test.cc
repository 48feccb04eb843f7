// The query registry (history/query_registry.h) as a unit over its narrow interface: runs built by
// hand, a SimClock, and an EngineContext (test_engine_context.h) whose matching is the test's (a
// query task goes to a poller the test provides, is refused, or is queued). The engine-level
// behaviour of QueryWorkflow is engine_query_test.cc's.
#include <future>
#include <memory>
#include <string>

#include <google/protobuf/any.pb.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "execution_test_util.h"
#include "history/execution.h"
#include "history/query_registry.h"
#include "history/task_token.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "test_engine_context.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace qv1 = ::temporal::api::query::v1;

template <typename Resp>
struct Waiting {
  std::shared_ptr<Resp> resp = std::make_shared<Resp>();
  std::shared_ptr<matching::PollWaiter<Resp>> waiter = std::make_shared<matching::PollWaiter<Resp>>(resp.get());
  std::shared_ptr<std::promise<Status>> promise = std::make_shared<std::promise<Status>>();
  std::shared_future<Status> done = promise->get_future().share();
  Waiting() {
    waiter->finish = [p = promise, r = resp](const Status& s) { p->set_value(s); };
  }
  bool finished() const { return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
};
using QueryCall = Waiting<wsv1::QueryWorkflowResponse>;
using Poller = Waiting<wsv1::PollWorkflowTaskQueueResponse>;

class QueryRegistryTest : public ::testing::Test {
 protected:
  QueryRegistryTest()
      : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_), registry_(mu_, context_) {
    run_ = std::make_shared<Execution>();
    EditState(*run_, [&](state::ExecutionState& s) {
      s.set_namespace_id("ns-1");
      s.set_run_id("run-1");
      s.set_workflow_id("wf-1");
      s.set_workflow_type("counter");
      s.set_task_queue("tq");
      s.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
      s.set_next_event_id(1);
    });
    for (int i = 0; i < 4; ++i) run_->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, clock_.Now());
    context_.runs["run-1"] = run_.get();
  }
  static qv1::WorkflowQuery Query(const std::string& type) {
    qv1::WorkflowQuery q;
    q.set_query_type(type);
    return q;
  }
  void Start(const QueryCall& call, const std::string& type = "state") {
    MutexLock l(mu_);
    registry_.Start(run_, Query(type), call.waiter);
  }
  Status Respond(const std::string& query_id, const std::string& answer) {
    wsv1::RespondQueryTaskCompletedRequest req;
    req.set_completed_type(ev1::QUERY_RESULT_TYPE_ANSWERED);
    req.mutable_query_result()->add_payloads()->set_data(answer);
    MutexLock l(mu_);
    return registry_.RespondTaskCompleted(query_id, req);
  }
  // The query id a legacy query task's token names.
  static std::string QueryIdOf(const wsv1::PollWorkflowTaskQueueResponse& task) {
    auto tok = DecodeTaskToken(task.task_token());
    EXPECT_TRUE(tok.ok());
    return tok.ok() ? tok->query_id() : "";
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  QueryRegistry registry_;
  std::shared_ptr<Execution> run_;
};

TEST_F(QueryRegistryTest, RidesOnThePendingWorkflowTask) {
  run_->SetWorkflowTaskScheduledEventId(5);
  QueryCall call;
  Start(call);
  EXPECT_TRUE(context_.offered_queries.empty());  // waits for the task already scheduled
  wsv1::PollWorkflowTaskQueueResponse task;
  {
    MutexLock l(mu_);
    registry_.AttachToTask(*run_, 6, &task);
  }
  ASSERT_EQ(task.queries_size(), 1);
  const std::string id = task.queries().begin()->first;
  EXPECT_EQ(task.queries().begin()->second.query_type(), "state");
  google::protobuf::Map<std::string, qv1::WorkflowQueryResult> results;
  results[id].set_result_type(ev1::QUERY_RESULT_TYPE_ANSWERED);
  results[id].mutable_answer()->add_payloads()->set_data("42");
  {
    MutexLock l(mu_);
    registry_.Settle(*run_, &results, /*new_wft_scheduled=*/false);
  }
  ASSERT_TRUE(call.finished());
  EXPECT_TRUE(call.done.get().ok());
  EXPECT_EQ(call.resp->query_result().payloads(0).data(), "42");
  EXPECT_TRUE(run_->query_ids.empty());
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(QueryRegistryTest, QuiescentRunGetsALegacyTaskAndAFailedAnswer) {
  EditState(*run_, [&](state::ExecutionState& s) {
    s.set_last_completed_wft_started_id(3);
    s.set_sticky_task_queue("tq-sticky");
  });
  Poller poller;
  context_.next_poller = poller.waiter;
  QueryCall call;
  Start(call);
  ASSERT_EQ(context_.offered_queries.size(), 1u);
  ASSERT_TRUE(poller.finished());
  const auto& task = *poller.resp;
  EXPECT_EQ(task.query().query_type(), "state");
  EXPECT_EQ(task.started_event_id(), 0);
  EXPECT_EQ(task.previous_started_event_id(), 3);
  EXPECT_EQ(task.history().events_size(), 1);  // sticky: only the events after the last task
  const std::string id = QueryIdOf(task);
  EXPECT_EQ(id, context_.offered_queries[0]);

  wsv1::RespondQueryTaskCompletedRequest failed;
  failed.set_completed_type(ev1::QUERY_RESULT_TYPE_FAILED);
  failed.set_error_message("unknown query type");
  {
    MutexLock l(mu_);
    ASSERT_TRUE(registry_.RespondTaskCompleted(id, failed).ok());
  }
  ASSERT_TRUE(call.finished());
  Status s = call.done.get();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown query type");
  temporal::api::errordetails::v1::QueryFailedFailure detail;
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(s.details()));
  EXPECT_TRUE(any.UnpackTo(&detail));
  EXPECT_EQ(Respond(id, "late").code(), Code::kNotFound);  // answered already
}

TEST_F(QueryRegistryTest, NoRecentPollerFailsAtOnce) {
  EditState(*run_, [&](state::ExecutionState& s) { s.set_last_completed_wft_started_id(3); });
  context_.refuse_query_tasks = true;
  QueryCall call;
  Start(call);
  ASSERT_TRUE(call.finished());
  EXPECT_EQ(call.done.get().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(run_->query_ids.empty());
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(QueryRegistryTest, RunClosingUnderAQueryAnswersFromTheFinalHistory) {
  run_->SetWorkflowTaskScheduledEventId(5);
  QueryCall call, gave_up;
  Start(call);
  Start(gave_up, "other");
  wsv1::PollWorkflowTaskQueueResponse task;
  {
    MutexLock l(mu_);
    registry_.AttachToTask(*run_, 6, &task);
  }
  ASSERT_EQ(task.queries_size(), 2);
  // The task completes the run without answering; one caller leaves meanwhile.
  run_->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, clock_.Now());
  run_->SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EditState(*run_, [&](state::ExecutionState& s) { s.set_last_completed_wft_started_id(6); });
  {
    MutexLock l(mu_);
    ASSERT_TRUE(gave_up.waiter->Complete(mu_));
    registry_.Settle(*run_, nullptr, /*new_wft_scheduled=*/false);
  }
  ASSERT_EQ(context_.offered_queries.size(), 1u);  // queued (no poller): the other one is forgotten
  EXPECT_EQ(registry_.size(), 1u);
  context_.runs.clear();  // the closed run leaves memory; the query keeps its history
  Poller poller;
  {
    MutexLock l(mu_);
    ASSERT_TRUE(registry_.TakeLegacyTask(context_.offered_queries[0], "tq", poller.waiter));
  }
  ASSERT_TRUE(poller.finished());
  EXPECT_EQ(poller.resp->history().events_size(), 5);  // the whole final history
  EXPECT_EQ(poller.resp->history().events(4).event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  ASSERT_TRUE(Respond(context_.offered_queries[0], "final").ok());
  ASSERT_TRUE(call.finished());
  EXPECT_EQ(call.resp->query_result().payloads(0).data(), "final");
  EXPECT_FALSE(gave_up.finished());  // its RPC ended elsewhere (the cancel that completed it)
}

}  // namespace
}  // namespace temporalite::history
