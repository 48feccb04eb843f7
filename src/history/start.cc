// The StartWorkflow unit (start_workflow.h): StartWorkflowExecution, SignalWithStartWorkflowExecution,
// the id-conflict decision applied, and the creation of every new run (a start, a child, a retry,
// a cron run, continue-as-new, update-with-start's start). The decisions themselves are
// start_workflow.cc's pure functions; the engine's side of StartEngine is start_engine.cc.
#include <algorithm>
#include <deque>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "history/compat_fields.h"
#include "history/errors.h"
#include "history/proto_time.h"
#include "history/reply_now.h"
#include "history/sa_types.h"
#include "history/signal_event.h"
#include "history/start_workflow.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;
using ::temporal::api::common::v1::Payloads;

namespace {
// A new run's id: a time-ordered uuid.
std::string NewRunId(TimePoint now) {
  return NewTimeOrderedUuid(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}
}  // namespace

Status StartWorkflow::Validate(const StartFields& f, const std::string& ns_id) {
  const StartLimits limits{.max_id_length = limits_.max_id_length,
                           .blob_size_limit_error = limits_.blob_size_limit_error,
                           .blob_size_limit_warn = limits_.blob_size_limit_warn};
  return ValidateStart(f, limits, host_.CustomSearchAttributes(ns_id), host_.CronParser(), engine_.Now());
}

Payloads TerminateExistingDetails(const std::string& new_run_id) {
  // Temporal's payloads.EncodeString: its default data converter's json/plain payload.
  Payloads details;
  auto* p = details.add_payloads();
  (*p->mutable_metadata())["encoding"] = "json/plain";
  p->set_data(nlohmann::json("terminated by new runID: " + new_run_id).dump());
  return details;
}

IdConflict StartWorkflow::ResolveIdConflict(Txn& txn, StartFields& f, const std::string& ns_id,
                                            ev1::WorkflowIdReusePolicy reuse, ev1::WorkflowIdConflictPolicy conflict,
                                            CurrentRunRead* pre) {
  const IdReuseInterval interval{.minimal = limits_.workflow_id_reuse_minimal_interval,
                                 .validate = limits_.workflow_id_reuse_start_time_validation,
                                 .now = engine_.Now()};
  return ResolveIdConflictWith(txn, f, ns_id, reuse, conflict, pre, interval);
}

IdConflict StartWorkflow::ResolveIdConflictWith(Txn& txn, StartFields& f, const std::string& ns_id,
                                                ev1::WorkflowIdReusePolicy reuse,
                                                ev1::WorkflowIdConflictPolicy conflict, CurrentRunRead* pre,
                                                const IdReuseInterval& interval) {
  IdConflict out;
  CurrentRunLookup found = host_.CurrentRunForStart(ns_id, f.workflow_id, pre);
  out.judged_on_undurable_close = found.judged_on_undurable_close;
  if (!found.status.ok()) {
    out.status = found.status;
    return out;
  }
  const CurrentRun* current = found.current ? &*found.current : nullptr;
  StartDecision d = DecideStart(f.workflow_id, f.request_id, current, reuse, conflict, interval);
  switch (d.action) {
    case StartDecision::Action::kStartNew:
      break;
    case StartDecision::Action::kUseExisting:
      out.existing = found.current;
      out.existing_open = found.open;
      out.deduped = d.deduped;
      out.deduped_attached = d.deduped_attached;
      break;
    case StartDecision::Action::kTerminateAndStart:
      if (f.run_id.empty()) f.run_id = NewRunId(engine_.Now());  // named in the old run's close
      host_.TerminateRunWithDetails(txn, *found.open, kTerminateExistingReason, TerminateExistingDetails(f.run_id),
                                    kTerminateExistingIdentity);
      break;
    case StartDecision::Action::kReject:
      out.status = std::move(d.rejection);
      break;
  }
  return out;
}

std::shared_ptr<Execution> StartWorkflow::NewRun(const std::string& ns_id, StartFields& f, TimePoint now) {
  auto& a = f.attrs;
  Duration exec_to = FromProto(a.workflow_execution_timeout());
  Duration run_to = FromProto(a.workflow_run_timeout());
  if (run_to == Duration::zero() || (exec_to > Duration::zero() && exec_to < run_to)) run_to = exec_to;
  Duration task_to = FromProto(a.workflow_task_timeout());
  if (task_to == Duration::zero()) task_to = limits_.default_workflow_task_timeout;
  task_to = std::min(task_to, limits_.max_workflow_task_timeout);
  if (run_to > Duration::zero()) task_to = std::min(task_to, run_to);
  const Duration delay = FromProto(a.first_workflow_task_backoff());
  const std::string run_id = f.run_id.empty() ? NewRunId(now) : f.run_id;

  state::ExecutionState st;
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
    SetSearchAttributeTypes(a.mutable_search_attributes(), host_.CustomSearchAttributes(ns_id));
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
  return std::make_shared<Execution>(std::move(st));
}

Execution* StartWorkflow::CreateRun(Txn& txn, const std::string& ns_id, StartFields f,
                                    const std::function<void(Execution&)>& before_first_wft) {
  const TimePoint now = engine_.Now();
  std::shared_ptr<Execution> ex = NewRun(ns_id, f, now);
  const auto& st = ex->st();
  auto& a = f.attrs;
  const Duration delay = FromProto(a.first_workflow_task_backoff());
  // Event 1 carries what the run was started with, as its state settled it.
  a.mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  if (st.has_run_timeout()) {
    *a.mutable_workflow_run_timeout() = st.run_timeout();
  } else {
    a.clear_workflow_run_timeout();
  }
  if (!st.has_execution_timeout()) a.clear_workflow_execution_timeout();
  *a.mutable_workflow_task_timeout() = st.workflow_task_timeout();
  a.set_original_execution_run_id(st.run_id());
  a.set_workflow_id(f.workflow_id);
  auto* e = ex->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, now);
  *e->mutable_workflow_execution_started_event_attributes() = std::move(a);
  ex->RecordStartExtras(f.user_metadata, e);
  ex->visibility_dirty = true;

  Execution* raw = host_.AddRun(std::move(ex));
  txn.Touch(raw);
  txn.batch.upsert_current.push_back({ns_id, f.workflow_id, raw->st().run_id()});
  if (before_first_wft) before_first_wft(*raw);
  if (delay > Duration::zero()) {
    raw->SetFirstWorkflowTaskBackoff(now + delay);
  } else {
    engine_.ScheduleWorkflowTask(txn, *raw);
  }
  host_.ArmWorkflowTimers(*raw);
  return raw;
}

Execution* StartWorkflow::StartChild(Txn& txn, const std::string& ns_id, EngineContext::ChildStart start) {
  StartFields f;
  f.workflow_id = std::move(start.workflow_id);
  f.attrs = std::move(start.attrs);
  f.user_metadata = std::move(start.user_metadata);
  // No minimal interval: Temporal's transfer queue would retry a refused child start until it passes.
  IdConflict conflict = ResolveIdConflictWith(txn, f, ns_id, start.reuse_policy, ev1::WORKFLOW_ID_CONFLICT_POLICY_FAIL,
                                              nullptr, IdReuseInterval{.minimal = Duration::zero()});
  if (!conflict.status.ok() || conflict.existing) return nullptr;
  return CreateRun(txn, ns_id, std::move(f), nullptr);
}

void StartWorkflow::StartEager(Txn& txn, Execution& ex, const std::string& identity,
                               wsv1::StartWorkflowExecutionResponse* resp) {
  // Not when there is no task yet (start delay, cron backoff), nor one started already.
  if (!ex.wft_pending() || ex.wft_started()) return;
  host_.StartEagerWorkflowTask(txn, ex, identity, resp->mutable_eager_workflow_task());
}

bool StartWorkflow::AttachOnConflict(Txn& txn, Execution& ex, const wsv1::StartWorkflowExecutionRequest& req) {
  if (!req.has_on_conflict_options()) return false;
  const auto& opts = req.on_conflict_options();
  // Temporal's handleUseExistingWorkflowOnConflictOptions: one event, written even when it
  // attaches nothing; completion callbacks are not kept here (no Nexus).
  auto* e = ex.AddOrBufferEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED, engine_.Now());
  e->set_worker_may_ignore(true);
  auto* a = e->mutable_workflow_execution_options_updated_event_attributes();
  if (opts.attach_request_id() && !req.request_id().empty()) {
    a->set_attached_request_id(req.request_id());
    ex.AttachRequestId(req.request_id());
  }
  if (opts.attach_links()) *e->mutable_links() = req.links();
  txn.Touch(&ex);
  return true;
}

void StartWorkflow::Start(MutexLock& l, const wsv1::StartWorkflowExecutionRequest& req,
                          wsv1::StartWorkflowExecutionResponse* resp, Done done, CurrentRunRead* pre) {
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  const std::string ns_id = ns.value()->info().id();
  StartFields f = FieldsFrom(req);
  Status s = Validate(f, ns_id);
  if (s.ok() && req.on_conflict_options().attach_completion_callbacks() &&
      !req.on_conflict_options().attach_request_id()) {
    s = InvalidArgument("attaching request ID is required for attaching completion callbacks");
  }
  if (!s.ok()) return fail(s);
  Txn txn;
  IdConflict c = ResolveIdConflict(txn, f, ns_id, req.workflow_id_reuse_policy(), req.workflow_id_conflict_policy(), pre);
  if (!c.status.ok()) {
    if (c.judged_on_undurable_close) return engine_.ReplyWhenDurable(std::move(done), c.status);
    return fail(c.status);
  }
  if (c.existing) {  // request-id dedupe or USE_EXISTING: the existing run, not started now
    resp->set_run_id(c.existing->run_id);
    resp->set_first_execution_run_id(c.existing->first_execution_run_id);
    // As Temporal's respondToRetriedRequest: a retry of the start that created the run answers
    // started = true (with the run's status now); USE_EXISTING answers false.
    resp->set_started(c.deduped);
    resp->set_status(c.existing->status);
    if (!c.deduped && !c.deduped_attached && c.existing_open && AttachOnConflict(txn, *c.existing_open, req)) {
      return host_.Commit(txn, std::move(done));
    }
    return engine_.ReplyWhenDurable(std::move(done), Status::Ok());
  }
  // Eager start takes the first task for the caller, so no waiting poller may take it at
  // dispatch: the queue's pollers step aside while the run is created.
  const bool eager = req.request_eager_execution();
  const std::string& queue = req.task_queue().name();
  std::deque<EngineContext::WorkflowPoller> aside;
  if (eager) aside = host_.SetAsideWorkflowPollers(ns_id, queue);
  Execution* ex = CreateRun(txn, ns_id, std::move(f), nullptr);
  if (eager) host_.RestoreWorkflowPollers(ns_id, queue, std::move(aside));
  resp->set_run_id(ex->st().run_id());
  resp->set_first_execution_run_id(ex->st().first_execution_run_id());
  resp->set_started(true);
  resp->set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  // Eager workflow start: the first workflow task is started in this start's own transaction
  // (durable before the reply) and returned in the reply for the caller's in-process worker.
  if (eager) StartEager(txn, *ex, req.identity(), resp);
  host_.Commit(txn, std::move(done));
}

void StartWorkflow::SignalWithStart(MutexLock& l, const wsv1::SignalWithStartWorkflowExecutionRequest& req,
                                    wsv1::SignalWithStartWorkflowExecutionResponse* resp, Done done,
                                    CurrentRunRead* pre) {
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  const std::string ns_id = ns.value()->info().id();
  StartFields f = FieldsFrom(req);
  Status s = Validate(f, ns_id);
  if (s.ok()) s = CheckIdLength(req.signal_name(), "SignalName", limits_.max_id_length);
  if (s.ok()) {
    s = CheckBlobSize(req.signal_input().ByteSizeLong(), "SignalInput", limits_.blob_size_limit_error,
                      limits_.blob_size_limit_warn);
  }
  if (!s.ok()) return fail(s);

  Txn txn;
  // A running workflow is signalled (whatever the conflict policy says, per Temporal), as any
  // signal is (signalwithstartworkflow's signalWorkflow: the signal limit, then a request id seen
  // before is a duplicate: no second event, e.g. a client's retry after a lost reply).
  Execution* open = engine_.OpenRunOf(ns_id, req.workflow_id());
  if (open && req.workflow_id_conflict_policy() != ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING) {
    bool duplicate = false;
    s = engine_.DeliverSignal(txn, *open, req.signal_name(), req.signal_input(), req.header(), req.identity(),
                              req.request_id(), nullptr, &duplicate);
    if (!s.ok()) return fail(s);
    resp->set_run_id(open->st().run_id());
    resp->set_started(false);
    if (duplicate) return engine_.ReplyWhenDurable(std::move(done), Status::Ok());
    return host_.Commit(txn, std::move(done));
  }
  IdConflict c = ResolveIdConflict(txn, f, ns_id, req.workflow_id_reuse_policy(),
                                   ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING, pre);
  if (!c.status.ok()) {
    if (c.judged_on_undurable_close) return engine_.ReplyWhenDurable(std::move(done), c.status);
    return fail(c.status);
  }
  // The new run's signal, its request id remembered as Temporal's NewWorkflowWithSignal does
  // (AddSignalRequested), so a retry of this request finds it.
  auto add_signal = [&](Execution& ex) {
    AppendSignal(ex, engine_.Now(), req.signal_name(), req.signal_input(), req.header(), req.identity(),
                 req.request_id(), nullptr);
  };
  Execution* ex = CreateRun(txn, ns_id, std::move(f), add_signal);
  resp->set_run_id(ex->st().run_id());
  resp->set_started(true);
  host_.Commit(txn, std::move(done));
}

}  // namespace temporalite::history
