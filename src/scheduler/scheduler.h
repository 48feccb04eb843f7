// The Scheduler: Temporal Schedules on top of the workflow engine.
//
// It owns the schedule records (scheduler/schedule_state.proto, one row per schedule in the
// store's `schedules` table), computes their times with CompiledSpec, and takes actions (start,
// cancel, terminate) through a WorkflowRunner. It follows the semantics of Temporal's scheduler
// workflow (temporalio/temporal service/worker/scheduler/workflow.go and buffer.go):
//  - each wake-up processes the scheduled times in (last processed, now]: a time later than the
//    catchup window (default 365 days, minimum 10 s) is counted as missed, the others are
//    buffered; a paused schedule, or one out of remaining actions, skips the whole range;
//  - the buffer is drained by the overlap policy (Skip, BufferOne, BufferAll, CancelOther,
//    TerminateOther, AllowAll) against the schedule's running workflows; AllowAll runs are not
//    tracked as running (Temporal's DontTrackOverlapping);
//  - workflow ids are `<action workflow id>-<nominal time, RFC 3339 UTC, whole seconds>`, and
//    started runs carry TemporalScheduledById (Keyword) and TemporalScheduledStartTime (Datetime);
//  - pause-on-failure pauses when a tracked run fails or times out;
//  - backfills are consumed incrementally (at most half the buffer at a time).
//
// Durability: every change to a record is committed (as one row) before the RPC that caused it
// is answered. A start is first recorded as "starting" in the record; its workflow id and
// request id are functions of the schedule and the nominal time, so a start re-issued after a
// crash (or a time re-processed because the record's progress was lost) is answered by the
// engine with the run it already started: a scheduled time never starts two runs.
//
// Threading: nothing here creates threads or reads the system clock. Wake-ups and the results
// of engine calls run on the TimerService's driving thread; RPCs on the caller's thread. One
// mutex guards the records; the runner is never called with it held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/timer_service.h"
#include "persistence/store.h"
#include "scheduler/schedule_state.pb.h"
#include "scheduler/list_query.h"
#include "scheduler/spec.h"
#include "metrics/metrics.h"
#include "scheduler/workflow_runner.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::scheduler {

namespace wsv1 = ::temporal::api::workflowservice::v1;

using Done = std::function<void(const Status&)>;

struct SchedulerOptions {
  Duration default_catchup_window = std::chrono::hours(365 * 24);
  Duration min_catchup_window = std::chrono::seconds(10);
  size_t max_buffer_size = 1000;
  size_t recent_action_count = 10;  // describe
  size_t future_action_count = 10;  // describe
  size_t list_recent_action_count = 5;
  size_t list_future_action_count = 5;
  size_t max_id_length = 1000;
  int32_t default_page_size = 1000;
  // schedule_missed_catchup_window / schedule_buffer_overruns by namespace; nullptr: off.
  metrics::Registry* metrics = nullptr;
};

class Scheduler {
 public:
  Scheduler(persistence::Store& store, const Clock& clock, TimerService& timers, WorkflowRunner& runner,
            SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Loads every schedule, re-issues unfinished starts, re-checks the runs it tracks and
  // processes the time that passed while the server was down. Call once before serving.
  Status Recover();

  // The WorkflowService schedule RPCs. `done` runs once the change is durable.
  void CreateSchedule(const wsv1::CreateScheduleRequest& req, wsv1::CreateScheduleResponse* resp, Done done);
  void DescribeSchedule(const wsv1::DescribeScheduleRequest& req, wsv1::DescribeScheduleResponse* resp, Done done);
  void UpdateSchedule(const wsv1::UpdateScheduleRequest& req, wsv1::UpdateScheduleResponse* resp, Done done);
  void PatchSchedule(const wsv1::PatchScheduleRequest& req, wsv1::PatchScheduleResponse* resp, Done done);
  void DeleteSchedule(const wsv1::DeleteScheduleRequest& req, wsv1::DeleteScheduleResponse* resp, Done done);
  // `custom`: the namespace's custom search attributes (the query and the schedules' own ones).
  void ListSchedules(const wsv1::ListSchedulesRequest& req, const visibility::TypeMap& custom,
                     wsv1::ListSchedulesResponse* resp, Done done);
  // The schedules ListSchedules would return for the same query (no GROUP BY).
  void CountSchedules(const wsv1::CountSchedulesRequest& req, const visibility::TypeMap& custom,
                      wsv1::CountSchedulesResponse* resp, Done done);
  void ListScheduleMatchingTimes(const wsv1::ListScheduleMatchingTimesRequest& req,
                                 wsv1::ListScheduleMatchingTimesResponse* resp, Done done);

  // The engine's close notification (any thread, quick): a run of a workflow id this scheduler
  // tracks closed. Others are ignored.
  // `result`/`failure`: the run's result (COMPLETED) or failure (FAILED), if known.
  void OnRunClosed(const std::string& namespace_id, const std::string& workflow_id, const std::string& run_id,
                   temporal::api::enums::v1::WorkflowExecutionStatus status, bool chain_continues,
                   const std::string& failure_message,
                   std::shared_ptr<const temporal::api::common::v1::Payloads> result = nullptr,
                   std::shared_ptr<const temporal::api::failure::v1::Failure> failure = nullptr);

  // Engine calls issued whose result has not been queued back yet (tests wait for zero).
  size_t InFlight() const { return in_flight_.load(); }
  // Waits up to `timeout` for InFlight() == 0. Returns true if it reached zero.
  bool WaitNoneInFlight(Duration timeout);

 private:
  struct Entry {
    state::ScheduleRecord rec;
    std::shared_ptr<const CompiledSpec> spec;  // null: the spec does not compile
    std::string spec_error;
    TimePoint armed = TimePoint::max();  // the wake-up timer already scheduled
    // Its own search attributes as visibility JSON (schedule_visibility.h), and the
    // search_attributes of its visibility row as last written ("": none yet).
    std::string attrs_json;
    std::string visible_written;
  };
  // One call to the runner, decided under the lock and issued after it.
  struct Op {
    enum Kind { kStart, kCancel, kTerminate, kCheck } kind;
    std::string key;
    std::string ns;
    std::string workflow_id;
    std::string run_id;
    state::BufferedStart start;
    wsv1::StartWorkflowExecutionRequest req;
  };
  using Ops = std::vector<Op>;

  static std::string Key(const std::string& ns_id, const std::string& schedule_id) {
    return ns_id + '\n' + schedule_id;
  }

  // --- validation and records (scheduler.cc) ---
  Status ValidateSchedule(const temporal::api::schedule::v1::Schedule& s, std::shared_ptr<const CompiledSpec>* spec,
                          temporal::api::schedule::v1::ScheduleSpec* canonical) const;
  void EnsureDefaults(state::ScheduleRecord& rec) const;
  void Compile(Entry& e) const;
  Result<std::string> NamespaceIdFor(const std::string& ns);
  // REQUIRES(mu_). Commits `e`'s record, and its visibility row if that changed; `done` after
  // it is durable.
  void PersistLocked(Entry& e, Done done);
  // Recovery: the records' visibility JSON; writes every visibility row (once, for databases
  // from before schedules had them) unless the store's marker says they are there.
  Status RecoverVisibility(std::vector<std::unique_ptr<Entry>>& entries);
  void FillDescribeLocked(const Entry& e, wsv1::DescribeScheduleResponse* resp) const;
  std::vector<TimePoint> FutureActionTimesLocked(const Entry& e, size_t n) const;

  // --- processing (processing.cc) ---
  // REQUIRES(mu_). One wake-up: time range, backfills, buffer; persists and arms the next timer.
  void TickLocked(Entry& e, Ops* ops, Done done = nullptr);
  // REQUIRES(mu_). Processes the scheduled times up to now under the current spec and state
  // (done before a patch or update applies, as Temporal's loop does). Returns the next time.
  TimePoint CatchUpLocked(Entry& e);
  TimePoint ProcessTimeRangeLocked(Entry& e, TimePoint start, TimePoint end,
                                   temporal::api::enums::v1::ScheduleOverlapPolicy policy, bool manual,
                                   int* limit);
  void AddStartLocked(Entry& e, TimePoint nominal, TimePoint actual,
                      temporal::api::enums::v1::ScheduleOverlapPolicy policy, bool manual);
  void ProcessBackfillsLocked(Entry& e);
  void ProcessBufferLocked(Entry& e, Ops* ops);
  bool CanTakeScheduledAction(Entry& e, bool manual, bool decrement) const;
  Duration CatchupWindow(const Entry& e) const;
  temporal::api::enums::v1::ScheduleOverlapPolicy ResolveOverlap(
      const Entry& e, temporal::api::enums::v1::ScheduleOverlapPolicy p) const;
  Op StartOpLocked(const Entry& e, const state::BufferedStart& start) const;
  void ApplyPatchLocked(Entry& e, const temporal::api::schedule::v1::SchedulePatch& patch);
  void ArmLocked(const std::string& key, Entry& e, TimePoint next);
  void Run(Ops ops);
  // Runs `fn` on the timer thread (now).
  void Post(std::function<void()> fn);
  void OnTimer(const std::string& key);
  void OnStartResult(const std::string& key, const state::BufferedStart& start, const std::string& workflow_id,
                     Result<StartedRun> result);
  void OnStatus(const std::string& key, const std::string& workflow_id, Result<RunStatus> result);
  void HandleClosed(const std::string& key, const std::string& workflow_id,
                    temporal::api::enums::v1::WorkflowExecutionStatus status, const std::string& failure_message,
                    std::shared_ptr<const temporal::api::common::v1::Payloads> result = nullptr,
                    std::shared_ptr<const temporal::api::failure::v1::Failure> failure = nullptr);
  void Watch(const std::string& ns_id, const std::string& workflow_id, const std::string& key);
  void Unwatch(const std::string& ns_id, const std::string& workflow_id);

  persistence::Store& store_;
  const Clock& clock_;
  TimerService& timers_;
  WorkflowRunner& runner_;
  const SchedulerOptions options_;

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> schedules_;  // by Key(); GUARDED_BY(mu_)

  // namespace id + '\n' + workflow id -> schedule key, for runs whose close matters.
  std::mutex watch_mu_;
  std::unordered_map<std::string, std::string> watched_;  // GUARDED_BY(watch_mu_)

  std::atomic<size_t> in_flight_{0};
  std::mutex idle_mu_;
  std::condition_variable idle_cv_;
};

}  // namespace temporalite::scheduler
