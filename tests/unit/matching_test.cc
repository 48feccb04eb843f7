// Matching alone: sync match, backlog order, stale tasks, sticky liveness and fallback, pollers
// cancelled or expired. Time is a SimClock; responses are a plain struct (matching never reads them).
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "matching/task_queues.h"

namespace temporalite::matching {
namespace {

struct Resp {
  std::string task;
};
using Queues = TaskQueues<Resp>;
using Poller = Queues::Poller;

constexpr auto kFallback = std::chrono::seconds(10);

class MatchingTest : public ::testing::Test {
 protected:
  MatchingTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), queues_(kFallback) {}
  // The queues are used under their owner's mutex, as in the engine: held for the whole test.
  void SetUp() override { mu_.Lock(); }
  void TearDown() override { mu_.Unlock(); }

  // A poller whose `finish` records the status it ended with.
  Poller NewPoller() {
    auto resp = std::make_shared<Resp>();
    responses_.push_back(resp);
    auto p = std::make_shared<PollWaiter<Resp>>(resp.get());
    p->finish = [this, raw = p.get()](const Status& s) { finished_.push_back({raw, s.code()}); };
    return p;
  }
  static PendingTask Task(const std::string& run, int64_t id) { return {run, id, 1, {}}; }

  // Polls `key`, accepting the backlog tasks `live` says are still live; the accepted task is
  // written into the poller's response and the poller finished, as the engine does.
  bool PollOn(const QueueKey& key, const Poller& p, const std::string& identity, bool sticky,
              const std::function<bool(const PendingTask&)>& live = nullptr) {
    return queues_.Poll(key, p, {identity, {}, 0}, sticky, clock_.Now(), [&](const PendingTask& t) {
      if (live && !live(t)) return false;
      p->response->task = t.run_id + "/" + std::to_string(t.scheduled_event_id);
      p->Complete(mu_);
      p->finish(Status::Ok());
      return true;
    });
  }

  struct Finished {
    const Waiter* waiter;
    Code code;
  };
  Mutex mu_;
  SimClock clock_;
  Queues queues_;
  std::vector<std::shared_ptr<Resp>> responses_;
  std::vector<Finished> finished_;
  const QueueKey normal_{"ns", "tq", TaskType::kWorkflow};
  const QueueKey sticky_{"ns", "worker-1-sticky", TaskType::kWorkflow};
};

TEST_F(MatchingTest, TaskOfferedToAWaitingPollerIsSyncMatched) {
  Poller p = NewPoller();
  EXPECT_FALSE(PollOn(normal_, p, "w1", false));  // nothing queued: the poller waits
  EXPECT_FALSE(p->completed(mu_));
  Poller got = queues_.Offer(mu_, normal_, Task("run-a", 2), clock_.Now());
  ASSERT_EQ(got, p);
  EXPECT_TRUE(got->completed(mu_));  // claimed: nobody else may finish it
  const QueueState* q = queues_.Find(normal_);
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(q->backlog.empty());
  EXPECT_GT(q->added.PerSecond(clock_.Now()), 0);
  EXPECT_GT(q->dispatched.PerSecond(clock_.Now()), 0);
  // The poller is gone: the next task waits in the backlog.
  EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-b", 2), clock_.Now()), nullptr);
  EXPECT_EQ(queues_.Find(normal_)->backlog.size(), 1u);
}

TEST_F(MatchingTest, PollersAreServedInArrivalOrder) {
  Poller first = NewPoller(), second = NewPoller();
  PollOn(normal_, first, "w1", false);
  PollOn(normal_, second, "w2", false);
  EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-a", 2), clock_.Now()), first);
  EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-b", 2), clock_.Now()), second);
}

TEST_F(MatchingTest, BacklogIsTakenInFifoOrderAndStaleTasksAreDropped) {
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-" + std::to_string(i), 2), clock_.Now()), nullptr);
  std::vector<std::string> offered;
  auto live = [&](const PendingTask& t) {
    offered.push_back(t.run_id);
    return t.run_id != "run-1" && t.run_id != "run-3";  // run-1, run-3: started elsewhere meanwhile
  };
  Poller a = NewPoller(), b = NewPoller(), c = NewPoller();
  EXPECT_TRUE(PollOn(normal_, a, "w1", false, live));
  EXPECT_EQ(a->response->task, "run-2/2");
  EXPECT_TRUE(PollOn(normal_, b, "w1", false, live));
  EXPECT_EQ(b->response->task, "run-4/2");
  EXPECT_EQ(offered, (std::vector<std::string>{"run-1", "run-2", "run-3", "run-4"}));
  // Backlog exhausted: the third poller waits.
  EXPECT_FALSE(PollOn(normal_, c, "w1", false, live));
  EXPECT_FALSE(c->completed(mu_));
  EXPECT_TRUE(queues_.Find(normal_)->backlog.empty());
}

TEST_F(MatchingTest, QueuesAreSeparateByNamespaceAndName) {
  Poller p = NewPoller();
  PollOn(normal_, p, "w1", false);
  EXPECT_EQ(queues_.Offer(mu_, {"other-ns", "tq", TaskType::kWorkflow}, Task("run-a", 2), clock_.Now()), nullptr);
  EXPECT_EQ(queues_.Offer(mu_, {"ns", "tq2", TaskType::kWorkflow}, Task("run-b", 2), clock_.Now()), nullptr);
  EXPECT_FALSE(p->completed(mu_));
  EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-c", 2), clock_.Now()), p);
}

TEST_F(MatchingTest, CancelledPollerIsSkipped) {
  Poller cancelled = NewPoller(), live = NewPoller();
  PollOn(normal_, cancelled, "w1", false);
  PollOn(normal_, live, "w2", false);
  cancelled->Complete(mu_);  // what Engine::CancelPoll does before finishing it
  EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-a", 2), clock_.Now()), live);
  // Only cancelled pollers left: the task is backlogged, not handed to a dead poll.
  Poller gone = NewPoller();
  PollOn(normal_, gone, "w3", false);
  gone->Complete(mu_);
  EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-b", 2), clock_.Now()), nullptr);
  EXPECT_EQ(queues_.Find(normal_)->backlog.size(), 1u);
}

TEST_F(MatchingTest, ExpiredPollerIsRemoved) {
  Poller p = NewPoller();
  PollOn(normal_, p, "w1", false);
  queues_.Expire(normal_, p.get());
  EXPECT_TRUE(queues_.Find(normal_)->pollers.empty());
  EXPECT_EQ(queues_.Offer(mu_, normal_, Task("run-a", 2), clock_.Now()), nullptr);
  EXPECT_FALSE(p->completed(mu_));  // the caller finishes it, not matching
  queues_.Expire({"ns", "never-polled", TaskType::kWorkflow}, p.get());  // unknown queue: no-op
}

TEST_F(MatchingTest, PollRecordsPollerIdentityAndTime) {
  Poller p = NewPoller();
  PollOn(normal_, p, "worker-7", false);
  EXPECT_EQ(p->identity, "worker-7");
  const QueueState* q = queues_.Find(normal_);
  ASSERT_EQ(q->recent_pollers.count("worker-7"), 1u);
  EXPECT_EQ(q->recent_pollers.at("worker-7").last_access_time, clock_.Now());
  EXPECT_EQ(q->last_poll_time, clock_.Now());
  EXPECT_FALSE(q->sticky);
}

TEST_F(MatchingTest, StickyQueueIsAliveWhilePolledWithinTheFallbackWindow) {
  EXPECT_FALSE(queues_.StickyAlive(sticky_, clock_.Now()));  // never polled
  Poller p = NewPoller();
  PollOn(sticky_, p, "w1", true);
  EXPECT_TRUE(queues_.Find(sticky_)->sticky);
  EXPECT_TRUE(queues_.StickyAlive(sticky_, clock_.Now()));
  // A poll still waiting keeps it alive however old.
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_TRUE(queues_.StickyAlive(sticky_, clock_.Now()));
  // Once that poll expired: alive until the fallback window after the last poll has passed.
  queues_.Expire(sticky_, p.get());
  EXPECT_FALSE(queues_.StickyAlive(sticky_, clock_.Now()));
  Poller again = NewPoller();
  PollOn(sticky_, again, "w1", true);
  queues_.Expire(sticky_, again.get());
  clock_.Advance(kFallback - std::chrono::seconds(1));
  EXPECT_TRUE(queues_.StickyAlive(sticky_, clock_.Now()));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(queues_.StickyAlive(sticky_, clock_.Now()));
}

TEST_F(MatchingTest, StickyScheduleToStartDefaultsToTheFallbackWindow) {
  EXPECT_EQ(queues_.StickyScheduleToStart(Duration::zero()), kFallback);
  EXPECT_EQ(queues_.StickyScheduleToStart(std::chrono::seconds(-1)), kFallback);
  EXPECT_EQ(queues_.StickyScheduleToStart(std::chrono::seconds(3)), std::chrono::seconds(3));
}

TEST_F(MatchingTest, ShutdownHandsBackTheStickyBacklogAndMarksTheQueueDead) {
  Poller p = NewPoller();
  PollOn(sticky_, p, "w1", true);
  queues_.Expire(sticky_, p.get());
  queues_.Offer(mu_, sticky_, Task("run-a", 2), clock_.Now());
  queues_.Offer(mu_, sticky_, Task("run-b", 5), clock_.Now());
  auto back = queues_.Shutdown(sticky_);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].run_id, "run-a");
  EXPECT_EQ(back[1].run_id, "run-b");
  EXPECT_TRUE(queues_.Find(sticky_)->backlog.empty());
  EXPECT_FALSE(queues_.StickyAlive(sticky_, clock_.Now()));  // polled just now, but shut down
  // A new poll revives it.
  Poller q = NewPoller();
  PollOn(sticky_, q, "w1", true);
  EXPECT_TRUE(queues_.StickyAlive(sticky_, clock_.Now()));
}

TEST_F(MatchingTest, QueryTaskGoesToAPollerOrBacklogOnlyWhilePolledRecently) {
  const TimePoint start = clock_.Now();
  const Duration window = std::chrono::seconds(20);
  bool refused = true;
  // Counting from the server's start: a queue nobody polled yet still gets the query for a while.
  EXPECT_EQ(queues_.OfferQuery(mu_, normal_, {"run-a", 0, 0, "q1"}, clock_.Now(), start, window, &refused), nullptr);
  EXPECT_FALSE(refused);
  EXPECT_EQ(queues_.Find(normal_)->backlog.size(), 1u);
  clock_.Advance(window + std::chrono::seconds(1));
  EXPECT_EQ(queues_.OfferQuery(mu_, normal_, {"run-a", 0, 0, "q2"}, clock_.Now(), start, window, &refused), nullptr);
  EXPECT_TRUE(refused);
  EXPECT_EQ(queues_.Find(normal_)->backlog.size(), 1u);
  // A poller that has waited longer than the window still takes it.
  Poller p = NewPoller();
  PollOn(normal_, p, "w1", false, [](const PendingTask&) { return false; });  // drops q1 as stale
  clock_.Advance(window + std::chrono::seconds(1));
  EXPECT_EQ(queues_.OfferQuery(mu_, normal_, {"run-a", 0, 0, "q3"}, clock_.Now(), start, window, &refused), p);
  EXPECT_FALSE(refused);
  // Query tasks are not counted as added or dispatched tasks.
  EXPECT_EQ(queues_.Find(normal_)->added.PerSecond(clock_.Now()), 0);
}

TEST_F(MatchingTest, BacklogQueryTaskIsNotCountedAsDispatched) {
  bool refused = false;
  queues_.OfferQuery(mu_, normal_, {"run-a", 0, 0, "q1"}, clock_.Now(), clock_.Now(), std::chrono::seconds(20), &refused);
  Poller p = NewPoller();
  EXPECT_TRUE(PollOn(normal_, p, "w1", false));
  EXPECT_EQ(queues_.Find(normal_)->dispatched.PerSecond(clock_.Now()), 0);
  queues_.Offer(mu_, normal_, Task("run-b", 2), clock_.Now());
  Poller p2 = NewPoller();
  EXPECT_TRUE(PollOn(normal_, p2, "w1", false));
  EXPECT_GT(queues_.Find(normal_)->dispatched.PerSecond(clock_.Now()), 0);
}

}  // namespace
}  // namespace temporalite::matching
