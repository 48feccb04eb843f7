// Client for any Temporal frontend (this project's server or a Temporal cluster), using only
// Temporal's public gRPC API.
//
// Errors are exceptions (as in every Temporal SDK, so workflow and activity code reads the same):
// RpcError carries the gRPC status code; WorkflowFailedError carries the run's failure as a
// TemporalFailure cause. A Client is thread-safe; share one std::shared_ptr<Client>.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "temporal/api/schedule/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"
#include "temporalite/sdk/codec.h"
#include "temporalite/sdk/failure.h"
#include "temporalite/sdk/payload.h"

namespace temporalite::sdk {

namespace wsv1 = temporal::api::workflowservice::v1;
using HistoryEvent = temporal::api::history::v1::HistoryEvent;

class RpcError : public std::runtime_error {
 public:
  RpcError(grpc::StatusCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  grpc::StatusCode code() const { return code_; }
 private:
  grpc::StatusCode code_;
};

// StartWorkflowExecution found a running workflow with that id.
class WorkflowAlreadyStartedError : public RpcError {
 public:
  using RpcError::RpcError;
};

// The workflow run (chain) closed unsuccessfully. cause() is ApplicationFailure (failed),
// CanceledFailure, TerminatedFailure or TimeoutFailure.
class WorkflowFailedError : public std::runtime_error {
 public:
  WorkflowFailedError(const std::string& message, std::shared_ptr<TemporalFailure> cause)
      : std::runtime_error(message), cause_(std::move(cause)) {}
  const std::shared_ptr<TemporalFailure>& cause() const { return cause_; }
 private:
  std::shared_ptr<TemporalFailure> cause_;
};

// A query was rejected or its handler failed.
class QueryFailedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An update was rejected by its validator or its handler failed; cause() is the failure.
class WorkflowUpdateFailedError : public std::runtime_error {
 public:
  WorkflowUpdateFailedError(const std::string& message, std::shared_ptr<TemporalFailure> cause)
      : std::runtime_error(message), cause_(std::move(cause)) {}
  const std::shared_ptr<TemporalFailure>& cause() const { return cause_; }
 private:
  std::shared_ptr<TemporalFailure> cause_;
};

struct ClientOptions {
  std::string address = "127.0.0.1:7233";
  std::string ns = "default";
  std::string identity;  // default "<pid>@<host>"
  // TLS: on when `tls` is set or any PEM, the server name, tls_disable_host_verification or the
  // API key is given, unless `tls_disabled` (an API key over a plain-text port).
  bool tls = false;
  bool tls_disabled = false;
  // Skip the verification of the server's certificate, as Temporal's CLI and Go SDK do for
  // `disable_host_verification` (Go's InsecureSkipVerify): neither its chain nor its name is
  // checked, so any server certificate is accepted (the connection is still encrypted). Turns
  // TLS on. For test setups; prefer tls_server_name.
  bool tls_disable_host_verification = false;
  std::string tls_ca_pem;  // empty: the system's roots
  std::string tls_cert_pem, tls_key_pem;  // mutual TLS: both or neither
  std::string tls_server_name;  // the name the server's certificate must have (default: the host)
  std::string api_key;  // sent as "authorization: Bearer <key>"
  std::map<std::string, std::string> grpc_metadata;  // extra headers on every call
  // The :authority of every call (gRPC's GRPC_ARG_DEFAULT_AUTHORITY; default: the address), as
  // Go's ConnectionOptions.Authority. With TLS it is also the name the server's certificate is
  // checked against and sent as SNI, unless tls_server_name is set (as in Go).
  std::string authority;
  // A remote codec server (the config file's [profile.NAME.codec], TEMPORAL_CODEC_ENDPOINT /
  // TEMPORAL_CODEC_AUTH), loaded as envconfig loads it and, like the official SDKs' clients by
  // default, not used by this client: payloads go through `codecs` only. (Go applies it only when
  // asked, IncludeRemoteCodec, and warns against it for workers; TypeScript and Python drop it.)
  std::string codec_endpoint, codec_auth;
  std::chrono::milliseconds rpc_timeout{30000};  // per attempt of a unary call
  // UNAVAILABLE / RESOURCE_EXHAUSTED are retried with backoff; a failed TLS handshake (the
  // server's certificate refused, or the server refusing ours) is not: RpcError UNAVAILABLE
  // at once, its message starting "TLS handshake with <address> failed".
  int max_attempts = 10;
  // Payload codecs (encryption, compression) applied to every payload this client and its
  // workers send and receive; see temporalite/sdk/codec.h.
  PayloadCodecs codecs;

  // Temporal's environment configuration, as the official SDKs' envconfig (Go's
  // contrib/envconfig, sdk-core's envconfig) and the `temporal` CLI load it: the profile
  // TEMPORAL_PROFILE (default "default") of the TOML file TEMPORAL_CONFIG_FILE (default
  // $XDG_CONFIG_HOME or ~/.config, then temporalio/temporal.toml; a missing file is no
  // error), then the environment over it. File keys: [profile.NAME] address, namespace,
  // api_key; [profile.NAME.tls] (its presence turns TLS on) disabled, client_cert_path /
  // client_cert_data, client_key_path / client_key_data, server_ca_cert_path /
  // server_ca_cert_data, server_name, disable_host_verification; [profile.NAME.grpc_meta]
  // (keys lower-cased, '_' as '-'); authority; [profile.NAME.codec] endpoint, auth (kept in
  // codec_endpoint / codec_auth, not applied); other keys are ignored. Environment: TEMPORAL_ADDRESS,
  // TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS (true/false, 1/0; false keeps plain
  // text even with an API key), TEMPORAL_TLS_CLIENT_CERT_PATH / _DATA,
  // TEMPORAL_TLS_CLIENT_KEY_PATH / _DATA, TEMPORAL_TLS_SERVER_CA_CERT_PATH / _DATA,
  // TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS_DISABLE_HOST_VERIFICATION,
  // TEMPORAL_GRPC_META_<NAME> (header <name>, '_' as '-'; empty removes the file's), and the
  // TEMPORAL_CLIENT_AUTHORITY, TEMPORAL_CODEC_ENDPOINT, TEMPORAL_CODEC_AUTH, and the
  // CLI's older TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA (and their _DATA), which
  // win; an empty variable counts as unset, and a _PATH or _DATA variable replaces the file's
  // path or data. Throws std::invalid_argument naming the variable or the file (and its line
  // for bad TOML): a file that cannot be read, a path and data pair both set, a bad boolean, a
  // key of the wrong type, a profile that was asked for and is not in the file.
  static ClientOptions FromEnvironment();
  // The same with the profile and file given (empty: as above).
  static ClientOptions FromProfile(const std::string& profile, const std::string& config_file = "");
};

struct RetryPolicy {
  std::chrono::milliseconds initial_interval{0};  // 0 = server default (1 s)
  double backoff_coefficient = 0;                 // 0 = server default (2.0)
  std::chrono::milliseconds maximum_interval{0};  // 0 = server default (100 x initial)
  int maximum_attempts = 0;                       // 0 = unlimited
  std::vector<std::string> non_retryable_error_types;
  temporal::api::common::v1::RetryPolicy ToProto() const;
};

struct StartWorkflowOptions {
  std::string id;          // REQUIRED
  std::string task_queue;  // REQUIRED
  std::chrono::milliseconds execution_timeout{0}, run_timeout{0}, task_timeout{0};
  std::optional<RetryPolicy> retry_policy;
  std::string cron_schedule;
  std::chrono::milliseconds start_delay{0};
  temporal::api::enums::v1::WorkflowIdReusePolicy id_reuse_policy =
      temporal::api::enums::v1::WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED;
  temporal::api::enums::v1::WorkflowIdConflictPolicy id_conflict_policy =
      temporal::api::enums::v1::WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED;
  std::map<std::string, nlohmann::json> memo;
  std::string request_id;  // default: random
  // Eager start: when a Worker of this client polls `task_queue` and has a free workflow-task
  // slot, the server hands the first workflow task back in the start response and that worker
  // runs it (no matching round trip). Ignored otherwise (the task goes through the queue).
  bool eager_start = false;
};

// A worker in this process that runs first workflow tasks handed back by eager starts
// (implemented by Worker; registered with the Client for its task queue while it runs).
class EagerWorkflowExecutor {
 public:
  virtual ~EagerWorkflowExecutor() = default;
  // Reserves a workflow-task slot for one eager start; false when none is free.
  virtual bool TryReserveEagerSlot() = 0;
  // Gives the reserved slot back (the server did not return a task).
  virtual void ReleaseEagerSlot() = 0;
  // Runs the returned task in the reserved slot (asynchronously; the slot is freed after).
  virtual void RunEagerTask(wsv1::PollWorkflowTaskQueueResponse task) = 0;
};

class Client;

enum class UpdateWaitStage { kAccepted, kCompleted };

// A workflow (chain of runs) by id; run_id pins a run for describe/cancel/terminate/query.
class WorkflowHandle {
 public:
  WorkflowHandle(std::shared_ptr<Client> client, std::string workflow_id, std::string run_id,
                 std::string first_execution_run_id = "")
      : client_(std::move(client)), id_(std::move(workflow_id)), run_id_(std::move(run_id)),
        first_execution_run_id_(std::move(first_execution_run_id)) {}
  const std::string& id() const { return id_; }
  const std::string& run_id() const { return run_id_; }

  // Waits for the chain's final result, following continue-as-new, retries and cron.
  // Throws WorkflowFailedError if the last run did not complete.
  Payloads ResultPayloads(std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;
  template <class R>
  R Result(std::optional<std::chrono::milliseconds> timeout = std::nullopt) const {
    if constexpr (std::is_void_v<R>) {
      ResultPayloads(timeout);
    } else {
      return FirstPayload<R>(ResultPayloads(timeout));
    }
  }

  void SignalPayloads(const std::string& name, const Payloads& args) const;
  template <class... A>
  void Signal(const std::string& name, const A&... args) const { SignalPayloads(name, ToPayloads(args...)); }

  Payloads QueryPayloads(const std::string& name, const Payloads& args) const;
  template <class R, class... A>
  R Query(const std::string& name, const A&... args) const {
    return FirstPayload<R>(QueryPayloads(name, ToPayloads(args...)));
  }

  // Sends an update and waits for `stage`. With kAccepted the result is empty; call
  // UpdateResultPayloads(update_id) for it later. Throws WorkflowUpdateFailedError.
  Payloads UpdatePayloads(const std::string& name, const Payloads& args,
                          UpdateWaitStage stage = UpdateWaitStage::kCompleted, std::string update_id = "") const;
  Payloads UpdateResultPayloads(const std::string& update_id) const;
  template <class R, class... A>
  R ExecuteUpdate(const std::string& name, const A&... args) const {
    Payloads p = UpdatePayloads(name, ToPayloads(args...));
    if constexpr (!std::is_void_v<R>) return FirstPayload<R>(p);
  }

  void Cancel(const std::string& reason = "") const;
  void Terminate(const std::string& reason = "", const Payloads& details = {}) const;
  wsv1::DescribeWorkflowExecutionResponse Describe() const;
  // All events of the run (the latest run when run_id is empty).
  std::vector<HistoryEvent> FetchHistory() const;

 private:
  std::shared_ptr<Client> client_;
  std::string id_, run_id_, first_execution_run_id_;
};

// An update sent with Client::StartUpdateWithStartPayloads: accepted by the workflow, perhaps
// not finished (the TypeScript SDK's WorkflowUpdateHandle). ResultPayloads polls
// PollWorkflowExecutionUpdate for its outcome unless the start response carried it already.
class WorkflowUpdateHandle {
 public:
  WorkflowUpdateHandle(WorkflowHandle workflow, std::string update_id,
                       std::optional<temporal::api::update::v1::Outcome> outcome = std::nullopt)
      : workflow_(std::move(workflow)), update_id_(std::move(update_id)), outcome_(std::move(outcome)) {}
  const WorkflowHandle& workflow() const { return workflow_; }
  const std::string& update_id() const { return update_id_; }
  // Waits for the update's result; throws WorkflowUpdateFailedError if it failed (or was
  // rejected by its validator).
  Payloads ResultPayloads() const;
  template <class R>
  R Result() const {
    Payloads p = ResultPayloads();
    if constexpr (!std::is_void_v<R>) return FirstPayload<R>(p);
  }

 private:
  WorkflowHandle workflow_;
  std::string update_id_;
  std::optional<temporal::api::update::v1::Outcome> outcome_;
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  // Creates the channel and checks the namespace (DescribeNamespace). Throws RpcError.
  static std::shared_ptr<Client> Connect(ClientOptions options);

  const ClientOptions& options() const { return options_; }
  const std::string& ns() const { return options_.ns; }
  const std::string& identity() const { return options_.identity; }
  wsv1::WorkflowService::Stub& stub() { return *stub_; }

  WorkflowHandle StartPayloads(const std::string& workflow_type, const StartWorkflowOptions& opts,
                               const Payloads& args);
  template <class... A>
  WorkflowHandle Start(const std::string& workflow_type, const StartWorkflowOptions& opts, const A&... args) {
    return StartPayloads(workflow_type, opts, ToPayloads(args...));
  }
  template <class R, class... A>
  R Execute(const std::string& workflow_type, const StartWorkflowOptions& opts, const A&... args) {
    return Start(workflow_type, opts, args...).template Result<R>();
  }
  WorkflowHandle SignalWithStartPayloads(const std::string& workflow_type, const StartWorkflowOptions& opts,
                                         const Payloads& args, const std::string& signal_name,
                                         const Payloads& signal_args);
  WorkflowHandle GetHandle(const std::string& workflow_id, const std::string& run_id = "") {
    return WorkflowHandle(shared_from_this(), workflow_id, run_id);
  }
  // Visibility: every matching execution (pages followed), and the count.
  // Update-with-start: starts the workflow (or, by opts.id_conflict_policy, default
  // USE_EXISTING, uses the running one) and sends it an update in one request. Waits for the
  // update's result (`*update_result`); throws WorkflowUpdateFailedError if it failed.
  WorkflowHandle UpdateWithStartPayloads(const std::string& workflow_type, const StartWorkflowOptions& opts,
                                         const Payloads& args, const std::string& update_name,
                                         const Payloads& update_args, Payloads* update_result,
                                         std::string update_id = "");
  // Update-with-start that waits for the ACCEPTED stage only, as the TypeScript SDK's
  // startUpdateWithStart: returns once the update is accepted or already finished (the
  // workflow started or, by opts.id_conflict_policy, reused); the handle's ResultPayloads waits
  // for the outcome and throws WorkflowUpdateFailedError for a failed or rejected update.
  WorkflowUpdateHandle StartUpdateWithStartPayloads(const std::string& workflow_type, const StartWorkflowOptions& opts,
                                                    const Payloads& args, const std::string& update_name,
                                                    const Payloads& update_args, std::string update_id = "");

  // Schedules (temporal.api.schedule.v1 protos). MakeStartWorkflowAction builds the usual action.
  temporal::api::schedule::v1::ScheduleAction MakeStartWorkflowAction(const std::string& workflow_type,
                                                                      const StartWorkflowOptions& opts,
                                                                      const Payloads& args = {}) const;
  void CreateSchedule(const std::string& schedule_id, const temporal::api::schedule::v1::Schedule& schedule,
                      bool trigger_immediately = false);
  wsv1::DescribeScheduleResponse DescribeSchedule(const std::string& schedule_id);
  // Replaces the schedule's definition.
  void UpdateSchedule(const std::string& schedule_id, const temporal::api::schedule::v1::Schedule& schedule);
  void PauseSchedule(const std::string& schedule_id, const std::string& note = "");
  void UnpauseSchedule(const std::string& schedule_id, const std::string& note = "");
  // Runs the action now.
  void TriggerSchedule(const std::string& schedule_id,
                       temporal::api::enums::v1::ScheduleOverlapPolicy overlap =
                           temporal::api::enums::v1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
  // Runs the actions the schedule would have taken between `start` and `end`.
  void BackfillSchedule(const std::string& schedule_id, std::chrono::system_clock::time_point start,
                        std::chrono::system_clock::time_point end,
                        temporal::api::enums::v1::ScheduleOverlapPolicy overlap =
                            temporal::api::enums::v1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
  void DeleteSchedule(const std::string& schedule_id);
  std::vector<temporal::api::schedule::v1::ScheduleListEntry> ListSchedules();

  std::vector<temporal::api::workflow::v1::WorkflowExecutionInfo> List(const std::string& query = "");
  int64_t Count(const std::string& query = "");

  // Completes / fails an activity that called ActivityContext::CompleteAsync (its
  // info().task_token). A token of an activity that is gone (completed, timed out, its workflow
  // closed) throws RpcError NOT_FOUND.
  void CompleteActivity(const std::string& task_token, const Payloads& result);
  void FailActivity(const std::string& task_token, const std::exception_ptr& error);
  // Records a heartbeat (with details) for it; true when its cancellation was requested
  // (then ReportActivityCancellation, as the TS SDK's AsyncCompletionClient).
  bool HeartbeatActivity(const std::string& task_token, const Payloads& details = {});
  // Reports that it was cancelled (after a cancellation request).
  void ReportActivityCancellation(const std::string& task_token, const Payloads& details = {});

  // One unary call with the client's metadata, per-attempt deadline and retries on
  // UNAVAILABLE / RESOURCE_EXHAUSTED. Throws RpcError (WorkflowAlreadyStartedError for
  // ALREADY_EXISTS).
  template <class Req, class Resp>
  Resp Call(grpc::Status (wsv1::WorkflowService::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
            const Req& req, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    Resp resp;
    const Req* send = &req;
    Req encoded;
    if (!options_.codecs.empty()) {
      encoded = req;
      EncodePayloadsIn(options_.codecs, &encoded);
      send = &encoded;
    }
    RunWithRetries([&](grpc::ClientContext& ctx) { return (stub_.get()->*method)(&ctx, *send, &resp); },
                   timeout ? *timeout : options_.rpc_timeout);
    DecodePayloadsIn(options_.codecs, &resp);
    return resp;
  }
  // Decodes the payloads of a response received through CallOnce (the options' codecs).
  void DecodeResponse(google::protobuf::Message* resp) const { DecodePayloadsIn(options_.codecs, resp); }
  // The same, with one attempt and a cancellable context (long polls). Returns the status.
  grpc::Status CallOnce(const std::function<grpc::Status(grpc::ClientContext&)>& fn,
                        std::chrono::milliseconds timeout, const std::function<void(grpc::ClientContext*)>& on_ctx);

  explicit Client(ClientOptions options);

  // Registers (or, with nullptr, removes) the eager-start executor of `task_queue`.
  void SetEagerExecutor(const std::string& task_queue, EagerWorkflowExecutor* executor);

 private:
  void PrepareContext(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) const;
  // ExecuteMultiOperation (start + update waiting for `stage`): the run id and the update's response.
  std::pair<std::string, wsv1::UpdateWorkflowExecutionResponse> ExecuteUpdateWithStart(
      const std::string& workflow_type, const StartWorkflowOptions& opts, const Payloads& args,
      const std::string& update_name, const Payloads& update_args, const std::string& update_id,
      temporal::api::enums::v1::UpdateWorkflowExecutionLifecycleStage stage);
  void RunWithRetries(const std::function<grpc::Status(grpc::ClientContext&)>& fn, std::chrono::milliseconds timeout);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<wsv1::WorkflowService::Stub> stub_;
  std::mutex eager_mu_;
  std::map<std::string, EagerWorkflowExecutor*> eager_;  // by task queue
};

// Throws the RpcError for a failed status.
[[noreturn]] void ThrowRpcError(const grpc::Status& st);
std::string NewUuid();
google::protobuf::Duration ToProtoDuration(std::chrono::milliseconds ms);
std::chrono::milliseconds FromProtoDuration(const google::protobuf::Duration& d);

}  // namespace temporalite::sdk
