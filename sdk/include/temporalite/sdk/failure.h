// Temporal failures as C++ exceptions, converted to and from temporal.api.failure.v1.Failure the
// way the other SDKs do, so a TypeScript caller sees ApplicationFailure, ActivityFailure,
// ChildWorkflowFailure, TimeoutFailure, CanceledFailure and TerminatedFailure with their causes.
//
// Throwing a TemporalFailure from a workflow fails the workflow; any other exception thrown by
// workflow code fails the workflow *task* (it is retried, as in the TypeScript SDK). From an
// activity, any exception fails the attempt: std::exception becomes a retryable
// ApplicationFailure whose type is the exception's C++ type name.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "temporal/api/failure/v1/message.pb.h"
#include "temporalite/sdk/payload.h"

namespace temporalite::sdk {

using FailureProto = temporal::api::failure::v1::Failure;

class TemporalFailure : public std::runtime_error {
 public:
  explicit TemporalFailure(const std::string& message, std::shared_ptr<TemporalFailure> cause = nullptr)
      : std::runtime_error(message), cause_(std::move(cause)) {}
  const std::shared_ptr<TemporalFailure>& cause() const { return cause_; }
  std::string message() const { return what(); }
  // The exception itself as an exception_ptr of its dynamic type (for rethrowing a cause).
  virtual std::exception_ptr AsExceptionPtr() const = 0;
  // Fills the failure_info oneof (message, source, cause are filled by ToFailureProto).
  virtual void FillInfo(FailureProto& f) const = 0;

  std::string stack_trace;  // free text, passed through
 private:
  std::shared_ptr<TemporalFailure> cause_;
};

#define TEMPORALITE_FAILURE_BOILERPLATE(T) \
  std::exception_ptr AsExceptionPtr() const override { return std::make_exception_ptr(*this); }

class ApplicationFailure : public TemporalFailure {
 public:
  explicit ApplicationFailure(const std::string& message, std::string type = "", bool non_retryable = false,
                              Payloads details = {}, std::shared_ptr<TemporalFailure> cause = nullptr)
      : TemporalFailure(message, std::move(cause)), type(std::move(type)), non_retryable(non_retryable),
        details(std::move(details)) {}
  static ApplicationFailure NonRetryable(const std::string& message, const std::string& type = "") {
    return ApplicationFailure(message, type, true);
  }
  TEMPORALITE_FAILURE_BOILERPLATE(ApplicationFailure)
  void FillInfo(FailureProto& f) const override;

  std::string type;
  bool non_retryable = false;
  Payloads details;
  // Overrides the retry policy's backoff before the next attempt (activities).
  std::optional<std::chrono::milliseconds> next_retry_delay;
};

class CanceledFailure : public TemporalFailure {
 public:
  explicit CanceledFailure(const std::string& message = "canceled", Payloads details = {})
      : TemporalFailure(message), details(std::move(details)) {}
  TEMPORALITE_FAILURE_BOILERPLATE(CanceledFailure)
  void FillInfo(FailureProto& f) const override;
  Payloads details;
};

class TerminatedFailure : public TemporalFailure {
 public:
  explicit TerminatedFailure(const std::string& message = "terminated") : TemporalFailure(message) {}
  TEMPORALITE_FAILURE_BOILERPLATE(TerminatedFailure)
  void FillInfo(FailureProto& f) const override;
};

class TimeoutFailure : public TemporalFailure {
 public:
  TimeoutFailure(const std::string& message, temporal::api::enums::v1::TimeoutType timeout_type,
                 Payloads last_heartbeat_details = {}, std::shared_ptr<TemporalFailure> cause = nullptr)
      : TemporalFailure(message, std::move(cause)), timeout_type(timeout_type),
        last_heartbeat_details(std::move(last_heartbeat_details)) {}
  TEMPORALITE_FAILURE_BOILERPLATE(TimeoutFailure)
  void FillInfo(FailureProto& f) const override;
  temporal::api::enums::v1::TimeoutType timeout_type;
  Payloads last_heartbeat_details;
};

class ServerFailure : public TemporalFailure {
 public:
  ServerFailure(const std::string& message, bool non_retryable) : TemporalFailure(message), non_retryable(non_retryable) {}
  TEMPORALITE_FAILURE_BOILERPLATE(ServerFailure)
  void FillInfo(FailureProto& f) const override;
  bool non_retryable;
};

// An activity called from a workflow failed; cause() says why (ApplicationFailure,
// TimeoutFailure, CanceledFailure).
class ActivityFailure : public TemporalFailure {
 public:
  ActivityFailure(const std::string& message, std::shared_ptr<TemporalFailure> cause)
      : TemporalFailure(message, std::move(cause)) {}
  TEMPORALITE_FAILURE_BOILERPLATE(ActivityFailure)
  void FillInfo(FailureProto& f) const override;
  std::string activity_type, activity_id, identity;
  int64_t scheduled_event_id = 0, started_event_id = 0;
  temporal::api::enums::v1::RetryState retry_state = temporal::api::enums::v1::RETRY_STATE_UNSPECIFIED;
};

// A child workflow failed; cause() says why.
class ChildWorkflowFailure : public TemporalFailure {
 public:
  ChildWorkflowFailure(const std::string& message, std::shared_ptr<TemporalFailure> cause)
      : TemporalFailure(message, std::move(cause)) {}
  TEMPORALITE_FAILURE_BOILERPLATE(ChildWorkflowFailure)
  void FillInfo(FailureProto& f) const override;
  std::string ns, workflow_id, run_id, workflow_type;
  int64_t initiated_event_id = 0, started_event_id = 0;
  temporal::api::enums::v1::RetryState retry_state = temporal::api::enums::v1::RETRY_STATE_UNSPECIFIED;
};

#undef TEMPORALITE_FAILURE_BOILERPLATE

// Converts any exception to a Failure proto: TemporalFailure by its kind, std::exception as an
// ApplicationFailure typed by its C++ type name, anything else as "unknown exception".
FailureProto ToFailureProto(const std::exception_ptr& e);
FailureProto ToFailureProto(const TemporalFailure& f);
// Rebuilds the exception (with causes) from a Failure proto. Never null.
std::shared_ptr<TemporalFailure> FromFailureProto(const FailureProto& f);
// The demangled type name of the exception (for ApplicationFailure.type).
std::string ExceptionTypeName(const std::exception& e);

}  // namespace temporalite::sdk
