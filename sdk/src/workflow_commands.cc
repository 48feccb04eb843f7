// The workflow's operations that issue commands: activities, timers,
// conditions, children, signals, updates, side effects, patches, cancellation of each (local
// activities: workflow_local_activities.cc).
#include "workflow_instance.h"
#include "workflow_support.h"

namespace temporalite::sdk::internal {

namespace enums = temporal::api::enums::v1;

void WorkflowInstance::CancelActivity(const std::string& id) {
  auto it = activities_.find(id);
  if (it == activities_.end() || it->second.c->done) return;
  auto& a = it->second;
  ActivityFailure f("Activity task cancelled", std::make_shared<CanceledFailure>("Activity cancelled"));
  f.activity_type = a.type;
  f.activity_id = a.id;
  f.scheduled_event_id = a.scheduled_event_id;
  f.retry_state = enums::RETRY_STATE_CANCEL_REQUESTED;
  if (a.scheduled_event_id == 0) {
    // Scheduled in this activation: the command is not sent at all.
    RemoveUnsentCommand(enums::COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK, a.id + "|" + a.type);
  } else if (a.cancellation_type != ActivityCancellationType::kAbandon) {
    Command cmd;
    cmd.set_command_type(enums::COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK);
    cmd.mutable_request_cancel_activity_task_command_attributes()->set_scheduled_event_id(a.scheduled_event_id);
    AddCommand(std::move(cmd), std::to_string(a.scheduled_event_id),
               "scheduled_event_id=" + std::to_string(a.scheduled_event_id));
    // Resolved by the activity's ActivityTaskCanceled (or completed/failed) event.
    if (a.cancellation_type == ActivityCancellationType::kWaitCancellationCompleted) return;
  }
  a.c->Reject(std::make_exception_ptr(f));
  activities_.erase(it);
}

void WorkflowInstance::CancelChild(const std::string& workflow_id) {
  auto it = children_.find(workflow_id);
  if (it == children_.end() || it->second.result->done || it->second.cancel_requested) return;
  auto& ch = it->second;
  ch.cancel_requested = true;
  if (RemoveUnsentCommand(enums::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, ch.workflow_id + "|" + ch.type)) {
    ChildWorkflowFailure f("Child Workflow execution cancelled before it started",
                           std::make_shared<CanceledFailure>("Child workflow cancelled"));
    f.ns = info_.ns;
    f.workflow_id = ch.workflow_id;
    f.workflow_type = ch.type;
    auto err = std::make_exception_ptr(f);
    ch.started->Reject(err);
    ch.result->Reject(err);
    return;
  }
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION);
  auto* a = cmd.mutable_request_cancel_external_workflow_execution_command_attributes();
  a->set_namespace_(info_.ns);
  a->set_workflow_id(ch.workflow_id);
  a->set_run_id(ch.run_id);
  a->set_child_workflow_only(true);
  pending_ext_cancels_[ch.workflow_id].push_back(nullptr);  // the child's result reports it
  AddCommand(std::move(cmd), ch.workflow_id, "workflow_id=" + ch.workflow_id);
}

Future<void> WorkflowInstance::RequestCancelExternal(const std::string& wid, const std::string& rid) {
  auto c = NewCompletion("cancellation of " + wid);
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION);
  auto* a = cmd.mutable_request_cancel_external_workflow_execution_command_attributes();
  a->set_namespace_(info_.ns);
  a->set_workflow_id(wid);
  a->set_run_id(rid);
  pending_ext_cancels_[wid].push_back(c);
  AddCommand(std::move(cmd), wid, "workflow_id=" + wid);
  return Future<void>(c);
}

void WorkflowInstance::CancelTimer(const std::string& timer_id) {
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_CANCEL_TIMER);
  cmd.mutable_cancel_timer_command_attributes()->set_timer_id(timer_id);
  AddCommand(std::move(cmd), timer_id, "timer_id=" + timer_id);
  timers_.erase(timer_id);
}

Future<Payloads> WorkflowInstance::ScheduleActivity(const std::string& type, const ActivityOptions& o,
                                                    const Payloads& args) {
  int64_t seq = activity_seq_++;
  std::string id = o.activity_id.empty() ? std::to_string(seq) : o.activity_id;
  auto c = NewCompletion("activity " + type + " (id " + id + ")");
  auto scope = o.scope ? o.scope.state() : (o.cancellable ? root_scope_ : nullptr);
  if (scope && scope->cancelled) {
    c->Reject(std::make_exception_ptr(
        ActivityFailure("Activity task cancelled", std::make_shared<CanceledFailure>("Activity cancelled"))));
    return Future<Payloads>(c);
  }
  if (o.start_to_close.count() <= 0 && o.schedule_to_close.count() <= 0) {
    throw std::invalid_argument("ActivityOptions for " + type + " need start_to_close or schedule_to_close");
  }
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK);
  auto* a = cmd.mutable_schedule_activity_task_command_attributes();
  a->set_activity_id(id);
  a->mutable_activity_type()->set_name(type);
  a->mutable_task_queue()->set_name(o.task_queue.empty() ? info_.task_queue : o.task_queue);
  if (args.payloads_size() > 0) *a->mutable_input() = args;
  if (o.schedule_to_close.count() > 0) *a->mutable_schedule_to_close_timeout() = ToProtoDuration(o.schedule_to_close);
  if (o.schedule_to_start.count() > 0) *a->mutable_schedule_to_start_timeout() = ToProtoDuration(o.schedule_to_start);
  if (o.start_to_close.count() > 0) *a->mutable_start_to_close_timeout() = ToProtoDuration(o.start_to_close);
  if (o.heartbeat.count() > 0) *a->mutable_heartbeat_timeout() = ToProtoDuration(o.heartbeat);
  if (o.retry_policy) *a->mutable_retry_policy() = o.retry_policy->ToProto();
  AddCommand(std::move(cmd), id + "|" + type, "activity_id=" + id + ", activity_type=" + type);
  activities_[id] = Activity{c, type, id, o.cancellable, 0, o.cancellation_type};
  if (scope) scope->Add(c, [this, id] { CancelActivity(id); });
  return Future<Payloads>(c);
}

Future<void> WorkflowInstance::StartTimer(std::chrono::milliseconds d, std::shared_ptr<ScopeState> scope) {
  std::string id = std::to_string(next_seq_++);
  auto c = NewCompletion("timer " + id + " (" + std::to_string(d.count()) + " ms)");
  if (!scope) scope = root_scope_;
  if (scope->cancelled) {
    c->Reject(std::make_exception_ptr(CanceledFailure("Timer cancelled")));
    return Future<void>(c);
  }
  if (d.count() <= 0) d = std::chrono::milliseconds(1);
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_START_TIMER);
  cmd.mutable_start_timer_command_attributes()->set_timer_id(id);
  *cmd.mutable_start_timer_command_attributes()->mutable_start_to_fire_timeout() = ToProtoDuration(d);
  AddCommand(std::move(cmd), id, "timer_id=" + id);
  timers_[id] = c;
  scope->Add(c, [this, id] {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    auto tc = it->second;
    // A timer started in this activation is simply not started.
    if (RemoveUnsentCommand(enums::COMMAND_TYPE_START_TIMER, id)) timers_.erase(it);
    else CancelTimer(id);
    tc->Reject(std::make_exception_ptr(CanceledFailure("Timer cancelled")));
  });
  return Future<void>(c);
}

Future<bool> WorkflowInstance::AddCondition(std::function<bool()> pred, std::optional<std::chrono::milliseconds> timeout) {
  auto c = NewCompletion("condition");
  if (cancel_requested_) {
    c->Reject(std::make_exception_ptr(CanceledFailure("Condition cancelled")));
    return Future<bool>(c);
  }
  if (pred()) {
    c->Resolve(ToPayloads(true));
    return Future<bool>(c);
  }
  Cond cond{std::move(pred), c, ""};
  if (timeout) {
    cond.timer_id = std::to_string(next_seq_);
    StartTimer(*timeout, nullptr);
  }
  conditions_.push_back(std::move(cond));
  return Future<bool>(c);
}

void WorkflowInstance::SetSignalHandler(const std::string& name, std::function<void(const Payloads&)> h) {
  signals_[name] = std::move(h);
  std::vector<std::pair<std::string, Payloads>> rest;
  auto buffered = std::move(buffered_signals_);
  buffered_signals_.clear();
  for (auto& [n, p] : buffered) {
    if (n != name) {
      rest.emplace_back(n, std::move(p));
      continue;
    }
    try {
      signals_[name](p);
    } catch (...) {
      if (!spawned_error_) spawned_error_ = std::current_exception();
    }
  }
  for (auto& r : rest) buffered_signals_.push_back(std::move(r));
}

void WorkflowInstance::SetUpdateHandler(const std::string& name, WorkflowContext::UpdateHandler h,
                                        WorkflowContext::UpdateValidator v) {
  updates_[name] = UpdateDef{std::move(h), std::move(v)};
}

void WorkflowInstance::DeliverUpdate(const temporal::api::update::v1::Request& req, const std::string& message_id,
                                     int64_t sequencing_event_id, bool live) {
  const std::string uid = req.meta().update_id();
  if (seen_updates_.count(uid)) return;
  const std::string& name = req.input().name();
  auto it = updates_.find(name);
  if (live) {
    auto reject = [&](const std::exception_ptr& err) {
      temporal::api::update::v1::Rejection r;
      r.set_rejected_request_message_id(message_id);
      r.set_rejected_request_sequencing_event_id(sequencing_event_id);
      *r.mutable_rejected_request() = req;
      *r.mutable_failure() = ToFailureProto(err);
      ProtocolMessage m;
      m.set_id(uid + "/reject");
      m.set_protocol_instance_id(uid);
      m.mutable_body()->PackFrom(r);
      messages_.push_back(std::move(m));
    };
    if (it == updates_.end()) {
      reject(std::make_exception_ptr(ApplicationFailure("No registered handler for update: " + name, "")));
      return;
    }
    if (it->second.validator) {
      try {
        it->second.validator(req.input().args());
      } catch (...) {
        reject(std::current_exception());
        return;
      }
    }
  } else if (it == updates_.end()) {
    nondeterminism_ = "nondeterminism: update " + uid + " (" + name + ") was accepted in history but no handler is registered";
    return;
  }
  seen_updates_.insert(uid);
  temporal::api::update::v1::Acceptance acc;
  acc.set_accepted_request_message_id(message_id);
  acc.set_accepted_request_sequencing_event_id(sequencing_event_id);
  *acc.mutable_accepted_request() = req;
  ProtocolMessage m;
  m.set_id(uid + "/accept");
  m.set_protocol_instance_id(uid);
  m.mutable_body()->PackFrom(acc);
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_PROTOCOL_MESSAGE);
  cmd.mutable_protocol_message_command_attributes()->set_message_id(m.id());
  messages_.push_back(std::move(m));
  AddCommand(std::move(cmd), "accept|" + uid, "update accepted " + uid);
  std::string identity = identity_;
  Spawn(RunUpdateHandler(it->second.handler, req.input().args(), [this, uid, identity](temporal::api::update::v1::Outcome o) {
    temporal::api::update::v1::Response r;
    r.mutable_meta()->set_update_id(uid);
    r.mutable_meta()->set_identity(identity);
    *r.mutable_outcome() = std::move(o);
    ProtocolMessage m;
    m.set_id(uid + "/complete");
    m.set_protocol_instance_id(uid);
    m.mutable_body()->PackFrom(r);
    Command cmd;
    cmd.set_command_type(enums::COMMAND_TYPE_PROTOCOL_MESSAGE);
    cmd.mutable_protocol_message_command_attributes()->set_message_id(m.id());
    messages_.push_back(std::move(m));
    AddCommand(std::move(cmd), "complete|" + uid, "update completed " + uid);
  }));
}

ChildWorkflowHandle WorkflowInstance::StartChild(const std::string& type, const ChildWorkflowOptions& o,
                                                 const Payloads& args) {
  std::string wid = o.id.empty() ? ctx_.Uuid() : o.id;
  Child ch;
  ch.started = NewCompletion("child workflow " + wid + " start");
  ch.result = NewCompletion("child workflow " + wid + " (" + type + ")");
  ch.workflow_id = wid;
  ch.type = type;
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION);
  auto* a = cmd.mutable_start_child_workflow_execution_command_attributes();
  a->set_namespace_(info_.ns);
  a->set_workflow_id(wid);
  a->mutable_workflow_type()->set_name(type);
  a->mutable_task_queue()->set_name(o.task_queue.empty() ? info_.task_queue : o.task_queue);
  if (args.payloads_size() > 0) *a->mutable_input() = args;
  if (o.execution_timeout.count() > 0) *a->mutable_workflow_execution_timeout() = ToProtoDuration(o.execution_timeout);
  if (o.run_timeout.count() > 0) *a->mutable_workflow_run_timeout() = ToProtoDuration(o.run_timeout);
  if (o.task_timeout.count() > 0) *a->mutable_workflow_task_timeout() = ToProtoDuration(o.task_timeout);
  if (o.retry_policy) *a->mutable_retry_policy() = o.retry_policy->ToProto();
  a->set_parent_close_policy(o.parent_close_policy);
  AddCommand(std::move(cmd), wid + "|" + type, "workflow_id=" + wid + ", workflow_type=" + type);
  children_[wid] = ch;
  auto scope = o.scope ? o.scope.state() : root_scope_;
  scope->Add(ch.result, [this, wid] { CancelChild(wid); });
  if (scope->cancelled) CancelChild(wid);
  return ChildWorkflowHandle{wid, Future<std::string>(ch.started), Future<Payloads>(ch.result),
                             [this, wid] { CancelChild(wid); }};
}

Future<void> WorkflowInstance::SignalExternal(const std::string& wid, const std::string& rid, const std::string& name,
                                              const Payloads& args) {
  std::string key = wid + "|" + name;
  auto c = NewCompletion("signal " + name + " to " + wid);
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION);
  auto* a = cmd.mutable_signal_external_workflow_execution_command_attributes();
  a->set_namespace_(info_.ns);
  a->mutable_execution()->set_workflow_id(wid);
  a->mutable_execution()->set_run_id(rid);
  a->set_signal_name(name);
  if (args.payloads_size() > 0) *a->mutable_input() = args;
  AddCommand(std::move(cmd), key, "workflow_id=" + wid + ", signal=" + name);
  // One outstanding signal per (workflow, signal name) key: later ones wait on the same outcome.
  if (ext_signals_.count(key)) return Future<void>(ext_signals_[key]);
  ext_signals_[key] = c;
  return Future<void>(c);
}

Payloads WorkflowInstance::SideEffect(const std::function<Payloads()>& fn) {
  int64_t seq = ++side_effect_seq_;
  Payloads value;
  if (replaying_) {
    auto it = segment_side_effects_.find(seq);
    if (it == segment_side_effects_.end()) {
      nondeterminism_ = "nondeterminism: side effect " + std::to_string(seq) + " has no marker in the history";
      return {};
    }
    value = it->second;
  } else {
    value = fn();
  }
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_RECORD_MARKER);
  auto* m = cmd.mutable_record_marker_command_attributes();
  m->set_marker_name("SideEffect");
  (*m->mutable_details())["seq"] = ToPayloads(seq);
  (*m->mutable_details())["data"] = value;
  AddCommand(std::move(cmd), MarkerKey("SideEffect", m->details()), "marker=SideEffect|" + std::to_string(seq));
  return value;
}

bool WorkflowInstance::Patched(const std::string& id, bool deprecated) {
  if (!deprecated) {
    auto it = patches_.find(id);
    if (it != patches_.end()) return it->second;
  }
  bool use = !replaying_ || segment_patches_.count(id) > 0;
  if (use) {
    Command cmd;
    cmd.set_command_type(enums::COMMAND_TYPE_RECORD_MARKER);
    auto* m = cmd.mutable_record_marker_command_attributes();
    m->set_marker_name("Patched");
    (*m->mutable_details())["patch_id"] = ToPayloads(id);
    (*m->mutable_details())["deprecated"] = ToPayloads(deprecated);
    AddCommand(std::move(cmd), MarkerKey("Patched", m->details()), "marker=Patched|" + id);
  }
  if (!deprecated) patches_[id] = use;
  return use;
}

}  // namespace temporalite::sdk::internal
