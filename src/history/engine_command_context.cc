#include "history/engine_command_context.h"

#include "history/proto_time.h"
#include "history/run_chain.h"

namespace temporalite::history {

EngineCommandContext::EngineCommandContext(Engine& engine, Engine::Txn& txn, Execution& ex)
    : engine_(engine),
      txn_(txn),
      ex_(ex),
      now_(engine.clock_.Now()),
      namespace_name_(engine.namespace_names_.at(ex.st().namespace_id())),
      custom_search_attributes_(engine.CustomSearchAttributesLocked(ex.st().namespace_id())) {}

bool EngineCommandContext::NamespaceExists(const std::string& name) const {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  return engine_.namespaces_.count(name) > 0;
}

void EngineCommandContext::DispatchActivity(const state::ActivityInfo& ai, bool eager_requested) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  if (eager_requested && engine_.options_.enable_activity_eager_execution) {
    // Never queued (no poller may take it); the ActivityTasks unit's StartEager starts it and arms its
    // timeouts after the last command, unless a later command cancelled it or closed the run.
    ex_.SetActivityDispatched(ai.scheduled_event_id(), true);
    eager_activities_.push_back(ai.scheduled_event_id());
    return;
  }
  engine_.activities_.ArmTimers(ex_, ai);
  engine_.activities_.Dispatch(txn_, ex_, ai);
}

void EngineCommandContext::ArmUserTimer(const state::TimerInfo& timer) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  Engine& engine = engine_;
  engine.timers_.Schedule(FromProto(timer.expiry_time()),
                          [&engine, run_id = ex_.st().run_id(), timer_id = timer.timer_id(),
                           started = timer.started_event_id()] { engine.OnUserTimer(run_id, timer_id, started); });
}

std::string EngineCommandContext::PlanCronRun(const commands::cv1::Payloads* result,
                                              const commands::fv1::Failure* failure) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  next_run_ = CronNextRun(ex_, engine_.clock_.Now(), engine_.cron_next_, result, failure);
  return next_run_ ? next_run_->run_id : "";
}

ev1::RetryState EngineCommandContext::PlanRetry(const commands::fv1::Failure& failure, std::string* new_run_id) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  ev1::RetryState state = NextRunAfterFailure(ex_, &failure, engine_.clock_.Now(), &next_run_);
  *new_run_id = next_run_ ? next_run_->run_id : "";
  return state;
}

const hv1::WorkflowExecutionStartedEventAttributes& EngineCommandContext::PlanContinueAsNew(
    const commands::cmdv1::ContinueAsNewWorkflowExecutionCommandAttributes& attrs, std::string* new_run_id) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  next_run_ = ContinueAsNewRun(ex_, engine_.clock_.Now(), attrs);
  *new_run_id = next_run_->run_id;
  return next_run_->attrs;
}

void EngineCommandContext::StartChild(const commands::cmdv1::StartChildWorkflowExecutionCommandAttributes& attrs,
                                      bool* need_wft) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  engine_.children_.Start(txn_, ex_, attrs, completed_event_id_, need_wft);
}

void EngineCommandContext::SignalExternal(const commands::cmdv1::SignalExternalWorkflowExecutionCommandAttributes& attrs,
                                          bool source_closes, bool* need_wft) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  engine_.external_.Signal(txn_, ex_, attrs, completed_event_id_, source_closes, need_wft);
}

void EngineCommandContext::RequestCancelExternal(
    const commands::cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes& attrs, bool source_closes,
    bool* need_wft) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  engine_.external_.RequestCancel(txn_, ex_, attrs, completed_event_id_, source_closes, need_wft);
}

void EngineCommandContext::ApplyProtocolMessage(const temporal::api::protocol::v1::Message& message) {
  engine_.mu_.AssertHeld();  // handlers run under the engine lock (see the constructor)
  engine_.updates_.ApplyProtocolMessage(txn_, ex_, message);
}

}  // namespace temporalite::history
