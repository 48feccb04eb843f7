// In-memory form of one workflow run (Temporal's MutableState): its durable mutable state
// (state.proto) plus its history events, and the state transitions on them that keep the two and
// the derived indexes in step (appending and buffering events; adding and removing pending
// activities, timers and children; the workflow task's life; close). Owned by the engine and only
// touched under the engine mutex.
//
// The durable state is private: it is read through st() and written only through the named
// transitions below (or given whole when the run is made: the constructor for a new run's initial
// state, LoadState for a stored one), so the compiler keeps writes here. The pending maps' entries
// too: an activity, timer or child is added whole (built by the caller as a value first), the
// finders return const pointers, and a pending activity is edited only by the transitions keyed by
// its scheduled event id (timers and children are only added and removed). What callers still
// fill in is events: the event AddEvent / AddOrBufferEvent / BufferEvent return (a buffered one
// lives in the state until its flush); `events` and the in-memory fields below are public. The
// free AddEvent / AddOrBufferEvent / FlushBufferedEvents below are the older spelling of the same
// members (not a second implementation).
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "history/state.pb.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/failure/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/sdk/v1/user_metadata.pb.h"

namespace temporalite::history {

namespace hv1 = ::temporal::api::history::v1;
namespace ev1 = ::temporal::api::enums::v1;

struct Execution {
  Execution() = default;
  // A new run with its initial state (identity, deadlines, start fields), as StartWorkflow::NewRun
  // and a reset's replayed prefix build it; its history is appended after.
  explicit Execution(state::ExecutionState initial) : st_(std::move(initial)) {}

  // The durable state, read-only (writes go through the transitions below).
  const state::ExecutionState& st() const { return st_; }

  std::vector<hv1::HistoryEvent> events;  // events[i].event_id() == i + 1
  size_t persisted_events = 0;            // events already handed to the store
  // Visible fields changed (start, search attribute/memo upsert, close): the next commit writes
  // the visibility row in the same transaction.
  bool visibility_dirty = false;
  std::unordered_map<std::string, int64_t> activity_ids;  // activity id -> scheduled event id
  std::vector<std::string> query_ids;  // queries waiting on this run (in memory only, like Temporal)
  // While one workflow-task command is applied: its user_metadata, which the first event appended
  // (the command's event) takes over, as Temporal copies Command.user_metadata onto its event.
  const ::temporal::api::sdk::v1::UserMetadata* command_user_metadata = nullptr;
  std::vector<std::string> admitted_updates;  // update ids admitted, not yet accepted/rejected
  // DistinctUpdates (update_limits.h): UpdateAccepted events counted in events[0, accepted_scan_end).
  size_t accepted_scan_end = 0;
  int64_t accepted_updates = 0;

  // --- events ---
  // Appends an event with the next event id. The pointer is valid until the next append.
  hv1::HistoryEvent* AddEvent(ev1::EventType type, TimePoint now);
  // Appends, or buffers while a workflow task is started (ids are assigned at flush).
  hv1::HistoryEvent* AddOrBufferEvent(ev1::EventType type, TimePoint now);
  // Assigns ids to buffered events in arrival order and appends them. Returns how many.
  int FlushBufferedEvents();

  // --- pending maps ---
  // Entries are added whole (built by the caller as a value first), read through the const
  // finders (or st()), and edited only by the transitions below, keyed by the entry's id. A
  // transition for an id that is not pending is a no-op. A pointer or reference to an entry stays
  // valid, and sees the transitions' writes, until the entry is removed (or the run closes, or
  // its state is loaded anew).
  //
  // The Add* return the entry as stored (read-only).
  // A pending activity, keyed by its scheduled_event_id and indexed by its activity_id
  // (activity_ids); replaces one of the same scheduled event id.
  const state::ActivityInfo& AddActivity(state::ActivityInfo info);
  // Drops a pending activity and its index entry; an unknown id is a no-op.
  void RemoveActivity(int64_t scheduled_event_id);
  const state::ActivityInfo* FindActivity(int64_t scheduled_event_id) const;
  const state::ActivityInfo* FindActivityById(const std::string& activity_id) const;
  // A pending activity's attempt (the ActivityTasks unit, activity_tasks.h, drives them):
  // The attempt is handed to matching (or, eager, to the completing worker); a retry waits
  // undispatched.
  void SetActivityDispatched(int64_t scheduled_event_id, bool dispatched);
  // A worker starts the attempt at `now` (its poll, or a by-id answer for an attempt nobody polled).
  void StartActivityAttempt(int64_t scheduled_event_id, TimePoint now, const std::string& identity,
                            const std::string& request_id);
  // The attempt failed and the next one is scheduled for `next_attempt` (Temporal's RetryActivity):
  // its failure kept as last_failure, attempt + 1, unstarted and undispatched; `identity` (the
  // failing worker, empty for a timeout) becomes last_worker_identity.
  void RetryActivity(int64_t scheduled_event_id, const ::temporal::api::failure::v1::Failure& failure, TimePoint now,
                     TimePoint next_attempt, const std::string& identity);
  // A heartbeat's (or a failure's last) details, and the heartbeat's time.
  void SetActivityHeartbeatDetails(int64_t scheduled_event_id, const ::temporal::api::common::v1::Payloads& details);
  void RecordActivityHeartbeat(int64_t scheduled_event_id, TimePoint now);
  // The workflow asked to cancel the activity by event `cancel_requested_event_id` (Temporal's
  // AddActivityTaskCancelRequestedEvent); the worker learns of it from its next heartbeat.
  void RequestActivityCancel(int64_t scheduled_event_id, int64_t cancel_requested_event_id);
  // A reset run schedules an activity its prefix left unstarted again, as a fresh first attempt at
  // `now` (Temporal's workflowResetter.failInflightActivity): scheduled and current-attempt times
  // now, attempt 1, undispatched.
  void RescheduleActivity(int64_t scheduled_event_id, TimePoint now);
  // A user timer, keyed by its timer_id (replaces one of the same id). It is never edited: it
  // fires or is cancelled (RemoveTimer).
  const state::TimerInfo& AddTimer(state::TimerInfo info);
  void RemoveTimer(const std::string& timer_id);
  // A pending child, keyed by its initiated_event_id, added once it started (its run id known);
  // it is never edited: its close removes it.
  const state::ChildInfo& AddChild(state::ChildInfo info);
  void RemoveChild(int64_t initiated_event_id);
  // A reset terminates the current run without its parent-close policy: the reset run adopts its
  // children, so the terminated run forgets them.
  void ForgetChildren() { st_.clear_children(); }

  // --- loading and snapshots ---
  // Parses the stored state (RebuildIndexes follows once the history is read). False if corrupt.
  bool LoadState(const std::string& bytes);
  // The state as a deferred step stored it (a closed child's state at its close).
  void LoadState(const state::ExecutionState& stored) { st_ = stored; }
  // This run's state and history, copied (a closed run's snapshot for a query).
  void CopyFrom(const Execution& other);

  // --- commit bookkeeping ---
  void CountStateTransition() { st_.set_state_transition_count(st_.state_transition_count() + 1); }
  void AddHistorySize(int64_t bytes) { st_.set_history_size_bytes(st_.history_size_bytes() + bytes); }

  // --- the workflow task (Temporal's AddWorkflowTaskScheduled/Started/Completed/Failed...) ---
  // A new task record replaces the old one: attempt, queue, timeout; a transient task takes the id
  // its Scheduled event would get (next_event_id), otherwise SetWorkflowTaskScheduledEventId
  // follows once the event is appended.
  void ScheduleWorkflowTask(int32_t attempt, TimePoint now, const ::google::protobuf::Duration& start_to_close,
                            const std::string& task_queue, bool sticky, bool transient);
  void SetWorkflowTaskScheduledEventId(int64_t id) { st_.mutable_wft()->set_scheduled_event_id(id); }
  // A transient task overtaken by new events becomes a normal task, attempt 1, scheduled `now`.
  void ConvertTransientWorkflowTaskToNormal(TimePoint now);
  // The task is started by a worker (SetWorkflowTaskStartedEventId follows).
  void StartWorkflowTask(TimePoint now, const std::string& identity, const std::string& request_id);
  void SetWorkflowTaskStartedEventId(int64_t id) { st_.mutable_wft()->set_started_event_id(id); }
  // A transient task's events are written at completion: their ids, then it is no longer transient.
  void SetWorkflowTaskEventIds(int64_t scheduled_id, int64_t started_id);
  void ClearWorkflowTaskTransient() { st_.mutable_wft()->set_transient(false); }
  // A heartbeat task carries its chain's start over.
  void SetWorkflowTaskOriginalScheduledTime(TimePoint t);
  // The task is taken from (or moved to) the run's normal queue.
  void MoveWorkflowTaskToNormalQueue();
  // The task completed: its started id becomes last_completed_wft_started_id.
  void CompleteWorkflowTask() { st_.set_last_completed_wft_started_id(st_.wft().started_event_id()); }
  // No task: the record is dropped, keeping only the next attempt's number (0 after a completion).
  void ClearWorkflowTask(int32_t next_attempt = 0);
  // Temporal's BuildIds search attribute after a completed task (compat_fields.h UpdateBuildIds);
  // marks visibility dirty when it changed.
  void RecordWorkerVersion(const ::temporal::api::common::v1::WorkerVersionStamp* stamp);
  void SetStickyTaskQueue(const std::string& name, const ::google::protobuf::Duration& schedule_to_start);
  void ClearStickyTaskQueue() { st_.clear_sticky_task_queue(); }
  // The first task's backoff (cron, retry, start delay) is over.
  void ClearFirstWorkflowTaskBackoff() { st_.clear_first_wft_due_time(); }
  // The first task waits for a backoff (cron, retry, start delay) until `due`.
  void SetFirstWorkflowTaskBackoff(TimePoint due);

  // --- start and reset ---
  // The started event (just appended) takes the start's user metadata; the state keeps the
  // metadata and the priority it carries (Temporal's MutableState.AddWorkflowExecutionStartedEvent).
  void RecordStartExtras(const ::temporal::api::sdk::v1::UserMetadata& metadata, hv1::HistoryEvent* started);
  // A reset run (its state replayed from the base's prefix) takes the base's start request id and
  // the reset's request id, drops stickiness and any start backoff (the prefix holds a workflow
  // task), and its deadlines restart from `now` (Temporal's RefreshExpirationTimeoutTask: the
  // execution deadline, then the run deadline capped at it).
  void BeginResetRun(const std::string& start_request_id, const std::string& reset_request_id, TimePoint now);

  // --- buffered events ---
  // Buffers an event unconditionally (ids assigned at flush).
  hv1::HistoryEvent* BufferEvent(ev1::EventType type, TimePoint now);
  void RemoveBufferedEvent(int index);

  // --- signals, cancellation, search attributes and memo ---
  // One more signal; its request id is remembered for deduplication.
  void RecordSignal(const std::string& request_id);
  // A start answered with this run attached its request id (on_conflict_options.attach_request_id).
  void AttachRequestId(const std::string& request_id) { st_.add_attached_request_ids(request_id); }
  void RequestCancel() { st_.set_cancel_requested(true); }
  // Upserts search attributes (an unset value removes the key) / a memo (a nil value removes the
  // key); both mark visibility dirty.
  void UpsertSearchAttributes(const ::temporal::api::common::v1::SearchAttributes& upserted);
  void UpsertMemo(const ::temporal::api::common::v1::Memo& upserted);

  // --- close ---
  // The close status, set as the close event is appended (MarkClosed follows).
  void SetCloseStatus(ev1::WorkflowExecutionStatus status) { st_.set_status(status); }
  // The run closed: completion event id and close time from its last event; pending workflow task,
  // activities, timers, children, buffered events and stickiness are dropped. Returns the children
  // that were pending (their parent-close policies still apply).
  std::vector<state::ChildInfo> MarkClosed();

  bool open() const { return st_.status() == ev1::WORKFLOW_EXECUTION_STATUS_RUNNING; }
  bool wft_pending() const { return st_.wft().scheduled_event_id() != 0; }
  bool wft_started() const { return st_.wft().started_event_id() != 0; }
  std::string workflow_key() const { return st_.namespace_id() + "\n" + st_.workflow_id(); }
  // Rebuilds derived indexes (activity_ids) after loading state.
  void RebuildIndexes();

 private:
  // The pending activity the transitions above edit, or null.
  state::ActivityInfo* MutableActivity(int64_t scheduled_event_id);

  state::ExecutionState st_;
};

// Temporal's name for it.
using MutableState = Execution;

// The members above, in the older spelling.
inline hv1::HistoryEvent* AddEvent(Execution& ex, ev1::EventType type, TimePoint now) { return ex.AddEvent(type, now); }
inline hv1::HistoryEvent* AddOrBufferEvent(Execution& ex, ev1::EventType type, TimePoint now) {
  return ex.AddOrBufferEvent(type, now);
}
inline int FlushBufferedEvents(Execution& ex) { return ex.FlushBufferedEvents(); }

// Placeholder for "the ActivityTaskStarted buffered just before me", fixed up at flush.
constexpr int64_t kBufferedStartedEventId = -1;

std::string WorkflowKey(const std::string& namespace_id, const std::string& workflow_id);

}  // namespace temporalite::history
