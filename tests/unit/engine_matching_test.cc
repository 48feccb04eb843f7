// Engine + matching: ShutdownWorker hands a sticky queue's backlog to the normal queue at once
// (no schedule-to-start timeout), and a shut-down sticky queue gets no new tasks.
#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

constexpr char kSticky[] = "worker-1-sticky";

class EngineMatchingTest : public EngineTest {
 protected:
  static void StickyAttrs(wsv1::RespondWorkflowTaskCompletedRequest& req) {
    auto* a = req.mutable_sticky_attributes();
    a->mutable_worker_task_queue()->set_name(kSticky);
    a->mutable_worker_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_STICKY);
    a->mutable_worker_task_queue()->set_normal_name(kTaskQueue);
    *a->mutable_schedule_to_start_timeout() = PbDur(Sec(5));
  }
  Status ShutdownWorker() {
    wsv1::ShutdownWorkerRequest req;
    req.set_namespace_(kNamespace);
    req.set_sticky_task_queue(kSticky);
    req.set_identity(kWorker);
    return Call([&](Done d) { engine_->ShutdownWorker(req, std::move(d)); });
  }
};

TEST_F(EngineMatchingTest, ShutdownWorkerMovesTheStickyBacklogToTheNormalQueue) {
  StartWorkflow("wf-shutdown");
  auto first = PollWft();
  auto sticky_poll = StartWftPoll(Sec(1), kSticky);
  ASSERT_TRUE(CompleteWft(first.task_token(), {StartTimer("t1", Sec(2))}, StickyAttrs).ok());
  Advance(Sec(1));  // the sticky poll expires empty; the queue was polled a second ago
  EXPECT_TRUE(Await(sticky_poll).task_token().empty());
  Advance(Sec(1));  // TimerFired(6), WFTScheduled(7) on the sticky queue: backlogged there
  auto hist = History("wf-shutdown");
  ASSERT_EQ(hist.size(), 7u) << Describe(hist);
  EXPECT_EQ(hist[6].workflow_task_scheduled_event_attributes().task_queue().kind(), ev1::TASK_QUEUE_KIND_STICKY);

  // A normal-queue poll waits: the task is on the sticky queue.
  auto normal_poll = StartWftPoll(Sec(60));
  EXPECT_FALSE(normal_poll.finished());
  // The worker shuts down: its sticky task goes to the waiting normal poll now, full history.
  ASSERT_TRUE(ShutdownWorker().ok());
  auto task = Await(normal_poll);
  EXPECT_EQ(task.started_event_id(), 8);
  EXPECT_EQ(task.history().events_size(), 8);
  // The sticky schedule-to-start timer finds nothing to do.
  Advance(Sec(5));
  hist = History("wf-shutdown");
  ASSERT_EQ(hist.size(), 8u) << Describe(hist);
  EXPECT_EQ(hist[7].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED);

  // The dead sticky queue gets no new task although it was polled within the fallback window.
  ASSERT_TRUE(CompleteWft(task.task_token(), {StartTimer("t2", Sec(1))}, StickyAttrs).ok());
  Advance(Sec(1));
  hist = History("wf-shutdown");
  ASSERT_EQ(hist.size(), 12u) << Describe(hist);
  EXPECT_EQ(hist[11].workflow_task_scheduled_event_attributes().task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(hist[11].workflow_task_scheduled_event_attributes().task_queue().name(), kTaskQueue);
  // A new poll on the sticky queue revives it for the next task.
  auto revived = StartWftPoll(Sec(60), kSticky);
  auto normal = PollWft();
  ASSERT_TRUE(CompleteWft(normal.task_token(), {StartTimer("t3", Sec(1))}, StickyAttrs).ok());
  Advance(Sec(1));
  auto sticky_task = Await(revived);
  EXPECT_EQ(sticky_task.workflow_execution().workflow_id(), "wf-shutdown");
  EXPECT_LT(sticky_task.history().events_size(), static_cast<int>(History("wf-shutdown").size()));  // partial history
}

}  // namespace
}  // namespace temporalite::history::testing
