#include "workflow_instance.h"

#include <sstream>

#include "temporal/api/sdk/v1/workflow_metadata.pb.h"

namespace temporalite::sdk::internal {
namespace {

namespace enums = temporal::api::enums::v1;
namespace cmdv1 = temporal::api::command::v1;
using E = HistoryEvent;

std::chrono::system_clock::time_point ToTime(const google::protobuf::Timestamp& t) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(t.seconds()) +
                                               std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                   std::chrono::nanoseconds(t.nanos())));
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// UPPER_SNAKE without its type prefix -> PascalCase, as Temporal names events and commands in its
// UI and errors.
std::string PascalName(std::string n, const std::string& prefix) {
  if (n.rfind(prefix, 0) == 0) n = n.substr(prefix.size());
  std::string out;
  bool up = true;
  for (char c : n) {
    if (c == '_') { up = true; continue; }
    out += up ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    up = false;
  }
  return out;
}

std::string EventName(const HistoryEvent& e) { return PascalName(enums::EventType_Name(e.event_type()), "EVENT_TYPE_"); }

std::string CommandName(enums::CommandType t) { return PascalName(enums::CommandType_Name(t), "COMMAND_TYPE_"); }

std::string MarkerKey(const std::string& name, const google::protobuf::Map<std::string, Payloads>& details) {
  std::string id;
  if (name == "Patched") {
    auto it = details.find("patch_id");
    if (it != details.end() && it->second.payloads_size() > 0) id = it->second.payloads(0).data();
  } else if (name == "SideEffect") {
    auto it = details.find("seq");
    if (it != details.end() && it->second.payloads_size() > 0) id = it->second.payloads(0).data();
  }
  return name + "|" + id;
}

bool IsCancellation(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const CanceledFailure&) {
    return true;
  } catch (const TemporalFailure& f) {
    for (auto c = f.cause(); c; c = c->cause()) {
      if (dynamic_cast<const CanceledFailure*>(c.get())) return true;
    }
    return false;
  } catch (...) {
    return false;
  }
}

// Runs an accepted update's handler and reports its outcome.
Task<void> RunUpdateHandler(WorkflowContext::UpdateHandler handler, Payloads args,
                            std::function<void(temporal::api::update::v1::Outcome)> done) {
  temporal::api::update::v1::Outcome outcome;
  try {
    *outcome.mutable_success() = co_await handler(std::move(args));
  } catch (...) {
    *outcome.mutable_failure() = ToFailureProto(std::current_exception());
  }
  done(std::move(outcome));
}

// The key a search-attribute or memo upsert is matched by: its field names.
template <class M>
std::string FieldNames(const M& fields) {
  std::set<std::string> names;
  for (const auto& [k, v] : fields) names.insert(k);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

bool IsNullPayload(const Payload& p) {
  auto it = p.metadata().find("encoding");
  if (it != p.metadata().end() && it->second == "binary/null") return true;
  return p.data().empty() || p.data() == "null";
}

template <class M>
void MergeFields(const M& in, std::map<std::string, Payload>* out) {
  for (const auto& [k, v] : in) {
    if (IsNullPayload(v)) out->erase(k);
    else (*out)[k] = v;
  }
}

std::string Describe(enums::CommandType type, const std::string& text) {
  return CommandName(type) + (text.empty() ? "" : "(" + text + ")");
}

}  // namespace

WorkflowInstance::WorkflowInstance(const WorkflowFn* fn, std::string ns, std::string identity)
    : fn_(fn), identity_(std::move(identity)) {
  info_.ns = std::move(ns);
  cancel_ = NewCompletion("cancellation request");
}

WorkflowInstance::~WorkflowInstance() {
  // Destroy coroutine frames before the state they reference.
  spawned_.clear();
  root_.reset();
}

std::shared_ptr<Completion> WorkflowInstance::NewCompletion(std::string description) {
  auto c = std::make_shared<Completion>();
  c->scheduler = this;
  c->description = std::move(description);
  all_.push_back(c);
  return c;
}

void WorkflowInstance::AddCommand(Command cmd, std::string key, std::string text) {
  command_keys_.emplace_back(cmd.command_type(), key);
  expected_.push_back({cmd.command_type(), std::move(key), std::move(text), activation_});
  commands_.push_back(std::move(cmd));
}

bool WorkflowInstance::RemoveUnsentCommand(enums::CommandType type, const std::string& key) {
  for (size_t i = command_keys_.size(); i-- > 0;) {
    if (command_keys_[i].first != type || command_keys_[i].second != key) continue;
    command_keys_.erase(command_keys_.begin() + static_cast<std::ptrdiff_t>(i));
    commands_.erase(commands_.begin() + static_cast<std::ptrdiff_t>(i));
    for (auto it = expected_.rbegin(); it != expected_.rend(); ++it) {
      if (it->type == type && it->key == key) {
        expected_.erase(std::next(it).base());
        break;
      }
    }
    return true;
  }
  return false;
}

void ScopeState::Add(const std::shared_ptr<Completion>& c, std::function<void()> cancel) {
  std::erase_if(on_cancel, [](const auto& e) {
    auto l = e.first.lock();
    return !l || l->done;
  });
  on_cancel.emplace_back(c, std::move(cancel));
}

void ScopeState::Cancel() {
  if (cancelled) return;
  cancelled = true;
  auto callbacks = std::move(on_cancel);
  on_cancel.clear();
  for (auto& [w, fn] : callbacks) {
    auto c = w.lock();
    if (c && !c->done) fn();
  }
  auto kids = std::move(children);
  children.clear();
  for (auto& k : kids) {
    if (auto s = k.lock()) s->Cancel();
  }
}

CancellationScope WorkflowInstance::NewScope(const std::shared_ptr<ScopeState>& parent) {
  auto s = std::make_shared<ScopeState>();
  if (parent) {
    if (parent->cancelled) {
      s->cancelled = true;
    } else {
      std::erase_if(parent->children, [](const auto& w) { return w.expired(); });
      parent->children.push_back(s);
    }
  }
  return CancellationScope(s);
}

TaskOutput WorkflowInstance::RunTask(
    const std::vector<HistoryEvent>& events, const std::vector<ProtocolMessage>& messages,
    const google::protobuf::Map<std::string, temporal::api::query::v1::WorkflowQuery>& queries) {
  for (const auto& m : messages) {
    temporal::api::update::v1::Request req;
    if (m.body().UnpackTo(&req)) pending_live_.emplace_back(req, m.id(), m.event_id());
  }
  Process(events, /*live=*/true);
  TaskOutput out;
  out.commands = std::move(commands_);
  out.messages = std::move(messages_);
  commands_.clear();
  messages_.clear();
  command_keys_.clear();
  for (const auto& [id, q] : queries) {
    temporal::api::query::v1::WorkflowQueryResult r;
    try {
      *r.mutable_answer() = AnswerQuery(q.query_type(), q.query_args());
      r.set_result_type(enums::QUERY_RESULT_TYPE_ANSWERED);
    } catch (...) {
      r.set_result_type(enums::QUERY_RESULT_TYPE_FAILED);
      *r.mutable_failure() = ToFailureProto(std::current_exception());
      r.set_error_message(r.failure().message());
    }
    out.query_results[id] = std::move(r);
  }
  return out;
}

Payloads WorkflowInstance::ReplayAndQuery(const std::vector<HistoryEvent>& events, const std::string& name,
                                          const Payloads& args) {
  Process(events, /*live=*/false);
  return AnswerQuery(name, args);
}

void WorkflowInstance::Replay(const std::vector<HistoryEvent>& events) {
  Process(events, /*live=*/false);
  if (!expected_.empty()) {
    throw NondeterminismError("nondeterminism: the workflow issued command " + Describe(expected_.front().type, expected_.front().text) +
                              " which the history does not have");
  }
}

void WorkflowInstance::Process(const std::vector<HistoryEvent>& events, bool live) {
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    switch (e.event_type()) {
      case enums::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const auto& a = e.workflow_execution_started_event_attributes();
        info_.workflow_type = a.workflow_type().name();
        info_.task_queue = a.task_queue().name();
        info_.attempt = a.attempt() > 0 ? a.attempt() : 1;
        info_.first_execution_run_id = a.first_execution_run_id();
        info_.original_execution_run_id = a.original_execution_run_id();
        info_.continued_from_run_id = a.continued_execution_run_id();
        info_.parent_workflow_id = a.parent_workflow_execution().workflow_id();
        info_.parent_run_id = a.parent_workflow_execution().run_id();
        info_.start_time = ToTime(e.event_time());
        MergeFields(a.search_attributes().indexed_fields(), &info_.search_attributes);
        MergeFields(a.memo().fields(), &info_.memo);
        now_ = info_.start_time;
        rng_.seed(Fnv1a(a.original_execution_run_id().empty() ? a.first_execution_run_id()
                                                              : a.original_execution_run_id()));
        input_ = a.input();
        if (!fn_) {
          root_creation_error_ = std::make_exception_ptr(WorkflowTaskError(
              "Workflow type " + info_.workflow_type + " is not registered on this worker"));
        } else {
          try {
            root_.emplace((*fn_)(ctx_, input_));
          } catch (...) {
            root_creation_error_ = std::current_exception();
          }
        }
        break;
      }
      case enums::EVENT_TYPE_WORKFLOW_TASK_STARTED:
        if (i + 1 == events.size()) {
          if (live) Activate(events, i, true);
        } else if (events[i + 1].event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
          Activate(events, i, false);
        }
        break;
      case enums::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
      case enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case enums::EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case enums::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        break;
      default:
        MatchCommandEvent(e);
        break;
    }
    if (!nondeterminism_.empty()) throw NondeterminismError(nondeterminism_);
  }
}

void WorkflowInstance::Activate(const std::vector<HistoryEvent>& events, size_t started, bool live) {
  now_ = ToTime(events[started].event_time());
  replaying_ = !live;
  if (live && !expected_.empty() && expected_.front().activation < activation_) {
    nondeterminism_ = "nondeterminism: the workflow issued command " + Describe(expected_.front().type, expected_.front().text) +
                      " which the history does not have (no matching event before the current workflow task)";
    return;
  }
  segment_patches_.clear();
  segment_side_effects_.clear();
  segment_local_activities_.clear();
  pending_updates_.clear();
  if (!live) {
    for (size_t j = started + 2; j < events.size(); ++j) {
      const auto& e = events[j];
      if (e.event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_STARTED) break;
      if (e.event_type() == enums::EVENT_TYPE_MARKER_RECORDED) {
        const auto& m = e.marker_recorded_event_attributes();
        if (m.marker_name() == "LocalActivity") {
          auto seq = m.details().find("seq");
          if (seq != m.details().end()) segment_local_activities_[FirstPayload<int64_t>(seq->second)] = e;
          continue;
        }
        auto it = m.details().find(m.marker_name() == "Patched" ? "patch_id" : "seq");
        if (it == m.details().end() || it->second.payloads_size() == 0) continue;
        if (m.marker_name() == "Patched") {
          segment_patches_.insert(FirstPayload<std::string>(it->second));
        } else if (m.marker_name() == "SideEffect") {
          auto data = m.details().find("data");
          segment_side_effects_[FirstPayload<int64_t>(it->second)] =
              data == m.details().end() ? Payloads() : data->second;
        }
      } else if (e.event_type() == enums::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
        const auto& a = e.workflow_execution_update_accepted_event_attributes();
        pending_updates_.emplace_back(a.accepted_request(), a.accepted_request_message_id(),
                                      a.accepted_request_sequencing_event_id(), false);
      }
    }
  } else {
    for (auto& [req, id, seq] : pending_live_) pending_updates_.emplace_back(req, id, seq, true);
    pending_live_.clear();
  }
  if (!root_started_) {
    root_started_ = true;
    if (root_creation_error_) {
      if (!live) return;  // that task failed too; a later attempt reports it
      try {
        std::rethrow_exception(root_creation_error_);
      } catch (const std::exception& e) {
        throw WorkflowTaskError(e.what());
      }
    }
    Ready(root_->handle());
    RunReady();
  }
  auto updates = std::move(pending_updates_);
  pending_updates_.clear();
  for (auto& [req, id, seq, is_live] : updates) DeliverUpdate(req, id, seq, is_live);
  RunReady();
  ResolveLocalActivities(live);
  FinishRoot();
  ++activation_;
  if (!live) {
    // A replayed activation's commands were sent by an earlier worker; only their events remain
    // to be matched. (Commands issued between activations, e.g. by a cancellation request,
    // belong to the next activation.)
    commands_.clear();
    messages_.clear();
    command_keys_.clear();
  }
}

void WorkflowInstance::RunReady() {
  for (;;) {
    while (!ready_.empty()) {
      auto h = ready_.front();
      ready_.pop_front();
      h.resume();
    }
    bool progressed = false;
    for (auto it = conditions_.begin(); it != conditions_.end();) {
      if (it->c->done) {
        it = conditions_.erase(it);
        continue;
      }
      bool ok = false;
      try {
        ok = it->pred();
      } catch (...) {
        it->c->Reject(std::current_exception());
        it = conditions_.erase(it);
        progressed = true;
        continue;
      }
      if (ok) {
        it->c->Resolve(ToPayloads(true));
        if (!it->timer_id.empty() && timers_.count(it->timer_id)) CancelTimer(it->timer_id);
        it = conditions_.erase(it);
        progressed = true;
      } else {
        ++it;
      }
    }
    if (!progressed) break;
  }
  for (auto it = spawned_.begin(); it != spawned_.end();) {
    if (it->handle().done()) {
      if (it->handle().promise().error && !spawned_error_) spawned_error_ = it->handle().promise().error;
      it = spawned_.erase(it);
    } else {
      ++it;
    }
  }
}

void WorkflowInstance::FinishRoot() {
  if (closed_ || !root_) return;
  bool root_done = root_->handle().done();
  if (!root_done && !spawned_error_) return;
  std::exception_ptr error = root_done ? root_->handle().promise().error : nullptr;
  if (!error && spawned_error_) error = spawned_error_;
  Command cmd;
  if (!error) {
    cmd.set_command_type(enums::COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION);
    const auto& v = *root_->handle().promise().value;
    if (v.payloads_size() > 0) *cmd.mutable_complete_workflow_execution_command_attributes()->mutable_result() = v;
    else cmd.mutable_complete_workflow_execution_command_attributes();
  } else {
    try {
      std::rethrow_exception(error);
    } catch (const ContinueAsNewError& can) {
      cmd.set_command_type(enums::COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION);
      auto* a = cmd.mutable_continue_as_new_workflow_execution_command_attributes();
      a->mutable_workflow_type()->set_name(can.workflow_type.empty() ? info_.workflow_type : can.workflow_type);
      a->mutable_task_queue()->set_name(can.task_queue.empty() ? info_.task_queue : can.task_queue);
      if (can.args.payloads_size() > 0) *a->mutable_input() = can.args;
    } catch (const TemporalFailure& f) {
      if (cancel_requested_ && IsCancellation(error)) {
        cmd.set_command_type(enums::COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION);
        cmd.mutable_cancel_workflow_execution_command_attributes();
      } else {
        cmd.set_command_type(enums::COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION);
        *cmd.mutable_fail_workflow_execution_command_attributes()->mutable_failure() = ToFailureProto(f);
      }
    } catch (const std::exception& e) {
      throw WorkflowTaskError(std::string("workflow code threw ") + ExceptionTypeName(e) + ": " + e.what());
    } catch (...) {
      throw WorkflowTaskError("workflow code threw an unknown exception");
    }
  }
  closed_ = true;
  AddCommand(std::move(cmd), "", "");
}

void WorkflowInstance::MatchCommandEvent(const HistoryEvent& e) {
  enums::CommandType type = enums::COMMAND_TYPE_UNSPECIFIED;
  std::string key, text;
  switch (e.event_type()) {
    case enums::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const auto& a = e.activity_task_scheduled_event_attributes();
      type = enums::COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK;
      key = a.activity_id() + "|" + a.activity_type().name();
      text = "activity_id=" + a.activity_id() + ", activity_type=" + a.activity_type().name();
      break;
    }
    case enums::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
      type = enums::COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK;
      key = std::to_string(e.activity_task_cancel_requested_event_attributes().scheduled_event_id());
      text = "scheduled_event_id=" + key;
      break;
    case enums::EVENT_TYPE_TIMER_STARTED:
      type = enums::COMMAND_TYPE_START_TIMER;
      key = e.timer_started_event_attributes().timer_id();
      text = "timer_id=" + key;
      break;
    case enums::EVENT_TYPE_TIMER_CANCELED:
      type = enums::COMMAND_TYPE_CANCEL_TIMER;
      key = e.timer_canceled_event_attributes().timer_id();
      text = "timer_id=" + key;
      break;
    case enums::EVENT_TYPE_MARKER_RECORDED: {
      const auto& m = e.marker_recorded_event_attributes();
      // Local-activity markers are read ahead by the activation that ran them (their commands
      // are issued when the activity ends, not when it is called): not matched in order.
      if (m.marker_name() == "LocalActivity") return;
      type = enums::COMMAND_TYPE_RECORD_MARKER;
      key = MarkerKey(m.marker_name(), m.details());
      text = "marker=" + key;
      break;
    }
    case enums::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
      const auto& a = e.start_child_workflow_execution_initiated_event_attributes();
      type = enums::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION;
      key = a.workflow_id() + "|" + a.workflow_type().name();
      text = "workflow_id=" + a.workflow_id() + ", workflow_type=" + a.workflow_type().name();
      break;
    }
    case enums::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
      const auto& a = e.signal_external_workflow_execution_initiated_event_attributes();
      type = enums::COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION;
      key = a.workflow_execution().workflow_id() + "|" + a.signal_name();
      text = "workflow_id=" + a.workflow_execution().workflow_id() + ", signal=" + a.signal_name();
      break;
    }
    case enums::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      type = enums::COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION;
      key = e.request_cancel_external_workflow_execution_initiated_event_attributes().workflow_execution().workflow_id();
      text = "workflow_id=" + key;
      break;
    case enums::EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      type = enums::COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES;
      key = FieldNames(e.upsert_workflow_search_attributes_event_attributes().search_attributes().indexed_fields());
      text = "search_attributes=" + key;
      break;
    case enums::EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
      type = enums::COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES;
      key = FieldNames(e.workflow_properties_modified_event_attributes().upserted_memo().fields());
      text = "memo=" + key;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      type = enums::COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      type = enums::COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      type = enums::COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      type = enums::COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
      type = enums::COMMAND_TYPE_PROTOCOL_MESSAGE;
      key = "accept|" + e.workflow_execution_update_accepted_event_attributes().protocol_instance_id();
      text = "update accepted " + e.workflow_execution_update_accepted_event_attributes().protocol_instance_id();
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
      type = enums::COMMAND_TYPE_PROTOCOL_MESSAGE;
      key = "complete|" + e.workflow_execution_update_completed_event_attributes().meta().update_id();
      text = "update completed " + e.workflow_execution_update_completed_event_attributes().meta().update_id();
      break;
    default:
      ApplyEvent(e);
      return;
  }
  std::string event_text = "history event " + std::to_string(e.event_id()) + " " + EventName(e) +
                           (text.empty() ? "" : "(" + text + ")");
  bool patch_marker = type == enums::COMMAND_TYPE_RECORD_MARKER && key.rfind("Patched|", 0) == 0;
  if (expected_.empty() || expected_.front().type != type || expected_.front().key != key) {
    if (patch_marker) return;  // a removed (deprecated) patch: its marker is skipped
    if (expected_.empty()) {
      nondeterminism_ = "nondeterminism: " + event_text + " has no matching command (the workflow issued none)";
    } else {
      nondeterminism_ = "nondeterminism: " + event_text + " does not match the workflow's command " +
                        Describe(expected_.front().type, expected_.front().text);
    }
    return;
  }
  expected_.pop_front();
  switch (e.event_type()) {
    case enums::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const auto& id = e.activity_task_scheduled_event_attributes().activity_id();
      scheduled_to_activity_[e.event_id()] = id;
      auto it = activities_.find(id);
      if (it != activities_.end()) it->second.scheduled_event_id = e.event_id();
      break;
    }
    case enums::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      initiated_to_child_[e.event_id()] = e.start_child_workflow_execution_initiated_event_attributes().workflow_id();
      break;
    case enums::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      initiated_to_signal_[e.event_id()] = key;
      break;
    case enums::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
      auto& q = pending_ext_cancels_[key];
      if (!q.empty()) {
        if (q.front()) initiated_to_cancel_[e.event_id()] = q.front();
        q.pop_front();
      }
      break;
    }
    default:
      break;
  }
}

void WorkflowInstance::ApplyEvent(const HistoryEvent& e) {
  switch (e.event_type()) {
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
      const auto& a = e.workflow_execution_signaled_event_attributes();
      auto it = signals_.find(a.signal_name());
      if (it == signals_.end()) {
        buffered_signals_.emplace_back(a.signal_name(), a.input());
      } else {
        try {
          it->second(a.input());
        } catch (...) {
          if (!spawned_error_) spawned_error_ = std::current_exception();
        }
      }
      break;
    }
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      HandleCancelRequest();
      break;
    case enums::EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
    case enums::EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case enums::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
    case enums::EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
      int64_t sched = 0, started = 0;
      std::shared_ptr<TemporalFailure> cause;
      std::string message;
      auto retry_state = enums::RETRY_STATE_UNSPECIFIED;
      Payloads result;
      if (e.has_activity_task_completed_event_attributes()) {
        sched = e.activity_task_completed_event_attributes().scheduled_event_id();
        result = e.activity_task_completed_event_attributes().result();
      } else if (e.has_activity_task_failed_event_attributes()) {
        const auto& a = e.activity_task_failed_event_attributes();
        sched = a.scheduled_event_id();
        started = a.started_event_id();
        cause = FromFailureProto(a.failure());
        retry_state = a.retry_state();
        message = "Activity task failed";
      } else if (e.has_activity_task_timed_out_event_attributes()) {
        const auto& a = e.activity_task_timed_out_event_attributes();
        sched = a.scheduled_event_id();
        started = a.started_event_id();
        cause = FromFailureProto(a.failure());
        retry_state = a.retry_state();
        message = "Activity task timed out";
      } else {
        const auto& a = e.activity_task_canceled_event_attributes();
        sched = a.scheduled_event_id();
        started = a.started_event_id();
        cause = std::make_shared<CanceledFailure>("Activity cancelled", a.details());
        retry_state = enums::RETRY_STATE_CANCEL_REQUESTED;
        message = "Activity task cancelled";
      }
      auto id_it = scheduled_to_activity_.find(sched);
      if (id_it == scheduled_to_activity_.end()) break;
      auto it = activities_.find(id_it->second);
      if (it == activities_.end()) break;  // already resolved (cancelled by the workflow)
      if (!cause) {
        it->second.c->Resolve(result);
      } else {
        ActivityFailure f(message, cause);
        f.activity_type = it->second.type;
        f.activity_id = it->second.id;
        f.scheduled_event_id = sched;
        f.started_event_id = started;
        f.retry_state = retry_state;
        f.identity = identity_;
        it->second.c->Reject(std::make_exception_ptr(f));
      }
      activities_.erase(it);
      break;
    }
    case enums::EVENT_TYPE_TIMER_FIRED: {
      const auto& id = e.timer_fired_event_attributes().timer_id();
      auto it = timers_.find(id);
      if (it == timers_.end()) break;
      auto c = it->second;
      timers_.erase(it);
      c->Resolve({});
      for (auto ci = conditions_.begin(); ci != conditions_.end();) {
        if (ci->timer_id == id) {
          ci->c->Resolve(ToPayloads(false));
          ci = conditions_.erase(ci);
        } else {
          ++ci;
        }
      }
      break;
    }
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
      const auto& a = e.child_workflow_execution_started_event_attributes();
      auto it = initiated_to_child_.find(a.initiated_event_id());
      if (it == initiated_to_child_.end()) break;
      children_[it->second].run_id = a.workflow_execution().run_id();
      children_[it->second].started->Resolve(ToPayloads(a.workflow_execution().run_id()));
      break;
    }
    case enums::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: {
      const auto& a = e.start_child_workflow_execution_failed_event_attributes();
      auto it = initiated_to_child_.find(a.initiated_event_id());
      if (it == initiated_to_child_.end()) break;
      auto& ch = children_[it->second];
      auto err = std::make_exception_ptr(ApplicationFailure(
          "Workflow execution already started: " + a.workflow_id(), "WorkflowExecutionAlreadyStarted", true));
      ch.started->Reject(err);
      ch.result->Reject(err);
      break;
    }
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: {
      int64_t initiated = 0, started = 0;
      std::shared_ptr<TemporalFailure> cause;
      auto retry_state = enums::RETRY_STATE_NON_RETRYABLE_FAILURE;
      std::string run_id;
      Payloads result;
      bool ok = false;
      if (e.has_child_workflow_execution_completed_event_attributes()) {
        const auto& a = e.child_workflow_execution_completed_event_attributes();
        initiated = a.initiated_event_id();
        result = a.result();
        ok = true;
      } else if (e.has_child_workflow_execution_failed_event_attributes()) {
        const auto& a = e.child_workflow_execution_failed_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = FromFailureProto(a.failure());
        retry_state = a.retry_state();
      } else if (e.has_child_workflow_execution_canceled_event_attributes()) {
        const auto& a = e.child_workflow_execution_canceled_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = std::make_shared<CanceledFailure>("Workflow canceled", a.details());
      } else if (e.has_child_workflow_execution_timed_out_event_attributes()) {
        const auto& a = e.child_workflow_execution_timed_out_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = std::make_shared<TimeoutFailure>("Workflow execution timed out", enums::TIMEOUT_TYPE_START_TO_CLOSE);
        retry_state = a.retry_state();
      } else {
        const auto& a = e.child_workflow_execution_terminated_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = std::make_shared<TerminatedFailure>("Workflow execution terminated");
      }
      auto it = initiated_to_child_.find(initiated);
      if (it == initiated_to_child_.end()) break;
      auto& ch = children_[it->second];
      if (ok) {
        ch.result->Resolve(result);
      } else {
        ChildWorkflowFailure f("Child Workflow execution failed", cause);
        f.ns = info_.ns;
        f.workflow_id = ch.workflow_id;
        f.run_id = run_id;
        f.workflow_type = ch.type;
        f.initiated_event_id = initiated;
        f.started_event_id = started;
        f.retry_state = retry_state;
        ch.result->Reject(std::make_exception_ptr(f));
      }
      break;
    }
    case enums::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: {
      auto it = initiated_to_cancel_.find(e.external_workflow_execution_cancel_requested_event_attributes().initiated_event_id());
      if (it == initiated_to_cancel_.end()) break;
      it->second->Resolve({});
      initiated_to_cancel_.erase(it);
      break;
    }
    case enums::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: {
      const auto& a = e.request_cancel_external_workflow_execution_failed_event_attributes();
      auto it = initiated_to_cancel_.find(a.initiated_event_id());
      if (it == initiated_to_cancel_.end()) break;
      it->second->Reject(std::make_exception_ptr(ApplicationFailure(
          "Unable to cancel external workflow because it was not found: " + a.workflow_execution().workflow_id(),
          "ExternalWorkflowExecutionNotFound")));
      initiated_to_cancel_.erase(it);
      break;
    }
    case enums::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: {
      auto it = initiated_to_signal_.find(e.external_workflow_execution_signaled_event_attributes().initiated_event_id());
      if (it == initiated_to_signal_.end()) break;
      auto c = ext_signals_.find(it->second);
      if (c != ext_signals_.end()) {
        c->second->Resolve({});
        ext_signals_.erase(c);
      }
      break;
    }
    case enums::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: {
      const auto& a = e.signal_external_workflow_execution_failed_event_attributes();
      auto it = initiated_to_signal_.find(a.initiated_event_id());
      if (it == initiated_to_signal_.end()) break;
      auto c = ext_signals_.find(it->second);
      if (c != ext_signals_.end()) {
        c->second->Reject(std::make_exception_ptr(ApplicationFailure(
            "Unable to signal external workflow because it was not found", "ExternalWorkflowExecutionNotFound")));
        ext_signals_.erase(c);
      }
      break;
    }
    default:
      break;  // events the SDK does not act on (search attributes, admitted updates, ...)
  }
}

void WorkflowInstance::HandleCancelRequest() {
  if (cancel_requested_) return;
  cancel_requested_ = true;
  cancel_->Resolve({});
  root_scope_->Cancel();  // activities, timers, local activities and children, by their scopes
  for (auto& cond : conditions_) cond.c->Reject(std::make_exception_ptr(CanceledFailure("Condition cancelled")));
  conditions_.clear();
}

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

Future<Payloads> WorkflowInstance::ScheduleLocalActivity(const std::string& type, const LocalActivityOptions& o,
                                                         const Payloads& args) {
  int64_t seq = ++la_seq_;
  auto c = NewCompletion("local activity " + type + " (seq " + std::to_string(seq) + ")");
  auto scope = o.scope ? o.scope.state() : root_scope_;
  if (scope->cancelled) {
    c->Reject(std::make_exception_ptr(
        ActivityFailure("Local activity cancelled", std::make_shared<CanceledFailure>("Activity cancelled"))));
    return Future<Payloads>(c);
  }
  pending_las_.push_back(LocalActivity{c, seq, type, o, args});
  scope->Add(c, [c] {
    c->Reject(std::make_exception_ptr(
        ActivityFailure("Local activity cancelled", std::make_shared<CanceledFailure>("Activity cancelled"))));
  });
  return Future<Payloads>(c);
}

// Runs (live) or reads from markers (replay) the local activities the workflow is waiting on,
// each followed by the workflow's next steps, until none is pending. Each outcome becomes a
// LocalActivity marker.
void WorkflowInstance::ResolveLocalActivities(bool live) {
  while (!pending_las_.empty()) {
    LocalActivity la = std::move(pending_las_.front());
    pending_las_.pop_front();
    if (la.c->done) continue;  // cancelled before it ran: no marker
    const std::string id = std::to_string(la.seq);
    Payloads result;
    std::shared_ptr<TemporalFailure> failure;
    int attempts = 1;
    if (!live) {
      auto it = segment_local_activities_.find(la.seq);
      if (it == segment_local_activities_.end()) {
        nondeterminism_ = "nondeterminism: local activity " + la.type + " (seq " + id + ") has no marker in the history";
        return;
      }
      const auto& m = it->second.marker_recorded_event_attributes();
      auto t = m.details().find("activity_type");
      if (t != m.details().end() && FirstPayload<std::string>(t->second) != la.type) {
        nondeterminism_ = "nondeterminism: history event " + std::to_string(it->second.event_id()) +
                          " MarkerRecorded(marker=LocalActivity|" + id + ", activity_type=" +
                          FirstPayload<std::string>(t->second) + ") does not match the workflow's local activity " +
                          la.type;
        return;
      }
      if (m.has_failure()) {
        failure = FromFailureProto(m.failure());
      } else {
        auto r = m.details().find("result");
        if (r != m.details().end()) result = r->second;
      }
      auto n = m.details().find("attempts");
      if (n != m.details().end()) attempts = FirstPayload<int>(n->second);
    } else {
      if (!la_runner_) throw WorkflowTaskError("local activities need a worker (no runner)");
      try {
        result = la_runner_(la.type, la.opts, la.args, id, info_, &attempts);
      } catch (...) {
        auto err = std::current_exception();
        failure = FromFailureProto(ToFailureProto(err));
      }
    }
    Command cmd;
    cmd.set_command_type(enums::COMMAND_TYPE_RECORD_MARKER);
    auto* m = cmd.mutable_record_marker_command_attributes();
    m->set_marker_name("LocalActivity");
    (*m->mutable_details())["seq"] = ToPayloads(la.seq);
    (*m->mutable_details())["activity_type"] = ToPayloads(la.type);
    (*m->mutable_details())["attempts"] = ToPayloads(attempts);
    if (failure) {
      *m->mutable_failure() = ToFailureProto(*failure);
    } else {
      (*m->mutable_details())["result"] = result;
    }
    // Not expected in order (see MatchCommandEvent): sent, never matched.
    commands_.push_back(std::move(cmd));
    command_keys_.emplace_back(enums::COMMAND_TYPE_RECORD_MARKER, "LocalActivity|" + id);
    if (failure) {
      ActivityFailure f("Local activity failed", failure);
      f.activity_type = la.type;
      f.activity_id = id;
      f.identity = identity_;
      la.c->Reject(std::make_exception_ptr(f));
    } else {
      la.c->Resolve(result);
    }
    RunReady();
  }
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
  int64_t seq = next_seq_++;
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

void WorkflowInstance::Spawn(Task<void> t) {
  auto h = t.handle();
  spawned_.push_back(std::move(t));
  Ready(h);
}

void WorkflowInstance::UpsertSearchAttributes(const std::map<std::string, Payload>& attributes) {
  if (attributes.empty()) return;
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
  auto* f = cmd.mutable_upsert_workflow_search_attributes_command_attributes()->mutable_search_attributes()->mutable_indexed_fields();
  for (const auto& [k, v] : attributes) (*f)[k] = v;
  MergeFields(attributes, &info_.search_attributes);
  std::string key = FieldNames(attributes);
  AddCommand(std::move(cmd), key, "search_attributes=" + key);
}

void WorkflowInstance::UpsertMemo(const std::map<std::string, Payload>& fields) {
  if (fields.empty()) return;
  Command cmd;
  cmd.set_command_type(enums::COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES);
  auto* f = cmd.mutable_modify_workflow_properties_command_attributes()->mutable_upserted_memo()->mutable_fields();
  for (const auto& [k, v] : fields) (*f)[k] = v;
  MergeFields(fields, &info_.memo);
  std::string key = FieldNames(fields);
  AddCommand(std::move(cmd), key, "memo=" + key);
}

Payloads WorkflowInstance::AnswerQuery(const std::string& name, const Payloads& args) {
  if (name == "__stack_trace") return ToPayloads(StackTrace());
  if (name == "__temporal_workflow_metadata") {
    temporal::api::sdk::v1::WorkflowMetadata md;
    auto* d = md.mutable_definition();
    d->set_type(info_.workflow_type);
    std::set<std::string> qs{"__stack_trace", "__temporal_workflow_metadata"};
    for (const auto& [n, h] : queries_) qs.insert(n);
    for (const auto& n : qs) d->add_query_definitions()->set_name(n);
    for (const auto& [n, h] : signals_) d->add_signal_definitions()->set_name(n);  // std::map: sorted
    for (const auto& [n, u] : updates_) d->add_update_definitions()->set_name(n);
    md.set_current_details(current_details_);
    return ToPayloads(md);
  }
  auto it = queries_.find(name);
  if (it == queries_.end()) {
    std::string known;
    for (const auto& [n, h] : queries_) known += (known.empty() ? "" : " ") + n;
    throw ApplicationFailure("Workflow did not register a handler for " + name + ". Registered queries: [" + known +
                                 "]",
                             "QueryNotRegisteredError");
  }
  return it->second(args);
}

std::string WorkflowInstance::StackTrace() const {
  std::ostringstream out;
  for (const auto& w : all_) {
    auto c = w.lock();
    if (c && !c->done && !c->waiters.empty()) out << "waiting on " << c->description << "\n";
  }
  return out.str();
}

}  // namespace temporalite::sdk::internal
