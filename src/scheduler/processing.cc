// Scheduler: processing a schedule's time (wake-ups, catchup, backfills, overlap policies) and
// the actions it takes through the WorkflowRunner.
#include <algorithm>

#include "common/log.h"
#include "scheduler/scheduler.h"
#include "scheduler/time_util.h"

namespace temporalite::scheduler {

namespace ev1 = ::temporal::api::enums::v1;
namespace spv1 = ::temporal::api::schedule::v1;
namespace cv1 = ::temporal::api::common::v1;

namespace {

cv1::Payload JsonPayload(const std::string& json, const char* sa_type) {
  cv1::Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  (*p.mutable_metadata())["type"] = sa_type;
  p.set_data(json);
  return p;
}

std::string Identity(const state::ScheduleRecord& rec) {
  return "temporal-scheduler-" + rec.namespace_() + "-" + rec.schedule_id();
}

// Temporal's processBuffer (buffer.go): what to start now, what stays buffered, and whether
// the running workflow must be cancelled or terminated first.
struct BufferDecision {
  std::vector<state::BufferedStart> overlapping;  // AllowAll: start all now
  std::optional<state::BufferedStart> non_overlapping;
  std::vector<state::BufferedStart> new_buffer;
  bool need_cancel = false;
  bool need_terminate = false;
  int64_t overlap_skipped = 0;
};

template <typename Resolve>
BufferDecision DecideBuffer(const google::protobuf::RepeatedPtrField<state::BufferedStart>& buffer, bool is_running,
                            Resolve resolve) {
  BufferDecision d;
  for (const auto& start : buffer) {
    auto policy = resolve(start.overlap_policy());
    if (policy == ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
      d.overlapping.push_back(start);
      continue;
    }
    if (!is_running && !d.non_overlapping) {
      d.non_overlapping = start;
      continue;
    }
    switch (policy) {
      case ev1::SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
        if (d.new_buffer.empty()) {
          d.new_buffer.push_back(start);
        } else {
          ++d.overlap_skipped;
        }
        break;
      case ev1::SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
        d.new_buffer.push_back(start);
        break;
      case ev1::SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
        if (is_running) {
          d.need_cancel = true;
          d.new_buffer.push_back(start);
        } else {
          d.non_overlapping = start;
        }
        break;
      case ev1::SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER:
        if (is_running) {
          d.need_terminate = true;
          d.new_buffer.push_back(start);
        } else {
          d.non_overlapping = start;
        }
        break;
      default:  // SKIP
        ++d.overlap_skipped;
        break;
    }
  }
  if (d.need_cancel || d.need_terminate) d.overlapping.clear();
  return d;
}

}  // namespace

Duration Scheduler::CatchupWindow(const Entry& e) const {
  const auto& pol = e.rec.schedule().policies();
  if (!pol.has_catchup_window()) return options_.default_catchup_window;
  return std::max(FromProto(pol.catchup_window()), options_.min_catchup_window);
}

ev1::ScheduleOverlapPolicy Scheduler::ResolveOverlap(const Entry& e, ev1::ScheduleOverlapPolicy p) const {
  if (p == ev1::SCHEDULE_OVERLAP_POLICY_UNSPECIFIED) p = e.rec.schedule().policies().overlap_policy();
  if (p == ev1::SCHEDULE_OVERLAP_POLICY_UNSPECIFIED) p = ev1::SCHEDULE_OVERLAP_POLICY_SKIP;
  return p;
}

bool Scheduler::CanTakeScheduledAction(Entry& e, bool manual, bool decrement) const {
  if (manual) return true;
  auto* st = e.rec.mutable_schedule()->mutable_state();
  if (st->paused()) return false;
  if (!st->limited_actions()) return true;
  if (st->remaining_actions() > 0) {
    if (decrement) {
      st->set_remaining_actions(st->remaining_actions() - 1);
      e.rec.set_conflict_token(e.rec.conflict_token() + 1);
    }
    return true;
  }
  return false;
}

void Scheduler::AddStartLocked(Entry& e, TimePoint nominal, TimePoint actual, ev1::ScheduleOverlapPolicy policy,
                               bool manual) {
  if (static_cast<size_t>(e.rec.buffered_starts_size()) >= options_.max_buffer_size) {
    TL_LOG_WARN("schedule %s: buffer full, dropping start at %s", e.rec.schedule_id().c_str(),
                Rfc3339Seconds(nominal).c_str());
    e.rec.mutable_info()->set_buffer_dropped(e.rec.info().buffer_dropped() + 1);
    if (options_.metrics) {
      options_.metrics->counter("schedule_buffer_overruns", "Schedule starts dropped because the buffer was full",
                                {{"namespace", e.rec.namespace_()}}).Inc();
    }
    return;
  }
  auto* b = e.rec.add_buffered_starts();
  *b->mutable_nominal_time() = ToProto(nominal);
  *b->mutable_actual_time() = ToProto(actual);
  b->set_overlap_policy(policy);
  b->set_manual(manual);
  // Scheduled starts: a function of the schedule incarnation and the nominal time, so the same
  // time processed twice (after a crash) asks the engine for the same start.
  std::string base = "sched:" + e.rec.namespace_id() + ":" + e.rec.schedule_id() + ":" +
                     std::to_string(FromProto(e.rec.info().create_time()).time_since_epoch().count()) + ":";
  if (manual) {
    e.rec.set_next_manual_seq(e.rec.next_manual_seq() + 1);
    b->set_request_id(base + "manual:" + std::to_string(e.rec.next_manual_seq()));
  } else {
    b->set_request_id(base + std::to_string(nominal.time_since_epoch().count()));
  }
}

TimePoint Scheduler::ProcessTimeRangeLocked(Entry& e, TimePoint start, TimePoint end, ev1::ScheduleOverlapPolicy policy,
                                            bool manual, int* limit) {
  if (!e.spec) return TimePoint::max();
  std::string seed = e.rec.namespace_id() + "-" + e.rec.schedule_id();
  auto next_after = [&](TimePoint t) {
    auto r = e.spec->GetNextTime(seed, t);
    return r.ok() ? *r : NextTime{};
  };
  if (!CanTakeScheduledAction(e, manual, false)) return next_after(end).actual;  // skip time spent paused
  Duration catchup = CatchupWindow(e);
  TimePoint update = e.rec.info().has_update_time() ? FromProto(e.rec.info().update_time()) : TimePoint::min();
  NextTime next;
  for (next = next_after(start); next.actual != TimePoint::max() && next.actual <= end; next = next_after(next.actual)) {
    if (!manual && update > next.actual) continue;  // before the last update: the old spec's time
    if (!manual && end - next.actual > catchup) {
      TL_LOG_WARN("schedule %s missed catchup window: %s", e.rec.schedule_id().c_str(),
                  Rfc3339Seconds(next.actual).c_str());
      e.rec.mutable_info()->set_missed_catchup_window(e.rec.info().missed_catchup_window() + 1);
      if (options_.metrics) {
        options_.metrics->counter("schedule_missed_catchup_window", "Schedule times skipped as older than the catchup window",
                                  {{"namespace", e.rec.namespace_()}}).Inc();
      }
      continue;
    }
    AddStartLocked(e, next.nominal, next.actual, policy, manual);
    if (limit && --*limit <= 0) break;
  }
  return next.actual;
}

void Scheduler::ProcessBackfillsLocked(Entry& e) {
  int limit = static_cast<int>(options_.max_buffer_size / 2);
  while (e.rec.ongoing_backfills_size() > 0 && limit > 0 &&
         static_cast<size_t>(e.rec.buffered_starts_size()) < options_.max_buffer_size / 2) {
    auto* b = e.rec.mutable_ongoing_backfills(0);
    TimePoint end = FromProto(b->end_time());
    TimePoint next = ProcessTimeRangeLocked(e, FromProto(b->start_time()), end, b->overlap_policy(), true, &limit);
    if (next == TimePoint::max() || next > end) {
      e.rec.mutable_ongoing_backfills()->DeleteSubrange(0, 1);
    } else {
      *b->mutable_start_time() = ToProto(next);  // exclusive: `next` itself was buffered
    }
  }
}

Scheduler::Op Scheduler::StartOpLocked(const Entry& e, const state::BufferedStart& start) const {
  const auto& wf = e.rec.schedule().action().start_workflow();
  TimePoint nominal = FromProto(start.nominal_time());
  Op op{Op::kStart, Key(e.rec.namespace_id(), e.rec.schedule_id()), e.rec.namespace_(), {}, {}, start, {}};
  op.workflow_id = wf.workflow_id() + "-" + Rfc3339Seconds(nominal);
  auto& req = op.req;
  req.set_namespace_(e.rec.namespace_());
  req.set_workflow_id(op.workflow_id);
  *req.mutable_workflow_type() = wf.workflow_type();
  *req.mutable_task_queue() = wf.task_queue();
  if (wf.has_input()) *req.mutable_input() = wf.input();
  if (wf.has_workflow_execution_timeout()) *req.mutable_workflow_execution_timeout() = wf.workflow_execution_timeout();
  if (wf.has_workflow_run_timeout()) *req.mutable_workflow_run_timeout() = wf.workflow_run_timeout();
  if (wf.has_workflow_task_timeout()) *req.mutable_workflow_task_timeout() = wf.workflow_task_timeout();
  if (wf.has_retry_policy()) *req.mutable_retry_policy() = wf.retry_policy();
  if (wf.has_memo()) *req.mutable_memo() = wf.memo();
  if (wf.has_header()) *req.mutable_header() = wf.header();
  if (wf.has_user_metadata()) *req.mutable_user_metadata() = wf.user_metadata();
  if (wf.has_priority()) *req.mutable_priority() = wf.priority();
  req.set_identity(Identity(e.rec));
  req.set_request_id(start.request_id());
  // Temporal: reject duplicates for scheduled starts, allow them for manual ones.
  req.set_workflow_id_reuse_policy(start.manual() ? ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
                                                  : ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  // AllowAll runs take no part in last completion result / continued failure (Temporal).
  if (ResolveOverlap(e, start.overlap_policy()) != ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
    if (e.rec.has_last_completion_result()) *req.mutable_last_completion_result() = e.rec.last_completion_result();
    if (e.rec.has_continued_failure()) *req.mutable_continued_failure() = e.rec.continued_failure();
  }
  auto* sa = req.mutable_search_attributes()->mutable_indexed_fields();
  *sa = wf.search_attributes().indexed_fields();
  (*sa)["TemporalScheduledStartTime"] = JsonPayload("\"" + Rfc3339Seconds(nominal) + "\"", "Datetime");
  (*sa)["TemporalScheduledById"] = JsonPayload("\"" + e.rec.schedule_id() + "\"", "Keyword");
  return op;
}

void Scheduler::ProcessBufferLocked(Entry& e, Ops* ops) {
  auto& rec = e.rec;
  if (!rec.schedule().action().has_start_workflow() || rec.buffered_starts_size() == 0) {
    rec.clear_buffered_starts();
    return;
  }
  bool is_running = rec.info().running_workflows_size() > 0;
  for (const auto& s : rec.starting()) {
    if (ResolveOverlap(e, s.overlap_policy()) != ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) is_running = true;
  }
  BufferDecision d = DecideBuffer(rec.buffered_starts(), is_running,
                                  [&](ev1::ScheduleOverlapPolicy p) { return ResolveOverlap(e, p); });
  rec.clear_buffered_starts();
  for (auto& s : d.new_buffer) *rec.add_buffered_starts() = std::move(s);
  rec.mutable_info()->set_overlap_skipped(rec.info().overlap_skipped() + d.overlap_skipped);
  std::vector<state::BufferedStart> all = std::move(d.overlapping);
  if (d.non_overlapping) all.push_back(std::move(*d.non_overlapping));
  for (auto& s : all) {
    if (!CanTakeScheduledAction(e, s.manual(), true)) continue;  // paused or out of actions: dropped
    Op op = StartOpLocked(e, s);
    if (ResolveOverlap(e, s.overlap_policy()) != ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
      Watch(rec.namespace_id(), op.workflow_id, op.key);
    }
    *rec.add_starting() = s;
    ops->push_back(std::move(op));
  }
  if (d.need_terminate || d.need_cancel) {
    for (const auto& run : rec.info().running_workflows()) {
      Op op{d.need_terminate ? Op::kTerminate : Op::kCancel,
            Key(rec.namespace_id(), rec.schedule_id()), rec.namespace_(), run.workflow_id(), run.run_id(), {}, {}};
      op.req.set_identity(Identity(rec));
      ops->push_back(std::move(op));
    }
  }
}

void Scheduler::ApplyPatchLocked(Entry& e, const spv1::SchedulePatch& patch) {
  TimePoint now = clock_.Now();
  if (patch.has_trigger_immediately()) {
    TimePoint at = patch.trigger_immediately().has_scheduled_time()
                       ? FromProto(patch.trigger_immediately().scheduled_time())
                       : now;
    AddStartLocked(e, at, at, patch.trigger_immediately().overlap_policy(), true);
  }
  for (const auto& b : patch.backfill_request()) {
    if (static_cast<size_t>(e.rec.ongoing_backfills_size()) >= options_.max_buffer_size) {
      e.rec.mutable_info()->set_buffer_dropped(e.rec.info().buffer_dropped() + 1);
      continue;
    }
    auto* ob = e.rec.add_ongoing_backfills();
    // Inclusive start (Temporal's InclusiveBackfillStartTime): search from 1 ms before it.
    *ob->mutable_start_time() = ToProto(FromProto(b.start_time()) - std::chrono::milliseconds(1));
    *ob->mutable_end_time() = b.end_time();
    ob->set_overlap_policy(b.overlap_policy());
  }
  auto* st = e.rec.mutable_schedule()->mutable_state();
  if (!patch.pause().empty()) {
    st->set_paused(true);
    st->set_notes(patch.pause());
    e.rec.set_conflict_token(e.rec.conflict_token() + 1);
  }
  if (!patch.unpause().empty()) {
    st->set_paused(false);
    st->set_notes(patch.unpause());
    e.rec.set_conflict_token(e.rec.conflict_token() + 1);
  }
}

TimePoint Scheduler::CatchUpLocked(Entry& e) {
  TimePoint t1 = FromProto(e.rec.last_processed_time());
  TimePoint t2 = std::max(clock_.Now(), t1);
  TimePoint next = ProcessTimeRangeLocked(e, t1, t2, ev1::SCHEDULE_OVERLAP_POLICY_UNSPECIFIED, false, nullptr);
  *e.rec.mutable_last_processed_time() = ToProto(t2);
  return next;
}

void Scheduler::TickLocked(Entry& e, Ops* ops, Done done) {
  TimePoint next = CatchUpLocked(e);
  ProcessBackfillsLocked(e);
  ProcessBufferLocked(e, ops);
  PersistLocked(e, std::move(done));
  std::string key = Key(e.rec.namespace_id(), e.rec.schedule_id());
  if (CanTakeScheduledAction(e, false, false)) ArmLocked(key, e, next);
  // More backfill to take once the buffer drains: come back right away.
  if (e.rec.ongoing_backfills_size() > 0 &&
      static_cast<size_t>(e.rec.buffered_starts_size()) < options_.max_buffer_size / 2) {
    Post([this, key] { OnTimer(key); });
  }
}

void Scheduler::ArmLocked(const std::string& key, Entry& e, TimePoint next) {
  if (next == TimePoint::max()) return;
  if (e.armed != TimePoint::max() && e.armed <= next && e.armed > clock_.Now()) return;  // an earlier one is set
  e.armed = next;
  timers_.Schedule(next, [this, key] { OnTimer(key); });
}

void Scheduler::Post(std::function<void()> fn) { timers_.Schedule(clock_.Now(), std::move(fn)); }

void Scheduler::OnTimer(const std::string& key) {
  Ops ops;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = schedules_.find(key);
    if (it == schedules_.end()) return;
    Entry& e = *it->second;
    if (e.armed <= clock_.Now()) e.armed = TimePoint::max();
    TickLocked(e, &ops);
  }
  Run(std::move(ops));
}

void Scheduler::Run(Ops ops) {
  for (auto& op : ops) {
    in_flight_.fetch_add(1);
    auto finish = [this] {
      if (in_flight_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> l(idle_mu_);
        idle_cv_.notify_all();
      }
    };
    switch (op.kind) {
      case Op::kStart: {
        std::string key = op.key, wid = op.workflow_id;
        state::BufferedStart start = op.start;
        runner_.Start(op.req, [this, key, wid, start, finish](Result<StartedRun> r) {
          Post([this, key, wid, start, r = std::move(r)]() mutable { OnStartResult(key, start, wid, std::move(r)); });
          finish();
        });
        break;
      }
      case Op::kCancel:
      case Op::kTerminate: {
        auto cb = [wid = op.workflow_id, finish](const Status& s) {
          if (!s.ok()) TL_LOG_WARN("schedule overlap policy on %s: %s", wid.c_str(), s.ToString().c_str());
          finish();
        };
        if (op.kind == Op::kCancel) {
          runner_.RequestCancel(op.ns, op.workflow_id, op.run_id, "cancelled by schedule overlap policy",
                                op.req.identity(), cb);
        } else {
          runner_.Terminate(op.ns, op.workflow_id, op.run_id, "terminated by schedule overlap policy",
                            op.req.identity(), cb);
        }
        break;
      }
      case Op::kCheck: {
        std::string key = op.key, wid = op.workflow_id;
        runner_.CurrentStatus(op.ns, op.workflow_id, [this, key, wid, finish](Result<RunStatus> r) {
          Post([this, key, wid, r = std::move(r)]() mutable { OnStatus(key, wid, std::move(r)); });
          finish();
        });
        break;
      }
    }
  }
}

void Scheduler::OnStartResult(const std::string& key, const state::BufferedStart& start, const std::string& wid,
                              Result<StartedRun> result) {
  Ops ops;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = schedules_.find(key);
    if (it == schedules_.end()) {  // deleted meanwhile
      Unwatch(key.substr(0, key.find('\n')), wid);
      return;
    }
    Entry& e = *it->second;
    auto* starting = e.rec.mutable_starting();
    auto pos = std::find_if(starting->begin(), starting->end(),
                            [&](const state::BufferedStart& s) { return s.request_id() == start.request_id(); });
    if (pos == starting->end()) return;  // already handled
    starting->erase(pos);
    bool tracked = ResolveOverlap(e, start.overlap_policy()) != ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL;
    if (!result.ok()) {
      // As in Temporal, a failed start (e.g. the workflow id is taken) is dropped, not retried.
      TL_LOG_WARN("schedule %s: start of %s failed: %s", e.rec.schedule_id().c_str(), wid.c_str(),
                  result.status().ToString().c_str());
      if (tracked) Unwatch(e.rec.namespace_id(), wid);
    } else {
      auto* info = e.rec.mutable_info();
      info->set_action_count(info->action_count() + 1);
      spv1::ScheduleActionResult action;
      *action.mutable_schedule_time() = start.actual_time();
      *action.mutable_actual_time() = ToProto(result->start_time);
      action.mutable_start_workflow_result()->set_workflow_id(wid);
      action.mutable_start_workflow_result()->set_run_id(result->run_id);
      action.set_start_workflow_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
      *info->add_recent_actions() = action;
      while (static_cast<size_t>(info->recent_actions_size()) > options_.recent_action_count) {
        info->mutable_recent_actions()->DeleteSubrange(0, 1);
      }
      if (tracked) {
        auto* run = info->add_running_workflows();
        run->set_workflow_id(wid);
        run->set_run_id(result->run_id);
        // A start repeated after a restart names the run it made before, which may have closed
        // since (its close went to the scheduler before the restart): ask.
        if (result->status != ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
          ops.push_back(Op{Op::kCheck, key, e.rec.namespace_(), wid, result->run_id, {}, {}});
        }
      }
    }
    TickLocked(e, &ops);
  }
  Run(std::move(ops));
}

void Scheduler::OnStatus(const std::string& key, const std::string& wid, Result<RunStatus> result) {
  if (result.ok() && result->status == ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) return;
  // Closed, or gone (deleted): either way it no longer runs.
  auto status = result.ok() ? result->status : ev1::WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
  if (!result.ok() && result.status().code() != Code::kNotFound) {
    TL_LOG_WARN("schedule: cannot check %s: %s", wid.c_str(), result.status().ToString().c_str());
    return;
  }
  HandleClosed(key, wid, status, "");
}

void Scheduler::OnRunClosed(const std::string& namespace_id, const std::string& workflow_id, const std::string&,
                            ev1::WorkflowExecutionStatus status, bool chain_continues,
                            const std::string& failure_message, std::shared_ptr<const cv1::Payloads> result,
                            std::shared_ptr<const temporal::api::failure::v1::Failure> failure) {
  if (chain_continues) return;  // the workflow goes on in its next run
  std::string key;
  {
    std::lock_guard<std::mutex> l(watch_mu_);
    auto it = watched_.find(namespace_id + '\n' + workflow_id);
    if (it == watched_.end()) return;
    key = it->second;
  }
  Post([this, key, workflow_id, status, failure_message, result, failure] {
    HandleClosed(key, workflow_id, status, failure_message, result, failure);
  });
}

void Scheduler::HandleClosed(const std::string& key, const std::string& wid, ev1::WorkflowExecutionStatus status,
                             const std::string& failure_message, std::shared_ptr<const cv1::Payloads> result,
                             std::shared_ptr<const temporal::api::failure::v1::Failure> failure) {
  Ops ops;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = schedules_.find(key);
    if (it == schedules_.end()) return;
    Entry& e = *it->second;
    auto* running = e.rec.mutable_info()->mutable_running_workflows();
    auto pos = std::find_if(running->begin(), running->end(), [&](const auto& r) { return r.workflow_id() == wid; });
    if (pos == running->end()) return;  // not (or no longer) tracked
    running->erase(pos);
    Unwatch(e.rec.namespace_id(), wid);
    for (auto& a : *e.rec.mutable_info()->mutable_recent_actions()) {
      if (a.start_workflow_result().workflow_id() == wid) a.set_start_workflow_status(status);
    }
    if (result) {
      *e.rec.mutable_last_completion_result() = *result;
      e.rec.clear_continued_failure();
    } else if (failure) {
      *e.rec.mutable_continued_failure() = *failure;  // the last result stays
    }
    auto* st = e.rec.mutable_schedule()->mutable_state();
    bool failed = status == ev1::WORKFLOW_EXECUTION_STATUS_FAILED || status == ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
    if (e.rec.schedule().policies().pause_on_failure() && failed && !st->paused()) {
      st->set_paused(true);
      st->set_notes(status == ev1::WORKFLOW_EXECUTION_STATUS_FAILED
                        ? "paused due to workflow failure: " + wid + ": " + failure_message
                        : "paused due to workflow timeout: " + wid);
      e.rec.set_conflict_token(e.rec.conflict_token() + 1);
    }
    TickLocked(e, &ops);
  }
  Run(std::move(ops));
}

void Scheduler::Watch(const std::string& ns_id, const std::string& wid, const std::string& key) {
  std::lock_guard<std::mutex> l(watch_mu_);
  watched_[ns_id + '\n' + wid] = key;
}

void Scheduler::Unwatch(const std::string& ns_id, const std::string& wid) {
  std::lock_guard<std::mutex> l(watch_mu_);
  watched_.erase(ns_id + '\n' + wid);
}

}  // namespace temporalite::scheduler
