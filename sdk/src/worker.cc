#include "temporalite/sdk/worker.h"

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "workflow_cache.h"
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

// A workflow-task slot or an eager task came (wft_mu_ not held). Before Shutdown only threads
// holding a polled task wait on wft_cv_ (WaitForSlotRunningEagerTasks), any of which can take
// it: one is woken, not all (with 2N polls and N slots up to 2N threads wait, and waking them
// all at each slot's release put all but one back to sleep: most of the worker's context
// switches under load). While stopping, Shutdown waits on it too (WaitForWorkflowTasks): all.
void SlotFreed(std::condition_variable& cv, bool stopping) {
  if (stopping) {
    cv.notify_all();
  } else {
    cv.notify_one();
  }
}


void LogWarning(const std::string& msg) { std::fprintf(stderr, "temporalite-sdk: %s\n", msg.c_str()); }


// The CallOnce hook of a long poll: registers its context while it runs (so shutdown can cancel
// it; one started after shutdown began is cancelled at once) and unregisters it after.
std::function<void(grpc::ClientContext*)> PollTracker(std::mutex& mu, std::set<grpc::ClientContext*>& polls,
                                                      const std::atomic<bool>& stopping) {
  return [&mu, &polls, &stopping, mine = static_cast<grpc::ClientContext*>(nullptr)](grpc::ClientContext* ctx) mutable {
    std::lock_guard<std::mutex> l(mu);
    if (ctx) {
      mine = ctx;
      polls.insert(ctx);
      if (stopping) ctx->TryCancel();
    } else {
      polls.erase(mine);
    }
  };
}

// The task's whole history: its events, then the pages its next_page_token leads to.
std::vector<HistoryEvent> TaskHistory(Client& client, const wsv1::PollWorkflowTaskQueueResponse& task) {
  std::vector<HistoryEvent> events(task.history().events().begin(), task.history().events().end());
  wsv1::GetWorkflowExecutionHistoryRequest hreq;
  hreq.set_namespace_(client.ns());
  *hreq.mutable_execution() = task.workflow_execution();
  hreq.set_next_page_token(task.next_page_token());
  while (!hreq.next_page_token().empty()) {
    auto page = client.Call(&wsv1::WorkflowService::Stub::GetWorkflowExecutionHistory, hreq);
    for (const auto& e : page.history().events()) events.push_back(e);
    hreq.set_next_page_token(page.next_page_token());
  }
  return events;
}

// A RespondWorkflowTaskCompleted for `token` with the task output's commands and messages.
wsv1::RespondWorkflowTaskCompletedRequest CompletionRequest(const std::string& ns, const std::string& token,
                                                            const std::string& identity,
                                                            internal::TaskOutput& out) {
  wsv1::RespondWorkflowTaskCompletedRequest req;
  req.set_namespace_(ns);
  req.set_task_token(token);
  req.set_identity(identity);
  for (auto& c : out.commands) *req.add_commands() = std::move(c);
  for (auto& m : out.messages) *req.add_messages() = std::move(m);
  return req;
}

// Asks the server to send the run's next tasks to this worker's sticky queue.
void SetStickyAttributes(wsv1::RespondWorkflowTaskCompletedRequest* req, const std::string& sticky_queue,
                         const WorkerOptions& options) {
  auto* sa = req->mutable_sticky_attributes();
  sa->mutable_worker_task_queue()->set_name(sticky_queue);
  sa->mutable_worker_task_queue()->set_kind(enums::TASK_QUEUE_KIND_STICKY);
  sa->mutable_worker_task_queue()->set_normal_name(options.task_queue);
  *sa->mutable_schedule_to_start_timeout() = ToProtoDuration(options.sticky_schedule_to_start_timeout);
}

}  // namespace

Worker::Worker(std::shared_ptr<Client> client, WorkerOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  if (options_.task_queue.empty()) throw std::invalid_argument("WorkerOptions.task_queue is required");
  if (options_.identity.empty()) options_.identity = client_->identity();
  if (options_.max_concurrent_activities < 1) options_.max_concurrent_activities = 1;
  if (options_.max_concurrent_workflow_tasks < 1) options_.max_concurrent_workflow_tasks = 1;
  if (options_.activity_pollers < 1) options_.activity_pollers = 1;
  la_ = std::make_shared<internal::LocalActivitySlots>();
  la_->free = std::max(1, options_.max_concurrent_local_activities);
  if (options_.max_cached_workflows > 0) {
    cache_ = std::make_unique<internal::WorkflowCache>(static_cast<size_t>(options_.max_cached_workflows));
    sticky_queue_ = options_.identity + "-" + options_.task_queue + "-sticky-" + NewUuid();
  }
}

Worker::~Worker() { Shutdown(); }

WorkerStats Worker::stats() const {
  WorkerStats s;
  s.workflow_tasks = n_tasks_;
  s.sticky_hits = n_hits_;
  s.full_replays = n_full_;
  s.history_fetches = n_fetches_;
  s.evictions = n_evictions_;
  s.events_applied = n_events_;
  s.cached_workflows = cache_ ? static_cast<int64_t>(cache_->size()) : 0;
  s.eager_tasks = n_eager_;
  s.eager_activities = n_eager_activities_;
  {
    std::lock_guard<std::mutex> l(act_mu_);
    s.activity_slots_available = free_slots_;
  }
  return s;
}

void Worker::Start() {
  std::lock_guard<std::mutex> l(shutdown_mu_);
  if (started_ || shut_down_) return;
  started_ = true;
  free_slots_ = options_.max_concurrent_activities;
  wft_free_ = options_.max_concurrent_workflow_tasks;
  if (!workflows_.empty()) {
    // N polls per queue (N = max_concurrent_workflow_tasks) and N tasks running leave N threads
    // free for eager starts and kept activities (WorkflowThreadLoop).
    const int n = options_.max_concurrent_workflow_tasks;
    const int threads = n * (cache_ ? 3 : 2);
    {
      std::lock_guard<std::mutex> wl(wft_mu_);
      wft_loops_ = threads;
    }
    {
      std::lock_guard<std::mutex> al(act_mu_);
      kept_max_ = std::max(0, threads - n - 2);
    }
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { WorkflowThreadLoop(); });
    client_->SetEagerExecutor(options_.task_queue, this);
  }
  if (!activities_.empty()) {
    // Up to activity_pollers of these threads poll at a time (ActivityThreadLoop).
    for (int i = 0; i < options_.max_concurrent_activities; ++i) act_threads_.emplace_back([this] { ActivityThreadLoop(); });
  }
}

void Worker::Shutdown() {
  std::lock_guard<std::mutex> l(shutdown_mu_);
  if (shut_down_) return;
  if (started_ && !workflows_.empty()) client_->SetEagerExecutor(options_.task_queue, nullptr);
  shut_down_ = true;
  stopping_ = true;
  // One grace period for everything below: kept eager activities, workflow tasks waiting on
  // local activities, abandoned local activities, the activity pool.
  const auto grace_end = std::chrono::steady_clock::now() + options_.graceful_shutdown_timeout;
  {
    std::lock_guard<std::mutex> pl(poll_mu_);
    for (auto* ctx : polls_) ctx->TryCancel();
  }
  act_cv_.notify_all();
  {
    std::lock_guard<std::mutex> wl(wft_mu_);  // no thread between its check of stopping_ and its wait
  }
  wft_cv_.notify_all();
  idle_cv_.notify_all();
  // Eager activities run by workflow threads (TakeEagerActivities) end before those threads can
  // be joined: the grace period, then they are cancelled (as the pool's, below).
  {
    std::unique_lock<std::mutex> al(act_mu_);
    auto no_kept = [this] { return kept_running_ == 0; };
    if (!act_idle_cv_.wait_until(al, grace_end, no_kept)) {
      for (auto* ctx : running_) ctx->Cancel();
    }
  }
  // A workflow task waiting on a local activity (running, or waiting for a slot) past the grace
  // period stops waiting and fails, so that the pollers can be joined.
  if (started_ && !workflows_.empty() && !WaitForWorkflowTasks(grace_end)) AbandonLocalActivities();
  // The workflow threads end once no eager task is handed over or in flight (those still run).
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (cache_) {
    n_evictions_ += static_cast<int64_t>(cache_->Clear().size());
    // Tell the server this sticky queue is gone so its tasks move to the normal queue now
    // (servers without the RPC answer UNIMPLEMENTED: nothing to do then).
    if (started_) {
      wsv1::ShutdownWorkerRequest req;
      req.set_namespace_(client_->ns());
      req.set_sticky_task_queue(sticky_queue_);
      req.set_identity(options_.identity);
      req.set_reason("graceful shutdown");
      try {
        client_->Call(&wsv1::WorkflowService::Stub::ShutdownWorker, req, std::chrono::milliseconds(5000));
      } catch (const RpcError& e) {
        if (e.code() != grpc::StatusCode::UNIMPLEMENTED) LogWarning(std::string("ShutdownWorker: ") + e.what());
      }
    }
  }
  // No workflow code runs any more: only abandoned local activities may still be running.
  StopLocalActivities(grace_end);
  {
    std::unique_lock<std::mutex> al(act_mu_);
    bool idle = act_idle_cv_.wait_until(al, grace_end, [this] {
      return act_queue_.empty() && act_active_ == 0 && act_polling_ == 0;
    });
    if (!idle) {
      for (auto* ctx : running_) ctx->Cancel();
    }
    pool_stop_ = true;
  }
  act_cv_.notify_all();
  for (auto& t : act_threads_) t.join();
  act_threads_.clear();
}

bool Worker::WaitForWorkflowTasks(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> l(wft_mu_);
  return wft_cv_.wait_until(l, deadline, [this] {
    return wft_loops_ == 0 && wft_free_ == options_.max_concurrent_workflow_tasks;
  });
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

bool Worker::TryReserveEagerSlot() {
  std::lock_guard<std::mutex> l(wft_mu_);
  if (stopping_ || wft_free_ <= 0) return false;
  --wft_free_;
  ++eager_reserved_;
  return true;
}

void Worker::ReleaseEagerSlot() {
  {
    std::lock_guard<std::mutex> l(wft_mu_);
    ++wft_free_;
    --eager_reserved_;
  }
  SlotFreed(wft_cv_, stopping_);
  if (stopping_) idle_cv_.notify_all();  // while stopping, the threads wait for eager starts in flight
}

void Worker::RunEagerTask(wsv1::PollWorkflowTaskQueueResponse task) {
  {
    std::lock_guard<std::mutex> l(wft_mu_);
    eager_tasks_.push_back(std::move(task));
  }
  idle_cv_.notify_one();
  SlotFreed(wft_cv_, stopping_);  // a thread waiting for a slot runs it if no idle thread does
}

// A thread of the workflow-task pool. It runs a task an eager start handed over (its slot
// reserved by the start, as the Go SDK's eager dispatcher reserves one before asking) if one is
// queued; otherwise, while fewer than N threads poll the normal (then the sticky) queue, it polls
// and runs the task it gets itself after taking a slot (another idle thread takes up the poll:
// no hand-off on the task's path). Polled and eager tasks share these threads, the slots and
// the sticky cache. While stopping, the threads end once no eager start is in flight.
void Worker::WorkflowThreadLoop() {
  const int n = options_.max_concurrent_workflow_tasks;
  auto backoff = 100ms;
  std::unique_lock<std::mutex> l(wft_mu_);
  auto poll_open = [&] { return !stopping_ && (wft_polling_[0] < n || (cache_ && wft_polling_[1] < n)); };
  for (;;) {
    idle_cv_.wait(l, [&] { return !eager_tasks_.empty() || poll_open() || (stopping_ && eager_reserved_ == 0); });
    wsv1::PollWorkflowTaskQueueResponse task;
    const bool eager = !eager_tasks_.empty();
    if (eager) {
      task = std::move(eager_tasks_.front());
      eager_tasks_.pop_front();
    } else if (!poll_open()) {
      break;
    } else {
      const bool sticky = wft_polling_[0] >= n;
      ++wft_polling_[sticky];
      l.unlock();
      const bool got = PollWorkflowTask(sticky, &task, &backoff);
      l.lock();
      --wft_polling_[sticky];
      if (!got) continue;
      if (poll_open()) idle_cv_.notify_one();  // another thread takes up the poll
      WaitForSlotRunningEagerTasks(l);
      --wft_free_;  // a polled task is still run while stopping (graceful shutdown)
    }
    l.unlock();
    wsv1::PollActivityTaskQueueResponse kept;
    RunWorkflowTask(task, eager, &kept);
    if (eager) {
      ReleaseEagerSlot();
    } else {
      {
        std::lock_guard<std::mutex> sl(wft_mu_);
        ++wft_free_;
      }
      SlotFreed(wft_cv_, stopping_);  // a thread waiting for a slot; Shutdown
    }
    if (!kept.task_token().empty()) RunKeptActivity(kept);
    l.lock();
  }
  --wft_loops_;
  l.unlock();
  wft_cv_.notify_all();  // Shutdown waits for the workflow tasks (WaitForWorkflowTasks)
}

// Waits (`l` held on wft_mu_) for a free slot for the task this thread polled. Eager tasks
// handed over meanwhile are run here: their slots were reserved by their starts, so when every
// thread holds a polled task waiting for a slot that the eager tasks hold, no thread would be
// left to run them and free the slots (the worker would stall until shutdown).
void Worker::WaitForSlotRunningEagerTasks(std::unique_lock<std::mutex>& l) {
  for (;;) {
    wft_cv_.wait(l, [this] { return wft_free_ > 0 || stopping_ || !eager_tasks_.empty(); });
    if (wft_free_ > 0 || stopping_) {
      // The one wake-up this thread took may also have been meant for an eager task (RunEagerTask
      // wakes one waiter): passed on to another waiting thread.
      if (!eager_tasks_.empty()) wft_cv_.notify_one();
      return;
    }
    wsv1::PollWorkflowTaskQueueResponse task = std::move(eager_tasks_.front());
    eager_tasks_.pop_front();
    l.unlock();
    wsv1::PollActivityTaskQueueResponse kept;
    RunWorkflowTask(task, true, &kept);
    ReleaseEagerSlot();
    if (!kept.task_token().empty()) RunKeptActivity(kept);
    l.lock();
  }
}

// One workflow-task long poll of the normal or the sticky queue (cancelled by shutdown); true
// when it brought a task. A failed poll (other than its deadline) waits `backoff`, which doubles
// up to 5 s.
bool Worker::PollWorkflowTask(bool sticky, wsv1::PollWorkflowTaskQueueResponse* resp,
                              std::chrono::milliseconds* backoff) {
  wsv1::PollWorkflowTaskQueueRequest req;
  req.set_namespace_(client_->ns());
  if (sticky) {
    req.mutable_task_queue()->set_name(sticky_queue_);
    req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_STICKY);
    req.mutable_task_queue()->set_normal_name(options_.task_queue);
  } else {
    req.mutable_task_queue()->set_name(options_.task_queue);
    req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
  }
  req.set_identity(options_.identity);
  auto track = PollTracker(poll_mu_, polls_, stopping_);
  grpc::Status st = client_->CallOnce(
      [&](grpc::ClientContext& ctx) { return client_->stub().PollWorkflowTaskQueue(&ctx, req, resp); }, 70s, track);
  if (!st.ok() && !stopping_ && st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    LogWarning("workflow poll failed: " + st.error_message());
    std::this_thread::sleep_for(*backoff);
    *backoff = std::min<std::chrono::milliseconds>(*backoff * 2, 5s);
  } else if (st.ok()) {
    *backoff = 100ms;
  }
  return st.ok() && !resp->task_token().empty();
}

// Runs a polled task (decoded here) or an eager one (decoded by the client's Start).
void Worker::RunWorkflowTask(wsv1::PollWorkflowTaskQueueResponse& task, bool eager,
                             wsv1::PollActivityTaskQueueResponse* keep) {
  if (eager) ++n_eager_;
  try {
    bool decoded = eager;
    if (!eager) {
      try {
        client_->DecodeResponse(&task);
        decoded = true;
      } catch (const std::exception& e) {
        FailWorkflowTask(task, enums::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                         std::string("payload codec: ") + e.what(), "PayloadCodecError");
      }
    }
    if (decoded) HandleWorkflowTask(task, keep);
  } catch (const std::exception& e) {
    LogWarning(std::string(eager ? "eager workflow task: " : "workflow task: ") + e.what());
  }
}

std::vector<HistoryEvent> Worker::FullHistory(const wsv1::PollWorkflowTaskQueueResponse& task) {
  ++n_fetches_;
  std::vector<HistoryEvent> events;
  wsv1::GetWorkflowExecutionHistoryRequest hreq;
  hreq.set_namespace_(client_->ns());
  *hreq.mutable_execution() = task.workflow_execution();
  int64_t last = task.history().events_size() > 0
                     ? task.history().events(task.history().events_size() - 1).event_id()
                     : task.started_event_id();
  do {
    auto page = client_->Call(&wsv1::WorkflowService::Stub::GetWorkflowExecutionHistory, hreq);
    for (const auto& e : page.history().events()) {
      if (last > 0 && e.event_id() > last) return events;  // events after this task's start
      events.push_back(e);
    }
    hreq.set_next_page_token(page.next_page_token());
  } while (!hreq.next_page_token().empty());
  return events;
}

void Worker::HandleWorkflowTask(wsv1::PollWorkflowTaskQueueResponse& task,
                                wsv1::PollActivityTaskQueueResponse* kept_activity) {
  std::vector<HistoryEvent> events = TaskHistory(*client_, task);
  const bool partial = !events.empty() && events.front().event_id() != 1;
  auto fit = workflows_.find(task.workflow_type().name());
  const internal::WorkflowFn* fn = fit == workflows_.end() ? nullptr : &fit->second;

  const std::string& run_id = task.workflow_execution().run_id();
  if (task.has_query()) {
    AnswerLegacyQuery(task, partial ? FullHistory(task) : std::move(events), fn);
    return;
  }

  ++n_tasks_;
  std::unique_ptr<internal::CachedRun> run = cache_ ? cache_->Take(run_id) : nullptr;
  // The cached instance continues only if this history starts right after its last task (whose
  // completion the server recorded); anything else (a full history, a failed or timed-out task
  // in between) replays the run from its first event.
  bool resume = run && partial && events.front().event_id() == run->last_started_event_id + 1 &&
                events.front().event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
  if (run && !resume) {
    run.reset();
    ++n_evictions_;
  }
  if (resume) {
    ++n_hits_;
  } else {
    if (partial) events = FullHistory(task);
    ++n_full_;
    run = std::make_unique<internal::CachedRun>(
        std::make_unique<internal::WorkflowInstance>(fn, client_->ns(), options_.identity), 0);
    run->instance->SetLocalActivityRunner(
        [this](internal::LocalActivityRequest r, std::shared_ptr<internal::LocalActivityNotifier> n) {
          return StartLocalActivity(std::move(r), std::move(n));
        });
    run->instance->SetExecution(task.workflow_execution().workflow_id(), run_id);
  }
  if (events.empty()) throw std::runtime_error("workflow task without history events");
  n_events_ += static_cast<int64_t>(events.size());
  internal::WorkflowInstance& inst = *run->instance;

  std::vector<internal::ProtocolMessage> messages(task.messages().begin(), task.messages().end());
  enums::WorkflowTaskFailedCause cause = enums::WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED;
  std::string error, error_type;
  // The task being worked on: a heartbeat (local activities) continues on the task it returns.
  std::string token = task.task_token();
  int64_t last_started = events.back().event_id();
  // A workflow-task heartbeat (a local activity outlives 80 % of the task timeout): completes the
  // task with the commands so far, force_create_new_workflow_task and return_new_workflow_task,
  // as sdk-core does, and moves to the task the server returns. Nothing returned (a server that
  // ignores the flag dispatches the new task through its queue instead) or an error: the
  // instance stops heartbeating.
  inst.SetTaskHeartbeat([&](internal::TaskOutput out) -> std::optional<internal::HeartbeatTaskReply> {
    auto req = CompletionRequest(client_->ns(), token, options_.identity, out);
    for (auto& [id, r] : out.query_results) (*req.mutable_query_results())[id] = std::move(r);
    req.set_force_create_new_workflow_task(true);
    req.set_return_new_workflow_task(true);
    if (cache_) SetStickyAttributes(&req, sticky_queue_, options_);
    wsv1::RespondWorkflowTaskCompletedResponse resp;
    try {
      resp = client_->Call(&wsv1::WorkflowService::Stub::RespondWorkflowTaskCompleted, req);
    } catch (const RpcError& e) {
      LogWarning(std::string("workflow task heartbeat rejected: ") + e.what());
      return std::nullopt;
    }
    if (!resp.has_workflow_task() || resp.workflow_task().task_token().empty()) return std::nullopt;
    internal::HeartbeatTaskReply next;
    for (const auto& e : resp.workflow_task().history().events()) {
      if (e.event_id() > last_started) next.events.push_back(e);  // a full history repeats the known events
    }
    next.messages.assign(resp.workflow_task().messages().begin(), resp.workflow_task().messages().end());
    next.queries = resp.workflow_task().queries();
    token = resp.workflow_task().task_token();
    last_started = resp.workflow_task().started_event_id();
    return next;
  });
  try {
    internal::TaskOutput out = inst.RunTask(events, messages, task.queries());
    inst.SetTaskHeartbeat(nullptr);  // before the instance goes back to the cache (other threads)
    auto req = CompletionRequest(client_->ns(), token, options_.identity, out);
    for (auto& [id, r] : out.query_results) (*req.mutable_query_results())[id] = std::move(r);
    const bool keep = cache_ && !inst.closed();
    if (keep) {
      SetStickyAttributes(&req, sticky_queue_, options_);
      // Cached before the completion is sent: the run's next task (which the server creates only
      // after this completion) may reach another poller at once. Should the completion be
      // rejected, that next task's history does not continue this instance's and it is dropped.
      run->last_started_event_id = last_started;
      n_evictions_ += static_cast<int64_t>(cache_->Put(run_id, std::move(run)).size());
    }
    const int eager = ReserveEagerActivities(&req);
    wsv1::RespondWorkflowTaskCompletedResponse resp;
    try {
      resp = client_->Call(&wsv1::WorkflowService::Stub::RespondWorkflowTaskCompleted, req);
      TakeEagerActivities(&resp, eager, kept_activity);
    } catch (const RpcError& e) {
      TakeEagerActivities(nullptr, eager, nullptr);
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
  if (cache_) ++n_evictions_;  // the instance is dropped: the retried task replays the run
  task.set_task_token(token);  // the task a heartbeat returned, if any
  FailWorkflowTask(task, cause, error, error_type);
}

// A legacy query task (a sticky one has only the new events): answered by a fresh replay of the
// whole history, leaving the cache alone.
void Worker::AnswerLegacyQuery(const wsv1::PollWorkflowTaskQueueResponse& task, const std::vector<HistoryEvent>& events,
                               const internal::WorkflowFn* fn) {
  internal::WorkflowInstance inst(fn, client_->ns(), options_.identity);
  inst.SetExecution(task.workflow_execution().workflow_id(), task.workflow_execution().run_id());
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
}

void Worker::FailWorkflowTask(const wsv1::PollWorkflowTaskQueueResponse& task, enums::WorkflowTaskFailedCause cause,
                              const std::string& error, const std::string& error_type) {
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

// One activity-task long poll (cancelled by shutdown); true when it brought a task. A failed
// poll (other than its deadline) waits `backoff`, which doubles up to 5 s.
bool Worker::PollActivityTask(wsv1::PollActivityTaskQueueResponse* resp, std::chrono::milliseconds* backoff) {
  wsv1::PollActivityTaskQueueRequest req;
  req.set_namespace_(client_->ns());
  req.mutable_task_queue()->set_name(options_.task_queue);
  req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
  req.set_identity(options_.identity);
  auto track = PollTracker(poll_mu_, polls_, stopping_);
  grpc::Status st = client_->CallOnce(
      [&](grpc::ClientContext& ctx) { return client_->stub().PollActivityTaskQueue(&ctx, req, resp); }, 70s, track);
  if (!st.ok() && !stopping_ && st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    LogWarning("activity poll failed: " + st.error_message());
    std::this_thread::sleep_for(*backoff);
    *backoff = std::min<std::chrono::milliseconds>(*backoff * 2, 5s);
  } else if (st.ok()) {
    *backoff = 100ms;
  }
  return st.ok() && !resp->task_token().empty();
}

// Marks the completion's ScheduleActivityTask commands that this worker can run (its own task
// queue, a registered activity) for eager execution, one free activity slot each (at most 3 per
// completion, as sdk-core). Returns the slots taken.
int Worker::ReserveEagerActivities(wsv1::RespondWorkflowTaskCompletedRequest* req) {
  constexpr int kMaxEagerPerTask = 3;
  if (!options_.eager_activities || activities_.empty()) return 0;
  int n = 0;
  std::lock_guard<std::mutex> l(act_mu_);
  for (auto& c : *req->mutable_commands()) {
    if (c.command_type() != enums::COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK) continue;
    auto* a = c.mutable_schedule_activity_task_command_attributes();
    if (a->task_queue().name() != options_.task_queue || !activities_.contains(a->activity_type().name())) continue;
    if (stopping_ || pool_stop_ || free_slots_ <= 0 || n >= kMaxEagerPerTask) break;
    --free_slots_;
    ++n;
    a->set_request_eager_execution(true);
  }
  return n;
}

// Queues the activity tasks a completion reply carries (null: the completion failed) for the
// pool and gives back the slots reserved for tasks that did not come. The first one goes to
// `keep` instead, for the workflow thread to run itself after its task (no hand-off to a pool
// thread, whose wake-up is on the workflow's critical path), unless kept_max_ workflow threads
// already run one (or the worker is stopping).
void Worker::TakeEagerActivities(wsv1::RespondWorkflowTaskCompletedResponse* resp, int reserved,
                                 wsv1::PollActivityTaskQueueResponse* keep) {
  if (reserved == 0) return;
  int got = 0, queued = 0;
  {
    std::lock_guard<std::mutex> l(act_mu_);
    if (resp) {
      for (auto& t : *resp->mutable_activity_tasks()) {
        if (got == reserved || t.task_token().empty()) continue;
        ++got;
        if (keep && options_.run_eager_activity_on_workflow_thread && keep->task_token().empty() && !stopping_ &&
            !pool_stop_ && kept_running_ < kept_max_) {
          *keep = std::move(t);
          ++kept_running_;
          ++act_active_;  // counted from now: shutdown waits for it
          continue;
        }
        act_queue_.push_back(std::move(t));
        ++queued;
      }
    }
    free_slots_ += reserved - got;
    // One more wake-up for a slot given back, if a pool thread can take up a poll with it.
    if (reserved > got && PoolThreadHasWork()) ++queued;
  }
  n_eager_activities_ += got;
  for (int i = 0; i < queued; ++i) act_cv_.notify_one();
}

// Runs an eager activity kept by TakeEagerActivities on this workflow thread, then gives its
// activity slot back as a pool thread does.
void Worker::RunKeptActivity(wsv1::PollActivityTaskQueueResponse& task) {
  RunActivity(task);
  std::lock_guard<std::mutex> l(act_mu_);
  --act_active_;
  --kept_running_;
  ++free_slots_;
  if (PoolThreadHasWork()) act_cv_.notify_one();
  act_idle_cv_.notify_all();  // Shutdown may wait for kept activities (and stopping pools)
}

// What a waiting activity-pool thread waits for (ActivityThreadLoop), with act_mu_ held: a
// queued task, the pool's stop, or a poll to take up (fewer than activity_pollers polling and a
// slot free). A change wakes a thread only when this holds: with every poll taken up, a slot
// given back woke one only to put it back to sleep.
bool Worker::PoolThreadHasWork() const {
  return !act_queue_.empty() || pool_stop_ || (!stopping_ && act_polling_ < options_.activity_pollers && free_slots_ > 0);
}

// A thread of the activity pool. It runs a queued task (one an eager dispatch brought) if there
// is one; otherwise, while fewer than activity_pollers threads poll and an activity slot is free,
// it polls and runs what it gets itself: no hand-off from a poller thread to a pool thread, and
// each change wakes at most one waiting thread (one with something to do), not the whole pool.
void Worker::ActivityThreadLoop() {
  auto backoff = 100ms;
  std::unique_lock<std::mutex> l(act_mu_);
  for (;;) {
    act_cv_.wait(l, [this] { return PoolThreadHasWork(); });
    wsv1::PollActivityTaskQueueResponse task;
    if (!act_queue_.empty()) {
      task = std::move(act_queue_.back());
      act_queue_.pop_back();
    } else if (pool_stop_) {
      return;
    } else {
      ++act_polling_;
      --free_slots_;
      l.unlock();
      const bool got = PollActivityTask(&task, &backoff);
      l.lock();
      --act_polling_;
      if (!got) {
        ++free_slots_;
        if (stopping_) act_idle_cv_.notify_all();
        continue;
      }
      if (PoolThreadHasWork()) act_cv_.notify_one();  // another thread takes up the poll
    }
    ++act_active_;
    l.unlock();
    RunActivity(task);
    l.lock();
    --act_active_;
    ++free_slots_;
    if (PoolThreadHasWork()) act_cv_.notify_one();
    if (stopping_) act_idle_cv_.notify_all();
  }
}

void Worker::RunActivity(wsv1::PollActivityTaskQueueResponse& task) {
  std::exception_ptr error;
  try {
    client_->DecodeResponse(&task);  // input and last heartbeat details, through the codecs
  } catch (...) {
    error = std::current_exception();
  }
  ActivityContext ctx(client_, task, options_.task_queue);
  {
    std::lock_guard<std::mutex> l(act_mu_);
    running_.insert(&ctx);
    if (pool_stop_) ctx.Cancel();
  }
  Payloads result;
  auto it = activities_.find(task.activity_type().name());
  if (error) {
    // the payloads could not be decoded: the attempt fails with that error
  } else if (it == activities_.end()) {
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
