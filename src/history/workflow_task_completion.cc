// RespondWorkflowTaskCompleted (Temporal's service/history/api/respondworkflowtaskcompleted):
// validate the commands, write WorkflowTaskCompleted and the command events, then schedule the
// next task, started at once and returned in the reply when the worker asks for it
// (return_new_workflow_task), and workflow-task heartbeats (force_create_new_workflow_task with
// no commands) with their timeout. See shared/protocol-notes.md sections 1.5 and 1.7.
#include "history/commands/dispatcher.h"
#include "history/engine.h"
#include "history/engine_command_context.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"

namespace temporalite::history {

namespace fv1 = ::temporal::api::failure::v1;

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
void Engine::StartReturnedWorkflowTaskLocked(Txn& txn, Execution& ex, const std::string& identity,
                                             wsv1::PollWorkflowTaskQueueResponse* out, bool heartbeat) {
  const bool sticky = !ex.st().sticky_task_queue().empty();
  PrepareWorkflowTaskLocked(txn, ex, sticky);
  auto waiter = std::make_shared<matching::PollWaiter<wsv1::PollWorkflowTaskQueueResponse>>(out);
  waiter->identity = identity;
  waiter->finish = [](const Status&) {};  // the completion's own reply delivers it
  // Temporal's request id for a task started by a completion (its WorkflowTaskStarted shows it).
  StartWorkflowTaskLocked(txn, ex, waiter, sticky, "request-from-RespondWorkflowTaskCompleted", heartbeat);
}

void Engine::AfterWorkflowTaskCompletedLocked(Txn& txn, Execution& ex,
                                              const wsv1::RespondWorkflowTaskCompletedRequest& req, bool need_wft,
                                              std::optional<TimePoint> heartbeat_chain_start,
                                              wsv1::RespondWorkflowTaskCompletedResponse* resp) {
  if (FlushBufferedEvents(ex) > 0) need_wft = true;
  // Queries first: answers of this completion settle before the next task starts (and takes the
  // unanswered ones along).
  if (!ex.query_ids.empty() || req.query_results_size() > 0) queries_.Settle(ex, &req.query_results(), need_wft);
  if (!need_wft) return;
  if (req.return_new_workflow_task()) {
    StartReturnedWorkflowTaskLocked(txn, ex, req.identity(), resp->mutable_workflow_task(),
                                    req.force_create_new_workflow_task());
  } else {
    ScheduleWorkflowTaskLocked(txn, ex);
  }
  // A heartbeat task carries the chain's start over (Temporal's AddWorkflowTaskScheduledEventAsHeartbeat).
  if (heartbeat_chain_start) ex.SetWorkflowTaskOriginalScheduledTime(*heartbeat_chain_start);
}

void Engine::RespondWorkflowTaskCompleted(const wsv1::RespondWorkflowTaskCompletedRequest& req,
                                          wsv1::RespondWorkflowTaskCompletedResponse* resp, Done done) {
  auto tok = DecodeTaskToken(req.task_token());
  if (!tok.ok()) return done(tok.status());
  if (tok->kind() != state::TaskToken::WORKFLOW_TASK) return done(InvalidArgument("task token is not a workflow task token"));
  MutexLock l(mu_);
  // Store reads of the commands' targets, without the mutex.
  const Status targets_read = PrefetchCommandTargets(req, tok->run_id());
  auto it = runs_.find_loaded(tok->run_id());
  if (it == runs_.end() || !it->second->open()) return ReplyNow(l, done, NotFound("Workflow task not found."));
  Execution& ex = *it->second;
  const auto& st = ex.st();
  if (st.wft().scheduled_event_id() != tok->scheduled_event_id() ||
      st.wft().started_event_id() != tok->started_event_id() || st.wft().attempt() != tok->attempt() ||
      st.wft().started_event_id() == 0) {
    return ReplyNow(l, done, NotFound("Workflow task not found."));
  }
  // A target the store could not read: nothing is applied (the task stays started; its timeout
  // or the worker's retry tries again), rather than the target recorded as not found.
  if (!targets_read.ok()) return ReplyNow(l, done, targets_read);

  Txn txn;
  std::optional<TimePoint> heartbeat_chain_start;
  if (IsHeartbeat(req)) {
    heartbeat_chain_start = HeartbeatChainStart(st.wft());
    const Duration limit = std::chrono::seconds(options_.workflow_task_heartbeat_timeout_seconds);
    if (clock_.Now() > *heartbeat_chain_start + limit) {
      // Heartbeats alone for too long: the task times out (WorkflowTaskTimedOut, START_TO_CLOSE)
      // and the next one goes to the normal queue with full history. Temporal starts that task
      // for the worker it then answers with an error; here matching dispatches it.
      FailWorkflowTaskLocked(txn, ex, 0, nullptr, "", true, ev1::TIMEOUT_TYPE_START_TO_CLOSE);
      CommitLocked(txn, [done](const Status& s) { done(s.ok() ? NotFound("workflow task heartbeat timeout") : s); });
      return;
    }
  }

  // Validate everything before writing anything.
  EngineCommandContext ctx(*this, txn, ex);
  const auto& dispatcher = commands::CommandDispatcher::Get();
  commands::CommandPlan plan;
  commands::CommandStatus verdict = dispatcher.Validate(req, ctx, &plan);
  if (!verdict.ok() && verdict.cause == ev1::WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED) {
    return ReplyNow(l, done, verdict.status);
  }
  if (!verdict.ok()) {
    // Temporal fails the task and answers with "<Cause>: <detail>".
    fv1::Failure f;
    f.set_message(verdict.status.message());
    FailWorkflowTaskLocked(txn, ex, verdict.cause, &f, req.identity(), false, 0, verdict.terminate_run);
    // An oversized payload would fail every retry the same way: Temporal ends the run.
    if (verdict.terminate_run) TerminateLocked(txn, ex, verdict.status.message(), nullptr, "history-service");
    CommitLocked(txn, [reply = verdict.status, done](const Status& s) { done(s.ok() ? reply : s); });
    return;
  }
  if (plan.closes && st.buffered_events_size() > 0) {
    // New events arrived while the worker decided to close: make it see them first.
    fv1::Failure f;
    f.set_message("UnhandledCommand");
    FailWorkflowTaskLocked(txn, ex, ev1::WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, &f, req.identity(), false, 0);
    CommitLocked(txn, [done](const Status& s) { done(s.ok() ? InvalidArgument("UnhandledCommand") : s); });
    return;
  }

  txn.Touch(&ex);
  RecordWorkflowTaskCompletedLocked(ex, ctx, req);
  commands::ApplyResult applied = dispatcher.Apply(plan, ctx);
  bool need_wft = req.force_create_new_workflow_task() || applied.need_wft;
  std::optional<StartFields>& next_run = ctx.next_run();
  if (!ex.admitted_updates.empty()) {
    updates_.SettleAfterTask(txn, ex, true, req.force_create_new_workflow_task(), req.identity());
    if (updates_.HasUndelivered(ex)) need_wft = true;  // admitted while this task ran
  }
  ex.ClearWorkflowTask();
  bool queries_settled = false;
  if (applied.closed) {
    OnRunClosedLocked(txn, ex, next_run.has_value());
    if (next_run) starts_.CreateRun(txn, st.namespace_id(), std::move(*next_run), nullptr);
  } else if (st.next_event_id() - 1 > options_.history_count_limit_error ||
             st.history_size_bytes() > options_.history_size_limit_error) {
    // Temporal's hard limits: the run is terminated rather than allowed to grow further.
    TerminateLocked(txn, ex,
                    st.next_event_id() - 1 > options_.history_count_limit_error
                        ? "Workflow history count exceeds limit."
                        : "Workflow history size exceeds limit.",
                    nullptr, "history-service");
  } else {
    AfterWorkflowTaskCompletedLocked(txn, ex, req, need_wft, heartbeat_chain_start, resp);
    queries_settled = true;
  }
  // Eager activity execution: the tasks ride this reply, which is sent after the commit.
  if (!ctx.eager_activities().empty()) {
    StartEagerActivitiesLocked(txn, ex, ctx.eager_activities(), req.identity(), ctx.now(), resp);
  }
  // Closed runs settled their queries in OnRunClosedLocked; answers in this completion count too.
  if (!queries_settled && (!ex.query_ids.empty() || req.query_results_size() > 0)) {
    queries_.Settle(ex, &req.query_results(), ex.open() && ex.wft_pending());
  }
  CommitLocked(txn, std::move(done));
}

}  // namespace temporalite::history
