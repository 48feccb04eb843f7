#include "workflow_instance.h"

#include <sstream>

#include "temporal/api/sdk/v1/workflow_metadata.pb.h"
#include "workflow_support.h"

namespace temporalite::sdk::internal {

namespace enums = temporal::api::enums::v1;

WorkflowInstance::WorkflowInstance(const WorkflowFn* fn, std::string ns, std::string identity)
    : fn_(fn), identity_(std::move(identity)) {
  info_.ns = std::move(ns);
  cancel_ = NewCompletion("cancellation request");
}

WorkflowInstance::~WorkflowInstance() {
  // Local activities still running when the instance is dropped mid-task are cancelled (no
  // further attempt), as sdk-core cancels a run's local activities on eviction; abandoned ones
  // were already cancelled by their type (kAbandon: never). Their threads own their state:
  // nothing here waits for them.
  for (auto& la : running_las_) la.cancellation->Cancel();
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
  query_results_.clear();  // a failed task's
  task_began_ = std::chrono::steady_clock::now();
  keep_alive_.beat = [this] { return HeartbeatTask(); };
  keep_alive_.period = std::chrono::milliseconds(0);
  ArmKeepAlive();  // a new instance knows the task timeout only from the history's first event
  Process(events, /*live=*/true);
  keep_alive_.period = std::chrono::milliseconds(0);
  TaskOutput out;
  out.commands = std::move(commands_);
  out.messages = std::move(messages_);
  commands_.clear();
  messages_.clear();
  command_keys_.clear();
  AnswerQueries(queries);
  out.query_results = std::move(query_results_);
  query_results_.clear();
  return out;
}

void WorkflowInstance::AnswerQueries(
    const google::protobuf::Map<std::string, temporal::api::query::v1::WorkflowQuery>& queries) {
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
    query_results_[id] = std::move(r);
  }
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
        task_timeout_ = std::chrono::milliseconds(a.workflow_task_timeout().seconds() * 1000 +
                                                  a.workflow_task_timeout().nanos() / 1000000);
        if (live) ArmKeepAlive();
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
        if (IsLocalActivityMarker(m.marker_name())) {
          if (auto data = ReadLocalActivityMarker(m)) segment_local_activities_[data->seq] = e;
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

// Local activities beat at 80 % of the task timeout, as the official SDKs do.
void WorkflowInstance::ArmKeepAlive() {
  if (!heartbeat_ || task_timeout_.count() <= 0) return;
  keep_alive_.period = task_timeout_ * 4 / 5;
  keep_alive_.next = task_began_ + keep_alive_.period;
}

// Completes the live task with what the workflow issued so far (its commands are then sent:
// a later cancellation cancels them rather than dropping them) and continues on the task the
// server returns as on a new activation, as a replay of this history will run it: its command
// events are matched, its other events (signals, cancel requests...) applied, its
// WorkflowTaskStarted sets the workflow clock, its updates are delivered and the woken
// coroutines run (their commands leave with the next heartbeat or the task's completion).
// Runs on the workflow task's thread; the local activity runs on another thread meanwhile.
bool WorkflowInstance::HeartbeatTask() {
  if (!heartbeat_ || !nondeterminism_.empty()) return false;
  TaskOutput out;
  out.commands = std::move(commands_);
  out.messages = std::move(messages_);
  out.query_results = std::move(query_results_);
  commands_.clear();
  messages_.clear();
  query_results_.clear();
  command_keys_.clear();
  std::optional<HeartbeatTaskReply> reply = heartbeat_(std::move(out));
  if (!reply) return false;
  for (const auto& e : reply->events) {
    switch (e.event_type()) {
      case enums::EVENT_TYPE_WORKFLOW_TASK_STARTED:
        now_ = ToTime(e.event_time());
        break;
      case enums::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
      case enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case enums::EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case enums::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        break;
      default:
        MatchCommandEvent(e);  // a mismatch is reported after the activation (nondeterminism_)
        break;
    }
    if (!nondeterminism_.empty()) return false;
  }
  ++activation_;
  for (const auto& m : reply->messages) {
    temporal::api::update::v1::Request req;
    if (m.body().UnpackTo(&req)) DeliverUpdate(req, m.id(), m.event_id(), /*live=*/true);
  }
  RunReady();
  // Queries the server attached to the returned task: answered now, sent with its completion
  // (the next heartbeat or the end of the local activities), as sdk-core does.
  AnswerQueries(reply->queries);
  return nondeterminism_.empty();
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
