// Local activities, the workflow's side: scheduled with sequence numbers shared with activities
// (as the TypeScript SDK counts them), run by the worker while the workflow task waits (live) or
// read from their markers (replay), each outcome a marker in sdk-core's format
// (workflow_support.h). A retry whose backoff is longer than the local retry threshold becomes,
// as sdk-core's DoBackoff, a marker with the failure and the backoff, a timer, and a new local
// activity (next seq) carrying the attempt number and the first attempt's schedule time.
#include <algorithm>

#include "workflow_instance.h"
#include "workflow_support.h"

namespace temporalite::sdk::internal {

namespace enums = temporal::api::enums::v1;

namespace {

std::exception_ptr LocalActivityCancelled() {
  return std::make_exception_ptr(
      ActivityFailure("Local activity cancelled", std::make_shared<CanceledFailure>("Activity cancelled")));
}

}  // namespace

Future<Payloads> WorkflowInstance::ScheduleLocalActivity(const std::string& type, const LocalActivityOptions& o,
                                                         const Payloads& args) {
  auto scope = o.scope ? o.scope.state() : root_scope_;
  auto first = ScheduleLocalActivityAttempt(type, o, args, 1, std::chrono::system_clock::now(), scope);
  if (first->done) return Future<Payloads>(first);  // its scope was cancelled
  auto outer = NewCompletion("local activity " + type);
  Spawn(DriveLocalActivity(outer, first, type, o, args, scope));
  return Future<Payloads>(outer);
}

std::shared_ptr<Completion> WorkflowInstance::ScheduleLocalActivityAttempt(
    const std::string& type, const LocalActivityOptions& o, const Payloads& args, int attempt,
    std::chrono::system_clock::time_point original_schedule_time, const std::shared_ptr<ScopeState>& scope) {
  int64_t seq = activity_seq_++;  // shared with activities, as in the TypeScript SDK
  auto c = NewCompletion("local activity " + type + " (seq " + std::to_string(seq) + ")");
  if (scope->cancelled) {
    c->Reject(LocalActivityCancelled());
    return c;
  }
  pending_las_.push_back(LocalActivity{c, seq, type, o, args, attempt, original_schedule_time, nullptr,
                                       std::make_shared<LocalActivityCancellation>()});
  scope->Add(c, [this, seq] { CancelLocalActivity(seq); });
  return c;
}

// A cancelled local activity (its scope was cancelled). One not started yet never runs (no
// marker). A running one has its attempt's context cancelled (unless kAbandon); with kTryCancel
// and kAbandon the workflow sees the cancellation at once, recorded by a marker, and the
// activity's outcome is dropped when it ends; with kWaitCancellationCompleted its outcome is
// recorded and seen when it ends, as sdk-core does. Replay reaches the same points: a pending
// local activity is rejected there unless a kWaitCancellationCompleted one's marker is at hand.
void WorkflowInstance::CancelLocalActivity(int64_t seq) {
  for (auto& la : pending_las_) {
    if (la.seq != seq) continue;
    if (replaying_ && la.opts.cancellation_type == ActivityCancellationType::kWaitCancellationCompleted &&
        segment_local_activities_.count(seq)) {
      return;
    }
    la.c->Reject(LocalActivityCancelled());  // dropped from pending_las_ as done
    return;
  }
  for (auto it = running_las_.begin(); it != running_las_.end(); ++it) {
    if (it->seq != seq) continue;
    const auto type = it->opts.cancellation_type;
    if (type != ActivityCancellationType::kAbandon) it->cancellation->Cancel();
    if (type == ActivityCancellationType::kWaitCancellationCompleted) return;
    LocalActivityOutcome out;
    out.attempt = it->attempt;
    AddLocalActivityMarker(*it, out, FromFailureProto(ToFailureProto(CanceledFailure("Activity cancelled"))));
    it->c->Reject(LocalActivityCancelled());
    abandoned_las_.splice(abandoned_las_.end(), running_las_, it);
    return;
  }
}

namespace {

// Awaits a completion without rethrowing its error (no co_await inside try blocks: GCC 12
// miscompiles some of those in coroutines).
struct Settled {
  std::shared_ptr<Completion> c;
  bool await_ready() const noexcept { return c->done; }
  void await_suspend(std::coroutine_handle<> h) { c->waiters.push_back(h); }
  void await_resume() const noexcept {}
};

std::optional<LocalActivityBackoff> BackoffOf(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const LocalActivityBackoff& b) {
    return b;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

// The local activity's attempts as the workflow sees them: one call, whose backoffs past the
// local retry threshold are timers followed by new local activities.
Task<void> WorkflowInstance::DriveLocalActivity(std::shared_ptr<Completion> outer, std::shared_ptr<Completion> first,
                                                std::string type, LocalActivityOptions o, Payloads args,
                                                std::shared_ptr<ScopeState> scope) {
  std::shared_ptr<Completion> attempt = std::move(first);
  for (;;) {
    Settled attempt_done{attempt};
    co_await attempt_done;
    if (!attempt->error) {
      outer->Resolve(attempt->value);
      co_return;
    }
    std::optional<LocalActivityBackoff> backoff = BackoffOf(attempt->error);
    if (!backoff) {
      outer->Reject(attempt->error);
      co_return;
    }
    Future<void> timer = StartTimer(backoff->backoff, scope);
    Settled timer_done{timer.completion()};
    co_await timer_done;
    if (timer.completion()->error) {
      outer->Reject(LocalActivityCancelled());
      co_return;
    }
    attempt = ScheduleLocalActivityAttempt(type, o, args, backoff->next_attempt, backoff->original_schedule_time, scope);
  }
}

// Runs (live) or reads from markers (replay) the local activities the workflow is waiting on,
// each followed by the workflow's next steps, until none is pending. In replay a local activity
// whose marker is not among this task's events stays pending: another SDK (or a task kept alive
// by heartbeats) may have recorded it in a later task; if none has by the live task, it runs then.
// Markers are read in their events' order, the order their local activities ended in.
void WorkflowInstance::ResolveLocalActivities(bool live) {
  if (live) {
    RunLocalActivitiesLive();
    return;
  }
  for (;;) {
    std::erase_if(pending_las_, [](const LocalActivity& la) { return la.c->done; });  // cancelled: no marker
    auto next = pending_las_.end();
    int64_t first_event = 0;
    for (auto it = pending_las_.begin(); it != pending_las_.end(); ++it) {
      auto m = segment_local_activities_.find(it->seq);
      if (m == segment_local_activities_.end()) continue;
      if (next == pending_las_.end() || m->second.event_id() < first_event) {
        next = it;
        first_event = m->second.event_id();
      }
    }
    if (next == pending_las_.end()) return;
    LocalActivity la = std::move(*next);
    pending_las_.erase(next);
    ReplayLocalActivity(la);
    if (!nondeterminism_.empty()) return;
    RunReady();
  }
}

// Starts every pending local activity at once (the worker bounds how many run together), then
// records and settles each as it ends, running the workflow's next steps (which may start more
// or cancel some) after each; meanwhile the task is kept alive (TaskKeepAlive).
void WorkflowInstance::RunLocalActivitiesLive() {
  std::erase_if(abandoned_las_, [](const LocalActivity& la) { return la.exec->Done(); });
  for (;;) {
    while (!pending_las_.empty()) {
      LocalActivity la = std::move(pending_las_.front());
      pending_las_.pop_front();
      if (la.c->done) continue;  // cancelled before it ran: no marker
      if (!la_runner_) throw WorkflowTaskError("local activities need a worker (no runner)");
      la.exec = la_runner_(LocalActivityRequest{la.type, la.opts, la.args, std::to_string(la.seq), info_, la.attempt,
                                                la.original_schedule_time, la.cancellation},
                           la_notifier_);
      running_las_.push_back(std::move(la));
    }
    if (running_las_.empty()) return;
    std::unique_lock<std::mutex> l(la_notifier_->mu);
    if (la_notifier_->abandon) {
      // The worker's shutdown grace period is over: the task fails, its unfinished local
      // activities unrecorded (cancelled as the instance is dropped), to be retried by another
      // worker (the behaviour the official SDKs' feature tests ask of a shutdown).
      throw WorkflowTaskError("worker shutting down: local activities still running at the end of the grace period");
    }
    auto ended =
        std::find_if(running_las_.begin(), running_las_.end(), [](const LocalActivity& la) { return la.exec->Done(); });
    if (ended != running_las_.end()) {
      l.unlock();
      LocalActivity la = std::move(*ended);
      running_las_.erase(ended);
      RecordLocalActivity(la);
      RunReady();
      continue;
    }
    const int64_t seen = la_notifier_->ended;
    auto changed = [&] { return la_notifier_->ended != seen || la_notifier_->abandon; };
    if (keep_alive_.period.count() <= 0) {
      la_notifier_->cv.wait(l, changed);
    } else if (!la_notifier_->cv.wait_until(l, keep_alive_.next, changed)) {
      l.unlock();
      if (keep_alive_.beat()) keep_alive_.next = std::chrono::steady_clock::now() + keep_alive_.period;
      else keep_alive_.period = std::chrono::milliseconds(0);
    }
  }
}

// Resolves `la` from its marker in this task's events; false if it has none there.
bool WorkflowInstance::ReplayLocalActivity(LocalActivity& la) {
  auto it = segment_local_activities_.find(la.seq);
  if (it == segment_local_activities_.end()) return false;
  const auto& m = it->second.marker_recorded_event_attributes();
  auto data = ReadLocalActivityMarker(m);
  if (data && !data->activity_type.empty() && data->activity_type != la.type) {
    nondeterminism_ = "nondeterminism: history event " + std::to_string(it->second.event_id()) +
                      " MarkerRecorded(marker=" + m.marker_name() + "|" + std::to_string(la.seq) +
                      ", activity_type=" + data->activity_type + ") does not match the workflow's local activity " +
                      la.type;
    return true;
  }
  Payloads result;
  std::shared_ptr<TemporalFailure> failure;
  std::optional<LocalActivityBackoff> backoff;
  if (m.has_failure()) {
    failure = FromFailureProto(m.failure());
    if (data && data->backoff) {
      backoff = LocalActivityBackoff{data->attempt + 1, *data->backoff, data->original_schedule_time, failure};
    }
  } else if (auto r = m.details().find("result"); r != m.details().end()) {
    result = r->second;
  }
  segment_local_activities_.erase(it);
  SettleLocalActivity(la, std::move(result), std::move(failure), backoff);
  return true;
}

// Records the marker of `la`, which ended, and settles it.
void WorkflowInstance::RecordLocalActivity(LocalActivity& la) {
  LocalActivityOutcome out = la.exec->Take();
  la.exec.reset();
  std::shared_ptr<TemporalFailure> failure = out.error ? FromFailureProto(ToFailureProto(out.error)) : nullptr;
  AddLocalActivityMarker(la, out, failure);
  std::optional<LocalActivityBackoff> backoff;
  if (failure && out.backoff) {
    backoff = LocalActivityBackoff{out.attempt + 1, *out.backoff, la.original_schedule_time, failure};
  }
  SettleLocalActivity(la, std::move(out.result), std::move(failure), backoff);
}

void WorkflowInstance::AddLocalActivityMarker(const LocalActivity& la, const LocalActivityOutcome& out,
                                              const std::shared_ptr<TemporalFailure>& failure) {
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_RECORD_MARKER);
  auto* m = cmd.mutable_record_marker_command_attributes();
  m->set_marker_name(kLocalActivityMarker);
  // Times are wall-clock (informational, as in sdk-core; replay reads only the schedule time).
  *m->mutable_details() = LocalActivityMarkerDetails(la.seq, out.attempt, la.type, std::chrono::system_clock::now(),
                                                     la.original_schedule_time, failure ? nullptr : &out.result,
                                                     failure ? out.backoff : std::nullopt);
  if (failure) *m->mutable_failure() = ToFailureProto(*failure);
  // Not expected in order (see MatchCommandEvent): sent, never matched.
  commands_.push_back(std::move(cmd));
  command_keys_.emplace_back(enums::COMMAND_TYPE_RECORD_MARKER,
                             std::string(kLocalActivityMarker) + "|" + std::to_string(la.seq));
}

void WorkflowInstance::SettleLocalActivity(LocalActivity& la, Payloads result, std::shared_ptr<TemporalFailure> failure,
                                           const std::optional<LocalActivityBackoff>& backoff) {
  if (backoff) {
    la.c->Reject(std::make_exception_ptr(*backoff));  // DriveLocalActivity sleeps, then retries
  } else if (failure) {
    ActivityFailure f("Local activity failed", failure);
    f.activity_type = la.type;
    f.activity_id = std::to_string(la.seq);
    f.identity = identity_;
    la.c->Reject(std::make_exception_ptr(f));
  } else {
    la.c->Resolve(std::move(result));
  }
}

}  // namespace temporalite::sdk::internal
