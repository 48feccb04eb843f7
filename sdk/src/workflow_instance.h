// One workflow run replayed from its history on a deterministic single-threaded executor
// (internal). See docs/sdk.md for the replay algorithm.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include "temporal/api/command/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/protocol/v1/message.pb.h"
#include "temporal/api/query/v1/message.pb.h"
#include "temporalite/sdk/activity.h"
#include "temporalite/sdk/workflow.h"

namespace temporalite::sdk::internal {

using Command = temporal::api::command::v1::Command;
using ProtocolMessage = temporal::api::protocol::v1::Message;

// The history does not match the commands the workflow code issues.
class NondeterminismError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Workflow code threw something that is not a TemporalFailure: the workflow task fails.
class WorkflowTaskError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The state behind a CancellationScope: callbacks cancelling the work started in it.
struct ScopeState {
  bool cancelled = false;
  std::vector<std::pair<std::weak_ptr<Completion>, std::function<void()>>> on_cancel;
  std::vector<std::weak_ptr<ScopeState>> children;
  // Registers `cancel` for the work whose outcome is `c` (skipped once `c` is done).
  void Add(const std::shared_ptr<Completion>& c, std::function<void()> cancel);
  void Cancel();
};

struct TaskOutput {
  std::vector<Command> commands;
  std::vector<ProtocolMessage> messages;
  std::map<std::string, temporal::api::query::v1::WorkflowQueryResult> query_results;
};

// Keeping the live workflow task alive while a local activity runs longer than it may (the
// official SDKs' workflow-task heartbeating): by `next`, the runner calls `beat`, which completes
// the task with the commands issued so far and force_create_new_workflow_task, and continues on
// the task the server returns (its queries answered in its next completion, as sdk-core holds
// query answers with the completion); then the next beat is due `period` later. `period` 0:
// never (replay, no heartbeat sender, or a beat failed).
struct TaskKeepAlive {
  std::chrono::steady_clock::time_point next;
  std::chrono::milliseconds period{0};
  std::function<bool()> beat;  // false: the task could not be kept (stop beating)
};

// The workflow's cancellation of a running local activity: its attempt's context is cancelled
// and no further attempt starts (a retry's wait ends, and so does a wait for a free slot).
struct LocalActivityCancellation {
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;
  ActivityContext* running = nullptr;  // the attempt running now
  std::function<void()> wake;          // wakes a wait for a local-activity slot (set by the worker)
  void Cancel() {
    std::function<void()> w;
    {
      std::lock_guard<std::mutex> l(mu);
      cancelled = true;
      if (running) running->Cancel();
      w = wake;
    }
    cv.notify_all();
    if (w) w();  // not under mu: the slot wait checks `cancelled` under the slots' mutex
  }
  bool IsCancelled() {
    std::lock_guard<std::mutex> l(mu);
    return cancelled;
  }
};

struct LocalActivityNotifier;

// The worker's local-activity slots and running attempts, shared with the threads that run them
// (an attempt abandoned by a timeout or a cancellation runs on until its function returns, on a
// thread of its own, and may outlive the workflow instance and the worker).
struct LocalActivitySlots {
  std::mutex mu;
  std::condition_variable cv;  // an attempt started or ended
  int free = 0;                // attempts that may start (max_concurrent_local_activities)
  int running = 0;             // attempts whose function has not returned
  bool cancel_all = false;     // the worker's shutdown grace period is over: attempts are cancelled
  std::set<ActivityContext*> contexts;  // of the running attempts
  // The workflow instances that ran local activities (their notifiers), and whether the
  // shutdown's grace period is over for them: a workflow task still waiting on a local activity
  // then stops waiting and fails (Worker::AbandonLocalActivities).
  std::map<LocalActivityNotifier*, std::weak_ptr<LocalActivityNotifier>> notifiers;
  size_t prune_at = 64;  // expired notifiers are dropped when there are more than this
  bool abandon_tasks = false;
};

// A local activity's attempts from `attempt` on, as the worker runs them
// (worker_local_activities.cc).
struct LocalActivityRequest {
  std::string type;
  LocalActivityOptions opts;
  Payloads args;
  std::string activity_id;
  WorkflowInfo info;  // a copy: the workflow runs on meanwhile
  int attempt = 1;
  std::chrono::system_clock::time_point original_schedule_time;  // the first attempt's
  std::shared_ptr<LocalActivityCancellation> cancellation;
};
struct LocalActivityOutcome {
  Payloads result;
  std::exception_ptr error;  // the last attempt's failure
  int attempt = 1;           // the last attempt run
  // Set with `error`: the next attempt is due after this backoff, longer than the local retry
  // threshold; the workflow sleeps it on a timer, then schedules the next attempt (sdk-core's
  // DoBackoff).
  std::optional<std::chrono::milliseconds> backoff;
};
// Wakes the workflow task's thread when one of its local activities ends.
// Also tells it to stop waiting when the worker's shutdown grace period is over (Abandon).
struct LocalActivityNotifier {
  std::mutex mu;
  std::condition_variable cv;
  int64_t ended = 0;
  bool abandon = false;
  void Notify() {
    {
      std::lock_guard<std::mutex> l(mu);
      ++ended;
    }
    cv.notify_all();
  }
  void Abandon() {
    {
      std::lock_guard<std::mutex> l(mu);
      abandon = true;
    }
    cv.notify_all();
  }
};
// A local activity running on a thread of the worker's.
class LocalActivityExecution {
 public:
  virtual ~LocalActivityExecution() = default;
  virtual bool Done() const = 0;
  virtual LocalActivityOutcome Take() = 0;  // once Done()
};
// Starts a local activity; it calls `notifier->Notify()` when it ends.
using LocalActivityRunner = std::function<std::shared_ptr<LocalActivityExecution>(
    LocalActivityRequest request, std::shared_ptr<LocalActivityNotifier> notifier)>;
// The rejection of a local-activity attempt whose retry is a timer away (internal).
struct LocalActivityBackoff {
  int next_attempt;
  std::chrono::milliseconds backoff;
  std::chrono::system_clock::time_point original_schedule_time;
  std::shared_ptr<TemporalFailure> failure;
};

// The workflow task a heartbeat completion returned: its events after the task this instance
// last ran to, and its protocol messages (updates).
struct HeartbeatTaskReply {
  std::vector<HistoryEvent> events;
  std::vector<ProtocolMessage> messages;
  google::protobuf::Map<std::string, temporal::api::query::v1::WorkflowQuery> queries;
};
// Sends a heartbeat completion carrying `out` and returns the task the server returned, or
// nothing if it returned none.
using TaskHeartbeat = std::function<std::optional<HeartbeatTaskReply>(TaskOutput out)>;

class WorkflowInstance : public Scheduler {
 public:
  WorkflowInstance(const WorkflowFn* fn, std::string ns, std::string identity);
  ~WorkflowInstance() override;

  // Replays `events` (the run's full history, ending with the current WorkflowTaskStarted) and
  // runs the current task with the live `messages`. Throws NondeterminismError or
  // WorkflowTaskError.
  TaskOutput RunTask(const std::vector<HistoryEvent>& events, const std::vector<ProtocolMessage>& messages,
                     const google::protobuf::Map<std::string, temporal::api::query::v1::WorkflowQuery>& queries);
  // Replays `events` (no live task) and answers a query. Throws on failure.
  Payloads ReplayAndQuery(const std::vector<HistoryEvent>& events, const std::string& name, const Payloads& args);
  // Replays `events` only (the replayer); throws NondeterminismError on a mismatch.
  void Replay(const std::vector<HistoryEvent>& events);

  void Ready(std::coroutine_handle<> h) override { ready_.push_back(h); }
  void SetLocalActivityRunner(LocalActivityRunner r) { la_runner_ = std::move(r); }
  // Set by the worker for each live task (and cleared after): how to heartbeat it.
  void SetTaskHeartbeat(TaskHeartbeat h) { heartbeat_ = std::move(h); }
  // The workflow issued its closing command (complete, fail, cancel, continue-as-new).
  bool closed() const { return closed_; }

  // WorkflowContext operations.
  const WorkflowInfo& info() const { return info_; }
  // The execution the history belongs to (histories' events do not name it).
  void SetExecution(const std::string& workflow_id, const std::string& run_id) {
    info_.workflow_id = workflow_id;
    info_.run_id = run_id;
  }
  std::chrono::system_clock::time_point now() const { return now_; }
  bool replaying() const { return replaying_; }
  Future<Payloads> ScheduleActivity(const std::string& type, const ActivityOptions& o, const Payloads& args);
  Future<void> StartTimer(std::chrono::milliseconds d, std::shared_ptr<ScopeState> scope);
  Future<Payloads> ScheduleLocalActivity(const std::string& type, const LocalActivityOptions& o, const Payloads& args);
  Future<void> RequestCancelExternal(const std::string& wid, const std::string& rid);
  const std::shared_ptr<ScopeState>& root_scope() const { return root_scope_; }
  CancellationScope NewScope(const std::shared_ptr<ScopeState>& parent);
  void UpsertSearchAttributes(const std::map<std::string, Payload>& attributes);
  void UpsertMemo(const std::map<std::string, Payload>& fields);
  void SetCurrentDetails(const std::string& details) { current_details_ = details; }
  Future<bool> AddCondition(std::function<bool()> pred, std::optional<std::chrono::milliseconds> timeout);
  void SetSignalHandler(const std::string& name, std::function<void(const Payloads&)> h);
  void SetQueryHandler(const std::string& name, std::function<Payloads(const Payloads&)> h) { queries_[name] = std::move(h); }
  void SetUpdateHandler(const std::string& name, WorkflowContext::UpdateHandler h, WorkflowContext::UpdateValidator v);
  ChildWorkflowHandle StartChild(const std::string& type, const ChildWorkflowOptions& o, const Payloads& args);
  Future<void> SignalExternal(const std::string& wid, const std::string& rid, const std::string& name, const Payloads& args);
  uint64_t NextRandom() { return rng_(); }
  Payloads SideEffect(const std::function<Payloads()>& fn);
  bool Patched(const std::string& id, bool deprecated);
  bool cancel_requested() const { return cancel_requested_; }
  Future<void> CancelFuture() { return Future<void>(cancel_); }
  void Spawn(Task<void> t);

 private:
  struct Expected {  // a command issued, waiting for its history event
    temporal::api::enums::v1::CommandType type;
    std::string key;
    std::string text;
    int activation;  // the activation whose output the command is part of
  };
  struct Activity {
    std::shared_ptr<Completion> c;
    std::string type, id;
    bool cancellable = true;
    int64_t scheduled_event_id = 0;
    ActivityCancellationType cancellation_type = ActivityCancellationType::kTryCancel;
  };
  struct LocalActivity {
    std::shared_ptr<Completion> c;
    int64_t seq;
    std::string type;
    LocalActivityOptions opts;
    Payloads args;
    int attempt = 1;
    std::chrono::system_clock::time_point original_schedule_time;
    std::shared_ptr<LocalActivityExecution> exec;  // live, once started
    std::shared_ptr<LocalActivityCancellation> cancellation = std::make_shared<LocalActivityCancellation>();
  };
  struct Child {
    std::shared_ptr<Completion> started, result;
    std::string workflow_id, type, ns, run_id;
    bool cancel_requested = false;
  };
  struct Cond {
    std::function<bool()> pred;
    std::shared_ptr<Completion> c;
    std::string timer_id;
  };
  struct UpdateDef {
    WorkflowContext::UpdateHandler handler;
    WorkflowContext::UpdateValidator validator;
  };

  std::shared_ptr<Completion> NewCompletion(std::string description);
  void AddCommand(Command cmd, std::string key, std::string text);
  void Process(const std::vector<HistoryEvent>& events, bool live);
  void Activate(const std::vector<HistoryEvent>& events, size_t started_index, bool live);
  void RunReady();
  void FinishRoot();
  void ApplyEvent(const HistoryEvent& e);
  void MatchCommandEvent(const HistoryEvent& e);
  void NoteMatchedEvent(const HistoryEvent& e, const std::string& key);
  void ApplyActivityOutcome(const HistoryEvent& e);
  void ApplyChildEvent(const HistoryEvent& e);
  void ApplyExternalEvent(const HistoryEvent& e);
  void DeliverUpdate(const temporal::api::update::v1::Request& req, const std::string& message_id,
                     int64_t sequencing_event_id, bool live);
  void CancelTimer(const std::string& timer_id);
  void CancelActivity(const std::string& id);
  void CancelChild(const std::string& workflow_id);
  bool RemoveUnsentCommand(temporal::api::enums::v1::CommandType type, const std::string& key);
  void ResolveLocalActivities(bool live);
  std::shared_ptr<Completion> ScheduleLocalActivityAttempt(const std::string& type, const LocalActivityOptions& o,
                                                           const Payloads& args, int attempt,
                                                           std::chrono::system_clock::time_point original_schedule_time,
                                                           const std::shared_ptr<ScopeState>& scope);
  Task<void> DriveLocalActivity(std::shared_ptr<Completion> outer, std::shared_ptr<Completion> first, std::string type,
                                LocalActivityOptions o, Payloads args, std::shared_ptr<ScopeState> scope);
  bool ReplayLocalActivity(LocalActivity& la);
  void RunLocalActivitiesLive();
  void RecordLocalActivity(LocalActivity& la);
  void CancelLocalActivity(int64_t seq);
  void AddLocalActivityMarker(const LocalActivity& la, const LocalActivityOutcome& out,
                              const std::shared_ptr<TemporalFailure>& failure);
  void SettleLocalActivity(LocalActivity& la, Payloads result, std::shared_ptr<TemporalFailure> failure,
                           const std::optional<LocalActivityBackoff>& backoff);
  void HandleCancelRequest();
  Payloads AnswerQuery(const std::string& name, const Payloads& args);
  // Answers `queries` into query_results_ (sent with the task's next completion).
  void AnswerQueries(const google::protobuf::Map<std::string, temporal::api::query::v1::WorkflowQuery>& queries);
  std::string StackTrace() const;

  const WorkflowFn* fn_;
  WorkflowInfo info_;
  std::string identity_;
  WorkflowContext ctx_{this};
  std::optional<Task<Payloads>> root_;
  std::exception_ptr root_creation_error_;
  Payloads input_;
  bool root_started_ = false, closed_ = false;
  std::deque<std::coroutine_handle<>> ready_;
  std::list<Task<void>> spawned_;
  std::exception_ptr spawned_error_;

  std::vector<Command> commands_;
  std::vector<std::pair<temporal::api::enums::v1::CommandType, std::string>> command_keys_;  // parallel to commands_
  std::vector<ProtocolMessage> messages_;
  std::map<std::string, temporal::api::query::v1::WorkflowQueryResult> query_results_;  // the live task's
  std::deque<Expected> expected_;
  std::string nondeterminism_;
  int activation_ = 0;  // activations completed so far

  std::chrono::system_clock::time_point now_;
  bool replaying_ = false;
  std::mt19937_64 rng_;

  // Sequence numbers as the TypeScript SDK counts them: activities and local activities share
  // one (activity ids, local-activity marker seqs), timers have their own (timer ids).
  int64_t activity_seq_ = 1;
  int64_t next_seq_ = 1;  // timers
  std::map<std::string, Activity> activities_;          // by activity id
  std::map<int64_t, std::string> scheduled_to_activity_;  // scheduled event id -> activity id
  std::map<std::string, std::shared_ptr<Completion>> timers_;
  std::map<std::string, Child> children_;  // by workflow id
  std::map<int64_t, std::string> initiated_to_child_;
  std::map<std::string, std::shared_ptr<Completion>> ext_signals_;  // by key
  std::map<int64_t, std::string> initiated_to_signal_;
  std::list<Cond> conditions_;
  std::map<std::string, std::function<void(const Payloads&)>> signals_;
  std::vector<std::pair<std::string, Payloads>> buffered_signals_;
  std::map<std::string, std::function<Payloads(const Payloads&)>> queries_;
  std::map<std::string, UpdateDef> updates_;
  std::set<std::string> seen_updates_;
  std::vector<std::tuple<temporal::api::update::v1::Request, std::string, int64_t, bool>> pending_updates_;
  std::vector<std::tuple<temporal::api::update::v1::Request, std::string, int64_t>> pending_live_;
  std::map<std::string, bool> patches_;
  std::set<std::string> segment_patches_;             // patch markers of the replayed task
  std::map<int64_t, Payloads> segment_side_effects_;  // side-effect markers of the replayed task
  int64_t side_effect_seq_ = 0;
  bool cancel_requested_ = false;
  std::shared_ptr<Completion> cancel_;
  std::shared_ptr<ScopeState> root_scope_ = std::make_shared<ScopeState>();
  LocalActivityRunner la_runner_;
  TaskHeartbeat heartbeat_;
  TaskKeepAlive keep_alive_;
  std::chrono::milliseconds task_timeout_{0};  // the run's workflow task timeout
  std::chrono::steady_clock::time_point task_began_;  // the live task's start (this worker's clock)
  bool HeartbeatTask();  // keep_alive_.beat
  void ArmKeepAlive();
  std::string current_details_;
  std::deque<LocalActivity> pending_las_;
  std::list<LocalActivity> running_las_;    // live: started, not recorded
  std::list<LocalActivity> abandoned_las_;  // resolved by a cancellation, still running (not waited for)
  std::shared_ptr<LocalActivityNotifier> la_notifier_ = std::make_shared<LocalActivityNotifier>();
  std::map<int64_t, HistoryEvent> segment_local_activities_;  // local-activity markers of the replayed task
  std::map<std::string, std::deque<std::shared_ptr<Completion>>> pending_ext_cancels_;  // by workflow id
  std::map<int64_t, std::shared_ptr<Completion>> initiated_to_cancel_;
  std::vector<std::weak_ptr<Completion>> all_;
};

}  // namespace temporalite::sdk::internal
