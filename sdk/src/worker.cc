#include "temporalite/sdk/worker.h"

#include <csignal>
#include <cstdio>

#include "workflow_instance.h"

namespace temporalite::sdk {
namespace {

using namespace std::chrono_literals;
namespace enums = temporal::api::enums::v1;

std::atomic<bool> g_signalled{false};
void OnSignal(int) { g_signalled = true; }

bool IsCanceledError(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const CanceledFailure&) {
    return true;
  } catch (...) {
    return false;
  }
}

void LogWarning(const std::string& msg) { std::fprintf(stderr, "temporalite-sdk: %s\n", msg.c_str()); }

}  // namespace

Worker::Worker(std::shared_ptr<Client> client, WorkerOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  if (options_.task_queue.empty()) throw std::invalid_argument("WorkerOptions.task_queue is required");
  if (options_.identity.empty()) options_.identity = client_->identity();
  if (options_.max_concurrent_activities < 1) options_.max_concurrent_activities = 1;
  if (options_.max_concurrent_workflow_tasks < 1) options_.max_concurrent_workflow_tasks = 1;
  if (options_.activity_pollers < 1) options_.activity_pollers = 1;
}

Worker::~Worker() { Shutdown(); }

void Worker::Start() {
  std::lock_guard<std::mutex> l(shutdown_mu_);
  if (started_ || shut_down_) return;
  started_ = true;
  free_slots_ = options_.max_concurrent_activities;
  if (!workflows_.empty()) {
    for (int i = 0; i < options_.max_concurrent_workflow_tasks; ++i) threads_.emplace_back([this] { WorkflowPollLoop(); });
  }
  if (!activities_.empty()) {
    for (int i = 0; i < options_.max_concurrent_activities; ++i) act_threads_.emplace_back([this] { ActivityThreadLoop(); });
    for (int i = 0; i < options_.activity_pollers; ++i) threads_.emplace_back([this] { ActivityPollLoop(); });
  }
}

void Worker::Shutdown() {
  std::lock_guard<std::mutex> l(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  stopping_ = true;
  {
    std::lock_guard<std::mutex> pl(poll_mu_);
    for (auto* ctx : polls_) ctx->TryCancel();
  }
  act_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  {
    std::unique_lock<std::mutex> al(act_mu_);
    bool idle = act_cv_.wait_for(al, options_.graceful_shutdown_timeout,
                                 [this] { return act_queue_.empty() && running_.empty(); });
    if (!idle) {
      for (auto* ctx : running_) ctx->Cancel();
    }
    pool_stop_ = true;
  }
  act_cv_.notify_all();
  for (auto& t : act_threads_) t.join();
  act_threads_.clear();
}

void Worker::RunUntilSignal() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  Start();
  while (!g_signalled && !stopping_) std::this_thread::sleep_for(50ms);
  Shutdown();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
}

void Worker::WorkflowPollLoop() {
  auto backoff = 100ms;
  while (!stopping_) {
    wsv1::PollWorkflowTaskQueueRequest req;
    req.set_namespace_(client_->ns());
    req.mutable_task_queue()->set_name(options_.task_queue);
    req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
    req.set_identity(options_.identity);
    wsv1::PollWorkflowTaskQueueResponse resp;
    grpc::ClientContext* mine = nullptr;
    grpc::Status st = client_->CallOnce(
        [&](grpc::ClientContext& ctx) { return client_->stub().PollWorkflowTaskQueue(&ctx, req, &resp); }, 70s,
        [&](grpc::ClientContext* ctx) {
          std::lock_guard<std::mutex> l(poll_mu_);
          if (ctx) {
            mine = ctx;
            polls_.insert(ctx);
            if (stopping_) ctx->TryCancel();
          } else {
            polls_.erase(mine);
          }
        });
    if (stopping_) break;
    if (!st.ok()) {
      if (st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        LogWarning("workflow poll failed: " + st.error_message());
        std::this_thread::sleep_for(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
      }
      continue;
    }
    backoff = 100ms;
    if (resp.task_token().empty()) continue;
    try {
      HandleWorkflowTask(resp);
    } catch (const std::exception& e) {
      LogWarning(std::string("workflow task: ") + e.what());
    }
  }
}

void Worker::HandleWorkflowTask(wsv1::PollWorkflowTaskQueueResponse& task) {
  std::vector<HistoryEvent> events(task.history().events().begin(), task.history().events().end());
  if (!task.next_page_token().empty()) {
    wsv1::GetWorkflowExecutionHistoryRequest hreq;
    hreq.set_namespace_(client_->ns());
    *hreq.mutable_execution() = task.workflow_execution();
    hreq.set_next_page_token(task.next_page_token());
    while (!hreq.next_page_token().empty()) {
      auto page = client_->Call(&wsv1::WorkflowService::Stub::GetWorkflowExecutionHistory, hreq);
      for (const auto& e : page.history().events()) events.push_back(e);
      hreq.set_next_page_token(page.next_page_token());
    }
  }
  auto fit = workflows_.find(task.workflow_type().name());
  internal::WorkflowInstance inst(fit == workflows_.end() ? nullptr : &fit->second, client_->ns(), options_.identity);
  inst.SetExecution(task.workflow_execution().workflow_id(), task.workflow_execution().run_id());

  if (task.has_query()) {
    wsv1::RespondQueryTaskCompletedRequest qr;
    qr.set_namespace_(client_->ns());
    qr.set_task_token(task.task_token());
    try {
      *qr.mutable_query_result() = inst.ReplayAndQuery(events, task.query().query_type(), task.query().query_args());
      qr.set_completed_type(enums::QUERY_RESULT_TYPE_ANSWERED);
    } catch (...) {
      qr.set_completed_type(enums::QUERY_RESULT_TYPE_FAILED);
      *qr.mutable_failure() = ToFailureProto(std::current_exception());
      qr.set_error_message(qr.failure().message());
    }
    try {
      client_->Call(&wsv1::WorkflowService::Stub::RespondQueryTaskCompleted, qr);
    } catch (const RpcError& e) {
      LogWarning(std::string("query answer not accepted: ") + e.what());
    }
    return;
  }

  std::vector<internal::ProtocolMessage> messages(task.messages().begin(), task.messages().end());
  enums::WorkflowTaskFailedCause cause = enums::WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED;
  std::string error, error_type;
  try {
    internal::TaskOutput out = inst.RunTask(events, messages, task.queries());
    wsv1::RespondWorkflowTaskCompletedRequest req;
    req.set_namespace_(client_->ns());
    req.set_task_token(task.task_token());
    req.set_identity(options_.identity);
    for (auto& c : out.commands) *req.add_commands() = std::move(c);
    for (auto& m : out.messages) *req.add_messages() = std::move(m);
    for (auto& [id, r] : out.query_results) (*req.mutable_query_results())[id] = std::move(r);
    try {
      client_->Call(&wsv1::WorkflowService::Stub::RespondWorkflowTaskCompleted, req);
    } catch (const RpcError& e) {
      // NOT_FOUND (stale task) and UnhandledCommand (new events arrived) are normal: the server
      // schedules another task.
      if (e.code() != grpc::StatusCode::NOT_FOUND && std::string(e.what()) != "UnhandledCommand") {
        LogWarning(std::string("workflow task completion rejected: ") + e.what());
      }
    }
    return;
  } catch (const internal::NondeterminismError& e) {
    cause = enums::WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR;
    error = e.what();
    error_type = "NondeterminismError";
  } catch (const std::exception& e) {
    cause = enums::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE;
    error = e.what();
    error_type = ExceptionTypeName(e);
  }
  LogWarning("workflow task failed for " + task.workflow_execution().workflow_id() + ": " + error);
  // Like the official SDKs, report only the first attempt; later attempts time out quietly
  // (this keeps a failing task from filling the history).
  if (task.attempt() > 1) return;
  wsv1::RespondWorkflowTaskFailedRequest req;
  req.set_namespace_(client_->ns());
  req.set_task_token(task.task_token());
  req.set_cause(cause);
  req.set_identity(options_.identity);
  *req.mutable_failure() = ToFailureProto(ApplicationFailure(error, error_type));
  try {
    client_->Call(&wsv1::WorkflowService::Stub::RespondWorkflowTaskFailed, req);
  } catch (const RpcError& e) {
    LogWarning(std::string("workflow task failure not accepted: ") + e.what());
  }
}

void Worker::ActivityPollLoop() {
  auto backoff = 100ms;
  while (!stopping_) {
    {
      std::unique_lock<std::mutex> l(act_mu_);
      act_cv_.wait(l, [this] { return free_slots_ > 0 || stopping_; });
      if (stopping_) break;
      --free_slots_;
    }
    wsv1::PollActivityTaskQueueRequest req;
    req.set_namespace_(client_->ns());
    req.mutable_task_queue()->set_name(options_.task_queue);
    req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
    req.set_identity(options_.identity);
    wsv1::PollActivityTaskQueueResponse resp;
    grpc::ClientContext* mine = nullptr;
    grpc::Status st = client_->CallOnce(
        [&](grpc::ClientContext& ctx) { return client_->stub().PollActivityTaskQueue(&ctx, req, &resp); }, 70s,
        [&](grpc::ClientContext* ctx) {
          std::lock_guard<std::mutex> l(poll_mu_);
          if (ctx) {
            mine = ctx;
            polls_.insert(ctx);
            if (stopping_) ctx->TryCancel();
          } else {
            polls_.erase(mine);
          }
        });
    bool got = st.ok() && !resp.task_token().empty();
    {
      std::lock_guard<std::mutex> l(act_mu_);
      if (got) {
        act_queue_.push_back(std::move(resp));
      } else {
        ++free_slots_;
      }
    }
    act_cv_.notify_all();
    if (!st.ok() && !stopping_ && st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      LogWarning("activity poll failed: " + st.error_message());
      std::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
    } else if (st.ok()) {
      backoff = 100ms;
    }
  }
}

void Worker::ActivityThreadLoop() {
  for (;;) {
    wsv1::PollActivityTaskQueueResponse task;
    {
      std::unique_lock<std::mutex> l(act_mu_);
      act_cv_.wait(l, [this] { return !act_queue_.empty() || pool_stop_; });
      if (act_queue_.empty()) return;
      task = std::move(act_queue_.back());
      act_queue_.pop_back();
    }
    RunActivity(task);
    {
      std::lock_guard<std::mutex> l(act_mu_);
      ++free_slots_;
    }
    act_cv_.notify_all();
  }
}

void Worker::RunActivity(const wsv1::PollActivityTaskQueueResponse& task) {
  ActivityContext ctx(client_, task, options_.task_queue);
  {
    std::lock_guard<std::mutex> l(act_mu_);
    running_.insert(&ctx);
    if (pool_stop_) ctx.Cancel();
  }
  std::exception_ptr error;
  Payloads result;
  auto it = activities_.find(task.activity_type().name());
  if (it == activities_.end()) {
    error = std::make_exception_ptr(ApplicationFailure(
        "Activity function " + task.activity_type().name() + " is not registered on this worker", "NotFoundError"));
  } else {
    try {
      result = it->second(ctx, task.input());
    } catch (...) {
      error = std::current_exception();
    }
  }
  try {
    if (!error) {
      if (!ctx.async()) {
        wsv1::RespondActivityTaskCompletedRequest req;
        req.set_namespace_(client_->ns());
        req.set_task_token(task.task_token());
        if (result.payloads_size() > 0) *req.mutable_result() = result;
        req.set_identity(options_.identity);
        client_->Call(&wsv1::WorkflowService::Stub::RespondActivityTaskCompleted, req);
      }
    } else if (ctx.IsCancelled() && IsCanceledError(error)) {
      wsv1::RespondActivityTaskCanceledRequest req;
      req.set_namespace_(client_->ns());
      req.set_task_token(task.task_token());
      Payloads d = ctx.last_details();
      if (d.payloads_size() > 0) *req.mutable_details() = d;
      req.set_identity(options_.identity);
      client_->Call(&wsv1::WorkflowService::Stub::RespondActivityTaskCanceled, req);
    } else {
      wsv1::RespondActivityTaskFailedRequest req;
      req.set_namespace_(client_->ns());
      req.set_task_token(task.task_token());
      *req.mutable_failure() = ToFailureProto(error);
      Payloads d = ctx.last_details();
      if (d.payloads_size() > 0) *req.mutable_last_heartbeat_details() = d;
      req.set_identity(options_.identity);
      client_->Call(&wsv1::WorkflowService::Stub::RespondActivityTaskFailed, req);
    }
  } catch (const RpcError& e) {
    if (e.code() != grpc::StatusCode::NOT_FOUND) LogWarning(std::string("activity result not accepted: ") + e.what());
  }
  std::lock_guard<std::mutex> l(act_mu_);
  running_.erase(&ctx);
}

}  // namespace temporalite::sdk
