// An EngineContext (history/engine_context.h) for unit tests of the engine's RPC-family units
// (update_registry_test.cc, query_registry_test.cc, child_workflows_test.cc,
// external_commands_test.cc): a SimClock-driven TimerService, runs in memory by id, and a record
// of what the unit asked of the engine (workflow tasks scheduled, query tasks offered, children
// started, runs terminated, signals delivered) in place of a whole engine. Matching is the test's:
// an offered query task goes to `next_poller` if the test set one, is refused if
// `refuse_query_tasks`, else is queued.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "common/timer_service.h"
#include "execution_test_util.h"
#include "history/engine_context.h"
#include "history/execution.h"

namespace temporalite::history::testing {

// A running run built by hand for the units' tests: namespace id `ns_id`, its ids, task queue
// `task_queue`, and WorkflowExecutionStarted as event 1.
inline void InitRun(Execution& ex, const std::string& ns_id, const std::string& workflow_id, const std::string& run_id,
                    TimePoint now, const std::string& task_queue = "parent-tq") {
  EditState(ex, [&](state::ExecutionState& s) {
    s.set_namespace_id(ns_id);
    s.set_workflow_id(workflow_id);
    s.set_run_id(run_id);
    s.set_first_execution_run_id(run_id);
    s.set_task_queue(task_queue);
    s.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
    s.set_next_event_id(1);
  });
  ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, now);
}

class TestEngineContext : public EngineContext {
 public:
  TestEngineContext(SimClock& clock, Mutex& mu) : clock_(clock), mu_(mu), timers_(clock) {}

  TimePoint Now() const override { return clock_.Now(); }
  TimerService& timers() override { return timers_; }
  void ScheduleWorkflowTask(Txn& txn, Execution& ex) override {
    ++workflow_tasks_scheduled;
    ex.SetWorkflowTaskScheduledEventId(static_cast<int64_t>(ex.events.size()) + 1);
    txn.Touch(&ex);
  }
  // Nothing is pending in a store here: durable at once.
  void ReplyWhenDurable(Done done, Status reply) override { done(reply); }
  Execution* LoadedRun(const std::string& run_id) override {
    auto it = runs.find(run_id);
    return it == runs.end() ? nullptr : it->second;
  }
  QueryTaskOffer OfferQueryTask(const Execution& ex, const std::string& query_id) override {
    mu_.AssertHeld();  // the units call the engine under its mutex
    offered_queries.push_back(query_id);
    QueryTaskOffer offer;
    offer.sticky = !ex.st().sticky_task_queue().empty();
    if (next_poller) {
      next_poller->Complete(mu_);  // as matching marks the poller it pops
      offer.poller = std::exchange(next_poller, nullptr);
    } else {
      offer.refused = refuse_query_tasks;
    }
    return offer;
  }

  // --- child workflows and external commands (children.h, external.h) ---
  std::string NamespaceName(const std::string& ns_id) override {
    auto it = namespace_names.find(ns_id);
    return it == namespace_names.end() ? std::string() : it->second;
  }
  std::string NamespaceId(const std::string& name) override {
    for (const auto& [id, n] : namespace_names) {
      if (n == name) return id;
    }
    return {};
  }
  Execution* FindRun(const std::string& run_id) override { return LoadedRun(run_id); }
  Execution* OpenRunOf(const std::string& ns_id, const std::string& workflow_id) override {
    for (auto& [id, ex] : runs) {
      if (ex->open() && ex->st().namespace_id() == ns_id && ex->st().workflow_id() == workflow_id) return ex;
    }
    return nullptr;
  }
  // Every run here is in memory: nothing is deferred.
  bool RunEvicted(const std::string&) override { return false; }
  std::string OpenRunIdOf(const std::string& ns_id, const std::string& workflow_id) override {
    Execution* ex = OpenRunOf(ns_id, workflow_id);
    return ex ? ex->st().run_id() : std::string();
  }
  void DeferStep(Txn&, state::PendingStep step) override { deferred.push_back(std::move(step)); }
  std::vector<state::PendingStep> deferred;
  TimePoint NextCronTime(const std::string&, TimePoint) override { return TimePoint::max(); }
  // A running workflow id refuses the start (WorkflowIdConflictPolicy FAIL); else a run
  // "<workflow id>-run" with the start's parent links, owned here.
  Execution* StartChildRun(Txn& txn, const std::string& ns_id, ChildStart start) override {
    if (OpenRunOf(ns_id, start.workflow_id) != nullptr) return nullptr;
    auto& ex = *owned.emplace_back(std::make_unique<Execution>());
    const auto& a = start.attrs;
    EditState(ex, [&](state::ExecutionState& s) {
      s.set_namespace_id(ns_id);
      s.set_workflow_id(start.workflow_id);
      s.set_run_id(start.workflow_id + "-run");
      s.set_first_execution_run_id(start.workflow_id + "-run");
      s.set_workflow_type(a.workflow_type().name());
      s.set_task_queue(a.task_queue().name());
      s.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
      s.set_parent_namespace(a.parent_workflow_namespace());
      s.set_parent_workflow_id(a.parent_workflow_execution().workflow_id());
      s.set_parent_run_id(a.parent_workflow_execution().run_id());
      s.set_parent_initiated_event_id(a.parent_initiated_event_id());
      s.set_next_event_id(1);
    });
    *ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, clock_.Now())
         ->mutable_workflow_execution_started_event_attributes() = a;
    runs[ex.st().run_id()] = &ex;
    started_children.push_back(std::move(start));
    txn.Touch(&ex);
    return &ex;
  }
  void TerminateRun(Txn& txn, Execution& ex, const std::string& reason, const std::string&) override {
    terminated.push_back(ex.st().run_id() + ": " + reason);
    ex.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
    txn.Touch(&ex);
  }
  Result<Execution*> OpenRun(const std::string& ns_id, const std::string& workflow_id,
                             const std::string& run_id) override {
    for (auto& [id, ex] : runs) {
      if (ex->open() && ex->st().namespace_id() == ns_id && ex->st().workflow_id() == workflow_id &&
          (run_id.empty() || id == run_id)) {
        return ex;
      }
    }
    return NotFound("workflow not found");
  }
  Result<std::shared_ptr<Execution>> AnyRun(const std::string& ns_id, const std::string& workflow_id,
                                            const std::string& run_id) override {
    for (auto& [id, ex] : runs) {
      if (ex->st().namespace_id() == ns_id && ex->st().workflow_id() == workflow_id && (run_id.empty() || id == run_id)) {
        return std::shared_ptr<Execution>(ex, [](Execution*) {});  // not owned: the test's run
      }
    }
    return NotFound("workflow not found");
  }
  // Appends (or buffers) the WorkflowExecutionSignaled as the engine does; `signal_limit_reached`
  // refuses it as the per-run signal limit would.
  Status DeliverSignal(Txn& txn, Execution& target, const std::string& name,
                       const ::temporal::api::common::v1::Payloads& input, const ::temporal::api::common::v1::Header&,
                       const std::string& identity, const std::string&,
                       const ::temporal::api::common::v1::WorkflowExecution* external, bool* duplicate) override {
    *duplicate = false;
    if (signal_limit_reached) return InvalidArgument("signal count limit exceeded");
    auto* a = target.AddOrBufferEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, clock_.Now())
                  ->mutable_workflow_execution_signaled_event_attributes();
    a->set_signal_name(name);
    *a->mutable_input() = input;
    a->set_identity(identity);
    if (external) *a->mutable_external_workflow_execution() = *external;
    txn.Touch(&target);
    return Status::Ok();
  }

  std::map<std::string, Execution*> runs;  // LoadedRun's answers
  WorkflowPoller next_poller;
  bool refuse_query_tasks = false;
  int workflow_tasks_scheduled = 0;
  std::vector<std::string> offered_queries;
  std::map<std::string, std::string> namespace_names;  // by id
  std::vector<std::unique_ptr<Execution>> owned;     // runs StartChildRun created
  std::vector<ChildStart> started_children;
  std::vector<std::string> terminated;  // "<run id>: <reason>"
  bool signal_limit_reached = false;

 private:
  SimClock& clock_;
  Mutex& mu_;
  TimerService timers_;
};

}  // namespace temporalite::history::testing
