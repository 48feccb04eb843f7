// The ResetWorkflowExecution unit (reset_workflow.h) and the reset point of a batch reset
// (reset_point.h).
#include "history/reply_now.h"
#include "history/reset_workflow.h"

#include <algorithm>
#include <set>

#include "common/ids.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/replay.h"
#include "history/reset_point.h"
#include "history/signal_event.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace hv1 = ::temporal::api::history::v1;
namespace wfv1 = ::temporal::api::workflow::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

namespace {
constexpr const char* kHistoryServiceIdentity = ResetWorkflow::kHistoryServiceIdentity;

std::set<ev1::ResetReapplyExcludeType> ExcludedReapplyTypes(const wsv1::ResetWorkflowExecutionRequest& req) {
  std::set<ev1::ResetReapplyExcludeType> out;
  switch (req.reset_reapply_type()) {
    case ev1::RESET_REAPPLY_TYPE_SIGNAL:
      out.insert(ev1::RESET_REAPPLY_EXCLUDE_TYPE_UPDATE);
      break;
    case ev1::RESET_REAPPLY_TYPE_NONE:
      out.insert(ev1::RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
      out.insert(ev1::RESET_REAPPLY_EXCLUDE_TYPE_UPDATE);
      break;
    default:
      break;
  }
  for (int t : req.reset_reapply_exclude_types()) out.insert(static_cast<ev1::ResetReapplyExcludeType>(t));
  return out;
}

Status ValidateResetRequest(const wsv1::ResetWorkflowExecutionRequest& req, size_t max_id_length) {
  if (req.request_id().empty()) return InvalidArgument("RequestId is not set on request.");
  if (req.request_id().size() > max_id_length) return InvalidArgument("RequestId length exceeds limit.");
  if (Status s = ValidateExecution(req.has_workflow_execution() ? &req.workflow_execution() : nullptr); !s.ok()) {
    return s;
  }
  if (!ev1::ResetReapplyType_IsValid(req.reset_reapply_type())) {
    return InvalidArgument("unknown reset reapply type: " + std::to_string(req.reset_reapply_type()));
  }
  return Status::Ok();
}

// The new run with the base run's first `finish_id - 1` events and the mutable state they replay to.
Result<std::shared_ptr<Execution>> NewRunFromPrefix(const Execution& base, int64_t finish_id, const std::string& ns_id,
                                                     const std::string& workflow_id, const std::string& new_run_id) {
  std::vector<hv1::HistoryEvent> prefix(base.events.begin(), base.events.begin() + (finish_id - 1));
  state::ExecutionState st;
  st.set_namespace_id(ns_id);
  st.set_workflow_id(workflow_id);
  st.set_run_id(new_run_id);
  Status s = ReplayHistory(prefix, &st);
  if (!s.ok()) return InvalidArgument("cannot rebuild the workflow from its history: " + s.message());
  if (st.wft().scheduled_event_id() == 0) {
    return InvalidArgument("Can only reset workflow to event ID in range [WorkflowTaskScheduled +1, WorkflowTaskStarted + 1]: " +
                           std::to_string(finish_id));
  }
  // Pending children of the prefix are adopted by the new run (Temporal's default,
  // history.allowResetWithPendingChildren): their close is reported to it (children.cc).
  auto ex = std::make_shared<Execution>(std::move(st));
  ex->events = std::move(prefix);
  return ex;
}

// Closes the prefix's workflow task as failed by the reset (started first if it was only scheduled).
void FailPrefixWorkflowTask(Execution& ex, const std::string& reason, const std::string& base_run_id, TimePoint now) {
  const auto& st = ex.st();
  if (st.wft().started_event_id() == 0) {
    auto* e = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, now);
    auto* a = e->mutable_workflow_task_started_event_attributes();
    a->set_scheduled_event_id(st.wft().scheduled_event_id());
    a->set_identity(kHistoryServiceIdentity);
    a->set_request_id(NewUuid());
    ex.SetWorkflowTaskStartedEventId(e->event_id());
  }
  auto* e = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED, now);
  auto* a = e->mutable_workflow_task_failed_event_attributes();
  a->set_scheduled_event_id(st.wft().scheduled_event_id());
  a->set_started_event_id(st.wft().started_event_id());
  a->set_cause(ev1::WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
  a->mutable_failure()->set_message(reason);
  a->mutable_failure()->mutable_reset_workflow_failure_info();
  a->set_identity(kHistoryServiceIdentity);
  a->set_base_run_id(base_run_id);
  a->set_new_run_id(st.run_id());
  ex.ClearWorkflowTask();
}

// Activities: a started attempt in the prefix fails (Temporal's failInflightActivity); the others
// are scheduled again now as fresh first attempts.
void FailOrRescheduleActivities(Execution& ex, const std::string& reason, TimePoint now) {
  std::vector<int64_t> failed;
  for (const auto& [sid, unused] : ex.st().activities()) {
    const state::ActivityInfo& ai = *ex.FindActivity(sid);
    if (ai.started()) {
      auto* e = ex.AddEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED, now);
      auto* a = e->mutable_activity_task_failed_event_attributes();
      a->set_scheduled_event_id(sid);
      int64_t started_id = 0;
      for (const auto& pe : ex.events) {
        if (pe.has_activity_task_started_event_attributes() && pe.activity_task_started_event_attributes().scheduled_event_id() == sid) {
          started_id = pe.event_id();
        }
      }
      a->set_started_event_id(started_id);
      a->mutable_failure()->set_message(reason);
      *a->mutable_failure()->mutable_reset_workflow_failure_info()->mutable_last_heartbeat_details() = ai.heartbeat_details();
      a->set_retry_state(ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
      a->set_identity(ai.started_identity());
      failed.push_back(sid);
      continue;
    }
    ex.RescheduleActivity(sid, now);
  }
  for (int64_t sid : failed) ex.RemoveActivity(sid);
}

using ReapplySource = std::pair<std::shared_ptr<Execution>, size_t>;

// Reapplies, in their original order, the signals and updates of `sources` (the rest of the base
// run, then every later run of its continue-as-new chain: Temporal's
// reapplyContinueAsNewWorkflowEvents). Updates become UpdateAdmitted events; an Accepted update
// without a preceding Admitted event is admitted once.
void ReapplyEvents(const std::vector<ReapplySource>& sources, const std::set<ev1::ResetReapplyExcludeType>& excluded,
                   TimePoint now, Execution& ex) {
  const bool reapply_signals = !excluded.count(ev1::RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
  const bool reapply_updates = !excluded.count(ev1::RESET_REAPPLY_EXCLUDE_TYPE_UPDATE);
  std::set<std::string> admitted;
  for (const auto& [run, from] : sources) {
    for (size_t i = from; i < run->events.size(); ++i) {
      const auto& be = run->events[i];
      if (be.has_workflow_execution_signaled_event_attributes() && reapply_signals) {
        ReapplySignal(ex, now, be);  // the signal unit's event and request-id memory (signal_event.h)
        continue;
      }
      if (!reapply_updates) continue;
      const temporal::api::update::v1::Request* request = nullptr;
      if (be.has_workflow_execution_update_admitted_event_attributes()) {
        request = &be.workflow_execution_update_admitted_event_attributes().request();
      } else if (be.has_workflow_execution_update_accepted_event_attributes() &&
                 be.workflow_execution_update_accepted_event_attributes().has_accepted_request()) {
        request = &be.workflow_execution_update_accepted_event_attributes().accepted_request();
      }
      if (!request || !admitted.insert(request->meta().update_id()).second) continue;
      auto* e = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED, now);
      auto* a = e->mutable_workflow_execution_update_admitted_event_attributes();
      *a->mutable_request() = *request;
      a->set_origin(ev1::UPDATE_ADMITTED_EVENT_ORIGIN_REAPPLY);
    }
  }
}
// Post-reset operations (Temporal's workflow_resetter performPostResetOperations): a signal is
// recorded on the new run after the reapplied events, before its first workflow task, as a
// signal sent by the resetting caller.
void ApplyPostResetSignals(const wsv1::ResetWorkflowExecutionRequest& req, TimePoint now, Execution& ex) {
  for (const auto& op : req.post_reset_operations()) {
    if (!op.has_signal_workflow()) continue;
    const auto& sig = op.signal_workflow();
    auto* e = AppendSignal(ex, now, sig.signal_name(), sig.input(), sig.header(), req.identity(), "", nullptr);
    *e->mutable_links() = sig.links();
  }
}
}  // namespace

Status ValidatePostResetOperations(const google::protobuf::RepeatedPtrField<wfv1::PostResetOperation>& ops,
                                   size_t max_name_length) {
  for (const auto& op : ops) {
    switch (op.variant_case()) {
      case wfv1::PostResetOperation::kSignalWorkflow:
        if (op.signal_workflow().signal_name().empty()) return InvalidArgument("SignalName is not set on request.");
        if (op.signal_workflow().signal_name().size() > max_name_length) {
          return InvalidArgument("SignalName length exceeds limit.");
        }
        break;
      case wfv1::PostResetOperation::kUpdateWorkflowOptions:
        return Status(Code::kUnimplemented,
                      "post reset operation update_workflow_options is not supported by this server (it keeps no "
                      "worker versioning overrides)");
      default:
        // Temporal's message names the variant's Go type (%T): "<nil>" for an operation without
        // one, as this server's protos give for any variant they do not know.
        return InvalidArgument("unsupported post reset operation: <nil>");
    }
  }
  return Status::Ok();
}

Result<int64_t> ResetPointOf(const std::vector<hv1::HistoryEvent>& events, const cv1::ResetOptions& options) {
  switch (options.target_case()) {
    case cv1::ResetOptions::kWorkflowTaskId: return options.workflow_task_id();
    case cv1::ResetOptions::kFirstWorkflowTask:
    case cv1::ResetOptions::kLastWorkflowTask: {
      // Temporal's batcher: the first (last) WorkflowTaskCompleted; without one, just after the
      // first WorkflowTaskScheduled.
      const bool last = options.target_case() == cv1::ResetOptions::kLastWorkflowTask;
      int64_t completed = 0, after_scheduled = 0;
      for (const auto& e : events) {
        if (e.event_type() == ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
          completed = e.event_id();
          if (!last) break;
        } else if (e.event_type() == ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED && after_scheduled == 0) {
          after_scheduled = e.event_id() + 1;
        }
      }
      if (completed > 0) return completed;
      if (after_scheduled > 0) return after_scheduled;
      return InvalidArgument("unable to find any scheduled or completed task");
    }
    default: return InvalidArgument("provided reset target is not supported.");
  }
}

Status ResetWorkflow::CheckRequest(const wsv1::ResetWorkflowExecutionRequest& req) const {
  Status s = ValidateResetRequest(req, limits_.max_id_length);
  if (s.ok()) s = ValidatePostResetOperations(req.post_reset_operations(), limits_.max_id_length);
  return s;
}

void ResetWorkflow::ResetTo(MutexLock& l, wsv1::ResetWorkflowExecutionRequest req, const cv1::ResetOptions& options,
                            Done done) {
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  const auto& target = req.workflow_execution();
  // Read with the mutex released when the run is not in memory (FetchRun), with its history.
  auto base = host_.FetchRun(ns.value()->info().id(), target.workflow_id(), target.run_id(), /*with_events=*/true);
  if (!base.ok() && base.status().code() == Code::kNotFound && options.target_case() != cv1::ResetOptions::kWorkflowTaskId) {
    // Temporal's batcher finds the first/last task by reading the history, and reports a failed
    // read as a plain error ("GetWorkflowExecutionHistory failed"), not as NotFound: retried,
    // then counted as a failure rather than as done.
    return fail(Internal("GetWorkflowExecutionHistory failed: " + base.status().message()));
  }
  if (!base.ok()) return fail(base.status());
  auto finish_id = ResetPointOf(base.value()->events, options);
  if (!finish_id.ok()) return fail(finish_id.status());
  req.set_workflow_task_finish_event_id(*finish_id);
  // The event id belongs to this run's history: reset this run even if another became current.
  req.mutable_workflow_execution()->set_run_id(base.value()->st().run_id());
  auto resp = std::make_shared<wsv1::ResetWorkflowExecutionResponse>();
  Reset(l, req, resp.get(), [resp, done = std::move(done)](const Status& s) { done(s); });
}

Status ResetWorkflow::ReadRuns(const std::string& ns_id, const std::string& wid, std::shared_ptr<Execution> base,
                               int64_t finish_id, std::vector<ReapplySource>* sources,
                               std::shared_ptr<Execution>* current) {
  // The signals and updates after the reset point: the rest of the base run, then every later run
  // of its continue-as-new chain.
  sources->assign({{std::move(base), static_cast<size_t>(finish_id - 1)}});
  for (int hops = 0; hops < 1000; ++hops) {
    const auto& last = sources->back().first->events;
    if (last.empty() || !last.back().has_workflow_execution_continued_as_new_event_attributes()) break;
    auto next = host_.FetchRun(ns_id, wid,
                               last.back().workflow_execution_continued_as_new_event_attributes().new_execution_run_id(),
                               /*with_events=*/true);
    if (!next.ok() && next.status().code() != Code::kNotFound) return next.status();  // a failed read
    if (!next.ok()) break;
    sources->emplace_back(next.value(), 0);
  }
  // The current run of the workflow id (it may differ from the base run), read last: no read
  // follows, so an open one stays the engine's own run until the transition.
  current->reset();
  if (auto cur = host_.FetchRun(ns_id, wid, "", /*with_events=*/false); cur.ok()) {
    *current = cur.value();
  } else if (cur.status().code() != Code::kNotFound) {
    return cur.status();  // a failed read: the retry check cannot be made
  }
  return Status::Ok();
}

void ResetWorkflow::Reset(MutexLock& l, const wsv1::ResetWorkflowExecutionRequest& req,
                          wsv1::ResetWorkflowExecutionResponse* resp, Done done) {
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  // The runs are read first (a store read releases the engine mutex: FetchRun), the transition
  // after the last read. Closed runs no longer change; open ones are in memory.
  auto base = LookUpRun(host_, req.namespace_(), req.workflow_execution(), /*with_events=*/true,
                        [&] { return CheckRequest(req); });
  if (!base.ok()) return fail(base.status());
  const std::string ns_id = base.value()->st().namespace_id();  // FetchRun's run is the namespace's
  const std::string& wid = req.workflow_execution().workflow_id();
  const int64_t finish_id = req.workflow_task_finish_event_id();
  if (finish_id <= 1 || finish_id >= base.value()->st().next_event_id()) {
    return fail(InvalidArgument("Workflow task finish ID must be > 1 && <= workflow last event ID."));
  }
  std::vector<ReapplySource> sources;
  std::shared_ptr<Execution> current;
  if (Status s = ReadRuns(ns_id, wid, base.value(), finish_id, &sources, &current); !s.ok()) return fail(s);
  if (current && current->st().reset_request_id() == req.request_id()) {  // a retry of this reset
    resp->set_run_id(current->st().run_id());
    return engine_.ReplyWhenDurable(std::move(done), Status::Ok());
  }

  // Rebuild the new run's mutable state from the copied prefix.
  const TimePoint now = engine_.Now();
  const std::string new_run_id =
      NewTimeOrderedUuid(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  auto ex = NewRunFromPrefix(*base.value(), finish_id, ns_id, wid, new_run_id);
  if (!ex.ok()) return fail(ex.status());
  Txn txn;
  Apply(req, txn, sources, current && current->open() ? current.get() : nullptr, ex.value());
  resp->set_run_id(new_run_id);
  host_.Commit(txn, std::move(done));
}

void ResetWorkflow::Apply(const wsv1::ResetWorkflowExecutionRequest& req, Txn& txn,
                          const std::vector<ReapplySource>& sources, Execution* current, std::shared_ptr<Execution> ex) {
  const TimePoint now = engine_.Now();
  const Execution& base = *sources.front().first;
  // The current run ends first (it is no longer current once the reset run exists). Temporal
  // skips the parent close policy of a run terminated by a reset, so that the reset run can take
  // its children over.
  if (current) {
    current->ForgetChildren();
    engine_.TerminateRun(txn, *current, req.reason(), kResetterIdentity);
  }
  ex->BeginResetRun(base.st().start_request_id(), req.request_id(), now);
  FailPrefixWorkflowTask(*ex, req.reason(), base.st().run_id(), now);
  FailOrRescheduleActivities(*ex, req.reason(), now);
  ex->RebuildIndexes();
  ReapplyEvents(sources, ExcludedReapplyTypes(req), now, *ex);
  ApplyPostResetSignals(req, now, *ex);

  Execution& run = host_.AddResetRun(txn, std::move(ex));
  engine_.ScheduleWorkflowTask(txn, run);
  host_.ResumePendingWork(txn, run);
}

}  // namespace temporalite::history
