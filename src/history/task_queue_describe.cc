// DescribeTaskQueue: recent pollers and backlog statistics of one task queue (one type), answered
// from matching's in-memory view (DescribeQueue, task_queue_describe.h) and the engine's entry
// point, which judges the backlog against mutable state the same way a poll would, so stale queue
// entries (tasks already started elsewhere, timed out or moved) are not counted.
#include "history/task_queue_describe.h"

#include <algorithm>

#include "history/engine.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace {
// Temporal forgets a poller that has not polled for 5 minutes (matching's poller history TTL).
constexpr Duration kPollerTtl = std::chrono::minutes(5);
// The rate Temporal reports for a poller that set no max_tasks_per_second.
constexpr double kDefaultPollerRate = 100000.0;
}  // namespace

void DescribeQueue(matching::QueueState* q, const wsv1::DescribeTaskQueueRequest& req, TimePoint now,
                   const BacklogTaskSince& since, wsv1::DescribeTaskQueueResponse* resp) {
  int64_t backlog = 0;
  TimePoint oldest = TimePoint::max();
  if (q) {
    for (auto it = q->recent_pollers.begin(); it != q->recent_pollers.end();) {
      if (now - it->second.last_access_time > kPollerTtl) {
        it = q->recent_pollers.erase(it);
        continue;
      }
      auto* p = resp->add_pollers();
      p->set_identity(it->second.identity);
      *p->mutable_last_access_time() = ToProto(it->second.last_access_time);
      p->set_rate_per_second(it->second.rate_per_second > 0 ? it->second.rate_per_second : kDefaultPollerRate);
      ++it;
    }
    for (const auto& t : q->backlog) {
      if (!t.query_id.empty()) continue;  // legacy query tasks are not backlog
      std::optional<TimePoint> at = since(t);
      if (!at) continue;
      ++backlog;
      oldest = std::min(oldest, *at);
    }
  }
  if (req.report_stats()) {
    auto* st = resp->mutable_stats();
    st->set_approximate_backlog_count(backlog);
    if (backlog > 0 && oldest < now) *st->mutable_approximate_backlog_age() = ToProtoDuration(now - oldest);
    st->set_tasks_add_rate(q ? static_cast<float>(q->added.PerSecond(now)) : 0.f);
    st->set_tasks_dispatch_rate(q ? static_cast<float>(q->dispatched.PerSecond(now)) : 0.f);
  }
  if (req.include_task_queue_status()) {
    auto* ts = resp->mutable_task_queue_status();
    ts->set_backlog_count_hint(backlog);
    ts->set_rate_per_second(kDefaultPollerRate);
  }
  if (req.report_config()) resp->mutable_config();
}

void Engine::DescribeTaskQueue(const wsv1::DescribeTaskQueueRequest& req, wsv1::DescribeTaskQueueResponse* resp,
                               Done done) {
  MutexLock l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  Status s = ns.ok() ? CheckId(req.task_queue().name(), "TaskQueue") : ns.status();
  if (!s.ok()) {
    return ReplyNow(l, done, s);
  }
  const auto type = req.task_queue_type();
  if (type == ev1::TASK_QUEUE_TYPE_NEXUS) {
    return ReplyNow(l, done, Status(Code::kUnimplemented, "Nexus task queues are not supported by this server."));
  }
  const bool activity = type == ev1::TASK_QUEUE_TYPE_ACTIVITY;
  matching::QueueKey key{ns.value()->info().id(), req.task_queue().name(),
                         activity ? matching::TaskType::kActivity : matching::TaskType::kWorkflow};
  matching::QueueState* q = nullptr;
  if (activity) {
    q = activity_queues_.Find(key);
  } else {
    q = workflow_queues_.Find(key);
  }
  auto since = [&](const matching::PendingTask& t) -> std::optional<TimePoint> {
    mu_.AssertHeld();  // called by DescribeQueue below, under this function's lock
    if (activity) {
      const state::ActivityInfo* ai = activities_.LiveTask(t).second;
      if (!ai) return std::nullopt;
      TimePoint at = FromProto(ai->current_attempt_scheduled_time());
      return at == TimePoint{} ? FromProto(ai->scheduled_time()) : at;
    }
    const Execution* ex = wft_.LiveTask(t, key.name);
    if (!ex) return std::nullopt;
    return FromProto(ex->st().wft().scheduled_time());
  };
  DescribeQueue(q, req, clock_.Now(), since, resp);
  ReplyNow(l, done, Status::Ok());
}

}  // namespace temporalite::history
