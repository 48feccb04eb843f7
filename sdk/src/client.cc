#include "temporalite/sdk/client.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "uuid_format.h"

namespace temporalite::sdk {
namespace {

using namespace std::chrono_literals;
namespace enums = temporal::api::enums::v1;
namespace ssv1 = temporal::api::schedule::v1;

// gRPC reports a bad client certificate or key only as "empty address list" on the first call:
// check the pair here and say what is wrong.
void CheckClientKeyPair(const std::string& cert_pem, const std::string& key_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), X509_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  ERR_clear_error();
  if (!cert) throw std::invalid_argument("TLS client certificate: not a PEM certificate");
  if (!key) throw std::invalid_argument("TLS client key: not a PEM private key (or encrypted)");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("TLS client key does not match the client certificate");
  }
}

bool Retryable(grpc::StatusCode c) {
  return c == grpc::StatusCode::UNAVAILABLE || c == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// gRPC reports a failed TLS handshake as UNAVAILABLE, like a server that is down; its message
// says which ("Ssl handshake failed: SSL_ERROR_SSL: ...", "Handshake failed"). Retrying cannot
// fix a certificate, so the client fails at once (as sdk-core's connect does) and says so.
bool TlsHandshakeFailed(const grpc::Status& st) {
  if (st.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  std::string m = st.error_message();
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Contains(m, "handshake failed") || Contains(m, "ssl_error_ssl") || Contains(m, "certificate verify failed") ||
         Contains(m, "not in peer certificate");
}

[[noreturn]] void ThrowTlsError(const grpc::Status& st, const ClientOptions& o) {
  const std::string& m = st.error_message();
  std::string hint;
  if (Contains(m, "CERTIFICATE_VERIFY_FAILED") || Contains(m, "certificate verify failed") ||
      Contains(m, "not in peer certificate")) {
    hint = "the server's certificate is not trusted or not for this name (check tls_ca_pem / "
           "TEMPORAL_TLS_SERVER_CA_CERT_*, tls_server_name / TEMPORAL_TLS_SERVER_NAME)";
  } else if (Contains(m, "ALERT") || Contains(m, "alert")) {
    hint = "the server refused the handshake (mutual TLS: check the client certificate and key)";
  } else {
    hint = "check the TLS settings and that the server speaks TLS";
  }
  throw RpcError(st.error_code(), "TLS handshake with " + o.address + " failed: " + hint + "; gRPC: " + m);
}

// TLS that accepts any server certificate (Go's InsecureSkipVerify, what Temporal's CLI and Go
// SDK do for disable_host_verification): the chain is not verified (verify_server_certs off) and
// neither is the name (a no-op verifier instead of gRPC's host-name one, no call-host check).
// The client certificate, if any, is still presented.
std::shared_ptr<grpc::ChannelCredentials> UnverifiedTlsCredentials(const ClientOptions& o) {
  grpc::experimental::TlsChannelCredentialsOptions opts;
  std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
  if (!o.tls_cert_pem.empty()) pairs.push_back({o.tls_key_pem, o.tls_cert_pem});
  if (!o.tls_ca_pem.empty() || !pairs.empty()) {
    opts.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(o.tls_ca_pem, pairs));
    if (!o.tls_ca_pem.empty()) opts.watch_root_certs();
    if (!pairs.empty()) opts.watch_identity_key_cert_pairs();
  }
  opts.set_verify_server_certs(false);
  opts.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  opts.set_check_call_host(false);
  return grpc::experimental::TlsCredentials(opts);
}

}  // namespace

std::string NewUuid() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  uint64_t a = rng(), b = rng();
  return internal::FormatUuidV4(a, b);
}

google::protobuf::Duration ToProtoDuration(std::chrono::milliseconds ms) {
  google::protobuf::Duration d;
  d.set_seconds(ms.count() / 1000);
  d.set_nanos(static_cast<int32_t>((ms.count() % 1000) * 1000000));
  return d;
}

std::chrono::milliseconds FromProtoDuration(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

void ThrowRpcError(const grpc::Status& st) {
  std::string msg = st.error_message();
  if (st.error_code() == grpc::StatusCode::ALREADY_EXISTS) throw WorkflowAlreadyStartedError(st.error_code(), msg);
  throw RpcError(st.error_code(), msg);
}

temporal::api::common::v1::RetryPolicy RetryPolicy::ToProto() const {
  temporal::api::common::v1::RetryPolicy p;
  if (initial_interval.count() > 0) *p.mutable_initial_interval() = ToProtoDuration(initial_interval);
  if (backoff_coefficient > 0) p.set_backoff_coefficient(backoff_coefficient);
  if (maximum_interval.count() > 0) *p.mutable_maximum_interval() = ToProtoDuration(maximum_interval);
  p.set_maximum_attempts(maximum_attempts);
  for (const auto& t : non_retryable_error_types) p.add_non_retryable_error_types(t);
  return p;
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
  if (options_.identity.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    options_.identity = std::to_string(getpid()) + "@" + host;
  }
  if (options_.tls_cert_pem.empty() != options_.tls_key_pem.empty()) {
    throw std::invalid_argument("mutual TLS needs both a client certificate and its key (got only the " +
                                std::string(options_.tls_cert_pem.empty() ? "key" : "certificate") + ")");
  }
  if (!options_.tls_cert_pem.empty()) CheckClientKeyPair(options_.tls_cert_pem, options_.tls_key_pem);
  bool tls = !options_.tls_disabled &&
             (options_.tls || !options_.tls_ca_pem.empty() || !options_.tls_cert_pem.empty() ||
              !options_.tls_server_name.empty() || !options_.api_key.empty() ||
              options_.tls_disable_host_verification);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(128 * 1024 * 1024);
  args.SetMaxSendMessageSize(128 * 1024 * 1024);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  // The authority is also gRPC's TLS target name (SNI, the certificate's name) unless overridden.
  if (!options_.authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, options_.authority);
  if (!options_.tls_server_name.empty()) args.SetSslTargetNameOverride(options_.tls_server_name);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (tls && options_.tls_disable_host_verification) {
    creds = UnverifiedTlsCredentials(options_);
  } else if (tls) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = options_.tls_ca_pem;
    o.pem_cert_chain = options_.tls_cert_pem;
    o.pem_private_key = options_.tls_key_pem;
    creds = grpc::SslCredentials(o);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  channel_ = grpc::CreateCustomChannel(options_.address, creds, args);
  stub_ = wsv1::WorkflowService::NewStub(channel_);
}

std::shared_ptr<Client> Client::Connect(ClientOptions options) {
  auto c = std::make_shared<Client>(std::move(options));
  wsv1::DescribeNamespaceRequest req;
  req.set_namespace_(c->ns());
  c->Call(&wsv1::WorkflowService::Stub::DescribeNamespace, req);
  return c;
}

void Client::PrepareContext(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) const {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  ctx.AddMetadata("temporal-namespace", options_.ns);
  ctx.AddMetadata("client-name", "temporalite-cpp");
  ctx.AddMetadata("client-version", "0.1.0");
  for (const auto& [k, v] : options_.grpc_metadata) ctx.AddMetadata(k, v);
  if (!options_.api_key.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.api_key);
}

void Client::RunWithRetries(const std::function<grpc::Status(grpc::ClientContext&)>& fn,
                            std::chrono::milliseconds timeout) {
  std::chrono::milliseconds backoff = 100ms;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    PrepareContext(ctx, timeout);
    grpc::Status st = fn(ctx);
    if (st.ok()) return;
    if (TlsHandshakeFailed(st)) ThrowTlsError(st, options_);
    if (!Retryable(st.error_code()) || attempt >= options_.max_attempts) ThrowRpcError(st);
    auto wait = st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? std::max(backoff, 1000ms) : backoff;
    std::this_thread::sleep_for(wait);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 10s);
  }
}

grpc::Status Client::CallOnce(const std::function<grpc::Status(grpc::ClientContext&)>& fn,
                              std::chrono::milliseconds timeout,
                              const std::function<void(grpc::ClientContext*)>& on_ctx) {
  grpc::ClientContext ctx;
  PrepareContext(ctx, timeout);
  if (on_ctx) on_ctx(&ctx);
  grpc::Status st = fn(ctx);
  if (on_ctx) on_ctx(nullptr);
  return st;
}

namespace {

wsv1::StartWorkflowExecutionRequest StartRequest(const std::string& ns, const std::string& identity,
                                                 const std::string& workflow_type, const StartWorkflowOptions& o,
                                                 const Payloads& args) {
  wsv1::StartWorkflowExecutionRequest req;
  req.set_namespace_(ns);
  req.set_workflow_id(o.id);
  req.mutable_workflow_type()->set_name(workflow_type);
  req.mutable_task_queue()->set_name(o.task_queue);
  req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
  if (args.payloads_size() > 0) *req.mutable_input() = args;
  if (o.execution_timeout.count() > 0) *req.mutable_workflow_execution_timeout() = ToProtoDuration(o.execution_timeout);
  if (o.run_timeout.count() > 0) *req.mutable_workflow_run_timeout() = ToProtoDuration(o.run_timeout);
  if (o.task_timeout.count() > 0) *req.mutable_workflow_task_timeout() = ToProtoDuration(o.task_timeout);
  if (o.start_delay.count() > 0) *req.mutable_workflow_start_delay() = ToProtoDuration(o.start_delay);
  if (o.retry_policy) *req.mutable_retry_policy() = o.retry_policy->ToProto();
  req.set_cron_schedule(o.cron_schedule);
  req.set_workflow_id_reuse_policy(o.id_reuse_policy);
  req.set_workflow_id_conflict_policy(o.id_conflict_policy);
  for (const auto& [k, v] : o.memo) (*req.mutable_memo()->mutable_fields())[k] = JsonPayload(v);
  req.set_identity(identity);
  req.set_request_id(o.request_id.empty() ? NewUuid() : o.request_id);
  return req;
}

}  // namespace

WorkflowHandle Client::StartPayloads(const std::string& workflow_type, const StartWorkflowOptions& o,
                                     const Payloads& args) {
  auto req = StartRequest(ns(), identity(), workflow_type, o, args);
  EagerWorkflowExecutor* eager = nullptr;
  if (o.eager_start) {
    std::lock_guard<std::mutex> l(eager_mu_);
    auto it = eager_.find(o.task_queue);
    if (it != eager_.end() && it->second->TryReserveEagerSlot()) eager = it->second;
  }
  req.set_request_eager_execution(eager != nullptr);
  wsv1::StartWorkflowExecutionResponse resp;
  try {
    resp = Call(&wsv1::WorkflowService::Stub::StartWorkflowExecution, req);
  } catch (...) {
    if (eager) eager->ReleaseEagerSlot();
    throw;
  }
  if (eager) {
    if (resp.has_eager_workflow_task() && !resp.eager_workflow_task().task_token().empty()) {
      eager->RunEagerTask(std::move(*resp.mutable_eager_workflow_task()));
    } else {
      eager->ReleaseEagerSlot();
    }
  }
  return WorkflowHandle(shared_from_this(), o.id, resp.run_id(), resp.run_id());
}

void Client::SetEagerExecutor(const std::string& task_queue, EagerWorkflowExecutor* executor) {
  std::lock_guard<std::mutex> l(eager_mu_);
  if (executor) eager_[task_queue] = executor;
  else eager_.erase(task_queue);
}

std::pair<std::string, wsv1::UpdateWorkflowExecutionResponse> Client::ExecuteUpdateWithStart(
    const std::string& workflow_type, const StartWorkflowOptions& o, const Payloads& args,
    const std::string& update_name, const Payloads& update_args, const std::string& update_id,
    enums::UpdateWorkflowExecutionLifecycleStage stage) {
  wsv1::ExecuteMultiOperationRequest req;
  req.set_namespace_(ns());
  auto* start = req.add_operations()->mutable_start_workflow();
  *start = StartRequest(ns(), identity(), workflow_type, o, args);
  if (start->workflow_id_conflict_policy() == enums::WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED) {
    start->set_workflow_id_conflict_policy(enums::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
  }
  auto* upd = req.add_operations()->mutable_update_workflow();
  upd->set_namespace_(ns());
  upd->mutable_workflow_execution()->set_workflow_id(o.id);
  upd->mutable_wait_policy()->set_lifecycle_stage(stage);
  upd->mutable_request()->mutable_meta()->set_update_id(update_id);
  upd->mutable_request()->mutable_meta()->set_identity(identity());
  upd->mutable_request()->mutable_input()->set_name(update_name);
  if (update_args.payloads_size() > 0) *upd->mutable_request()->mutable_input()->mutable_args() = update_args;
  // As the TypeScript SDK: the request is sent again (same request and update ids: the server
  // answers with the update it has) until the update is durable, i.e. at least ACCEPTED.
  for (;;) {
    auto resp = Call(&wsv1::WorkflowService::Stub::ExecuteMultiOperation, req, std::chrono::milliseconds(70000));
    if (resp.responses_size() != 2) throw RpcError(grpc::StatusCode::INTERNAL, "update-with-start: unexpected response");
    auto* u = resp.mutable_responses(1)->mutable_update_workflow();
    if (!u->has_outcome() && u->stage() < enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED) continue;
    std::string run_id = u->update_ref().workflow_execution().run_id();
    if (run_id.empty()) run_id = resp.responses(0).start_workflow().run_id();
    return {run_id, std::move(*u)};
  }
}

WorkflowHandle Client::UpdateWithStartPayloads(const std::string& workflow_type, const StartWorkflowOptions& o,
                                               const Payloads& args, const std::string& update_name,
                                               const Payloads& update_args, Payloads* update_result,
                                               std::string update_id) {
  if (update_id.empty()) update_id = NewUuid();
  auto [run_id, u] = ExecuteUpdateWithStart(workflow_type, o, args, update_name, update_args, update_id,
                                            enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
  WorkflowHandle h(shared_from_this(), o.id, run_id);
  WorkflowUpdateHandle uh(h, update_id, u.has_outcome() ? std::optional(u.outcome()) : std::nullopt);
  Payloads result = uh.ResultPayloads();
  if (update_result) *update_result = std::move(result);
  return h;
}

WorkflowUpdateHandle Client::StartUpdateWithStartPayloads(const std::string& workflow_type,
                                                          const StartWorkflowOptions& o, const Payloads& args,
                                                          const std::string& update_name,
                                                          const Payloads& update_args, std::string update_id) {
  if (update_id.empty()) update_id = NewUuid();
  const auto accepted = enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
  auto [run_id, u] = ExecuteUpdateWithStart(workflow_type, o, args, update_name, update_args, update_id, accepted);
  WorkflowHandle h(shared_from_this(), o.id, run_id);
  return WorkflowUpdateHandle(h, update_id, u.has_outcome() ? std::optional(u.outcome()) : std::nullopt);
}

ssv1::ScheduleAction Client::MakeStartWorkflowAction(const std::string& workflow_type, const StartWorkflowOptions& o,
                                                     const Payloads& args) const {
  ssv1::ScheduleAction action;
  auto* w = action.mutable_start_workflow();
  w->set_workflow_id(o.id);
  w->mutable_workflow_type()->set_name(workflow_type);
  w->mutable_task_queue()->set_name(o.task_queue);
  w->mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
  if (args.payloads_size() > 0) *w->mutable_input() = args;
  if (o.execution_timeout.count() > 0) *w->mutable_workflow_execution_timeout() = ToProtoDuration(o.execution_timeout);
  if (o.run_timeout.count() > 0) *w->mutable_workflow_run_timeout() = ToProtoDuration(o.run_timeout);
  if (o.task_timeout.count() > 0) *w->mutable_workflow_task_timeout() = ToProtoDuration(o.task_timeout);
  if (o.retry_policy) *w->mutable_retry_policy() = o.retry_policy->ToProto();
  for (const auto& [k, v] : o.memo) (*w->mutable_memo()->mutable_fields())[k] = JsonPayload(v);
  return action;
}

void Client::CreateSchedule(const std::string& schedule_id, const ssv1::Schedule& schedule, bool trigger_immediately) {
  wsv1::CreateScheduleRequest req;
  req.set_namespace_(ns());
  req.set_schedule_id(schedule_id);
  *req.mutable_schedule() = schedule;
  if (trigger_immediately) req.mutable_initial_patch()->mutable_trigger_immediately();
  req.set_identity(identity());
  req.set_request_id(NewUuid());
  Call(&wsv1::WorkflowService::Stub::CreateSchedule, req);
}

wsv1::DescribeScheduleResponse Client::DescribeSchedule(const std::string& schedule_id) {
  wsv1::DescribeScheduleRequest req;
  req.set_namespace_(ns());
  req.set_schedule_id(schedule_id);
  return Call(&wsv1::WorkflowService::Stub::DescribeSchedule, req);
}

void Client::UpdateSchedule(const std::string& schedule_id, const ssv1::Schedule& schedule) {
  wsv1::UpdateScheduleRequest req;
  req.set_namespace_(ns());
  req.set_schedule_id(schedule_id);
  *req.mutable_schedule() = schedule;
  req.set_identity(identity());
  req.set_request_id(NewUuid());
  Call(&wsv1::WorkflowService::Stub::UpdateSchedule, req);
}

namespace {
wsv1::PatchScheduleRequest PatchRequest(const Client& c, const std::string& schedule_id) {
  wsv1::PatchScheduleRequest req;
  req.set_namespace_(c.ns());
  req.set_schedule_id(schedule_id);
  req.set_identity(c.identity());
  req.set_request_id(NewUuid());
  return req;
}
google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return ts;
}
}  // namespace

void Client::PauseSchedule(const std::string& schedule_id, const std::string& note) {
  auto req = PatchRequest(*this, schedule_id);
  req.mutable_patch()->set_pause(note.empty() ? "Paused via C++ SDK" : note);
  Call(&wsv1::WorkflowService::Stub::PatchSchedule, req);
}

void Client::UnpauseSchedule(const std::string& schedule_id, const std::string& note) {
  auto req = PatchRequest(*this, schedule_id);
  req.mutable_patch()->set_unpause(note.empty() ? "Unpaused via C++ SDK" : note);
  Call(&wsv1::WorkflowService::Stub::PatchSchedule, req);
}

void Client::TriggerSchedule(const std::string& schedule_id, enums::ScheduleOverlapPolicy overlap) {
  auto req = PatchRequest(*this, schedule_id);
  req.mutable_patch()->mutable_trigger_immediately()->set_overlap_policy(overlap);
  Call(&wsv1::WorkflowService::Stub::PatchSchedule, req);
}

void Client::BackfillSchedule(const std::string& schedule_id, std::chrono::system_clock::time_point start,
                              std::chrono::system_clock::time_point end, enums::ScheduleOverlapPolicy overlap) {
  auto req = PatchRequest(*this, schedule_id);
  auto* b = req.mutable_patch()->add_backfill_request();
  *b->mutable_start_time() = ToTimestamp(start);
  *b->mutable_end_time() = ToTimestamp(end);
  b->set_overlap_policy(overlap);
  Call(&wsv1::WorkflowService::Stub::PatchSchedule, req);
}

void Client::DeleteSchedule(const std::string& schedule_id) {
  wsv1::DeleteScheduleRequest req;
  req.set_namespace_(ns());
  req.set_schedule_id(schedule_id);
  req.set_identity(identity());
  Call(&wsv1::WorkflowService::Stub::DeleteSchedule, req);
}

std::vector<ssv1::ScheduleListEntry> Client::ListSchedules() {
  std::vector<ssv1::ScheduleListEntry> out;
  wsv1::ListSchedulesRequest req;
  req.set_namespace_(ns());
  req.set_maximum_page_size(1000);
  do {
    auto resp = Call(&wsv1::WorkflowService::Stub::ListSchedules, req);
    for (const auto& e : resp.schedules()) out.push_back(e);
    req.set_next_page_token(resp.next_page_token());
  } while (!req.next_page_token().empty());
  return out;
}

WorkflowHandle Client::SignalWithStartPayloads(const std::string& workflow_type, const StartWorkflowOptions& o,
                                               const Payloads& args, const std::string& signal_name,
                                               const Payloads& signal_args) {
  wsv1::SignalWithStartWorkflowExecutionRequest req;
  req.set_namespace_(ns());
  req.set_workflow_id(o.id);
  req.mutable_workflow_type()->set_name(workflow_type);
  req.mutable_task_queue()->set_name(o.task_queue);
  if (args.payloads_size() > 0) *req.mutable_input() = args;
  if (o.execution_timeout.count() > 0) *req.mutable_workflow_execution_timeout() = ToProtoDuration(o.execution_timeout);
  if (o.run_timeout.count() > 0) *req.mutable_workflow_run_timeout() = ToProtoDuration(o.run_timeout);
  if (o.task_timeout.count() > 0) *req.mutable_workflow_task_timeout() = ToProtoDuration(o.task_timeout);
  if (o.retry_policy) *req.mutable_retry_policy() = o.retry_policy->ToProto();
  req.set_cron_schedule(o.cron_schedule);
  req.set_workflow_id_reuse_policy(o.id_reuse_policy);
  req.set_workflow_id_conflict_policy(o.id_conflict_policy);
  req.set_signal_name(signal_name);
  if (signal_args.payloads_size() > 0) *req.mutable_signal_input() = signal_args;
  req.set_identity(identity());
  req.set_request_id(o.request_id.empty() ? NewUuid() : o.request_id);
  auto resp = Call(&wsv1::WorkflowService::Stub::SignalWithStartWorkflowExecution, req);
  return WorkflowHandle(shared_from_this(), o.id, resp.run_id());
}

std::vector<temporal::api::workflow::v1::WorkflowExecutionInfo> Client::List(const std::string& query) {
  std::vector<temporal::api::workflow::v1::WorkflowExecutionInfo> out;
  wsv1::ListWorkflowExecutionsRequest req;
  req.set_namespace_(ns());
  req.set_query(query);
  req.set_page_size(1000);
  do {
    auto resp = Call(&wsv1::WorkflowService::Stub::ListWorkflowExecutions, req);
    for (const auto& e : resp.executions()) out.push_back(e);
    req.set_next_page_token(resp.next_page_token());
  } while (!req.next_page_token().empty());
  return out;
}

int64_t Client::Count(const std::string& query) {
  wsv1::CountWorkflowExecutionsRequest req;
  req.set_namespace_(ns());
  req.set_query(query);
  return Call(&wsv1::WorkflowService::Stub::CountWorkflowExecutions, req).count();
}

void Client::CompleteActivity(const std::string& task_token, const Payloads& result) {
  wsv1::RespondActivityTaskCompletedRequest req;
  req.set_namespace_(ns());
  req.set_task_token(task_token);
  if (result.payloads_size() > 0) *req.mutable_result() = result;
  req.set_identity(identity());
  Call(&wsv1::WorkflowService::Stub::RespondActivityTaskCompleted, req);
}

void Client::FailActivity(const std::string& task_token, const std::exception_ptr& error) {
  wsv1::RespondActivityTaskFailedRequest req;
  req.set_namespace_(ns());
  req.set_task_token(task_token);
  *req.mutable_failure() = ToFailureProto(error);
  req.set_identity(identity());
  Call(&wsv1::WorkflowService::Stub::RespondActivityTaskFailed, req);
}

bool Client::HeartbeatActivity(const std::string& task_token, const Payloads& details) {
  wsv1::RecordActivityTaskHeartbeatRequest req;
  req.set_namespace_(ns());
  req.set_task_token(task_token);
  if (details.payloads_size() > 0) *req.mutable_details() = details;
  req.set_identity(identity());
  return Call(&wsv1::WorkflowService::Stub::RecordActivityTaskHeartbeat, req).cancel_requested();
}

void Client::ReportActivityCancellation(const std::string& task_token, const Payloads& details) {
  wsv1::RespondActivityTaskCanceledRequest req;
  req.set_namespace_(ns());
  req.set_task_token(task_token);
  if (details.payloads_size() > 0) *req.mutable_details() = details;
  req.set_identity(identity());
  Call(&wsv1::WorkflowService::Stub::RespondActivityTaskCanceled, req);
}

// ---- WorkflowHandle ----

Payloads WorkflowHandle::ResultPayloads(std::optional<std::chrono::milliseconds> timeout) const {
  // No timeout: a deadline that never passes (an optional here made GCC warn "may be used
  // uninitialized" at -O2).
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = timeout ? SteadyClock::now() + *timeout : SteadyClock::time_point::max();
  std::string run = run_id_;
  for (;;) {
    wsv1::GetWorkflowExecutionHistoryRequest req;
    req.set_namespace_(client_->ns());
    req.mutable_execution()->set_workflow_id(id_);
    req.mutable_execution()->set_run_id(run);
    req.set_wait_new_event(true);
    req.set_history_event_filter_type(enums::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);
    req.set_skip_archival(true);
    const HistoryEvent* close = nullptr;
    wsv1::GetWorkflowExecutionHistoryResponse resp;
    while (!close) {
      std::chrono::milliseconds per_call = 70s;
      if (timeout) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
        if (left.count() <= 0) {
          throw RpcError(grpc::StatusCode::DEADLINE_EXCEEDED, "timed out waiting for the result of workflow " + id_);
        }
        per_call = std::min(per_call, left);  // the wait ends at the caller's timeout, not the poll's
      }
      try {
        resp = client_->Call(&wsv1::WorkflowService::Stub::GetWorkflowExecutionHistory, req, per_call);
      } catch (const RpcError& e) {
        if (timeout && e.code() == grpc::StatusCode::DEADLINE_EXCEEDED) continue;
        throw;
      }
      if (resp.history().events_size() > 0) {
        close = &resp.history().events(resp.history().events_size() - 1);
      } else {
        req.set_next_page_token(resp.next_page_token());
      }
    }
    using E = HistoryEvent;
    switch (close->attributes_case()) {
      case E::kWorkflowExecutionCompletedEventAttributes: {
        const auto& a = close->workflow_execution_completed_event_attributes();
        if (!a.new_execution_run_id().empty()) { run = a.new_execution_run_id(); continue; }
        return a.result();
      }
      case E::kWorkflowExecutionFailedEventAttributes: {
        const auto& a = close->workflow_execution_failed_event_attributes();
        if (!a.new_execution_run_id().empty()) { run = a.new_execution_run_id(); continue; }
        throw WorkflowFailedError("Workflow execution failed", FromFailureProto(a.failure()));
      }
      case E::kWorkflowExecutionTimedOutEventAttributes: {
        const auto& a = close->workflow_execution_timed_out_event_attributes();
        if (!a.new_execution_run_id().empty()) { run = a.new_execution_run_id(); continue; }
        throw WorkflowFailedError("Workflow execution timed out",
                                  std::make_shared<TimeoutFailure>("workflow timed out", enums::TIMEOUT_TYPE_START_TO_CLOSE));
      }
      case E::kWorkflowExecutionContinuedAsNewEventAttributes:
        run = close->workflow_execution_continued_as_new_event_attributes().new_execution_run_id();
        continue;
      case E::kWorkflowExecutionCanceledEventAttributes:
        throw WorkflowFailedError("Workflow execution cancelled",
                                  std::make_shared<CanceledFailure>(
                                      "Workflow canceled", close->workflow_execution_canceled_event_attributes().details()));
      case E::kWorkflowExecutionTerminatedEventAttributes:
        throw WorkflowFailedError("Workflow execution terminated",
                                  std::make_shared<TerminatedFailure>(
                                      close->workflow_execution_terminated_event_attributes().reason()));
      default:
        throw RpcError(grpc::StatusCode::INTERNAL, "unexpected close event for workflow " + id_);
    }
  }
}

void WorkflowHandle::SignalPayloads(const std::string& name, const Payloads& args) const {
  wsv1::SignalWorkflowExecutionRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_workflow_execution()->set_workflow_id(id_);
  req.mutable_workflow_execution()->set_run_id(run_id_);
  req.set_signal_name(name);
  if (args.payloads_size() > 0) *req.mutable_input() = args;
  req.set_identity(client_->identity());
  req.set_request_id(NewUuid());
  client_->Call(&wsv1::WorkflowService::Stub::SignalWorkflowExecution, req);
}

Payloads WorkflowHandle::QueryPayloads(const std::string& name, const Payloads& args) const {
  wsv1::QueryWorkflowRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_execution()->set_workflow_id(id_);
  req.mutable_execution()->set_run_id(run_id_);
  req.mutable_query()->set_query_type(name);
  if (args.payloads_size() > 0) *req.mutable_query()->mutable_query_args() = args;
  wsv1::QueryWorkflowResponse resp;
  try {
    resp = client_->Call(&wsv1::WorkflowService::Stub::QueryWorkflow, req);
  } catch (const RpcError& e) {
    if (e.code() == grpc::StatusCode::INVALID_ARGUMENT) throw QueryFailedError(e.what());
    throw;
  }
  if (resp.has_query_rejected()) {
    throw QueryFailedError("query rejected, workflow status " +
                           enums::WorkflowExecutionStatus_Name(resp.query_rejected().status()));
  }
  return resp.query_result();
}

Payloads WorkflowHandle::UpdatePayloads(const std::string& name, const Payloads& args, UpdateWaitStage stage,
                                        std::string update_id) const {
  if (update_id.empty()) update_id = NewUuid();
  wsv1::UpdateWorkflowExecutionRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_workflow_execution()->set_workflow_id(id_);
  req.mutable_workflow_execution()->set_run_id(run_id_);
  req.set_first_execution_run_id(first_execution_run_id_);
  auto want = stage == UpdateWaitStage::kCompleted ? enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
                                                   : enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
  req.mutable_wait_policy()->set_lifecycle_stage(want);
  req.mutable_request()->mutable_meta()->set_update_id(update_id);
  req.mutable_request()->mutable_meta()->set_identity(client_->identity());
  req.mutable_request()->mutable_input()->set_name(name);
  if (args.payloads_size() > 0) *req.mutable_request()->mutable_input()->mutable_args() = args;
  for (;;) {
    auto resp = client_->Call(&wsv1::WorkflowService::Stub::UpdateWorkflowExecution, req, 70s);
    if (resp.has_outcome()) {
      if (resp.outcome().has_failure()) {
        throw WorkflowUpdateFailedError("Workflow Update failed", FromFailureProto(resp.outcome().failure()));
      }
      return resp.outcome().success();
    }
    if (resp.stage() >= want) return {};
  }
}

Payloads WorkflowHandle::UpdateResultPayloads(const std::string& update_id) const {
  wsv1::PollWorkflowExecutionUpdateRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_update_ref()->mutable_workflow_execution()->set_workflow_id(id_);
  req.mutable_update_ref()->mutable_workflow_execution()->set_run_id(run_id_);
  req.mutable_update_ref()->set_update_id(update_id);
  req.set_identity(client_->identity());
  req.mutable_wait_policy()->set_lifecycle_stage(enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
  for (;;) {
    auto resp = client_->Call(&wsv1::WorkflowService::Stub::PollWorkflowExecutionUpdate, req, 70s);
    if (resp.has_outcome()) {
      if (resp.outcome().has_failure()) {
        throw WorkflowUpdateFailedError("Workflow Update failed", FromFailureProto(resp.outcome().failure()));
      }
      return resp.outcome().success();
    }
  }
}

Payloads WorkflowUpdateHandle::ResultPayloads() const {
  if (!outcome_) return workflow_.UpdateResultPayloads(update_id_);
  if (outcome_->has_failure()) {
    throw WorkflowUpdateFailedError("Workflow Update failed", FromFailureProto(outcome_->failure()));
  }
  return outcome_->success();
}

void WorkflowHandle::Cancel(const std::string& reason) const {
  wsv1::RequestCancelWorkflowExecutionRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_workflow_execution()->set_workflow_id(id_);
  req.mutable_workflow_execution()->set_run_id(run_id_);
  req.set_first_execution_run_id(first_execution_run_id_);
  req.set_identity(client_->identity());
  req.set_request_id(NewUuid());
  req.set_reason(reason);
  client_->Call(&wsv1::WorkflowService::Stub::RequestCancelWorkflowExecution, req);
}

void WorkflowHandle::Terminate(const std::string& reason, const Payloads& details) const {
  wsv1::TerminateWorkflowExecutionRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_workflow_execution()->set_workflow_id(id_);
  req.mutable_workflow_execution()->set_run_id(run_id_);
  req.set_first_execution_run_id(first_execution_run_id_);
  req.set_reason(reason);
  if (details.payloads_size() > 0) *req.mutable_details() = details;
  req.set_identity(client_->identity());
  client_->Call(&wsv1::WorkflowService::Stub::TerminateWorkflowExecution, req);
}

wsv1::DescribeWorkflowExecutionResponse WorkflowHandle::Describe() const {
  wsv1::DescribeWorkflowExecutionRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_execution()->set_workflow_id(id_);
  req.mutable_execution()->set_run_id(run_id_);
  return client_->Call(&wsv1::WorkflowService::Stub::DescribeWorkflowExecution, req);
}

std::vector<HistoryEvent> WorkflowHandle::FetchHistory() const {
  std::vector<HistoryEvent> out;
  wsv1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_execution()->set_workflow_id(id_);
  req.mutable_execution()->set_run_id(run_id_);
  do {
    auto resp = client_->Call(&wsv1::WorkflowService::Stub::GetWorkflowExecutionHistory, req);
    for (const auto& e : resp.history().events()) out.push_back(e);
    req.set_next_page_token(resp.next_page_token());
  } while (!req.next_page_token().empty());
  return out;
}

}  // namespace temporalite::sdk
