// Eager dispatch: eager activity execution (ScheduleActivityTask with request_eager_execution is
// started in the completion's own transaction and its task returned in the
// RespondWorkflowTaskCompleted reply, never queued) and eager workflow start's queue hygiene.
#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

auto Eager() {
  return [](cmdv1::ScheduleActivityTaskCommandAttributes& a) { a.set_request_eager_execution(true); };
}

class EngineEagerTest : public EngineTest {
 protected:
  // Completes a workflow task and returns the reply (its activity_tasks).
  wsv1::RespondWorkflowTaskCompletedResponse CompleteWftReply(const std::string& token,
                                                              const std::vector<cmdv1::Command>& commands) {
    wsv1::RespondWorkflowTaskCompletedRequest req;
    req.set_task_token(token);
    req.set_identity(kWorker);
    req.set_namespace_(kNamespace);
    for (const auto& c : commands) *req.add_commands() = c;
    wsv1::RespondWorkflowTaskCompletedResponse resp;
    Status s = Call<wsv1::RespondWorkflowTaskCompletedResponse>(
        [&](auto* r, Done d) { engine_->RespondWorkflowTaskCompleted(req, r, std::move(d)); }, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  size_t Backlog(bool activity) {
    size_t n = 0;
    for (const auto& q : engine_->TaskQueueGauges()) {
      if (q.activity == activity && q.name == kTaskQueue) n += q.backlog;
    }
    return n;
  }
};
using EngineEagerRecoveryTest = FileEngineTest;

TEST_F(EngineEagerTest, EagerActivityIsStartedInTheCompletionAndRidesTheReply) {
  StartWorkflow("wf-eager");
  auto wft = PollWft();
  auto activity_poll = StartActivityPoll(Sec(60));  // waiting: an eager task must not go here
  auto reply = CompleteWftReply(wft.task_token(), {ScheduleActivity("a1", Sec(10), Eager())});
  ASSERT_EQ(reply.activity_tasks_size(), 1);
  const auto& task = reply.activity_tasks(0);
  EXPECT_EQ(task.activity_id(), "a1");
  EXPECT_EQ(task.activity_type().name(), "TestActivity");
  EXPECT_EQ(task.attempt(), 1);
  EXPECT_EQ(task.input().payloads(0).data(), TextPayloads("input-a1").payloads(0).data());
  EXPECT_EQ(task.workflow_execution().workflow_id(), "wf-eager");
  EXPECT_EQ(task.workflow_namespace(), kNamespace);
  EXPECT_FALSE(task.task_token().empty());
  EXPECT_EQ(FromPb(task.start_to_close_timeout()), Sec(10));
  // Started in the completion's transaction: same instant as the schedule.
  EXPECT_EQ(FromPb(task.started_time()), FromPb(task.scheduled_time()));
  EXPECT_FALSE(activity_poll.finished()) << "the waiting poll got nothing";
  EXPECT_EQ(Backlog(true), 0u) << "nothing queued";
  auto desc = DescribeWf("wf-eager");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  EXPECT_EQ(desc.pending_activities(0).state(), ev1::PENDING_ACTIVITY_STATE_STARTED);

  ASSERT_TRUE(CompleteActivity(task.task_token(), "done").ok());
  auto hist = History("wf-eager");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  ASSERT_EQ(hist.size(), 8u);
  EXPECT_EQ(hist[5].activity_task_started_event_attributes().identity(), kWorker);
  EXPECT_EQ(hist[5].activity_task_started_event_attributes().attempt(), 1);
  EXPECT_EQ(FromPb(hist[5].event_time()), FromPb(hist[4].event_time()));
  EXPECT_EQ(hist[6].activity_task_completed_event_attributes().started_event_id(), 6);
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_FALSE(activity_poll.finished());
}

TEST_F(EngineEagerTest, WithoutTheRequestTheActivityIsQueued) {
  StartWorkflow("wf-plain");
  auto wft = PollWft();
  auto activity_poll = StartActivityPoll(Sec(60));
  auto reply = CompleteWftReply(wft.task_token(), {ScheduleActivity("a1", Sec(10))});
  EXPECT_EQ(reply.activity_tasks_size(), 0);
  EXPECT_EQ(Await(activity_poll).activity_id(), "a1");
}

TEST_F(EngineEagerTest, SwitchedOffByDynamicConfigTheActivityIsQueued) {
  CloseEngine();
  options_.enable_activity_eager_execution = false;  // system.enableActivityEagerExecution=false
  OpenEngine(":memory:");
  StartWorkflow("wf-off");
  auto wft = PollWft();
  auto reply = CompleteWftReply(wft.task_token(), {ScheduleActivity("a1", Sec(10), Eager())});
  EXPECT_EQ(reply.activity_tasks_size(), 0);
  EXPECT_EQ(Backlog(true), 1u);
  EXPECT_EQ(PollActivity().activity_id(), "a1");
}

TEST_F(EngineEagerTest, EveryRequestedActivityRidesTheReplyNoneWhenTheRunCloses) {
  StartWorkflow("wf-many");
  auto wft = PollWft();
  auto reply = CompleteWftReply(wft.task_token(), {ScheduleActivity("a1", Sec(10), Eager()),
                                                   ScheduleActivity("a2", Sec(10)),
                                                   ScheduleActivity("a3", Sec(10), Eager())});
  ASSERT_EQ(reply.activity_tasks_size(), 2);
  EXPECT_EQ(reply.activity_tasks(0).activity_id(), "a1");
  EXPECT_EQ(reply.activity_tasks(1).activity_id(), "a3");
  EXPECT_EQ(PollActivity().activity_id(), "a2");

  StartWorkflow("wf-closes");
  wft = PollWft();
  reply = CompleteWftReply(wft.task_token(), {ScheduleActivity("b1", Sec(10), Eager()), CompleteWorkflow("r")});
  EXPECT_EQ(reply.activity_tasks_size(), 0) << "the run closed in the same completion";
}

TEST_F(EngineEagerTest, AnEagerTaskNotCompletedTimesOutAndRetriesThroughTheQueue) {
  StartWorkflow("wf-lost");
  auto wft = PollWft();
  auto reply = CompleteWftReply(wft.task_token(), {ScheduleActivity("a1", Sec(5), Eager())});
  ASSERT_EQ(reply.activity_tasks_size(), 1);
  Advance(Sec(5));  // start-to-close: attempt 2 after the 1 s default backoff
  Advance(Sec(1));
  auto retry = PollActivity();
  EXPECT_EQ(retry.activity_id(), "a1");
  EXPECT_EQ(retry.attempt(), 2);
  EXPECT_EQ(CompleteActivity(reply.activity_tasks(0).task_token(), "late").code(), Code::kNotFound);
  ASSERT_TRUE(CompleteActivity(retry.task_token(), "done").ok());
}

TEST_F(EngineEagerTest, EagerWorkflowStartLeavesNoQueueEntry) {
  wsv1::StartWorkflowExecutionResponse resp;
  auto req = StartRequest("wf-eager-start");
  req.set_request_eager_execution(true);
  ASSERT_TRUE(Start(req, &resp).ok());
  ASSERT_FALSE(resp.eager_workflow_task().task_token().empty());
  EXPECT_EQ(Backlog(false), 0u) << "the starter took the task; nothing stays queued";
  StartWorkflow("wf-normal-start");
  EXPECT_EQ(Backlog(false), 1u);
}

TEST_F(EngineEagerRecoveryTest, AnEagerTaskIsDurableBeforeTheReply) {
  StartWorkflow("wf-durable");
  auto wft = PollWft();
  wsv1::RespondWorkflowTaskCompletedRequest req;
  req.set_task_token(wft.task_token());
  req.set_identity(kWorker);
  req.set_namespace_(kNamespace);
  *req.add_commands() = ScheduleActivity("a1", Sec(30), Eager());
  wsv1::RespondWorkflowTaskCompletedResponse reply;
  ASSERT_TRUE(Call<wsv1::RespondWorkflowTaskCompletedResponse>(
                  [&](auto* r, Done d) { engine_->RespondWorkflowTaskCompleted(req, r, std::move(d)); }, &reply)
                  .ok());
  ASSERT_EQ(reply.activity_tasks_size(), 1);
  Restart();
  auto desc = DescribeWf("wf-durable");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  EXPECT_EQ(desc.pending_activities(0).state(), ev1::PENDING_ACTIVITY_STATE_STARTED);
  EXPECT_EQ(desc.pending_activities(0).attempt(), 1);
  ASSERT_TRUE(CompleteActivity(reply.activity_tasks(0).task_token(), "done").ok());
  auto hist = History("wf-durable");
  ASSERT_EQ(hist.size(), 8u) << Describe(hist);
  EXPECT_EQ(hist[6].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
}

}  // namespace
}  // namespace temporalite::history::testing
