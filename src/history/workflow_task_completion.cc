// RespondWorkflowTaskCompleted (Temporal's service/history/api/respondworkflowtaskcompleted):
// validate the commands, write WorkflowTaskCompleted and the command events, then schedule the
// next task, started at once and returned in the reply when the worker asks for it
// (return_new_workflow_task), and workflow-task heartbeats (force_create_new_workflow_task with
// no commands) with their timeout. See shared/protocol-notes.md sections 1.5 and 1.7.
#include "common/log.h"
#include "history/commands/dispatcher.h"
#include "history/completion_context.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"
#include "history/workflow_tasks.h"

namespace temporalite::history {

namespace fv1 = ::temporal::api::failure::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

// workflow_tasks.cc: a transient task's Scheduled and Started events as its worker saw them.
void FillTransientWorkflowTaskEvents(Execution& ex, const WorkflowTasks::Limits& limits, hv1::HistoryEvent* scheduled,
                                     hv1::HistoryEvent* started);

namespace {

// A heartbeat: the worker only keeps its task alive (local activities still running), it makes
// no progress. Temporal's checkWTHeartbeatTimeout.
bool IsHeartbeat(const wsv1::RespondWorkflowTaskCompletedRequest& req) {
  return req.force_create_new_workflow_task() && req.commands_size() == 0 && req.messages_size() == 0;
}

// When the heartbeat chain `wft` belongs to began: the first task's scheduled time.
TimePoint HeartbeatChainStart(const state::WorkflowTaskInfo& wft) {
  return FromProto(wft.has_original_scheduled_time() ? wft.original_scheduled_time() : wft.scheduled_time());
}

}  // namespace

// Temporal's bypassTaskGeneration: the task is scheduled on the queue the worker just named as
// sticky (else the normal one) and started for `identity` in this transaction; it is never
// offered to matching, so no poller can also get it. The reply carrying it is sent only after
// the commit, so the started task is on disk before the worker sees it (a crash in between
// leaves a started task that times out, as any unanswered started task does). History: the
// events after the last completed task when sticky (Temporal sends that partial history), else
// all of it (a worker without a sticky queue has no cache to add the rest to).
void WorkflowTasks::StartReturned(Txn& txn, Execution& ex, const std::string& identity,
                                  wsv1::PollWorkflowTaskQueueResponse* out, bool heartbeat) {
  const bool sticky = !ex.st().sticky_task_queue().empty();
  Prepare(txn, ex, sticky);
  auto waiter = std::make_shared<matching::PollWaiter<wsv1::PollWorkflowTaskQueueResponse>>(out);
  waiter->identity = identity;
  waiter->finish = [](const Status&) {};  // the completion's own reply delivers it
  // Temporal's request id for a task started by a completion (its WorkflowTaskStarted shows it).
  Start(txn, ex, waiter, sticky, "request-from-RespondWorkflowTaskCompleted", heartbeat);
}

void WorkflowTasks::AfterCompleted(Txn& txn, Execution& ex, const wsv1::RespondWorkflowTaskCompletedRequest& req,
                                   bool need_wft, std::optional<TimePoint> heartbeat_chain_start,
                                   wsv1::RespondWorkflowTaskCompletedResponse* resp) {
  if (FlushBufferedEvents(ex) > 0) need_wft = true;
  // Queries first: answers of this completion settle before the next task starts (and takes the
  // unanswered ones along).
  if (!ex.query_ids.empty() || req.query_results_size() > 0) queries_.Settle(ex, &req.query_results(), need_wft);
  if (!need_wft) return;
  if (req.return_new_workflow_task()) {
    StartReturned(txn, ex, req.identity(), resp->mutable_workflow_task(), req.force_create_new_workflow_task());
  } else {
    Schedule(txn, ex);
  }
  // A heartbeat task carries the chain's start over (Temporal's AddWorkflowTaskScheduledEventAsHeartbeat).
  if (heartbeat_chain_start) ex.SetWorkflowTaskOriginalScheduledTime(*heartbeat_chain_start);
}

void WorkflowTasks::Complete(MutexLock& l, const state::TaskToken& tok,
                             const wsv1::RespondWorkflowTaskCompletedRequest& req,
                             wsv1::RespondWorkflowTaskCompletedResponse* resp, Done done) {
  // Store reads of the commands' targets, without the mutex.
  const Status targets_read = host_.PrefetchCommandTargets(req, tok.run_id());
  Execution* started = StartedTask(tok);
  if (!started) return ReplyNow(l, done, NotFound("Workflow task not found."));
  Execution& ex = *started;
  const auto& st = ex.st();
  // A target the store could not read: nothing is applied (the task stays started; its timeout
  // or the worker's retry tries again), rather than the target recorded as not found.
  if (!targets_read.ok()) return ReplyNow(l, done, targets_read);

  Txn txn;
  std::optional<TimePoint> heartbeat_chain_start;
  if (IsHeartbeat(req)) {
    heartbeat_chain_start = HeartbeatChainStart(st.wft());
    const Duration limit = std::chrono::seconds(limits_.workflow_task_heartbeat_timeout_seconds);
    if (engine_.Now() > *heartbeat_chain_start + limit) {
      // Heartbeats alone for too long: the task times out (WorkflowTaskTimedOut, START_TO_CLOSE)
      // and the next one goes to the normal queue with full history. Temporal starts that task
      // for the worker it then answers with an error; here matching dispatches it.
      FailTask(txn, ex, 0, nullptr, "", true, ev1::TIMEOUT_TYPE_START_TO_CLOSE);
      host_.Commit(txn, [done](const Status& s) { done(s.ok() ? NotFound("workflow task heartbeat timeout") : s); });
      return;
    }
  }

  // Validate everything before writing anything.
  std::unique_ptr<CompletionContext> ctx = host_.NewCompletionContext(txn, ex);
  commands::CommandPlan plan;
  commands::CommandStatus verdict = commands::CommandDispatcher::Get().Validate(req, *ctx, &plan);
  if (!verdict.ok() && verdict.cause == ev1::WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED) {
    return ReplyNow(l, done, verdict.status);
  }
  if (!verdict.ok()) {
    // Temporal fails the task and answers with "<Cause>: <detail>".
    fv1::Failure f;
    f.set_message(verdict.status.message());
    FailTask(txn, ex, verdict.cause, &f, req.identity(), false, 0, verdict.terminate_run);
    // An oversized payload would fail every retry the same way: Temporal ends the run.
    if (verdict.terminate_run) engine_.TerminateRun(txn, ex, verdict.status.message(), "history-service");
    host_.Commit(txn, [reply = verdict.status, done](const Status& s) { done(s.ok() ? reply : s); });
    return;
  }
  if (plan.closes && st.buffered_events_size() > 0) {
    // New events arrived while the worker decided to close: make it see them first.
    fv1::Failure f;
    f.set_message("UnhandledCommand");
    FailTask(txn, ex, ev1::WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, &f, req.identity(), false, 0);
    host_.Commit(txn, [done](const Status& s) { done(s.ok() ? InvalidArgument("UnhandledCommand") : s); });
    return;
  }

  ApplyCompletion(txn, ex, *ctx, plan, req, heartbeat_chain_start, resp);
  host_.Commit(txn, std::move(done));
}

void WorkflowTasks::ApplyCompletion(Txn& txn, Execution& ex, CompletionContext& ctx, const commands::CommandPlan& plan,
                                    const wsv1::RespondWorkflowTaskCompletedRequest& req,
                                    std::optional<TimePoint> heartbeat_chain_start,
                                    wsv1::RespondWorkflowTaskCompletedResponse* resp) {
  const auto& st = ex.st();
  txn.Touch(&ex);
  RecordCompleted(ex, ctx, req);
  commands::ApplyResult applied = commands::CommandDispatcher::Get().Apply(plan, ctx);
  bool need_wft = req.force_create_new_workflow_task() || applied.need_wft;
  std::optional<StartFields>& next_run = ctx.next_run();
  if (!ex.admitted_updates.empty()) {
    updates_.SettleAfterTask(txn, ex, true, req.force_create_new_workflow_task(), req.identity());
    if (updates_.HasUndelivered(ex)) need_wft = true;  // admitted while this task ran
  }
  ex.ClearWorkflowTask();
  bool queries_settled = false;
  if (applied.closed) {
    host_.OnRunClosed(txn, ex, next_run.has_value());
    if (next_run) host_.StartNextRun(txn, st.namespace_id(), std::move(*next_run));
  } else if (st.next_event_id() - 1 > limits_.history_count_limit_error ||
             st.history_size_bytes() > limits_.history_size_limit_error) {
    // Temporal's hard limits: the run is terminated rather than allowed to grow further.
    engine_.TerminateRun(txn, ex,
                         st.next_event_id() - 1 > limits_.history_count_limit_error
                             ? "Workflow history count exceeds limit."
                             : "Workflow history size exceeds limit.",
                         "history-service");
  } else {
    AfterCompleted(txn, ex, req, need_wft, heartbeat_chain_start, resp);
    queries_settled = true;
  }
  // Eager activity execution: the tasks ride this reply, which is sent after the commit.
  if (!ctx.eager_activities().empty()) {
    host_.StartEagerActivities(txn, ex, ctx.eager_activities(), req.identity(), ctx.now(), resp);
  }
  // Closed runs settled their queries in OnRunClosedLocked; answers in this completion count too.
  if (!queries_settled && (!ex.query_ids.empty() || req.query_results_size() > 0)) {
    queries_.Settle(ex, &req.query_results(), ex.open() && ex.wft_pending());
  }
}

void WorkflowTasks::RecordCompleted(Execution& ex, CompletionContext& ctx,
                                    const wsv1::RespondWorkflowTaskCompletedRequest& req) {
  const auto& st = ex.st();
  if (st.wft().transient()) {
    // The transient task's Scheduled and Started events go into history now, with the ids and
    // contents the worker saw (nothing was appended since: events were buffered).
    if (st.next_event_id() != st.wft().scheduled_event_id()) {
      TL_LOG_ERROR("transient workflow task of run %s: expected next event id %lld, have %lld", st.run_id().c_str(),
                   static_cast<long long>(st.wft().scheduled_event_id()), static_cast<long long>(st.next_event_id()));
    }
    ex.SetWorkflowTaskEventIds(st.next_event_id(), st.next_event_id() + 1);
    const auto* w = &st.wft();
    hv1::HistoryEvent scheduled, started;
    FillTransientWorkflowTaskEvents(ex, limits_, &scheduled, &started);
    started.mutable_workflow_task_started_event_attributes()->set_identity(req.identity());
    *AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, FromProto(w->scheduled_time())) = std::move(scheduled);
    *AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, FromProto(w->started_time())) = std::move(started);
    ex.ClearWorkflowTaskTransient();
  }
  auto* e = ctx.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  auto* a = e->mutable_workflow_task_completed_event_attributes();
  a->set_scheduled_event_id(st.wft().scheduled_event_id());
  a->set_started_event_id(st.wft().started_event_id());
  a->set_identity(req.identity());
  a->set_binary_checksum(req.binary_checksum());
  if (req.has_sdk_metadata()) *a->mutable_sdk_metadata() = req.sdk_metadata();
  if (req.has_metering_metadata()) *a->mutable_metering_metadata() = req.metering_metadata();
  // Temporal drops a versioned stamp of a workflow without an assigned build id (none here).
  if (req.has_worker_version_stamp() && !req.worker_version_stamp().use_versioning()) {
    *a->mutable_worker_version() = req.worker_version_stamp();
  }
  ex.RecordWorkerVersion(a->has_worker_version() ? &a->worker_version() : nullptr);
  ctx.set_completed_event_id(e->event_id());
  ex.CompleteWorkflowTask();
  if (req.has_sticky_attributes() && !req.sticky_attributes().worker_task_queue().name().empty()) {
    ex.SetStickyTaskQueue(req.sticky_attributes().worker_task_queue().name(),
                          req.sticky_attributes().schedule_to_start_timeout());
  } else {
    ex.ClearStickyTaskQueue();
  }
}


}  // namespace temporalite::history
