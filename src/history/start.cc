// Creating runs: StartWorkflowExecution, SignalWithStartWorkflowExecution, and the shared
// CreateRunLocked used by continue-as-new, workflow retries, cron and child workflows. The
// decisions (the run's fields from a request, the checks, the id-conflict decision) are
// start_workflow.h's; here the engine finds the workflow id's current run, applies the decision
// and creates the run.
#include <algorithm>
#include <deque>
#include <memory>

#include "common/ids.h"
#include "common/log.h"
#include "history/engine.h"
#include "history/compat_fields.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/sa_types.h"
#include "history/signal_event.h"
#include "history/start_workflow.h"

namespace temporalite::history {

Status Engine::ValidateStartLocked(const StartFields& f, const std::string& ns_id) const {
  const StartLimits limits{.max_id_length = options_.max_id_length,
                           .blob_size_limit_error = options_.blob_size_limit_error,
                           .blob_size_limit_warn = options_.blob_size_limit_warn};
  return ValidateStart(f, limits, CustomSearchAttributesLocked(ns_id), cron_next_, clock_.Now());
}

Engine::CurrentRunRead Engine::ReadCurrentRun(const std::string& namespace_name, const std::string& workflow_id) {
  CurrentRunRead out;
  {
    MutexLock l(mu_);
    auto ns = NamespaceByNameLocked(namespace_name);
    if (!ns.ok()) return out;  // the start reports it
    out.ns_id = ns.value()->info().id();
    const std::string key = WorkflowKey(out.ns_id, workflow_id);
    if (open_by_workflow_id_.count(key) || closing_by_workflow_id_.count(key)) return out;  // judged on memory
    out.generation = WorkflowKeyGenerationLocked(key);
  }
  out.done = true;
  out.workflow_id = workflow_id;
  auto state = ReadCurrentRunState(out.ns_id, workflow_id);
  if (!state.ok()) {
    out.status = state.status();
    return out;
  }
  out.state = std::move(state).value();
  return out;
}

Result<const state::ExecutionState*> Engine::CurrentRunForStartLocked(const StartFields& f, const std::string& ns_id,
                                                                      CurrentRunRead* pre, IdConflict* out,
                                                                      Execution** open) {
  const std::string key = WorkflowKey(ns_id, f.workflow_id);
  if (auto open_it = open_by_workflow_id_.find(key); open_it != open_by_workflow_id_.end()) {
    *open = runs_.at(open_it->second).get();
    return &(*open)->st();
  }
  if (auto closing = closing_by_workflow_id_.find(key); closing != closing_by_workflow_id_.end()) {
    // The current run closed but the store does not know yet (its row says RUNNING, or there is
    // no row at all): judge on memory, and let a rejection wait until the close is durable.
    out->judged_on_undurable_close = true;
    return &runs_.at(closing->second)->st();
  }
  if (pre && pre->done && pre->ns_id == ns_id && pre->workflow_id == f.workflow_id &&
      pre->generation == WorkflowKeyGenerationLocked(key)) {
    // Read before the mutex was taken, and still what the store says (see CurrentRunRead).
    if (!pre->status.ok()) return pre->status;
    out->closed_state = std::move(pre->state);
    return out->closed_state.get();
  }
  if (const PrefetchedRun* child = PrefetchedLocked(ns_id, f.workflow_id, "")) {
    // A child's start: read by PrefetchCommandTargets before the completion's transition.
    if (!child->status.ok()) return child->status;
    if (!child->run) return nullptr;
    out->closed_state = std::make_unique<state::ExecutionState>(child->run->st());
    return out->closed_state.get();
  }
  // Never read from the store here (the engine mutex is held): a start's read is made before the
  // mutex (ReadCurrentRun, RereadCurrentRunIfStaleLocked), a child's by PrefetchCommandTargets.
  // One that was not is a bug; the start fails rather than block.
  TL_LOG_ERROR("id-conflict check of %s inside a transition without a read of its current run", f.workflow_id.c_str());
  return Status(Code::kUnavailable, "the current run of " + f.workflow_id + " was not read before the transition");
}

Engine::IdConflict Engine::ResolveIdConflictLocked(Txn& txn, const StartFields& f, const std::string& ns_id,
                                                   ev1::WorkflowIdReusePolicy reuse,
                                                   ev1::WorkflowIdConflictPolicy conflict, CurrentRunRead* pre) {
  IdConflict out;
  Execution* open = nullptr;
  auto found = CurrentRunForStartLocked(f, ns_id, pre, &out, &open);
  if (!found.ok()) {
    out.status = found.status();
    return out;
  }
  const state::ExecutionState* st = found.value();
  CurrentRun current;
  if (st) {
    current.open = open != nullptr;
    current.status = st->status();
    current.run_id = st->run_id();
    current.start_request_id = st->start_request_id();
  }
  StartDecision d = DecideStart(f.workflow_id, f.request_id, st ? &current : nullptr, reuse, conflict);
  switch (d.action) {
    case StartDecision::Action::kStartNew:
      break;
    case StartDecision::Action::kUseExisting:
      out.existing = st;
      break;
    case StartDecision::Action::kTerminateAndStart:
      TerminateLocked(txn, *open, kTerminateExistingReason, nullptr, f.attrs.identity());
      break;
    case StartDecision::Action::kReject:
      out.status = std::move(d.rejection);
      break;
  }
  return out;
}

Execution* Engine::CreateRunLocked(Txn& txn, const std::string& ns_id, StartFields f,
                                   const std::function<void(Execution&)>& before_first_wft) {
  const TimePoint now = clock_.Now();
  auto& a = f.attrs;
  // Timeouts per Temporal: run timeout defaults to the execution timeout (min of both when set);
  // task timeout defaults to 10 s, capped at 120 s and at the run timeout.
  Duration exec_to = FromProto(a.workflow_execution_timeout());
  Duration run_to = FromProto(a.workflow_run_timeout());
  if (run_to == Duration::zero() || (exec_to > Duration::zero() && exec_to < run_to)) run_to = exec_to;
  Duration task_to = FromProto(a.workflow_task_timeout());
  if (task_to == Duration::zero()) task_to = options_.default_workflow_task_timeout;
  task_to = std::min(task_to, options_.max_workflow_task_timeout);
  if (run_to > Duration::zero()) task_to = std::min(task_to, run_to);
  const Duration delay = FromProto(a.first_workflow_task_backoff());
  const std::string run_id = f.run_id.empty()
      ? NewTimeOrderedUuid(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count())
      : f.run_id;

  auto ex = std::make_shared<Execution>();
  auto& st = ex->mutable_st_legacy();
  st.set_namespace_id(ns_id);
  st.set_workflow_id(f.workflow_id);
  st.set_run_id(run_id);
  st.set_workflow_type(a.workflow_type().name());
  st.set_task_queue(a.task_queue().name());
  st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  st.set_next_event_id(1);
  *st.mutable_start_time() = ToProto(now);
  *st.mutable_execution_time() = ToProto(now + delay);
  *st.mutable_workflow_task_timeout() = ToProtoDuration(task_to);
  if (run_to > Duration::zero()) *st.mutable_run_timeout() = ToProtoDuration(run_to);
  if (exec_to > Duration::zero()) *st.mutable_execution_timeout() = ToProtoDuration(exec_to);
  if (run_to > Duration::zero()) *st.mutable_run_expiration_time() = ToProto(now + delay + run_to);
  // The execution timeout spans the whole chain (retries, continue-as-new): keep its deadline.
  if (!IsZero(a.workflow_execution_expiration_time())) {
    *st.mutable_execution_expiration_time() = a.workflow_execution_expiration_time();
  } else if (exec_to > Duration::zero()) {
    *st.mutable_execution_expiration_time() = ToProto(now + delay + exec_to);
    *a.mutable_workflow_execution_expiration_time() = st.execution_expiration_time();
  }
  st.set_start_request_id(f.request_id.empty() ? NewUuid() : f.request_id);
  *st.mutable_memo() = a.memo();
  if (a.search_attributes().indexed_fields_size() > 0) {
    SetSearchAttributeTypes(a.mutable_search_attributes(), CustomSearchAttributesLocked(ns_id));
  }
  *st.mutable_search_attributes() = a.search_attributes();
  if (a.first_execution_run_id().empty()) a.set_first_execution_run_id(run_id);
  st.set_first_execution_run_id(a.first_execution_run_id());
  if (a.attempt() < 1) a.set_attempt(1);
  st.set_attempt(a.attempt());
  if (a.has_retry_policy()) *st.mutable_retry_policy() = a.retry_policy();
  st.set_cron_schedule(a.cron_schedule());
  st.set_parent_workflow_id(a.parent_workflow_execution().workflow_id());
  st.set_parent_run_id(a.parent_workflow_execution().run_id());
  st.set_parent_namespace(a.parent_workflow_namespace());
  st.set_parent_initiated_event_id(a.parent_initiated_event_id());
  if (a.has_root_workflow_execution()) {
    st.set_root_workflow_id(a.root_workflow_execution().workflow_id());
    st.set_root_run_id(a.root_workflow_execution().run_id());
  }

  a.mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  if (st.has_run_timeout()) {
    *a.mutable_workflow_run_timeout() = st.run_timeout();
  } else {
    a.clear_workflow_run_timeout();
  }
  if (!st.has_execution_timeout()) a.clear_workflow_execution_timeout();
  *a.mutable_workflow_task_timeout() = st.workflow_task_timeout();
  a.set_original_execution_run_id(run_id);
  a.set_workflow_id(f.workflow_id);
  auto* e = AddEvent(*ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, now);
  *e->mutable_workflow_execution_started_event_attributes() = std::move(a);
  RecordStartExtras(f.user_metadata, e, &st);

  Execution* raw = ex.get();
  ex->visibility_dirty = true;
  runs_[run_id] = ex;
  open_by_workflow_id_[raw->workflow_key()] = run_id;
  txn.Touch(raw);
  txn.batch.upsert_current.push_back({ns_id, f.workflow_id, run_id});
  if (before_first_wft) before_first_wft(*raw);
  if (delay > Duration::zero()) {
    *st.mutable_first_wft_due_time() = ToProto(now + delay);
  } else {
    ScheduleWorkflowTaskLocked(txn, *raw);
  }
  ArmWorkflowTimersLocked(*raw);
  return raw;
}

void Engine::StartWorkflowExecution(const wsv1::StartWorkflowExecutionRequest& req,
                                    wsv1::StartWorkflowExecutionResponse* resp, Done done) {
  // The store read of the id-conflict check, when the id is not in memory, without the mutex.
  CurrentRunRead pre = ReadCurrentRun(req.namespace_(), req.workflow_id());
  MutexLock l(mu_);
  RereadCurrentRunIfStaleLocked(&pre, req.namespace_(), req.workflow_id());
  auto fail = [&](Status s) { ReplyNow(l, done, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  const std::string ns_id = ns.value()->info().id();
  StartFields f = StartFieldsFrom(req);
  Status s = ValidateStartLocked(f, ns_id);
  if (!s.ok()) return fail(s);
  Txn txn;
  IdConflict c =
      ResolveIdConflictLocked(txn, f, ns_id, req.workflow_id_reuse_policy(), req.workflow_id_conflict_policy(), &pre);
  if (!c.status.ok()) {
    if (c.judged_on_undurable_close) return ReplyWhenDurableLocked(std::move(done), c.status);
    return fail(c.status);
  }
  if (c.existing) {  // request-id dedupe or USE_EXISTING: the existing run, not started now
    resp->set_run_id(c.existing->run_id());
    resp->set_started(false);
    resp->set_status(c.existing->status());
    return ReplyWhenDurableLocked(std::move(done), Status::Ok());
  }
  // Eager start (below) takes the first task for the caller, so no waiting poller may take it at
  // dispatch: the queue's pollers step aside while the run is created.
  const matching::QueueKey eager_key{ns_id, req.task_queue().name(), matching::TaskType::kWorkflow};
  std::deque<WorkflowPoller> pollers_aside;
  if (req.request_eager_execution()) pollers_aside = workflow_queues_.SetAsidePollers(eager_key);
  Execution* ex = CreateRunLocked(txn, ns_id, std::move(f), nullptr);
  if (req.request_eager_execution()) workflow_queues_.RestorePollers(eager_key, std::move(pollers_aside));
  resp->set_run_id(ex->st().run_id());
  resp->set_started(true);
  resp->set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  // Eager workflow start: the first workflow task is started in this start's own transaction
  // (durable before the reply) and returned in the reply for the caller's in-process worker.
  // Not when there is no task yet (start delay, cron backoff). The queue entry dispatch left goes.
  if (req.request_eager_execution() && ex->wft_pending() && ex->st().wft().started_event_id() == 0) {
    workflow_queues_.Withdraw(eager_key, ex->st().run_id(), ex->st().wft().scheduled_event_id());
    auto eager = std::make_shared<matching::PollWaiter<wsv1::PollWorkflowTaskQueueResponse>>(
        resp->mutable_eager_workflow_task());
    eager->identity = req.identity();
    eager->finish = [](const Status&) {};  // The start's own reply carries the task.
    StartWorkflowTaskLocked(txn, *ex, eager, /*from_sticky=*/false);
  }
  CommitLocked(txn, std::move(done));
}

void Engine::SignalWithStartWorkflowExecution(const wsv1::SignalWithStartWorkflowExecutionRequest& req,
                                              wsv1::SignalWithStartWorkflowExecutionResponse* resp, Done done) {
  CurrentRunRead pre = ReadCurrentRun(req.namespace_(), req.workflow_id());  // as StartWorkflowExecution
  MutexLock l(mu_);
  RereadCurrentRunIfStaleLocked(&pre, req.namespace_(), req.workflow_id());
  auto fail = [&](Status s) { ReplyNow(l, done, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  const std::string ns_id = ns.value()->info().id();
  StartFields f = StartFieldsFrom(req);
  Status s = ValidateStartLocked(f, ns_id);
  if (s.ok()) s = CheckId(req.signal_name(), "SignalName");
  if (s.ok()) s = CheckBlob(req.signal_input().ByteSizeLong(), "SignalInput");
  if (!s.ok()) return fail(s);

  // The new run's signal, its request id remembered as Temporal's NewWorkflowWithSignal does
  // (AddSignalRequested), so a retry of this request finds it.
  auto add_signal = [&](Execution& ex) {
    AppendSignal(ex, clock_.Now(), req.signal_name(), req.signal_input(), req.header(), req.identity(),
                 req.request_id(), nullptr);
  };
  Txn txn;
  // A running workflow is signalled (whatever the conflict policy says, per Temporal), as any
  // signal is (signalwithstartworkflow's signalWorkflow: the signal limit, then a request id seen
  // before is a duplicate: no second event, e.g. a client's retry after a lost reply).
  auto open_it = open_by_workflow_id_.find(WorkflowKey(ns_id, req.workflow_id()));
  if (open_it != open_by_workflow_id_.end() &&
      req.workflow_id_conflict_policy() != ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING) {
    Execution& ex = *runs_.at(open_it->second);
    bool duplicate = false;
    s = DeliverSignal(txn, ex, req.signal_name(), req.signal_input(), req.header(), req.identity(), req.request_id(),
                      nullptr, &duplicate);
    if (!s.ok()) return fail(s);
    resp->set_run_id(ex.st().run_id());
    resp->set_started(false);
    if (duplicate) return ReplyWhenDurableLocked(std::move(done), Status::Ok());
    return CommitLocked(txn, std::move(done));
  }
  IdConflict c = ResolveIdConflictLocked(txn, f, ns_id, req.workflow_id_reuse_policy(),
                                         ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING, &pre);
  if (!c.status.ok()) {
    if (c.judged_on_undurable_close) return ReplyWhenDurableLocked(std::move(done), c.status);
    return fail(c.status);
  }
  Execution* ex = CreateRunLocked(txn, ns_id, std::move(f), add_signal);
  resp->set_run_id(ex->st().run_id());
  resp->set_started(true);
  CommitLocked(txn, std::move(done));
}

}  // namespace temporalite::history
