// Workflow code: C++20 coroutines run by a deterministic single-threaded executor.
//
//   Task<std::string> Greet(WorkflowContext& ctx, std::string name) {
//     ActivityOptions ao; ao.start_to_close = std::chrono::seconds(10);
//     co_return co_await ctx.ExecuteActivity<std::string>("Hello", ao, name);
//   }
//
// Workflow code must be deterministic: the worker replays it from the workflow's history, and
// the commands it issues are compared with the history (a mismatch fails the workflow task with
// a non-determinism error naming the event and the command). Use ctx.Now(), ctx.Random(),
// ctx.Uuid() and ctx.SideEffect() instead of the clock, <random> or I/O; no threads, no blocking.
// A WorkflowContext is valid for the workflow's lifetime and only on the workflow's executor.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "temporal/api/enums/v1/workflow.pb.h"
#include "temporalite/sdk/client.h"
#include "temporalite/sdk/failure.h"
#include "temporalite/sdk/task.h"
#include "temporalite/sdk/traits.h"

namespace temporalite::sdk {

namespace internal {
class WorkflowInstance;
struct ScopeState;
}

// A cancellation scope: activities, timers, local activities and child workflows started with
// it are cancelled when it is (each by its cancellation type). Made by
// WorkflowContext::NewCancellationScope (also cancelled by the workflow's cancellation, or by
// its parent scope) or NewDetachedCancellationScope (only by Cancel(): for cleanup work).
// Workflow-thread only.
class CancellationScope {
 public:
  CancellationScope() = default;  // empty: "the workflow's scope"
  explicit CancellationScope(std::shared_ptr<internal::ScopeState> s) : s_(std::move(s)) {}
  void Cancel();
  bool IsCancelled() const;
  explicit operator bool() const { return s_ != nullptr; }
  const std::shared_ptr<internal::ScopeState>& state() const { return s_; }

 private:
  std::shared_ptr<internal::ScopeState> s_;
};

// What cancelling a started activity does (as in the other Temporal SDKs).
enum class ActivityCancellationType {
  kTryCancel,                  // request cancellation, fail the activity's future at once
  kWaitCancellationCompleted,  // request cancellation, wait for the activity to acknowledge it
  kAbandon,                    // fail the future at once; the activity is not told
};

struct ActivityOptions {
  std::string task_queue;  // default: the workflow's task queue
  std::chrono::milliseconds schedule_to_close{0}, schedule_to_start{0}, start_to_close{0}, heartbeat{0};
  std::optional<RetryPolicy> retry_policy;
  std::string activity_id;  // default: the activity's sequence number
  // false: a workflow cancellation request does not cancel this activity (for cleanup work).
  bool cancellable = true;
  ActivityCancellationType cancellation_type = ActivityCancellationType::kTryCancel;
  CancellationScope scope;  // empty: the workflow's scope (if cancellable)
};

// A local activity runs in the worker during the workflow task; its outcome is recorded as a
// marker (sdk-core's format) and replay reads it. Retried in the worker by `retry_policy` while
// the backoff is at most `local_retry_threshold`; a longer backoff becomes a workflow timer and
// then a new local activity for the next attempt, as in the official SDKs. All attempts must end
// within `schedule_to_close` (default 5 s) of the first. Past 80 % of the task timeout the
// worker keeps the task alive by workflow-task heartbeats (sending the commands issued so far).
struct LocalActivityOptions {
  std::chrono::milliseconds start_to_close{0}, schedule_to_close{0};
  std::optional<RetryPolicy> retry_policy;  // default: up to 3 attempts, 100 ms initial interval
  CancellationScope scope;
  std::chrono::milliseconds local_retry_threshold{60000};  // sdk-core's default: 1 minute
  // A cancelled local activity's context is cancelled (IsCancelled()) unless kAbandon; the
  // workflow sees the cancellation at once (kTryCancel, kAbandon) or the activity's own outcome
  // once it returns (kWaitCancellationCompleted).
  ActivityCancellationType cancellation_type = ActivityCancellationType::kTryCancel;
};

struct ChildWorkflowOptions {
  std::string id;          // default: a deterministic UUID
  std::string task_queue;  // default: the parent's task queue
  std::chrono::milliseconds execution_timeout{0}, run_timeout{0}, task_timeout{0};
  std::optional<RetryPolicy> retry_policy;
  temporal::api::enums::v1::ParentClosePolicy parent_close_policy =
      temporal::api::enums::v1::PARENT_CLOSE_POLICY_TERMINATE;
  CancellationScope scope;  // empty: the workflow's scope
};

struct WorkflowInfo {
  std::string ns, workflow_id, run_id, workflow_type, task_queue;
  std::string first_execution_run_id, original_execution_run_id, continued_from_run_id;
  std::string parent_workflow_id, parent_run_id;
  int attempt = 1;
  std::chrono::system_clock::time_point start_time;
  // As given at start, then changed by UpsertSearchAttributes / UpsertMemo.
  std::map<std::string, Payload> search_attributes, memo;
};

// Thrown by WorkflowContext::ContinueAsNew; the worker turns it into the command. Do not catch.
class ContinueAsNewError : public std::exception {
 public:
  const char* what() const noexcept override { return "continue as new"; }
  std::string workflow_type, task_queue;  // empty: the same
  Payloads args;
};

// A started child workflow.
struct ChildWorkflowHandle {
  std::string workflow_id;
  Future<std::string> started;  // resolves to the child's run id, or throws
  Future<Payloads> result;      // the child's result; throws ChildWorkflowFailure
  std::function<void()> cancel_fn;
  // Requests the child's cancellation; `result` then throws ChildWorkflowFailure(CanceledFailure)
  // once the child is cancelled (a child not started yet is never started).
  void Cancel() const {
    if (cancel_fn) cancel_fn();
  }
};

class WorkflowContext {
 public:
  explicit WorkflowContext(internal::WorkflowInstance* impl) : impl_(impl) {}

  const WorkflowInfo& info() const;
  // The workflow clock: the time of the current workflow task (same on replay).
  std::chrono::system_clock::time_point Now() const;
  bool IsReplaying() const;

  Future<Payloads> ExecuteActivityPayloads(const std::string& type, const ActivityOptions& opts, const Payloads& args);
  template <class R = Payloads, class... A>
  Future<R> ExecuteActivity(const std::string& type, const ActivityOptions& opts, const A&... args) {
    return Future<R>(ExecuteActivityPayloads(type, opts, ToPayloads(args...)).completion());
  }

  // A durable timer. Throws CanceledFailure if the workflow is cancelled while sleeping.
  Future<void> Sleep(std::chrono::milliseconds d);
  // The same, cancelled with `scope`.
  Future<void> Sleep(std::chrono::milliseconds d, const CancellationScope& scope);

  // A scope cancelled by Cancel(), by `parent` (default: the workflow's scope, so by the
  // workflow's cancellation too).
  CancellationScope NewCancellationScope();
  CancellationScope NewCancellationScope(const CancellationScope& parent);
  // A scope only Cancel() cancels: work in it survives the workflow's cancellation.
  CancellationScope NewDetachedCancellationScope();

  Future<Payloads> ExecuteLocalActivityPayloads(const std::string& type, const LocalActivityOptions& opts,
                                                const Payloads& args);
  template <class R = Payloads, class... A>
  Future<R> ExecuteLocalActivity(const std::string& type, const LocalActivityOptions& opts, const A&... args) {
    return Future<R>(ExecuteLocalActivityPayloads(type, opts, ToPayloads(args...)).completion());
  }
  // Resolves true once `pred` holds (checked after every step of the workflow), or false when
  // `timeout` elapses first.
  Future<bool> Condition(std::function<bool()> pred, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Signal handlers run on the executor when the signal is applied; signals that arrive before
  // their handler is registered are buffered and delivered on registration.
  void SetSignalHandlerPayloads(const std::string& name, std::function<void(const Payloads&)> handler);
  template <class F>
  void SetSignalHandler(const std::string& name, F handler) {
    using Args = typename internal::FnTraits<F>::Args;
    SetSignalHandlerPayloads(name, [handler](const Payloads& p) { std::apply(handler, internal::DecodeArgs<Args>(p)); });
  }

  // Query handlers must not change state; they run after the workflow task's work.
  void SetQueryHandlerPayloads(const std::string& name, std::function<Payloads(const Payloads&)> handler);
  template <class F>
  void SetQueryHandler(const std::string& name, F handler) {
    using T = internal::FnTraits<F>;
    SetQueryHandlerPayloads(name, [handler](const Payloads& p) {
      return internal::EncodeResult<typename T::Ret>(
          [&] { return std::apply(handler, internal::DecodeArgs<typename T::Args>(p)); });
    });
  }

  // Update handlers: `handler(args...)` returns R or Task<R>; `validator(args...)` (optional)
  // throws to reject the update before it is accepted (and must not change state).
  using UpdateHandler = std::function<Task<Payloads>(Payloads)>;
  using UpdateValidator = std::function<void(const Payloads&)>;
  void SetUpdateHandlerPayloads(const std::string& name, UpdateHandler handler, UpdateValidator validator = nullptr);
  template <class F, class V = std::nullptr_t>
  void SetUpdateHandler(const std::string& name, F handler, V validator = nullptr) {
    UpdateValidator v;
    if constexpr (!std::is_same_v<V, std::nullptr_t>) {
      using VA = typename internal::FnTraits<V>::Args;
      v = [validator](const Payloads& p) { std::apply(validator, internal::DecodeArgs<VA>(p)); };
    }
    SetUpdateHandlerPayloads(name, [handler](Payloads p) { return RunUpdate(handler, std::move(p)); }, std::move(v));
  }

  ChildWorkflowHandle StartChildWorkflowPayloads(const std::string& type, const ChildWorkflowOptions& opts,
                                                 const Payloads& args);
  template <class... A>
  ChildWorkflowHandle StartChildWorkflow(const std::string& type, const ChildWorkflowOptions& opts, const A&... args) {
    return StartChildWorkflowPayloads(type, opts, ToPayloads(args...));
  }
  template <class R = Payloads, class... A>
  Future<R> ExecuteChildWorkflow(const std::string& type, const ChildWorkflowOptions& opts, const A&... args) {
    return Future<R>(StartChildWorkflowPayloads(type, opts, ToPayloads(args...)).result.completion());
  }

  Future<void> SignalExternalWorkflowPayloads(const std::string& workflow_id, const std::string& run_id,
                                              const std::string& signal, const Payloads& args);
  template <class... A>
  Future<void> SignalExternalWorkflow(const std::string& workflow_id, const std::string& signal, const A&... args) {
    return SignalExternalWorkflowPayloads(workflow_id, "", signal, ToPayloads(args...));
  }

  // Search attributes (registered on the server; a null value unsets one) and memo fields (a
  // null value removes the key), recorded in the history; info() shows the new values.
  void UpsertSearchAttributesPayloads(const std::map<std::string, Payload>& attributes);
  template <class T>
  void UpsertSearchAttribute(const std::string& name, const T& value) {
    UpsertSearchAttributesPayloads({{name, ToPayload(value)}});
  }
  void UpsertMemoPayloads(const std::map<std::string, Payload>& fields);
  template <class T>
  void UpsertMemo(const std::string& key, const T& value) {
    UpsertMemoPayloads({{key, ToPayload(value)}});
  }
  // Long-form text about the workflow's state, answered by the __temporal_workflow_metadata
  // query (with the workflow's query, signal and update names) for UIs.
  void SetCurrentDetails(const std::string& details);

  // Requests the cancellation of another workflow (run_id empty: its current run). Resolves once
  // the request is recorded in the target; throws ApplicationFailure
  // (ExternalWorkflowExecutionNotFound) when there is no such workflow.
  Future<void> RequestCancelExternalWorkflow(const std::string& workflow_id, const std::string& run_id = "");

  // Ends this run and starts a new one with `args` (throws ContinueAsNewError).
  template <class... A>
  [[noreturn]] void ContinueAsNew(const A&... args) {
    ContinueAsNewError e;
    e.args = ToPayloads(args...);
    throw e;
  }

  // Deterministic randomness, seeded from the workflow's first run id.
  uint64_t Random();
  std::string Uuid();

  // Runs `fn` once (live) and records its result; replay returns the recorded result.
  Payloads SideEffectPayloads(const std::function<Payloads()>& fn);
  template <class F>
  auto SideEffect(F fn) -> decltype(fn()) {
    using R = decltype(fn());
    return FirstPayload<R>(SideEffectPayloads([&] { return ToPayloads(fn()); }));
  }

  // Versioning: true for new executions (recording a marker), and on replay only where the
  // history has the marker; so old histories keep taking the old branch.
  bool Patched(const std::string& patch_id);
  // Once no old execution needs the old branch: keeps the marker without branching.
  void DeprecatePatch(const std::string& patch_id);

  bool IsCancelRequested() const;
  // Resolves when the workflow's cancellation is requested.
  Future<void> CancelRequested();

  // Runs `task` concurrently on the workflow's executor. A TemporalFailure escaping it fails the
  // workflow, like one escaping the workflow function.
  void Spawn(Task<void> task);

 private:
  template <class F>
  static Task<Payloads> RunUpdate(F handler, Payloads p) {
    using T = internal::FnTraits<F>;
    auto args = internal::DecodeArgs<typename T::Args>(p);
    using Ret = typename T::Ret;
    if constexpr (requires { typename Ret::promise_type; }) {
      using V = decltype(std::declval<Ret>().await_resume());
      if constexpr (std::is_void_v<V>) {
        co_await std::apply(handler, args);
        co_return Payloads{};
      } else {
        auto v = co_await std::apply(handler, args);
        co_return ToPayloads(v);
      }
    } else {
      co_return internal::EncodeResult<Ret>([&] { return std::apply(handler, args); });
    }
  }

  internal::WorkflowInstance* impl_;
};

namespace internal {

using WorkflowFn = std::function<Task<Payloads>(WorkflowContext&, Payloads)>;

// Wraps `fn(ctx, args...) -> Task<R>`: decodes the arguments (kept alive in this frame) and
// encodes the result.
template <class F, class Tuple>
Task<Payloads> RunTypedWorkflow(F fn, WorkflowContext* ctx, Tuple args) {
  using Ret = typename FnTraits<F>::Ret;
  using V = decltype(std::declval<Ret>().await_resume());
  auto call = [&] { return std::apply([&](auto&... a) { return fn(*ctx, a...); }, args); };
  if constexpr (std::is_void_v<V>) {
    co_await call();
    co_return Payloads{};
  } else {
    auto v = co_await call();
    co_return ToPayloads(v);
  }
}

template <class F>
WorkflowFn MakeWorkflowFn(F fn) {
  using Args = typename TupleTail<typename FnTraits<F>::Args>::type;
  return [fn](WorkflowContext& ctx, Payloads p) { return RunTypedWorkflow(fn, &ctx, DecodeArgs<Args>(p)); };
}

}  // namespace internal
}  // namespace temporalite::sdk
