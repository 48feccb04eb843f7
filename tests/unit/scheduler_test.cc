// Schedules end to end below the frontend: the Scheduler driving a real engine (SQLite store)
// through the composition root's EngineRunner, with a SimClock. Time moves only when a test moves
// it; Settle() runs what became due and waits (bounded) for the engine's answers.
#include "scheduler/scheduler.h"

#include <sqlite3.h>

#include <map>
#include <set>

#include "engine_test_util.h"
#include "scheduler/phrase.h"
#include "scheduler/schedule_visibility.h"
#include "scheduler/time_util.h"
#include "server/engine_runner.h"

namespace temporalite::scheduler {
namespace {

using history::testing::FileEngineTest;
using history::testing::kCallbackWait;
using history::testing::kNamespace;
using history::testing::kTaskQueue;
namespace ev1 = ::temporal::api::enums::v1;
namespace spv1 = ::temporal::api::schedule::v1;
namespace hv1 = ::temporal::api::history::v1;
namespace cmdv1 = ::temporal::api::command::v1;

// Records every start the scheduler asks for, and what the engine answered. `runs_seen` (the
// fixture's, kept across restarts) tells a new run from a start repeated after a restart, which
// the engine answers with the run it made before (`started` true, as Temporal answers a retry).
class RecordingRunner final : public WorkflowRunner {
 public:
  struct StartRecord {
    std::string workflow_id;
    bool new_run = false;  // a run id no start answered before, on this data directory
    bool started = false;  // the engine's answer
    std::string run_id;
    ev1::WorkflowExecutionStatus status{};
    TimePoint at{};
  };
  RecordingRunner(history::Engine& engine, const Clock& clock, std::set<std::string>& runs_seen)
      : inner_(engine, clock), clock_(clock), runs_seen_(runs_seen) {}

  Result<std::string> NamespaceId(const std::string& ns) override { return inner_.NamespaceId(ns); }
  void Start(const wsv1::StartWorkflowExecutionRequest& req, std::function<void(Result<StartedRun>)> done) override {
    inner_.Start(req, [this, wid = req.workflow_id(), done = std::move(done)](Result<StartedRun> r) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (r.ok()) {
          bool new_run = runs_seen_.insert(r->run_id).second;
          starts_.push_back({wid, new_run, r->started, r->run_id, r->status, clock_.Now()});
        }
      }
      done(std::move(r));
    });
  }
  void RequestCancel(const std::string& ns, const std::string& wid, const std::string& rid, const std::string& reason,
                     const std::string& identity, std::function<void(const Status&)> done) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      cancels_.push_back(wid);
    }
    inner_.RequestCancel(ns, wid, rid, reason, identity, std::move(done));
  }
  void Terminate(const std::string& ns, const std::string& wid, const std::string& rid, const std::string& reason,
                 const std::string& identity, std::function<void(const Status&)> done) override {
    inner_.Terminate(ns, wid, rid, reason, identity, std::move(done));
  }
  void CurrentStatus(const std::string& ns, const std::string& wid,
                     std::function<void(Result<RunStatus>)> done) override {
    inner_.CurrentStatus(ns, wid, std::move(done));
  }
  visibility::TypeMap SearchAttributeTypes(const std::string& ns) override { return inner_.SearchAttributeTypes(ns); }

  // Workflow ids of runs the engine really started (not deduplicated repeats), in order.
  std::vector<std::string> Started() {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out;
    for (const auto& s : starts_) {
      if (s.new_run) out.push_back(s.workflow_id);
    }
    return out;
  }
  std::vector<StartRecord> All() {
    std::lock_guard<std::mutex> l(mu_);
    return starts_;
  }
  std::vector<std::string> Cancels() {
    std::lock_guard<std::mutex> l(mu_);
    return cancels_;
  }

 private:
  server::EngineRunner inner_;
  const Clock& clock_;
  std::mutex mu_;
  std::set<std::string>& runs_seen_;
  std::vector<StartRecord> starts_;
  std::vector<std::string> cancels_;
};

TimePoint At(const std::string& rfc3339) {
  std::tm tm{};
  strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

class SchedulerTest : public FileEngineTest {
 protected:
  void SetUp() override {
    FileEngineTest::SetUp();
    StartScheduler();
  }
  void TearDown() override {
    StopScheduler();
    FileEngineTest::TearDown();
  }
  void StartScheduler() {
    runner_ = std::make_unique<RecordingRunner>(*engine_, clock_, runs_seen_);
    sched_ = std::make_unique<Scheduler>(*store_, clock_, *timers_, *runner_);
    engine_->set_run_closed_listener([this](const history::Engine::RunClosed& rc) {
      sched_->OnRunClosed(rc.namespace_id, rc.workflow_id, rc.run_id, rc.status, rc.chain_continues,
                          rc.failure_message, rc.result, rc.failure);
    });
    Status s = sched_->Recover();
    ASSERT_TRUE(s.ok()) << s.ToString();
    Settle();
  }
  void StopScheduler() {
    if (store_) store_->Close();
    sched_.reset();
    runner_.reset();
  }
  // A crash that lost the schedule's progress since `snapshot` (the engine's writes stay): the
  // record put back, then a restart.
  void RestartWithScheduleRecord(const persistence::ScheduleRow& snapshot) {
    StopScheduler();
    CloseEngine();
    {
      auto store = persistence::OpenSqliteStore({.path = path()});
      ASSERT_TRUE(store.ok());
      persistence::WriteBatch b;
      b.upsert_schedules.push_back(snapshot);
      ASSERT_TRUE((*store)->CommitSync(std::move(b)).ok());
      (*store)->Close();
    }
    OpenEngine(path());
    StartScheduler();
  }
  // Simulates a server restart on the same data directory at the current clock.
  void RestartAll() {
    StopScheduler();
    CloseEngine();
    OpenEngine(path());
    StartScheduler();
  }

  // Runs everything due now until nothing more happens.
  void Settle() {
    for (int i = 0; i < 10000; ++i) {
      size_t ran = timers_->RunDue();
      ASSERT_TRUE(sched_->WaitNoneInFlight(kCallbackWait)) << "an engine call did not answer";
      Barrier();
      if (ran == 0 && sched_->InFlight() == 0 && timers_->RunDue() == 0) {
        Barrier();
        if (timers_->RunDue() == 0) return;
      }
    }
    FAIL() << "scheduler did not settle";
  }
  // Moves the clock to `end` in steps of `step`, settling at each.
  void RunUntil(TimePoint end, Duration step = std::chrono::minutes(1)) {
    while (clock_.Now() < end) {
      clock_.Set(std::min(end, clock_.Now() + step));
      Settle();
    }
  }

  Status Call(const std::function<void(Done)>& fn) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    fn([p](const Status& s) { p->set_value(s); });
    if (f.wait_for(kCallbackWait) != std::future_status::ready) return Status(Code::kDeadlineExceeded, "no answer");
    return f.get();
  }

  wsv1::CreateScheduleRequest CreateRequest(const std::string& id, const spv1::ScheduleSpec& spec,
                                            ev1::ScheduleOverlapPolicy overlap = ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
    wsv1::CreateScheduleRequest req;
    req.set_namespace_(kNamespace);
    req.set_schedule_id(id);
    req.set_request_id("create-" + id);
    *req.mutable_schedule()->mutable_spec() = spec;
    auto* wf = req.mutable_schedule()->mutable_action()->mutable_start_workflow();
    wf->set_workflow_id(id + "-wf");
    wf->mutable_workflow_type()->set_name("ScheduledWorkflow");
    wf->mutable_task_queue()->set_name(kTaskQueue);
    req.mutable_schedule()->mutable_policies()->set_overlap_policy(overlap);
    return req;
  }
  Status Create(const wsv1::CreateScheduleRequest& req) {
    wsv1::CreateScheduleResponse resp;
    Status s = Call([&](Done d) { sched_->CreateSchedule(req, &resp, std::move(d)); });
    Settle();
    return s;
  }
  wsv1::DescribeScheduleResponse Describe(const std::string& id, Status* status = nullptr) {
    wsv1::DescribeScheduleRequest req;
    req.set_namespace_(kNamespace);
    req.set_schedule_id(id);
    wsv1::DescribeScheduleResponse resp;
    Status s = Call([&](Done d) { sched_->DescribeSchedule(req, &resp, std::move(d)); });
    if (status) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return resp;
  }
  Status Patch(const std::string& id, const spv1::SchedulePatch& patch) {
    wsv1::PatchScheduleRequest req;
    req.set_namespace_(kNamespace);
    req.set_schedule_id(id);
    *req.mutable_patch() = patch;
    wsv1::PatchScheduleResponse resp;
    Status s = Call([&](Done d) { sched_->PatchSchedule(req, &resp, std::move(d)); });
    Settle();
    return s;
  }
  static spv1::ScheduleSpec Every(Duration d) {
    spv1::ScheduleSpec spec;
    *spec.add_interval()->mutable_interval() = ToProtoDuration(d);
    return spec;
  }
  static spv1::ScheduleSpec Phrase(const std::string& phrase) {
    auto spec = ParseSchedulePhrase(phrase);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    return spec.ok() ? *spec : spv1::ScheduleSpec();
  }
  ev1::WorkflowExecutionStatus StatusOf(const std::string& wid) {
    return DescribeWf(wid).workflow_execution_info().status();
  }

  std::set<std::string> runs_seen_;  // before runner_: outlives it
  std::unique_ptr<RecordingRunner> runner_;
  std::unique_ptr<Scheduler> sched_;
};

std::vector<std::string> Ids(const std::string& base, const std::vector<std::string>& times) {
  std::vector<std::string> out;
  for (const auto& t : times) out.push_back(base + "-" + t);
  return out;
}

TEST_F(SchedulerTest, RunbookPhraseRunsEveryTwoHoursBetweenSixAndTenSast) {
  clock_.Set(At("2026-03-02T00:00:00Z"));  // 02:00 SAST (UTC+2, no DST)
  ASSERT_TRUE(Create(CreateRequest("checkers-hourly", Phrase("every 2h between 06:00-22:00 Africa/Johannesburg"))).ok());
  RunUntil(At("2026-03-04T00:00:00Z"), std::chrono::minutes(10));
  std::vector<std::string> expected;
  for (const char* day : {"2026-03-02", "2026-03-03"}) {
    for (int h = 4; h <= 20; h += 2) {  // 06:00..22:00 SAST
      char buf[32];
      std::snprintf(buf, sizeof buf, "%sT%02d:00:00Z", day, h);
      expected.push_back(buf);
    }
  }
  EXPECT_EQ(runner_->Started(), Ids("checkers-hourly-wf", expected));
  // Each run started at its time (the clock moves in 10-minute steps; 06:00 is on a step).
  for (const auto& s : runner_->All()) {
    EXPECT_EQ(s.at, At(s.workflow_id.substr(std::string("checkers-hourly-wf-").size())));
  }
  // The started run carries Temporal's schedule search attributes.
  auto wf = DescribeWf("checkers-hourly-wf-2026-03-02T04:00:00Z");
  const auto& sa = wf.workflow_execution_info().search_attributes().indexed_fields();
  ASSERT_TRUE(sa.contains("TemporalScheduledById"));
  EXPECT_EQ(sa.at("TemporalScheduledById").data(), "\"checkers-hourly\"");
  EXPECT_EQ(sa.at("TemporalScheduledStartTime").data(), "\"2026-03-02T04:00:00Z\"");
  auto d = Describe("checkers-hourly");
  EXPECT_EQ(d.info().action_count(), 18);
  EXPECT_EQ(d.info().recent_actions_size(), 10);
  ASSERT_GE(d.info().future_action_times_size(), 1);
  EXPECT_EQ(FromProto(d.info().future_action_times(0)), At("2026-03-04T04:00:00Z"));
  EXPECT_EQ(d.info().running_workflows_size(), 0);  // AllowAll runs are not tracked
}

TEST_F(SchedulerTest, NewYorkAcrossBothDstTransitions) {
  // 01:30 and 02:30 New York time daily. 2026-03-08: 02:30 does not exist (spring forward);
  // 2026-11-01: 01:30 happens twice (EDT, then EST).
  clock_.Set(At("2026-03-07T00:00:00Z"));
  ASSERT_TRUE(Create(CreateRequest("ny", Phrase("daily at 01:30,02:30 America/New_York"))).ok());
  RunUntil(At("2026-03-10T00:00:00Z"), std::chrono::minutes(30));
  EXPECT_EQ(runner_->Started(), Ids("ny-wf", {
                                              "2026-03-07T06:30:00Z",  // 01:30 EST
                                              "2026-03-07T07:30:00Z",  // 02:30 EST
                                              "2026-03-08T06:30:00Z",  // 01:30 EST; no 02:30
                                              "2026-03-09T05:30:00Z",  // 01:30 EDT
                                              "2026-03-09T06:30:00Z",  // 02:30 EDT
                                          }));
  clock_.Set(At("2026-10-31T00:00:00Z"));
  Settle();  // the catchup window (365 days) covers the jump: every time in between runs
  size_t before = runner_->Started().size();
  EXPECT_GT(before, 5u);
  RunUntil(At("2026-11-03T00:00:00Z"), std::chrono::minutes(30));
  auto all = runner_->Started();
  std::vector<std::string> fall(all.begin() + before, all.end());
  EXPECT_EQ(fall, Ids("ny-wf", {
                                   "2026-10-31T05:30:00Z",  // 01:30 EDT
                                   "2026-10-31T06:30:00Z",  // 02:30 EDT
                                   "2026-11-01T05:30:00Z",  // 01:30 EDT
                                   "2026-11-01T06:30:00Z",  // 01:30 EST (again)
                                   "2026-11-01T07:30:00Z",  // 02:30 EST
                                   "2026-11-02T06:30:00Z",  // 01:30 EST
                                   "2026-11-02T07:30:00Z",  // 02:30 EST
                               }));
}

// Every minute from 2024-01-01T00:00Z (the fixture's start); runs never finish by themselves.
class OverlapTest : public SchedulerTest {
 protected:
  void CreateEveryMinute(ev1::ScheduleOverlapPolicy p) {
    ASSERT_TRUE(Create(CreateRequest("ov", Every(std::chrono::minutes(1)), p)).ok());
  }
  void Minute(int m) { RunUntil(At("2024-01-01T00:00:00Z") + std::chrono::minutes(m)); }
  static std::string Wf(int minute) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "ov-wf-2024-01-01T00:%02d:00Z", minute);
    return buf;
  }
};

TEST_F(OverlapTest, SkipDropsTimesWhileRunning) {
  CreateEveryMinute(ev1::SCHEDULE_OVERLAP_POLICY_SKIP);
  Minute(3);
  EXPECT_EQ(runner_->Started(), std::vector<std::string>{Wf(1)});
  EXPECT_EQ(Describe("ov").info().overlap_skipped(), 2);
  ASSERT_TRUE(Terminate(Wf(1), "done").ok());
  Settle();
  EXPECT_EQ(Describe("ov").info().running_workflows_size(), 0);
  Minute(4);
  EXPECT_EQ(runner_->Started(), (std::vector<std::string>{Wf(1), Wf(4)}));
  auto d = Describe("ov");
  ASSERT_EQ(d.info().running_workflows_size(), 1);
  EXPECT_EQ(d.info().running_workflows(0).workflow_id(), Wf(4));
  EXPECT_EQ(d.info().recent_actions(0).start_workflow_status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
}

TEST_F(OverlapTest, BufferOneKeepsOnlyTheFirstOverlappingTime) {
  CreateEveryMinute(ev1::SCHEDULE_OVERLAP_POLICY_BUFFER_ONE);
  Minute(3);
  EXPECT_EQ(runner_->Started(), std::vector<std::string>{Wf(1)});
  auto d = Describe("ov");
  EXPECT_EQ(d.info().buffer_size(), 1);
  EXPECT_EQ(d.info().overlap_skipped(), 1);
  ASSERT_TRUE(Terminate(Wf(1), "done").ok());
  Settle();
  EXPECT_EQ(runner_->Started(), (std::vector<std::string>{Wf(1), Wf(2)}));  // the buffered one, at once
}

TEST_F(OverlapTest, BufferAllRunsEveryTimeOneAfterAnother) {
  CreateEveryMinute(ev1::SCHEDULE_OVERLAP_POLICY_BUFFER_ALL);
  Minute(3);
  EXPECT_EQ(Describe("ov").info().buffer_size(), 2);
  ASSERT_TRUE(Terminate(Wf(1), "done").ok());
  Settle();
  EXPECT_EQ(runner_->Started(), (std::vector<std::string>{Wf(1), Wf(2)}));
  ASSERT_TRUE(Terminate(Wf(2), "done").ok());
  Settle();
  EXPECT_EQ(runner_->Started(), (std::vector<std::string>{Wf(1), Wf(2), Wf(3)}));
  EXPECT_EQ(Describe("ov").info().overlap_skipped(), 0);
}

TEST_F(OverlapTest, CancelOtherRequestsCancelAndStartsAfterTheClose) {
  CreateEveryMinute(ev1::SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER);
  Minute(2);
  EXPECT_EQ(runner_->Started(), std::vector<std::string>{Wf(1)});
  ASSERT_FALSE(runner_->Cancels().empty());
  EXPECT_EQ(runner_->Cancels()[0], Wf(1));
  auto h = History(Wf(1));
  bool cancel_requested = false;
  for (const auto& e : h) cancel_requested |= e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED;
  EXPECT_TRUE(cancel_requested);
  // The worker would now cancel the run; close it and the buffered time starts.
  ASSERT_TRUE(Terminate(Wf(1), "cancelled").ok());
  Settle();
  EXPECT_EQ(runner_->Started(), (std::vector<std::string>{Wf(1), Wf(2)}));
}

TEST_F(OverlapTest, TerminateOtherTerminatesTheRunningOne) {
  CreateEveryMinute(ev1::SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER);
  Minute(3);
  EXPECT_EQ(runner_->Started(), (std::vector<std::string>{Wf(1), Wf(2), Wf(3)}));
  EXPECT_EQ(StatusOf(Wf(1)), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(StatusOf(Wf(2)), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(StatusOf(Wf(3)), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(OverlapTest, AllowAllStartsEveryTime) {
  CreateEveryMinute(ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
  Minute(3);
  EXPECT_EQ(runner_->Started(), (std::vector<std::string>{Wf(1), Wf(2), Wf(3)}));
  for (int m = 1; m <= 3; ++m) EXPECT_EQ(StatusOf(Wf(m)), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(Describe("ov").info().running_workflows_size(), 0);
}

TEST_F(SchedulerTest, CatchupAfterThreeHoursDownWithOneHourWindow) {
  auto req = CreateRequest("hourly", Every(std::chrono::hours(1)));
  *req.mutable_schedule()->mutable_policies()->mutable_catchup_window() = ToProtoDuration(std::chrono::hours(1));
  ASSERT_TRUE(Create(req).ok());
  RunUntil(At("2024-01-01T01:00:00Z"));
  EXPECT_EQ(runner_->Started(), Ids("hourly-wf", {"2024-01-01T01:00:00Z"}));
  // Down from 01:00 to 04:05: 02:00 and 03:00 are older than the window, 04:00 is not.
  StopScheduler();
  CloseEngine();
  clock_.Set(At("2024-01-01T04:05:00Z"));
  OpenEngine(path());
  StartScheduler();
  EXPECT_EQ(runner_->Started(), Ids("hourly-wf", {"2024-01-01T04:00:00Z"}));  // a new runner after restart
  auto d = Describe("hourly");
  EXPECT_EQ(d.info().missed_catchup_window(), 2);
  EXPECT_EQ(d.info().action_count(), 2);
  EXPECT_EQ(FromProto(d.schedule().policies().catchup_window()), std::chrono::hours(1));
}

TEST_F(SchedulerTest, BackfillOverThreeYears) {
  auto req = CreateRequest("bf", Phrase("daily at 12:00"));
  req.mutable_schedule()->mutable_state()->set_paused(true);  // backfills run even when paused
  ASSERT_TRUE(Create(req).ok());
  spv1::SchedulePatch patch;
  auto* b = patch.add_backfill_request();
  *b->mutable_start_time() = ToProto(At("2021-01-01T12:00:00Z"));  // inclusive
  *b->mutable_end_time() = ToProto(At("2023-12-31T12:00:00Z"));
  b->set_overlap_policy(ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
  ASSERT_TRUE(Patch("bf", patch).ok());
  auto started = runner_->Started();
  ASSERT_EQ(started.size(), 365u * 3);
  EXPECT_EQ(started.front(), "bf-wf-2021-01-01T12:00:00Z");
  EXPECT_EQ(started.back(), "bf-wf-2023-12-31T12:00:00Z");
  EXPECT_EQ(std::set<std::string>(started.begin(), started.end()).size(), started.size());
  auto d = Describe("bf");
  EXPECT_EQ(d.info().action_count(), 365 * 3);
  EXPECT_EQ(d.info().buffer_size(), 0);
  EXPECT_EQ(d.info().buffer_dropped(), 0);
}

TEST_F(SchedulerTest, PauseAndUnpause) {
  ASSERT_TRUE(Create(CreateRequest("p", Every(std::chrono::minutes(1)))).ok());
  RunUntil(At("2024-01-01T00:01:00Z"));
  spv1::SchedulePatch pause;
  pause.set_pause("maintenance");
  ASSERT_TRUE(Patch("p", pause).ok());
  auto d = Describe("p");
  EXPECT_TRUE(d.schedule().state().paused());
  EXPECT_EQ(d.schedule().state().notes(), "maintenance");
  RunUntil(At("2024-01-01T00:05:30Z"));
  EXPECT_EQ(runner_->Started(), Ids("p-wf", {"2024-01-01T00:01:00Z"}));
  spv1::SchedulePatch unpause;
  unpause.set_unpause("back");
  ASSERT_TRUE(Patch("p", unpause).ok());
  RunUntil(At("2024-01-01T00:07:00Z"));
  // Times while paused are not caught up.
  EXPECT_EQ(runner_->Started(), Ids("p-wf", {"2024-01-01T00:01:00Z", "2024-01-01T00:06:00Z", "2024-01-01T00:07:00Z"}));
  EXPECT_EQ(Describe("p").schedule().state().notes(), "back");
}

TEST_F(SchedulerTest, RemainingActionsReachZero) {
  auto req = CreateRequest("lim", Every(std::chrono::minutes(1)));
  req.mutable_schedule()->mutable_state()->set_limited_actions(true);
  req.mutable_schedule()->mutable_state()->set_remaining_actions(3);
  ASSERT_TRUE(Create(req).ok());
  RunUntil(At("2024-01-01T00:06:00Z"));
  EXPECT_EQ(runner_->Started().size(), 3u);
  auto d = Describe("lim");
  EXPECT_EQ(d.schedule().state().remaining_actions(), 0);
  EXPECT_EQ(d.info().future_action_times_size(), 0);
  // A manual trigger is still allowed.
  spv1::SchedulePatch trigger;
  trigger.mutable_trigger_immediately()->set_overlap_policy(ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
  ASSERT_TRUE(Patch("lim", trigger).ok());
  EXPECT_EQ(runner_->Started().size(), 4u);
  EXPECT_EQ(runner_->Started().back(), "lim-wf-2024-01-01T00:06:00Z");
}

TEST_F(SchedulerTest, NoDoubleStartWhenProgressIsLostInACrash) {
  ASSERT_TRUE(Create(CreateRequest("dd", Every(std::chrono::minutes(1)))).ok());
  RunUntil(At("2024-01-01T00:01:00Z"));
  auto rows = store_->LoadSchedules();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  persistence::ScheduleRow snapshot = (*rows)[0];
  RunUntil(At("2024-01-01T00:03:00Z"));
  EXPECT_EQ(runner_->Started().size(), 3u);
  // A crash after the engine made the starts at 00:02 and 00:03 durable but before the
  // schedule's progress was: put the old record back and restart.
  ASSERT_NO_FATAL_FAILURE(RestartWithScheduleRecord(snapshot));
  // 00:02 and 00:03 were processed again: the engine answered with the runs it had started,
  // "started" as Temporal answers a retried start (respondToRetriedRequest).
  auto all = runner_->All();
  ASSERT_EQ(all.size(), 2u);
  for (const auto& s : all) {
    EXPECT_FALSE(s.new_run) << s.workflow_id;
    EXPECT_TRUE(s.started) << s.workflow_id;
    EXPECT_EQ(s.status, ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) << s.workflow_id;
  }
  EXPECT_EQ(all[0].workflow_id, "dd-wf-2024-01-01T00:02:00Z");
  EXPECT_EQ(all[1].workflow_id, "dd-wf-2024-01-01T00:03:00Z");
  RunUntil(At("2024-01-01T00:04:00Z"));
  EXPECT_EQ(runner_->Started(), Ids("dd-wf", {"2024-01-01T00:04:00Z"}));
  // One run per time in the engine.
  for (const char* t : {"00:01", "00:02", "00:03", "00:04"}) {
    auto h = History(std::string("dd-wf-2024-01-01T") + t + ":00Z");
    EXPECT_FALSE(h.empty());
  }
}

// The start of 00:01 and its run's close were durable, the schedule's progress was not: after the
// restart the scheduler starts 00:01 again and the engine answers with the run, now terminated.
// The scheduler must not count that run as running (with SKIP it would skip every later time).
TEST_F(SchedulerTest, ARepeatedStartNamingARunClosedBeforeTheRestartIsNotLeftRunning) {
  ASSERT_TRUE(Create(CreateRequest("rc", Every(std::chrono::minutes(1)), ev1::SCHEDULE_OVERLAP_POLICY_SKIP)).ok());
  auto rows = store_->LoadSchedules();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  persistence::ScheduleRow snapshot = (*rows)[0];
  RunUntil(At("2024-01-01T00:01:00Z"));
  ASSERT_EQ(runner_->Started(), Ids("rc-wf", {"2024-01-01T00:01:00Z"}));
  ASSERT_TRUE(Terminate("rc-wf-2024-01-01T00:01:00Z", "done").ok());
  Settle();
  ASSERT_NO_FATAL_FAILURE(RestartWithScheduleRecord(snapshot));
  auto all = runner_->All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_FALSE(all[0].new_run);
  EXPECT_EQ(all[0].status, ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(Describe("rc").info().running_workflows_size(), 0);
  RunUntil(At("2024-01-01T00:02:00Z"));
  EXPECT_EQ(runner_->Started(), Ids("rc-wf", {"2024-01-01T00:02:00Z"}));
}

TEST_F(SchedulerTest, RestartKeepsTrackingRunningWorkflows) {
  ASSERT_TRUE(Create(CreateRequest("rt", Every(std::chrono::minutes(1)), ev1::SCHEDULE_OVERLAP_POLICY_SKIP)).ok());
  RunUntil(At("2024-01-01T00:01:00Z"));
  RestartAll();
  // The scheduler rebuilt from its record still tracks the run started before the restart.
  ASSERT_TRUE(Terminate("rt-wf-2024-01-01T00:01:00Z", "x").ok());
  Settle();
  EXPECT_EQ(Describe("rt").info().running_workflows_size(), 0);
  RunUntil(At("2024-01-01T00:02:00Z"));
  EXPECT_EQ(runner_->Started(), Ids("rt-wf", {"2024-01-01T00:02:00Z"}));
}

TEST_F(SchedulerTest, PauseOnFailure) {
  auto req = CreateRequest("pf", Every(std::chrono::minutes(1)), ev1::SCHEDULE_OVERLAP_POLICY_SKIP);
  req.mutable_schedule()->mutable_policies()->set_pause_on_failure(true);
  ASSERT_TRUE(Create(req).ok());
  RunUntil(At("2024-01-01T00:01:00Z"));
  auto task = PollWft();
  cmdv1::Command fail;
  fail.set_command_type(ev1::COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION);
  *fail.mutable_fail_workflow_execution_command_attributes()->mutable_failure() = history::testing::AppFailure("boom", true);
  ASSERT_TRUE(CompleteWft(task.task_token(), {fail}).ok());
  Settle();
  auto d = Describe("pf");
  EXPECT_TRUE(d.schedule().state().paused());
  EXPECT_EQ(d.schedule().state().notes(), "paused due to workflow failure: pf-wf-2024-01-01T00:01:00Z: boom");
  RunUntil(At("2024-01-01T00:03:00Z"));
  EXPECT_EQ(runner_->Started().size(), 1u);
}

TEST_F(SchedulerTest, LastCompletionResultAndFailureReachTheNextRun) {
  ASSERT_TRUE(Create(CreateRequest("lc", Every(std::chrono::minutes(1)), ev1::SCHEDULE_OVERLAP_POLICY_SKIP)).ok());
  RunUntil(At("2024-01-01T00:01:00Z"));
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {history::testing::CompleteWorkflow("first result")}).ok());
  Settle();
  RunUntil(At("2024-01-01T00:02:00Z"));
  auto second = History("lc-wf-2024-01-01T00:02:00Z");
  ASSERT_FALSE(second.empty());
  const auto& started = second[0].workflow_execution_started_event_attributes();
  ASSERT_EQ(started.last_completion_result().payloads_size(), 1);
  EXPECT_EQ(started.last_completion_result().payloads(0).data(), "\"first result\"");
  EXPECT_FALSE(started.has_continued_failure());
  // The second run fails: the third gets the failure and still the last result.
  auto task2 = PollWft();
  cmdv1::Command fail;
  fail.set_command_type(ev1::COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION);
  *fail.mutable_fail_workflow_execution_command_attributes()->mutable_failure() = history::testing::AppFailure("boom", true);
  ASSERT_TRUE(CompleteWft(task2.task_token(), {fail}).ok());
  Settle();
  RunUntil(At("2024-01-01T00:03:00Z"));
  auto third = History("lc-wf-2024-01-01T00:03:00Z");
  ASSERT_FALSE(third.empty());
  const auto& s3 = third[0].workflow_execution_started_event_attributes();
  EXPECT_EQ(s3.continued_failure().message(), "boom");
  EXPECT_EQ(s3.last_completion_result().payloads(0).data(), "\"first result\"");
}

TEST_F(SchedulerTest, ErrorsUseTemporalCodes) {
  ASSERT_TRUE(Create(CreateRequest("e", Every(std::chrono::minutes(1)))).ok());
  auto dup = CreateRequest("e", Every(std::chrono::minutes(1)));
  dup.set_request_id("another");
  EXPECT_EQ(Create(dup).code(), Code::kAlreadyExists);
  EXPECT_TRUE(Create(CreateRequest("e", Every(std::chrono::minutes(1)))).ok());  // same request id: deduped
  Status s;
  Describe("missing", &s);
  EXPECT_EQ(s.code(), Code::kNotFound);
  spv1::ScheduleSpec bad;
  bad.add_cron_string("61 * * * *");
  Status b = Create(CreateRequest("bad", bad));
  EXPECT_EQ(b.code(), Code::kInvalidArgument);
  EXPECT_EQ(b.message().rfind("Invalid schedule spec: ", 0), 0u) << b.message();
  // Update with a stale conflict token.
  auto d = Describe("e");
  wsv1::UpdateScheduleRequest up;
  up.set_namespace_(kNamespace);
  up.set_schedule_id("e");
  *up.mutable_schedule() = d.schedule();
  up.set_conflict_token(d.conflict_token());
  wsv1::UpdateScheduleResponse ur;
  EXPECT_TRUE(Call([&](Done dn) { sched_->UpdateSchedule(up, &ur, std::move(dn)); }).ok());
  EXPECT_EQ(Call([&](Done dn) { sched_->UpdateSchedule(up, &ur, std::move(dn)); }).code(), Code::kFailedPrecondition);
  wsv1::ListSchedulesRequest lr;
  lr.set_namespace_(kNamespace);
  lr.set_query("WorkflowId = 'x' OR true");
  wsv1::ListSchedulesResponse lresp;
  EXPECT_EQ(Call([&](Done dn) { sched_->ListSchedules(lr, visibility::TypeMap{}, &lresp, std::move(dn)); }).code(), Code::kInvalidArgument);
  lr.set_query("ScheduleId = 'e' AND TemporalSchedulePaused = false");
  EXPECT_TRUE(Call([&](Done dn) { sched_->ListSchedules(lr, visibility::TypeMap{}, &lresp, std::move(dn)); }).ok());
  ASSERT_EQ(lresp.schedules_size(), 1);
  EXPECT_EQ(lresp.schedules(0).schedule_id(), "e");
}

TEST_F(SchedulerTest, ListScheduleMatchingTimes) {
  ASSERT_TRUE(Create(CreateRequest("m", Phrase("every 2h between 06:00-22:00 Africa/Johannesburg"))).ok());
  wsv1::ListScheduleMatchingTimesRequest req;
  req.set_namespace_(kNamespace);
  req.set_schedule_id("m");
  *req.mutable_start_time() = ToProto(At("2026-03-02T00:00:00Z"));
  *req.mutable_end_time() = ToProto(At("2026-03-02T23:59:59Z"));
  wsv1::ListScheduleMatchingTimesResponse resp;
  ASSERT_TRUE(Call([&](Done d) { sched_->ListScheduleMatchingTimes(req, &resp, std::move(d)); }).ok());
  ASSERT_EQ(resp.start_time_size(), 9);
  EXPECT_EQ(FromProto(resp.start_time(0)), At("2026-03-02T04:00:00Z"));
  EXPECT_EQ(FromProto(resp.start_time(8)), At("2026-03-02T20:00:00Z"));
}

// Schedules in visibility (schedule_visibility.h): rows written with the records, queried with
// the list-filter language in the store, paged by schedule id, migrated once for old databases.
class SchedulerVisibilityTest : public SchedulerTest {
 protected:
  void SetUp() override {
    options_.startup_search_attributes["SchedTeam"] = ev1::INDEXED_VALUE_TYPE_KEYWORD;
    options_.startup_search_attributes["SchedRank"] = ev1::INDEXED_VALUE_TYPE_INT;
    SchedulerTest::SetUp();
  }
  static ::temporal::api::common::v1::Payload Json(const std::string& json) {
    ::temporal::api::common::v1::Payload p;
    (*p.mutable_metadata())["encoding"] = "json/plain";
    p.set_data(json);
    return p;
  }
  Status CreateWithAttributes(const std::string& id, const std::string& team, int rank) {
    auto req = CreateRequest(id, Every(std::chrono::hours(24)));
    auto& f = *req.mutable_search_attributes()->mutable_indexed_fields();
    f["SchedTeam"] = Json("\"" + team + "\"");
    f["SchedRank"] = Json(std::to_string(rank));
    return Create(req);
  }
  // Every id the query selects, `page` at a time; `pages` counts the calls.
  std::vector<std::string> ListAll(const std::string& query, int32_t page = 0, int* pages = nullptr) {
    std::vector<std::string> ids;
    wsv1::ListSchedulesRequest req;
    req.set_namespace_(kNamespace);
    req.set_query(query);
    req.set_maximum_page_size(page);
    int calls = 0;
    do {
      wsv1::ListSchedulesResponse resp;
      Status s = Call([&](Done d) { sched_->ListSchedules(req, runner_->SearchAttributeTypes(kNamespace), &resp, std::move(d)); });
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || ++calls > 100) break;
      for (const auto& e : resp.schedules()) ids.push_back(e.schedule_id());
      req.set_next_page_token(resp.next_page_token());
    } while (!req.next_page_token().empty());
    if (pages) *pages = calls;
    return ids;
  }
  int64_t Count(const std::string& query) {
    wsv1::CountSchedulesRequest req;
    req.set_namespace_(kNamespace);
    req.set_query(query);
    wsv1::CountSchedulesResponse resp;
    Status s = Call([&](Done d) { sched_->CountSchedules(req, runner_->SearchAttributeTypes(kNamespace), &resp, std::move(d)); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp.count();
  }
  void Pause(const std::string& id, bool paused) {
    spv1::SchedulePatch patch;
    if (paused) patch.set_pause("maintenance");
    else patch.set_unpause("done");
    ASSERT_TRUE(Patch(id, patch).ok());
  }
  int64_t WorkflowCount() {
    wsv1::CountWorkflowExecutionsRequest req;
    req.set_namespace_(kNamespace);
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    wsv1::CountWorkflowExecutionsResponse resp;
    engine_->CountWorkflowExecutions(req, &resp, [p](const Status& s) { p->set_value(s); });
    EXPECT_EQ(f.wait_for(kCallbackWait), std::future_status::ready);
    return resp.count();
  }
};

TEST_F(SchedulerVisibilityTest, FiltersPagesAndCountsInTheStore) {
  using V = std::vector<std::string>;
  ASSERT_TRUE(CreateWithAttributes("s-a", "ingest", 1).ok());
  ASSERT_TRUE(CreateWithAttributes("s-b", "ops", 2).ok());
  ASSERT_TRUE(CreateWithAttributes("s-c", "ingest", 3).ok());
  ASSERT_TRUE(CreateWithAttributes("s-d", "ingest", 4).ok());
  ASSERT_TRUE(Create(CreateRequest("s-e", Every(std::chrono::hours(24)))).ok());  // no attributes
  Pause("s-c", true);
  // Visibility's default order, as Temporal lists schedules: newest created first (created in id
  // order here; ties of the create time go by id, descending, too).
  EXPECT_EQ(ListAll(""), (V{"s-e", "s-d", "s-c", "s-b", "s-a"}));
  EXPECT_EQ(ListAll("SchedTeam = 'ingest'"), (V{"s-d", "s-c", "s-a"}));
  EXPECT_EQ(ListAll("SchedTeam = 'ingest' AND SchedRank >= 3"), (V{"s-d", "s-c"}));
  EXPECT_EQ(ListAll("TemporalSchedulePaused = true"), (V{"s-c"}));
  EXPECT_EQ(ListAll("TemporalSchedulePaused = false AND SchedTeam IN ('ops', 'ingest')"), (V{"s-d", "s-b", "s-a"}));
  EXPECT_EQ(ListAll("SchedTeam IS NULL"), (V{"s-e"}));
  EXPECT_EQ(ListAll("ScheduleId STARTS_WITH 's-' AND ScheduleId > 's-b'"), (V{"s-e", "s-d", "s-c"}));
  // Pages of 2; the token is the position (create time, id) after the last of a page.
  int pages = 0;
  EXPECT_EQ(ListAll("", 2, &pages), (V{"s-e", "s-d", "s-c", "s-b", "s-a"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ListAll("SchedTeam = 'ingest'", 1, &pages), (V{"s-d", "s-c", "s-a"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(Count(""), 5);
  EXPECT_EQ(Count("SchedTeam = 'ingest'"), 3);
  EXPECT_EQ(Count("TemporalSchedulePaused = true"), 1);
  // Schedule rows are not workflows.
  EXPECT_EQ(WorkflowCount(), 0);

  // Kept in sync: unpause, update's new attributes, delete.
  Pause("s-c", false);
  EXPECT_EQ(ListAll("TemporalSchedulePaused = true"), V{});
  auto d = Describe("s-b");
  wsv1::UpdateScheduleRequest up;
  up.set_namespace_(kNamespace);
  up.set_schedule_id("s-b");
  *up.mutable_schedule() = d.schedule();
  (*up.mutable_search_attributes()->mutable_indexed_fields())["SchedTeam"] = Json("\"ingest\"");
  wsv1::UpdateScheduleResponse ur;
  ASSERT_TRUE(Call([&](Done dn) { sched_->UpdateSchedule(up, &ur, std::move(dn)); }).ok());
  EXPECT_EQ(ListAll("SchedTeam = 'ingest'"), (V{"s-d", "s-c", "s-b", "s-a"}));
  EXPECT_EQ(ListAll("SchedRank = 2"), V{});  // the update replaced the attributes
  wsv1::DeleteScheduleRequest del;
  del.set_namespace_(kNamespace);
  del.set_schedule_id("s-a");
  wsv1::DeleteScheduleResponse delr;
  ASSERT_TRUE(Call([&](Done dn) { sched_->DeleteSchedule(del, &delr, std::move(dn)); }).ok());
  EXPECT_EQ(ListAll("SchedTeam = 'ingest'"), (V{"s-d", "s-c", "s-b"}));
  EXPECT_EQ(Count(""), 4);

  RestartAll();
  EXPECT_EQ(ListAll("SchedTeam = 'ingest'"), (V{"s-d", "s-c", "s-b"}));
  EXPECT_EQ(Count(""), 4);
}

TEST_F(SchedulerVisibilityTest, PauseOnFailureUpdatesTheRow) {
  auto req = CreateRequest("pf", Every(std::chrono::minutes(1)), ev1::SCHEDULE_OVERLAP_POLICY_SKIP);
  req.mutable_schedule()->mutable_policies()->set_pause_on_failure(true);
  ASSERT_TRUE(Create(req).ok());
  EXPECT_EQ(Count("TemporalSchedulePaused = true"), 0);
  RunUntil(clock_.Now() + std::chrono::minutes(1));
  ASSERT_EQ(runner_->Started().size(), 1u);
  auto task = PollWft();
  cmdv1::Command fail;
  fail.set_command_type(ev1::COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION);
  fail.mutable_fail_workflow_execution_command_attributes()->mutable_failure()->set_message("boom");
  ASSERT_TRUE(CompleteWft(task.task_token(), {fail}).ok());
  Settle();
  EXPECT_TRUE(Describe("pf").schedule().state().paused());
  EXPECT_EQ(ListAll("TemporalSchedulePaused = true"), std::vector<std::string>{"pf"});
}

// A database from before schedules had visibility rows: recovery writes them once.
TEST_F(SchedulerVisibilityTest, RecoveryIndexesSchedulesOfAnOlderDatabase) {
  ASSERT_TRUE(CreateWithAttributes("old-1", "ingest", 1).ok());
  ASSERT_TRUE(CreateWithAttributes("old-2", "ops", 2).ok());
  StopScheduler();
  CloseEngine();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const std::string sql = "DELETE FROM visibility WHERE namespace_id IN (SELECT key FROM namespace_keys WHERE id LIKE '%/" +
                            std::string(kScheduleDivision) + "'); DELETE FROM server_state WHERE key = '" + kScheduleVisibilityMarker + "';";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    EXPECT_EQ(sqlite3_changes(db), 1);  // the marker (after two visibility rows)
    sqlite3_close(db);
  }
  OpenEngine(path());
  StartScheduler();
  EXPECT_EQ(ListAll("SchedTeam = 'ops'"), std::vector<std::string>{"old-2"});
  EXPECT_EQ(Count(""), 2);
}

}  // namespace
}  // namespace temporalite::scheduler
