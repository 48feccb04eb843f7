// Engine tests for queries (query.cc, protocol-notes §6): a query rides on a pending workflow
// task and is answered from its completion; on a quiescent or closed run it goes out as a legacy
// query task (sync-matched to a waiting poller or from the backlog) answered through
// RespondQueryTaskCompleted; reject conditions, failures, and a caller that gave up.
#include "engine_test_util.h"
#include "history/task_token.h"
#include "temporal/api/query/v1/message.pb.h"

namespace temporalite::history::testing {
namespace {

namespace qv1 = ::temporal::api::query::v1;

class EngineQueryTest : public EngineTest {
 protected:
  Poll<wsv1::QueryWorkflowResponse> Query(const std::string& wid, const std::string& type,
                                          ev1::QueryRejectCondition reject = ev1::QUERY_REJECT_CONDITION_NONE) {
    wsv1::QueryWorkflowRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id(wid);
    req.mutable_query()->set_query_type(type);
    *req.mutable_query()->mutable_query_args() = TextPayloads("arg-" + type);
    req.set_query_reject_condition(reject);
    auto poll = MakePoll<wsv1::QueryWorkflowResponse>();
    engine_->QueryWorkflow(req, poll.waiter);
    return poll;
  }
  Status AnswerQueryTask(const std::string& token, const std::string& answer) {
    wsv1::RespondQueryTaskCompletedRequest req;
    req.set_namespace_(kNamespace);
    req.set_task_token(token);
    req.set_completed_type(ev1::QUERY_RESULT_TYPE_ANSWERED);
    *req.mutable_query_result() = TextPayloads(answer);
    return Call([&](Done d) { engine_->RespondQueryTaskCompleted(req, std::move(d)); });
  }
  Status FailQueryTask(const std::string& token, const std::string& message) {
    wsv1::RespondQueryTaskCompletedRequest req;
    req.set_namespace_(kNamespace);
    req.set_task_token(token);
    req.set_completed_type(ev1::QUERY_RESULT_TYPE_FAILED);
    req.set_error_message(message);
    return Call([&](Done d) { engine_->RespondQueryTaskCompleted(req, std::move(d)); });
  }
  template <typename Resp>
  Status Result(const Poll<Resp>& poll) {
    if (poll.done.wait_for(kCallbackWait) != std::future_status::ready) return Status(Code::kDeadlineExceeded, "no reply");
    return poll.done.get();
  }
};

TEST_F(EngineQueryTest, QueryRidesOnThePendingWorkflowTask) {
  StartWorkflow("wf-q1");  // first task scheduled, not yet polled
  auto query = Query("wf-q1", "counter");
  EXPECT_FALSE(query.finished());
  auto task = PollWft();
  ASSERT_EQ(task.queries_size(), 1);
  const auto& [query_id, delivered] = *task.queries().begin();
  EXPECT_EQ(delivered.query_type(), "counter");
  EXPECT_EQ(delivered.query_args().payloads(0).data(), "\"arg-counter\"");
  EXPECT_FALSE(task.has_query());  // not a legacy query task
  const std::string id = query_id;  // clang 14 cannot capture a structured binding
  ASSERT_TRUE(CompleteWft(task.task_token(), {}, [&](wsv1::RespondWorkflowTaskCompletedRequest& req) {
                qv1::WorkflowQueryResult r;
                r.set_result_type(ev1::QUERY_RESULT_TYPE_ANSWERED);
                *r.mutable_answer() = TextPayloads("7");
                (*req.mutable_query_results())[id] = r;
              }).ok());
  auto resp = Await(query);
  EXPECT_EQ(resp.query_result().payloads(0).data(), "\"7\"");
  // Queries write nothing to history.
  EXPECT_EQ(History("wf-q1").size(), 4u);
}

TEST_F(EngineQueryTest, FailedAnswerInTheCompletionIsAQueryFailedError) {
  StartWorkflow("wf-q2");
  auto query = Query("wf-q2", "broken");
  auto task = PollWft();
  ASSERT_EQ(task.queries_size(), 1);
  const std::string id = task.queries().begin()->first;
  ASSERT_TRUE(CompleteWft(task.task_token(), {}, [&](wsv1::RespondWorkflowTaskCompletedRequest& req) {
                qv1::WorkflowQueryResult r;
                r.set_result_type(ev1::QUERY_RESULT_TYPE_FAILED);
                r.set_error_message("unknown query type broken");
                (*req.mutable_query_results())[id] = r;
              }).ok());
  Status s = Result(query);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown query type broken");
  EXPECT_FALSE(s.details().empty());  // QueryFailedFailure details
}

TEST_F(EngineQueryTest, QuiescentRunGetsALegacyQueryTaskSyncMatched) {
  StartAndComplete("wf-q3", {});
  auto poll = StartWftPoll();  // a worker waits on the queue
  EXPECT_FALSE(poll.finished());
  auto query = Query("wf-q3", "state");
  auto task = Await(poll);
  EXPECT_EQ(task.query().query_type(), "state");
  EXPECT_EQ(task.started_event_id(), 0);  // no workflow task was started
  EXPECT_EQ(task.workflow_execution().workflow_id(), "wf-q3");
  EXPECT_EQ(task.history().events_size(), 4);  // the whole history for a normal-queue poll
  auto tok = DecodeTaskToken(task.task_token());
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(tok->kind(), state::TaskToken::QUERY_TASK);
  EXPECT_FALSE(query.finished());
  ASSERT_TRUE(AnswerQueryTask(task.task_token(), "running").ok());
  EXPECT_EQ(Await(query).query_result().payloads(0).data(), "\"running\"");
  // Answering twice: the query is gone.
  EXPECT_EQ(AnswerQueryTask(task.task_token(), "again").code(), Code::kNotFound);
  EXPECT_EQ(History("wf-q3").size(), 4u);
}

TEST_F(EngineQueryTest, LegacyQueryTaskWaitsInTheBacklogForTheNextPoll) {
  StartAndComplete("wf-q4", {});
  auto query = Query("wf-q4", "state");  // polled just now: the query waits for a poller
  EXPECT_FALSE(query.finished());
  auto task = PollWft();
  EXPECT_EQ(task.query().query_type(), "state");
  ASSERT_TRUE(FailQueryTask(task.task_token(), "query handler panicked").ok());
  Status s = Result(query);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "query handler panicked");
}

TEST_F(EngineQueryTest, CallerThatGaveUpIsNotDelivered) {
  StartAndComplete("wf-q5", {});
  auto query = Query("wf-q5", "state");
  engine_->CancelPoll(query.waiter);
  ASSERT_TRUE(query.finished());
  EXPECT_EQ(query.done.get().code(), Code::kCancelled);
  // The backlogged query task is dropped: the poll waits instead of receiving it.
  auto poll = StartWftPoll(Sec(5));
  EXPECT_FALSE(poll.finished());
  Advance(Sec(5));
  auto resp = Await(poll);
  EXPECT_TRUE(resp.task_token().empty());
}

TEST_F(EngineQueryTest, ClosedRunQueriesAndRejectConditions) {
  StartAndComplete("wf-q6", {CompleteWorkflow("final")});
  // NOT_OPEN: rejected with the run's status, no worker involved.
  auto rejected = Query("wf-q6", "state", ev1::QUERY_REJECT_CONDITION_NOT_OPEN);
  auto r = Await(rejected);
  ASSERT_TRUE(r.has_query_rejected());
  EXPECT_EQ(r.query_rejected().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  // NOT_COMPLETED_CLEANLY does not reject a completed run: it goes out as a legacy task.
  auto query = Query("wf-q6", "state", ev1::QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY);
  auto task = PollWft();
  EXPECT_EQ(task.query().query_type(), "state");
  EXPECT_EQ(task.history().events_size(), 5);  // the final history, close event included
  EXPECT_EQ(task.history().events(4).event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  ASSERT_TRUE(AnswerQueryTask(task.task_token(), "closed-state").ok());
  EXPECT_EQ(Await(query).query_result().payloads(0).data(), "\"closed-state\"");
}

TEST_F(EngineQueryTest, ValidationAndFailedTaskState) {
  Status s = Result(Query("wf-missing", "state"));
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  StartWorkflow("wf-q7");
  s = Result(Query("wf-q7", ""));
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  // A workflow task failing again and again: queries are refused until it recovers.
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto task = PollWft();
    ASSERT_EQ(task.attempt(), attempt);
    Advance(Sec(10));  // start-to-close timeout
  }
  s = Result(Query("wf-q7", "state"));
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();  // WorkflowNotReady
}

}  // namespace
}  // namespace temporalite::history::testing
