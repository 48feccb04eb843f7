// Batch operations (StartBatchOperation and friends): terminate, cancel, signal, delete or reset
// every workflow a visibility query (or an explicit list) selects, at a bounded rate, in the
// background. Temporal runs these as a system workflow; here a job is a record in its namespace
// (state.proto BatchJob), driven by the TimerService in chunks:
//   step: pick the next chunk (a visibility page after the job's cursor, or the next entries of
//         the list) -> apply each operation through the public engine calls -> when all have
//         answered, record progress (one namespace-row commit) -> next step after chunk/rps.
// As in Temporal's batcher: for terminate, cancel and signal the query is narrowed to running
// workflows, and NotFound (already closed or gone) counts as success. A chunk whose progress was
// not recorded before a crash is applied again; that is harmless (see state.proto BatchJob).
// Reset (Temporal's batcher: getResetEventIDByType/Options) is not narrowed to running workflows:
// each target run is reset to its first or last completed workflow task (ResetToOptions: the ResetWorkflow unit, reset_workflow.h),
// and a reset job pages by (start time, run id), an order no reset changes (see ListByStartTime).
#include <algorithm>
#include <atomic>
#include <cmath>

#include "common/ids.h"
#include "common/log.h"
#include "history/batch_operations.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/reply_now.h"
#include "history/reset_point.h"
#include "persistence/store.h"
#include "visibility/query.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;

namespace {

namespace bv1 = ::temporal::api::batch::v1;
namespace cv1 = ::temporal::api::common::v1;

// Temporal's batcher default rate (worker.BatcherRPS) and the most operations one chunk takes.
constexpr double kDefaultRps = 50;
constexpr int kMaxChunk = 100;
// Closed jobs kept per namespace for Describe/List (the oldest are dropped).
constexpr int kKeepClosedJobs = 100;
// Temporal's batcher: defaultAttemptsOnRetryableError, and the one error it never retries.
constexpr int kBatchAttemptsOnRetryableError = 50;
constexpr const char* kNoWorkflowTaskFound = "unable to find any scheduled or completed task";

int OperationType(const wsv1::StartBatchOperationRequest& r) {
  switch (r.operation_case()) {
    case wsv1::StartBatchOperationRequest::kTerminationOperation: return ev1::BATCH_OPERATION_TYPE_TERMINATE;
    case wsv1::StartBatchOperationRequest::kCancellationOperation: return ev1::BATCH_OPERATION_TYPE_CANCEL;
    case wsv1::StartBatchOperationRequest::kSignalOperation: return ev1::BATCH_OPERATION_TYPE_SIGNAL;
    case wsv1::StartBatchOperationRequest::kDeletionOperation: return ev1::BATCH_OPERATION_TYPE_DELETE;
    case wsv1::StartBatchOperationRequest::kResetOperation: return ev1::BATCH_OPERATION_TYPE_RESET;
    default: return ev1::BATCH_OPERATION_TYPE_UNSPECIFIED;
  }
}

std::string Identity(const wsv1::StartBatchOperationRequest& r) {
  switch (r.operation_case()) {
    case wsv1::StartBatchOperationRequest::kTerminationOperation: return r.termination_operation().identity();
    case wsv1::StartBatchOperationRequest::kCancellationOperation: return r.cancellation_operation().identity();
    case wsv1::StartBatchOperationRequest::kSignalOperation: return r.signal_operation().identity();
    case wsv1::StartBatchOperationRequest::kDeletionOperation: return r.deletion_operation().identity();
    case wsv1::StartBatchOperationRequest::kResetOperation: return r.reset_operation().identity();
    default: return {};
  }
}

bool OnlyRunning(int type) {
  return type == ev1::BATCH_OPERATION_TYPE_TERMINATE || type == ev1::BATCH_OPERATION_TYPE_CANCEL ||
         type == ev1::BATCH_OPERATION_TYPE_SIGNAL;
}

// The query the job runs (Temporal narrows workflow-changing operations to running workflows).
std::string EffectiveQuery(const state::BatchJob& job) {
  const std::string& q = job.request().visibility_query();
  if (q.empty() || !OnlyRunning(job.operation_type())) return q;
  return "(" + q + ") AND (ExecutionStatus = 'Running')";
}

// A request id derived from the job and the target, so a re-applied chunk is deduplicated.
std::string DerivedRequestId(const std::string& job_id, const cv1::WorkflowExecution& ex) {
  return NameBasedUuid("batch:" + job_id + ":" + ex.workflow_id() + ":" + ex.run_id());
}

// Temporal's frontend checks of a reset operation, and what this server cannot do.
Status ValidateReset(const bv1::BatchOperationReset& op, size_t max_name_length) {
  if (op.has_options()) {
    switch (op.options().target_case()) {
      case cv1::ResetOptions::TARGET_NOT_SET: return InvalidArgument("batch reset missing target");
      case cv1::ResetOptions::kBuildId:
        return Status(Code::kUnimplemented, "reset to a build id is not supported by this server (it keeps no "
                                            "reset points): use the first or last workflow task");
      default: break;
    }
  } else if (op.reset_type() != ev1::RESET_TYPE_FIRST_WORKFLOW_TASK && op.reset_type() != ev1::RESET_TYPE_LAST_WORKFLOW_TASK) {
    return InvalidArgument("unknown batch reset type " + std::to_string(op.reset_type()));
  }
  return ValidatePostResetOperations(op.post_reset_operations(), max_name_length);
}

// The reset target and reapply rules of a job (`options` wins over the deprecated fields, as in
// Temporal), as a single reset request for `target` plus the options it resolves.
std::pair<wsv1::ResetWorkflowExecutionRequest, cv1::ResetOptions> ResetRequestFor(const state::BatchJob& job,
                                                                                  const std::string& ns_name,
                                                                                  const cv1::WorkflowExecution& target) {
  const auto& op = job.request().reset_operation();
  wsv1::ResetWorkflowExecutionRequest req;
  req.set_namespace_(ns_name);
  *req.mutable_workflow_execution() = target;
  req.set_reason(job.request().reason());
  req.set_request_id(DerivedRequestId(job.request().job_id(), target));
  req.set_identity(op.identity());
  *req.mutable_post_reset_operations() = op.post_reset_operations();
  cv1::ResetOptions options;
  if (op.has_options()) {
    options = op.options();
    req.set_reset_reapply_type(op.options().reset_reapply_type());
    for (int t : op.options().reset_reapply_exclude_types()) req.add_reset_reapply_exclude_types(static_cast<ev1::ResetReapplyExcludeType>(t));
  } else {
    if (op.reset_type() == ev1::RESET_TYPE_FIRST_WORKFLOW_TASK) options.mutable_first_workflow_task();
    else options.mutable_last_workflow_task();
    req.set_reset_reapply_type(op.reset_reapply_type());
  }
  return {std::move(req), std::move(options)};
}

// A page of a reset job's targets after `cursor`, newest start first, by (start_time, run_id):
// neither changes when a run is reset. In the default order (close time first) the run a reset
// terminates moves behind the cursor and would be reset a second time; the new run has the base
// run's start time and a later run id, so it sorts before the cursor and is not visited.
Status ListByStartTime(BatchEngine& host, const std::string& ns_id, const visibility::CompiledQuery& compiled,
                       int limit, const std::string& cursor, std::vector<cv1::WorkflowExecution>* out,
                       std::string* next_cursor) {
  persistence::VisibilityQuery q;
  q.namespace_id = ns_id;
  q.where = compiled.where;
  q.args = compiled.args;
  if (!cursor.empty()) {
    const size_t colon = cursor.find(':', 2);
    if (cursor.rfind("s:", 0) != 0 || colon == std::string::npos) return Internal("corrupt batch reset cursor");
    int64_t start_ns = 0;
    try {
      start_ns = std::stoll(cursor.substr(2, colon - 2));
    } catch (const std::exception&) {
      return Internal("corrupt batch reset cursor");
    }
    q.where = (q.where.empty() ? std::string() : "(" + q.where + ") AND ") + "(start_time, run_id) < (?, ?)";
    q.args.emplace_back(start_ns);
    q.args.emplace_back(cursor.substr(colon + 1));
  }
  q.order_by = "start_time DESC";
  q.limit = limit + 1;  // one more tells whether another page exists
  auto page = host.ListVisibility(q);
  if (!page.ok()) return page.status();
  const size_t n = std::min(page->infos.size(), static_cast<size_t>(limit));
  for (size_t i = 0; i < n; ++i) {
    ::temporal::api::workflow::v1::WorkflowExecutionInfo info;
    if (!info.ParseFromString(page->infos[i])) return Status(Code::kDataLoss, "corrupt visibility record");
    out->push_back(info.execution());
  }
  next_cursor->clear();
  if (page->infos.size() > n) {
    *next_cursor = "s:" + std::to_string(page->cursors[n - 1].start_time) + ":" + page->cursors[n - 1].run_id;
  }
  return Status::Ok();
}

void FillInfo(const state::BatchJob& job, ::temporal::api::batch::v1::BatchOperationInfo* info) {
  info->set_job_id(job.request().job_id());
  info->set_state(static_cast<ev1::BatchOperationState>(job.state()));
  *info->mutable_start_time() = job.start_time();
  if (job.has_close_time()) *info->mutable_close_time() = job.close_time();
  info->set_operation_type(static_cast<ev1::BatchOperationType>(job.operation_type()));
}

state::BatchJob* FindJob(state::NamespaceRecord& ns, const std::string& job_id) {
  for (auto& j : *ns.mutable_batch_jobs()) {
    if (j.request().job_id() == job_id) return &j;
  }
  return nullptr;
}

// The namespace's record in a transaction of its own.
Txn NamespaceTxn(const state::NamespaceRecord& rec) {
  Txn txn;
  txn.batch.upsert_namespaces.push_back({rec.info().id(), rec.info().name(), rec.SerializeAsString()});
  return txn;
}

}  // namespace


Status BatchOperations::ValidateStart(const wsv1::StartBatchOperationRequest& req, persistence::VisibilityQuery* count) {
  const int targets = (req.visibility_query().empty() ? 0 : 1) + (req.executions_size() > 0 ? 1 : 0) +
                      (req.target_executions_size() > 0 ? 1 : 0);
  if (req.operation_case() == wsv1::StartBatchOperationRequest::OPERATION_NOT_SET || req.reason().empty() ||
      req.namespace_().empty() || targets == 0) {
    return InvalidArgument("must provide required parameters: BatchType,Reason,Namespace, AND one of (Query OR "
                           "Executions OR TargetExecutions)");
  }
  if (req.job_id().empty()) return InvalidArgument("JobId is not set on request.");
  if (targets > 1) return InvalidArgument("visibility query, executions, and target executions are mutually exclusive");
  const int type = OperationType(req);
  if (type == ev1::BATCH_OPERATION_TYPE_UNSPECIFIED) {
    return Status(Code::kUnimplemented, "This server supports the terminate, cancel, signal, delete and reset "
                                        "batch operations only.");
  }
  if (type == ev1::BATCH_OPERATION_TYPE_RESET) {
    if (Status s = ValidateReset(req.reset_operation(), max_id_length_); !s.ok()) return s;
  }
  if (req.target_executions_size() > 0) {
    return Status(Code::kUnimplemented, "target_executions is not supported by this server: use executions or "
                                        "visibility_query.");
  }
  if (req.job_id().size() > max_id_length_) return InvalidArgument("JobId exceeds length limit.");
  if (req.max_operations_per_second() < 0 || !std::isfinite(req.max_operations_per_second())) {
    return InvalidArgument("MaxOperationsPerSecond must be a positive number.");
  }
  if (type == ev1::BATCH_OPERATION_TYPE_SIGNAL && req.signal_operation().signal().empty()) {
    return InvalidArgument("SignalName is not set on request.");
  }
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return ns.status();
  const state::NamespaceRecord& rec = **ns;
  const std::string ns_id = rec.info().id();
  if (!req.visibility_query().empty()) {
    auto compiled = visibility::CompileQuery(req.visibility_query(), host_.CustomSearchAttributes(ns_id));
    if (!compiled.ok()) return compiled.status();
    if (compiled->group_by_status) return InvalidArgument("invalid query: 'GROUP BY' is not allowed in a batch operation query");
    // Chunks page by a cursor in the default order; an offset over a changing result would skip.
    if (!compiled->order_by.empty()) return InvalidArgument("invalid query: 'ORDER BY' is not allowed in a batch operation query");
  }
  int running = 0;
  for (const auto& j : rec.batch_jobs()) {
    if (j.request().job_id() == req.job_id()) {
      return WorkflowAlreadyStarted(req.job_id(), "", "");
    }
    if (j.state() == ev1::BATCH_OPERATION_STATE_RUNNING) ++running;
  }
  // Temporal's default frontend.MaxConcurrentBatchOperationPerNamespace is 1.
  if (running >= 1) {
    return ResourceExhausted("Max concurrent batch operations is reached", ev1::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
                             ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  }
  if (req.executions_size() > 0) return Status::Ok();
  // The total is what matches at the start (Temporal counts at start, too).
  state::BatchJob job;
  *job.mutable_request() = req;
  job.set_operation_type(type);
  auto compiled = visibility::CompileQuery(EffectiveQuery(job), host_.CustomSearchAttributes(ns_id));
  if (!compiled.ok()) return compiled.status();
  count->namespace_id = ns_id;
  count->where = compiled->where;
  count->args = compiled->args;
  return Status::Ok();
}

void BatchOperations::Start(MutexLock& l, const wsv1::StartBatchOperationRequest& req, Done done) {
  auto reply = [&](const Status& s) { ReplyNow(l, done, s); };
  persistence::VisibilityQuery count;
  if (Status s = ValidateStart(req, &count); !s.ok()) return reply(s);
  int64_t total = req.executions_size();
  if (req.executions_size() == 0) {
    auto n = WhileReleased(l, [&] { return host_.CountVisibility(count); });  // a store read: no engine state
    if (!n.ok()) return reply(n.status());
    total = *n;
  }
  if (Status s = ValidateStart(req, &count); !s.ok()) return reply(s);
  state::NamespaceRecord& rec = *host_.NamespaceByName(req.namespace_()).value();
  const std::string ns_id = rec.info().id();
  state::BatchJob job;
  *job.mutable_request() = req;
  job.set_operation_type(OperationType(req));
  job.set_state(ev1::BATCH_OPERATION_STATE_RUNNING);
  *job.mutable_start_time() = ToProto(engine_.Now());
  job.set_identity(Identity(req));
  job.set_total(total);
  // Drop the oldest closed jobs beyond the bound.
  auto* jobs = rec.mutable_batch_jobs();
  int closed = 0;
  for (const auto& j : *jobs) closed += j.state() != ev1::BATCH_OPERATION_STATE_RUNNING;
  for (int i = 0; i < jobs->size() && closed >= kKeepClosedJobs;) {
    if ((*jobs)[i].state() != ev1::BATCH_OPERATION_STATE_RUNNING) {
      jobs->erase(jobs->begin() + i);
      --closed;
    } else {
      ++i;
    }
  }
  *jobs->Add() = std::move(job);
  Txn txn = NamespaceTxn(rec);
  const std::string job_id = req.job_id();
  txn.after_commit.push_back([this, ns_id, job_id] {
    engine_.timers().Schedule(engine_.Now(), [this, ns_id, job_id] { Step(ns_id, job_id); });
  });
  host_.Commit(txn, std::move(done));
  Release(l);
}

void BatchOperations::Step(const std::string& ns_id, const std::string& job_id) {
  MutexLock l(mu_);
  state::NamespaceRecord* rec = host_.NamespaceById(ns_id);
  if (!rec) return;
  const std::string ns_name = rec->info().name();
  state::BatchJob* job = FindJob(*rec, job_id);
  if (!job || job->state() != ev1::BATCH_OPERATION_STATE_RUNNING) return;
  const double rps = job->request().max_operations_per_second() > 0 ? job->request().max_operations_per_second() : kDefaultRps;
  const int chunk = std::clamp(static_cast<int>(std::ceil(rps)), 1, kMaxChunk);
  const state::BatchJob snapshot = *job;  // `job` may move while the lock is released below

  std::vector<cv1::WorkflowExecution> targets;
  std::string next_cursor;
  int64_t next_index = snapshot.next_index();
  bool last_chunk = false;
  if (snapshot.request().executions_size() > 0) {
    for (int64_t i = next_index; i < snapshot.request().executions_size() && static_cast<int>(targets.size()) < chunk; ++i) {
      targets.push_back(snapshot.request().executions(static_cast<int>(i)));
    }
    next_index += static_cast<int64_t>(targets.size());
    last_chunk = next_index >= snapshot.request().executions_size();
  } else {
    // Compiled as a list query is (the namespace must still take requests), read unlocked.
    auto ns = host_.NamespaceByName(ns_name);
    Result<visibility::CompiledQuery> compiled =
        ns.ok() ? visibility::CompileQuery(EffectiveQuery(snapshot), host_.CustomSearchAttributes(ns_id))
                : Result<visibility::CompiledQuery>(ns.status());
    l.Unlock();  // the store read needs no engine state
    Status s = ListChunk(snapshot, ns_id, chunk, std::move(compiled), &targets, &next_cursor);
    l.Lock();
    if (!s.ok()) {
      // The query stopped compiling (a search attribute was removed) or the store failed: the
      // job fails rather than spinning.
      TL_LOG_WARN("batch %s: listing failed: %s", job_id.c_str(), s.message().c_str());
      FinishChunk(ns_id, job_id, 0, 0, snapshot.cursor(), next_index, true, ev1::BATCH_OPERATION_STATE_FAILED);
      return;
    }
    last_chunk = next_cursor.empty();
    if (next_cursor.empty()) next_cursor = snapshot.cursor();
  }
  if (targets.empty()) {
    FinishChunk(ns_id, job_id, 0, 0, next_cursor, next_index, true, ev1::BATCH_OPERATION_STATE_COMPLETED);
    return;
  }
  l.Unlock();

  struct Chunk {
    std::atomic<int> pending{0};
    std::atomic<int64_t> ok{0};
    std::atomic<int64_t> failed{0};
  };
  auto c = std::make_shared<Chunk>();
  c->pending = static_cast<int>(targets.size());
  const TimePoint started = engine_.Now();
  const Duration pace = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(targets.size() / rps));
  auto one_done = [this, c, ns_id, job_id, next_cursor, next_index, last_chunk, started, pace](const Status& s) {
    if (s.ok() || s.code() == Code::kNotFound) {
      c->ok.fetch_add(1);
    } else {
      c->failed.fetch_add(1);
    }
    if (c->pending.fetch_sub(1) != 1) return;
    // Runs on the committing thread (the store's writer or an inline commit's RPC thread): hand
    // over to the timer thread before locking.
    engine_.timers().Schedule(engine_.Now(), [this, c, ns_id, job_id, next_cursor, next_index, last_chunk, started, pace] {
      MutexLock g(mu_);
      FinishChunk(ns_id, job_id, c->ok.load(), c->failed.load(), next_cursor, next_index, last_chunk,
                  ev1::BATCH_OPERATION_STATE_COMPLETED, started + pace);
    });
  };
  auto job_ptr = std::make_shared<const state::BatchJob>(snapshot);
  const Duration spacing = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / rps));
  for (const auto& target : targets) ApplyWithRetries(job_ptr, ns_id, ns_name, target, 1, spacing, one_done);
}

// Temporal's batcher (startTaskProcessor) retries a failed operation on a target in place, each
// attempt through the job's rate limiter, while the error is retryable and the attempts so far are
// at most AttemptsOnRetryableError (50: the frontend leaves it unset, the batch workflow defaults
// it); then the target counts as failed. NotFound is success. Not retried: a reset with no
// workflow task to go back to (a non-retryable NoWorkflowTaskFound), and any target of a job
// stopped meanwhile (its context is done).
void BatchOperations::ApplyWithRetries(std::shared_ptr<const state::BatchJob> job, std::string ns_id,
                                       std::string ns_name, cv1::WorkflowExecution target, int attempt,
                                       Duration spacing, Done done) {
  const state::BatchJob& j = *job;
  Apply(j, ns_name, target, [this, job, ns_id, ns_name, target, attempt, spacing, done](const Status& s) {
    if (s.ok() || s.code() == Code::kNotFound || attempt > kBatchAttemptsOnRetryableError ||
        s.message() == kNoWorkflowTaskFound) {
      return done(s);
    }
    // Runs on the store's writer thread (or the caller's): the retry goes through the timer.
    engine_.timers().Schedule(engine_.Now() + spacing, [this, job, ns_id, ns_name, target, attempt, spacing, done, s] {
      bool running = false;
      {
        MutexLock l(mu_);
        state::NamespaceRecord* rec = host_.NamespaceById(ns_id);
        const state::BatchJob* now = rec ? FindJob(*rec, job->request().job_id()) : nullptr;
        running = now && now->state() == ev1::BATCH_OPERATION_STATE_RUNNING;
      }
      if (!running) return done(s);  // stopped (or gone): no more attempts
      ApplyWithRetries(job, ns_id, ns_name, target, attempt + 1, spacing, done);
    });
  });
}

Status BatchOperations::ListChunk(const state::BatchJob& job, const std::string& ns_id, int chunk,
                                  Result<visibility::CompiledQuery> compiled, std::vector<cv1::WorkflowExecution>* targets,
                                  std::string* next_cursor) {
  if (job.operation_type() == ev1::BATCH_OPERATION_TYPE_RESET) {
    if (!compiled.ok()) return compiled.status();
    return ListByStartTime(host_, ns_id, *compiled, chunk, job.cursor(), targets, next_cursor);
  }
  BatchEngine::WorkflowInfos infos;
  Status s = host_.ListWorkflows(ns_id, std::move(compiled), chunk, job.cursor(), &infos, next_cursor);
  for (const auto& info : infos) targets->push_back(info.execution());
  return s;
}

void BatchOperations::Apply(const state::BatchJob& job, const std::string& ns_name, const cv1::WorkflowExecution& target,
                            const Done& one_done) {
  const auto& r = job.request();
  const std::string& job_id = r.job_id();
  switch (job.operation_type()) {
    case ev1::BATCH_OPERATION_TYPE_TERMINATE: {
      wsv1::TerminateWorkflowExecutionRequest t;
      t.set_namespace_(ns_name);
      *t.mutable_workflow_execution() = target;
      t.set_reason(r.reason());
      *t.mutable_details() = r.termination_operation().details();
      t.set_identity(job.identity());
      host_.TerminateWorkflowExecution(t, one_done);
      break;
    }
    case ev1::BATCH_OPERATION_TYPE_CANCEL: {
      wsv1::RequestCancelWorkflowExecutionRequest t;
      t.set_namespace_(ns_name);
      *t.mutable_workflow_execution() = target;
      t.set_reason(r.reason());
      t.set_identity(job.identity());
      t.set_request_id(DerivedRequestId(job_id, target));
      host_.RequestCancelWorkflowExecution(t, one_done);
      break;
    }
    case ev1::BATCH_OPERATION_TYPE_SIGNAL: {
      wsv1::SignalWorkflowExecutionRequest t;
      t.set_namespace_(ns_name);
      *t.mutable_workflow_execution() = target;
      t.set_signal_name(r.signal_operation().signal());
      *t.mutable_input() = r.signal_operation().input();
      *t.mutable_header() = r.signal_operation().header();
      t.set_identity(job.identity());
      t.set_request_id(DerivedRequestId(job_id, target));
      host_.SignalWorkflowExecution(t, one_done);
      break;
    }
    case ev1::BATCH_OPERATION_TYPE_DELETE: {
      wsv1::DeleteWorkflowExecutionRequest t;
      t.set_namespace_(ns_name);
      *t.mutable_workflow_execution() = target;
      host_.DeleteWorkflowExecution(t, one_done);
      break;
    }
    case ev1::BATCH_OPERATION_TYPE_RESET: {
      auto [t, options] = ResetRequestFor(job, ns_name, target);
      host_.ResetToOptions(std::move(t), options, one_done);
      break;
    }
    default:
      one_done(Status(Code::kUnimplemented, "unsupported batch operation"));
  }
}

void BatchOperations::FinishChunk(const std::string& ns_id, const std::string& job_id, int64_t ok, int64_t failed,
                                  const std::string& cursor, int64_t next_index, bool last, int final_state,
                                  TimePoint next_step_at) {
  state::NamespaceRecord* rec = host_.NamespaceById(ns_id);
  if (!rec) return;
  state::BatchJob* job = FindJob(*rec, job_id);
  if (!job) return;
  job->set_complete(job->complete() + ok);
  job->set_failure(job->failure() + failed);
  job->set_cursor(cursor);
  job->set_next_index(next_index);
  const bool running = job->state() == ev1::BATCH_OPERATION_STATE_RUNNING;  // not stopped meanwhile
  if (running && last) {
    job->set_state(final_state);
    *job->mutable_close_time() = ToProto(engine_.Now());
  }
  // More matched than counted at the start (new workflows): keep the total honest.
  job->set_total(std::max(job->total(), job->complete() + job->failure()));
  const bool more = running && !last;
  Txn txn = NamespaceTxn(*rec);
  if (more) {
    txn.after_commit.push_back([this, ns_id, job_id, next_step_at] {
      engine_.timers().Schedule(std::max(next_step_at, engine_.Now()), [this, ns_id, job_id] { Step(ns_id, job_id); });
    });
  }
  host_.Commit(txn, nullptr);
}

void BatchOperations::Stop(MutexLock& l, const wsv1::StopBatchOperationRequest& req, Done done) {
  auto reply = [&](const Status& s) { ReplyNow(l, done, s); };
  if (req.job_id().empty()) return reply(InvalidArgument("JobId is not set on request."));
  if (req.reason().empty()) return reply(InvalidArgument("Reason is not set on request."));
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return reply(ns.status());
  state::NamespaceRecord& rec = **ns;
  state::BatchJob* job = FindJob(rec, req.job_id());
  if (!job) return reply(NotFound("batch operation " + req.job_id() + " not found"));
  if (job->state() != ev1::BATCH_OPERATION_STATE_RUNNING) {
    return reply(FailedPrecondition("batch operation " + req.job_id() + " is not running"));
  }
  // Temporal terminates the batch workflow; its describe then reports FAILED.
  job->set_state(ev1::BATCH_OPERATION_STATE_FAILED);
  *job->mutable_close_time() = ToProto(engine_.Now());
  Txn txn = NamespaceTxn(rec);
  host_.Commit(txn, std::move(done));
  Release(l);
}

void BatchOperations::Describe(MutexLock& l, const wsv1::DescribeBatchOperationRequest& req,
                               wsv1::DescribeBatchOperationResponse* resp, Done done) {
  auto reply = [&](const Status& s) { ReplyNow(l, done, s); };
  if (req.job_id().empty()) return reply(InvalidArgument("JobId is not set on request."));
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return reply(ns.status());
  const state::BatchJob* job = FindJob(**ns, req.job_id());
  if (!job) return reply(NotFound("batch operation " + req.job_id() + " not found"));
  resp->set_operation_type(static_cast<ev1::BatchOperationType>(job->operation_type()));
  resp->set_job_id(job->request().job_id());
  resp->set_state(static_cast<ev1::BatchOperationState>(job->state()));
  *resp->mutable_start_time() = job->start_time();
  if (job->has_close_time()) *resp->mutable_close_time() = job->close_time();
  resp->set_total_operation_count(job->total());
  resp->set_complete_operation_count(job->complete());
  resp->set_failure_operation_count(job->failure());
  resp->set_identity(job->identity());
  resp->set_reason(job->request().reason());
  resp->set_query(job->request().visibility_query());
  for (const auto& e : job->request().executions()) {
    auto* out = resp->add_executions();
    out->set_business_id(e.workflow_id());
    out->set_run_id(e.run_id());
    out->set_type(ev1::EXECUTION_TYPE_WORKFLOW);
  }
  reply(Status::Ok());
}

void BatchOperations::List(MutexLock& l, const wsv1::ListBatchOperationsRequest& req,
                           wsv1::ListBatchOperationsResponse* resp, Done done) {
  auto reply = [&](const Status& s) { ReplyNow(l, done, s); };
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return reply(ns.status());
  std::vector<const state::BatchJob*> jobs;
  for (const auto& j : (*ns)->batch_jobs()) jobs.push_back(&j);
  // Newest first.
  std::stable_sort(jobs.begin(), jobs.end(), [](const state::BatchJob* a, const state::BatchJob* b) {
    return FromProto(a->start_time()) > FromProto(b->start_time());
  });
  size_t offset = 0;
  if (!req.next_page_token().empty()) {
    try {
      offset = std::stoul(req.next_page_token());
    } catch (const std::exception&) {
      return reply(InvalidArgument("invalid page token"));
    }
  }
  const size_t page = req.page_size() > 0 ? static_cast<size_t>(req.page_size()) : 1000;
  for (size_t i = offset; i < jobs.size() && i < offset + page; ++i) FillInfo(*jobs[i], resp->add_operation_info());
  if (offset + page < jobs.size()) resp->set_next_page_token(std::to_string(offset + page));
  reply(Status::Ok());
}

void BatchOperations::Resume(const std::vector<const state::NamespaceRecord*>& namespaces) {
  for (const state::NamespaceRecord* rec : namespaces) {
    for (const auto& j : rec->batch_jobs()) {
      if (j.state() != ev1::BATCH_OPERATION_STATE_RUNNING) continue;
      std::string ns_id = rec->info().id(), job_id = j.request().job_id();
      engine_.timers().Schedule(engine_.Now(), [this, ns_id, job_id] { Step(ns_id, job_id); });
    }
  }
}

}  // namespace temporalite::history
