#include "temporalite/sdk/failure.h"

#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>

namespace temporalite::sdk {
namespace {

constexpr const char* kSource = "TemporaliteCppSDK";

google::protobuf::Duration ToDuration(std::chrono::milliseconds ms) {
  google::protobuf::Duration d;
  d.set_seconds(ms.count() / 1000);
  d.set_nanos(static_cast<int32_t>((ms.count() % 1000) * 1000000));
  return d;
}

}  // namespace

void ApplicationFailure::FillInfo(FailureProto& f) const {
  auto* info = f.mutable_application_failure_info();
  info->set_type(type);
  info->set_non_retryable(non_retryable);
  if (details.payloads_size() > 0) *info->mutable_details() = details;
  if (next_retry_delay) *info->mutable_next_retry_delay() = ToDuration(*next_retry_delay);
}

void CanceledFailure::FillInfo(FailureProto& f) const {
  auto* info = f.mutable_canceled_failure_info();
  if (details.payloads_size() > 0) *info->mutable_details() = details;
}

void TerminatedFailure::FillInfo(FailureProto& f) const { f.mutable_terminated_failure_info(); }

void TimeoutFailure::FillInfo(FailureProto& f) const {
  auto* info = f.mutable_timeout_failure_info();
  info->set_timeout_type(timeout_type);
  if (last_heartbeat_details.payloads_size() > 0) *info->mutable_last_heartbeat_details() = last_heartbeat_details;
}

void ServerFailure::FillInfo(FailureProto& f) const {
  f.mutable_server_failure_info()->set_non_retryable(non_retryable);
}

void ActivityFailure::FillInfo(FailureProto& f) const {
  auto* info = f.mutable_activity_failure_info();
  info->mutable_activity_type()->set_name(activity_type);
  info->set_activity_id(activity_id);
  info->set_identity(identity);
  info->set_scheduled_event_id(scheduled_event_id);
  info->set_started_event_id(started_event_id);
  info->set_retry_state(retry_state);
}

void ChildWorkflowFailure::FillInfo(FailureProto& f) const {
  auto* info = f.mutable_child_workflow_execution_failure_info();
  info->set_namespace_(ns);
  info->mutable_workflow_execution()->set_workflow_id(workflow_id);
  info->mutable_workflow_execution()->set_run_id(run_id);
  info->mutable_workflow_type()->set_name(workflow_type);
  info->set_initiated_event_id(initiated_event_id);
  info->set_started_event_id(started_event_id);
  info->set_retry_state(retry_state);
}

std::string ExceptionTypeName(const std::exception& e) {
  const char* mangled = typeid(e).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = (status == 0 && demangled) ? demangled : mangled;
  std::free(demangled);
  return out;
}

FailureProto ToFailureProto(const TemporalFailure& t) {
  FailureProto f;
  f.set_message(t.what());
  f.set_source(kSource);
  f.set_stack_trace(t.stack_trace);
  t.FillInfo(f);
  if (t.cause()) *f.mutable_cause() = ToFailureProto(*t.cause());
  return f;
}

FailureProto ToFailureProto(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const TemporalFailure& t) {
    return ToFailureProto(t);
  } catch (const std::exception& ex) {
    FailureProto f;
    f.set_message(ex.what());
    f.set_source(kSource);
    f.mutable_application_failure_info()->set_type(ExceptionTypeName(ex));
    return f;
  } catch (...) {
    FailureProto f;
    f.set_message("unknown exception");
    f.set_source(kSource);
    f.mutable_application_failure_info()->set_type("unknown");
    return f;
  }
}

std::shared_ptr<TemporalFailure> FromFailureProto(const FailureProto& f) {
  std::shared_ptr<TemporalFailure> cause;
  if (f.has_cause()) cause = FromFailureProto(f.cause());
  std::shared_ptr<TemporalFailure> out;
  switch (f.failure_info_case()) {
    case FailureProto::kApplicationFailureInfo: {
      const auto& i = f.application_failure_info();
      auto a = std::make_shared<ApplicationFailure>(f.message(), i.type(), i.non_retryable(), i.details(), cause);
      if (i.has_next_retry_delay()) {
        a->next_retry_delay = std::chrono::milliseconds(i.next_retry_delay().seconds() * 1000 +
                                                        i.next_retry_delay().nanos() / 1000000);
      }
      out = a;
      break;
    }
    case FailureProto::kTimeoutFailureInfo:
      out = std::make_shared<TimeoutFailure>(f.message(), f.timeout_failure_info().timeout_type(),
                                             f.timeout_failure_info().last_heartbeat_details(), cause);
      break;
    case FailureProto::kCanceledFailureInfo:
      out = std::make_shared<CanceledFailure>(f.message(), f.canceled_failure_info().details());
      break;
    case FailureProto::kTerminatedFailureInfo:
      out = std::make_shared<TerminatedFailure>(f.message());
      break;
    case FailureProto::kServerFailureInfo:
      out = std::make_shared<ServerFailure>(f.message(), f.server_failure_info().non_retryable());
      break;
    case FailureProto::kActivityFailureInfo: {
      const auto& i = f.activity_failure_info();
      auto a = std::make_shared<ActivityFailure>(f.message(), cause);
      a->activity_type = i.activity_type().name();
      a->activity_id = i.activity_id();
      a->identity = i.identity();
      a->scheduled_event_id = i.scheduled_event_id();
      a->started_event_id = i.started_event_id();
      a->retry_state = i.retry_state();
      out = a;
      break;
    }
    case FailureProto::kChildWorkflowExecutionFailureInfo: {
      const auto& i = f.child_workflow_execution_failure_info();
      auto c = std::make_shared<ChildWorkflowFailure>(f.message(), cause);
      c->ns = i.namespace_();
      c->workflow_id = i.workflow_execution().workflow_id();
      c->run_id = i.workflow_execution().run_id();
      c->workflow_type = i.workflow_type().name();
      c->initiated_event_id = i.initiated_event_id();
      c->started_event_id = i.started_event_id();
      c->retry_state = i.retry_state();
      out = c;
      break;
    }
    default:
      // Unknown kinds (reset, nexus) surface as an ApplicationFailure with the message.
      out = std::make_shared<ApplicationFailure>(f.message(), "", false, Payloads{}, cause);
      break;
  }
  out->stack_trace = f.stack_trace();
  return out;
}

}  // namespace temporalite::sdk
