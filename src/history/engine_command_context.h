// The engine's side of the command handlers' seam (commands/command_handler.h): one completion of
// one run, inside that completion's transaction. Lives only for the duration of a
// RespondWorkflowTaskCompleted call, under the engine mutex.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "history/commands/command_handler.h"
#include "history/completion_context.h"
#include "history/engine.h"

namespace temporalite::history {

class EngineCommandContext final : public CompletionContext {
 public:
  // REQUIRES(engine.mu_) for the context's whole life.
  EngineCommandContext(Engine& engine, Engine::Txn& txn, Execution& ex) REQUIRES(engine.mu_);

  Execution& run() override { return ex_; }
  const EngineOptions& limits() const override { return engine_.options_; }
  TimePoint now() const override { return now_; }
  bool NamespaceExists(const std::string& name) const override;
  const std::string& namespace_name() const override { return namespace_name_; }
  const visibility::TypeMap& custom_search_attributes() const override { return custom_search_attributes_; }

  int64_t completed_event_id() const override { return completed_event_id_; }
  void set_completed_event_id(int64_t id) override { completed_event_id_ = id; }
  void DispatchActivity(const state::ActivityInfo& ai, bool eager_requested) override;
  void ArmUserTimer(const state::TimerInfo& timer) override;
  std::string PlanCronRun(const commands::cv1::Payloads* result, const commands::fv1::Failure* failure) override;
  ev1::RetryState PlanRetry(const commands::fv1::Failure& failure, std::string* new_run_id) override;
  const hv1::WorkflowExecutionStartedEventAttributes& PlanContinueAsNew(
      const commands::cmdv1::ContinueAsNewWorkflowExecutionCommandAttributes& attrs, std::string* new_run_id) override;
  void StartChild(const commands::cmdv1::StartChildWorkflowExecutionCommandAttributes& attrs, bool* need_wft) override;
  void SignalExternal(const commands::cmdv1::SignalExternalWorkflowExecutionCommandAttributes& attrs,
                      bool source_closes, bool* need_wft) override;
  void RequestCancelExternal(const commands::cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes& attrs,
                             bool source_closes, bool* need_wft) override;
  void ApplyProtocolMessage(const temporal::api::protocol::v1::Message& message) override;

  // CompletionContext (completion_context.h).
  std::optional<StartFields>& next_run() override { return next_run_; }
  const std::vector<int64_t>& eager_activities() const override { return eager_activities_; }

 private:
  Engine& engine_;
  Engine::Txn& txn_;
  Execution& ex_;
  const TimePoint now_;
  const std::string& namespace_name_;
  const visibility::TypeMap custom_search_attributes_;
  int64_t completed_event_id_ = 0;
  std::optional<StartFields> next_run_;
  std::vector<int64_t> eager_activities_;
};

}  // namespace temporalite::history
