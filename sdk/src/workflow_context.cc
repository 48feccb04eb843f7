#include "temporalite/sdk/workflow.h"

#include <cstdio>

#include "uuid_format.h"
#include "workflow_instance.h"

namespace temporalite::sdk {

const WorkflowInfo& WorkflowContext::info() const { return impl_->info(); }
std::chrono::system_clock::time_point WorkflowContext::Now() const { return impl_->now(); }
bool WorkflowContext::IsReplaying() const { return impl_->replaying(); }

Future<Payloads> WorkflowContext::ExecuteActivityPayloads(const std::string& type, const ActivityOptions& opts,
                                                          const Payloads& args) {
  return impl_->ScheduleActivity(type, opts, args);
}

Future<void> WorkflowContext::Sleep(std::chrono::milliseconds d) { return impl_->StartTimer(d, nullptr); }
Future<void> WorkflowContext::Sleep(std::chrono::milliseconds d, const CancellationScope& scope) {
  return impl_->StartTimer(d, scope.state());
}

CancellationScope WorkflowContext::NewCancellationScope() { return impl_->NewScope(impl_->root_scope()); }
CancellationScope WorkflowContext::NewCancellationScope(const CancellationScope& parent) {
  return impl_->NewScope(parent ? parent.state() : impl_->root_scope());
}
CancellationScope WorkflowContext::NewDetachedCancellationScope() { return impl_->NewScope(nullptr); }

void CancellationScope::Cancel() {
  if (s_) s_->Cancel();
}
bool CancellationScope::IsCancelled() const { return s_ && s_->cancelled; }

Future<Payloads> WorkflowContext::ExecuteLocalActivityPayloads(const std::string& type, const LocalActivityOptions& opts,
                                                               const Payloads& args) {
  return impl_->ScheduleLocalActivity(type, opts, args);
}

void WorkflowContext::UpsertSearchAttributesPayloads(const std::map<std::string, Payload>& attributes) {
  impl_->UpsertSearchAttributes(attributes);
}
void WorkflowContext::UpsertMemoPayloads(const std::map<std::string, Payload>& fields) { impl_->UpsertMemo(fields); }
void WorkflowContext::SetCurrentDetails(const std::string& details) { impl_->SetCurrentDetails(details); }

Future<void> WorkflowContext::RequestCancelExternalWorkflow(const std::string& workflow_id, const std::string& run_id) {
  return impl_->RequestCancelExternal(workflow_id, run_id);
}

Future<bool> WorkflowContext::Condition(std::function<bool()> pred, std::optional<std::chrono::milliseconds> timeout) {
  return impl_->AddCondition(std::move(pred), timeout);
}

void WorkflowContext::SetSignalHandlerPayloads(const std::string& name, std::function<void(const Payloads&)> handler) {
  impl_->SetSignalHandler(name, std::move(handler));
}

void WorkflowContext::SetQueryHandlerPayloads(const std::string& name, std::function<Payloads(const Payloads&)> handler) {
  impl_->SetQueryHandler(name, std::move(handler));
}

void WorkflowContext::SetUpdateHandlerPayloads(const std::string& name, UpdateHandler handler, UpdateValidator validator) {
  impl_->SetUpdateHandler(name, std::move(handler), std::move(validator));
}

ChildWorkflowHandle WorkflowContext::StartChildWorkflowPayloads(const std::string& type, const ChildWorkflowOptions& opts,
                                                                const Payloads& args) {
  return impl_->StartChild(type, opts, args);
}

Future<void> WorkflowContext::SignalExternalWorkflowPayloads(const std::string& workflow_id, const std::string& run_id,
                                                             const std::string& signal, const Payloads& args) {
  return impl_->SignalExternal(workflow_id, run_id, signal, args);
}

uint64_t WorkflowContext::Random() { return impl_->NextRandom(); }

std::string WorkflowContext::Uuid() {
  uint64_t a = Random(), b = Random();
  return internal::FormatUuidV4(a, b);
}

Payloads WorkflowContext::SideEffectPayloads(const std::function<Payloads()>& fn) { return impl_->SideEffect(fn); }
bool WorkflowContext::Patched(const std::string& patch_id) { return impl_->Patched(patch_id, false); }
void WorkflowContext::DeprecatePatch(const std::string& patch_id) { impl_->Patched(patch_id, true); }
bool WorkflowContext::IsCancelRequested() const { return impl_->cancel_requested(); }
Future<void> WorkflowContext::CancelRequested() { return impl_->CancelFuture(); }
void WorkflowContext::Spawn(Task<void> task) { impl_->Spawn(std::move(task)); }

}  // namespace temporalite::sdk
