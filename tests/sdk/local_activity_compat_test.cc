// C++ SDK: local activities compatible with the official SDKs. Histories recorded by the
// TypeScript SDK (1.24) against this server by tests/sdk/ts-la/record.js (its workflows in
// tests/sdk/ts-la/workflows.js) replay in their C++ twins here.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdk_fixture.h"
#include "zlib_codec.h"

namespace sdk_test {
namespace {

std::string ReadData(const std::string& name) {
  // __FILE__ is relative to the compiler's directory (build/tests) when ccache's base dir is set.
  std::filesystem::path here = std::filesystem::path(__FILE__).parent_path();
  if (here.is_relative()) here = std::filesystem::path(TEMPORALITE_DEFAULT_BIN).parent_path() / "tests" / here;
  std::ifstream in(here / "testdata" / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json MarkerData(const HistoryEvent& e) {
  return nlohmann::json::parse(e.marker_recorded_event_attributes().details().at("data").payloads(0).data());
}

// ---- 1. one seq counter for activities and local activities ----

// The C++ twin of tsMixedActivities: activity 1, local activity 2, timer 1, local activity 3
// and activity 4 started together.
Task<std::string> MixedActivities(WorkflowContext& ctx, int n) {
  ActivityOptions ao;
  ao.start_to_close = 10s;
  LocalActivityOptions lo;
  lo.start_to_close = 10s;
  auto fa = ctx.ExecuteActivity<int>("addOne", ao, n);
  int a = co_await fa;
  auto fb = ctx.ExecuteLocalActivity<int>("addOne", lo, a);
  int b = co_await fb;
  auto t = ctx.Sleep(10ms);
  co_await t;
  auto fc = ctx.ExecuteLocalActivity<int>("addOne", lo, b);
  auto fd = ctx.ExecuteActivity<int>("addOne", ao, b);
  int c = co_await fc;
  int d = co_await fd;
  co_return std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(c) + " " + std::to_string(d);
}

TEST(LocalActivityCompat, ATypeScriptHistoryMixingActivitiesAndLocalActivitiesReplays) {
  const std::string json = ReadData("ts_mixed_activities_history.json");
  ASSERT_FALSE(json.empty());
  auto events = Replayer::ParseHistoryJson(json);
  std::vector<int64_t> seqs;
  for (const auto& e : events) {
    if (e.has_marker_recorded_event_attributes()) seqs.push_back(MarkerData(e)["seq"].get<int64_t>());
  }
  EXPECT_EQ(seqs, (std::vector<int64_t>{2, 3})) << "the TS SDK numbers local activities after activities";
  Replayer r;
  r.RegisterWorkflow("tsMixedActivities", MixedActivities);
  EXPECT_NO_THROW(r.ReplayHistoryJson(json));
}

TEST_F(SdkTest, ActivitiesAndLocalActivitiesShareTheirSeqNumbersAsInTheTypeScriptSdk) {
  auto w = NewWorker();
  w->RegisterWorkflow("tsMixedActivities", MixedActivities);
  w->RegisterActivity("addOne", [](int v) { return v + 1; });
  w->Start();
  auto h = client_->Start("tsMixedActivities", Opts("la-mixed-1"), 1);
  EXPECT_EQ(h.Result<std::string>(30s), "2 3 4 4");
  std::vector<std::string> ids;
  for (const auto& e : h.FetchHistory()) {
    if (e.has_marker_recorded_event_attributes()) ids.push_back("la" + MarkerData(e)["activity_id"].get<std::string>());
    if (e.has_activity_task_scheduled_event_attributes()) ids.push_back(e.activity_task_scheduled_event_attributes().activity_id());
    if (e.has_timer_started_event_attributes()) ids.push_back("t" + e.timer_started_event_attributes().timer_id());
  }
  // The same numbers as the recorded TS history (the order within a task may differ).
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "4", "la2", "la3", "t1"}));
}

// ---- 2. marker data stays plain under a payload codec (results are encoded) ----

std::string Encoding(const Payloads& p) { return p.payloads(0).metadata().at("encoding"); }

TEST(LocalActivityCompat, ATypeScriptHistoryWithACodecKeepsMarkerDataPlainAndReplays) {
  auto events = Replayer::ParseHistoryJson(ReadData("ts_mixed_activities_codec_history.json"));
  ASSERT_FALSE(events.empty());
  int markers = 0;
  for (const auto& e : events) {
    if (!e.has_marker_recorded_event_attributes()) continue;
    ++markers;
    const auto& d = e.marker_recorded_event_attributes().details();
    EXPECT_EQ(Encoding(d.at("data")), "json/plain") << "sdk-core leaves the marker's data unencoded";
    EXPECT_EQ(Encoding(d.at("result")), "binary/zlib") << "the result goes through the codec";
  }
  EXPECT_EQ(markers, 2);
  PayloadCodecs codecs{std::make_shared<ZlibCodec>()};
  for (auto& e : events) DecodePayloadsIn(codecs, &e);
  Replayer r;
  r.RegisterWorkflow("tsMixedActivities", MixedActivities);
  EXPECT_NO_THROW(r.ReplayHistory(events));
}

TEST_F(SdkTest, LocalActivityMarkerDataIsNotEncodedByPayloadCodecs) {
  ClientOptions co;
  co.address = server_->address();
  co.codecs = {std::make_shared<ZlibCodec>()};
  auto coded = Client::Connect(co);
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  Worker w(coded, wo);
  w.RegisterWorkflow("tsMixedActivities", MixedActivities);
  w.RegisterActivity("addOne", [](int v) { return v + 1; });
  w.Start();
  auto h = coded->Start("tsMixedActivities", Opts("la-codec-1"), 5);
  EXPECT_EQ(h.Result<std::string>(30s), "6 7 8 8");
  // As stored: the data plain, the result encoded, as in the TS SDK's history above.
  int markers = 0;
  for (const auto& e : client_->GetHandle("la-codec-1").FetchHistory()) {
    if (!e.has_marker_recorded_event_attributes()) continue;
    ++markers;
    const auto& d = e.marker_recorded_event_attributes().details();
    EXPECT_EQ(Encoding(d.at("data")), "json/plain");
    EXPECT_EQ(Encoding(d.at("result")), "binary/zlib");
  }
  EXPECT_EQ(markers, 2);
  Replayer r;
  r.RegisterWorkflow("tsMixedActivities", MixedActivities);
  EXPECT_NO_THROW(r.ReplayHistory(h.FetchHistory()));  // decoded by the codec's client
}

// ---- 3. a backoff past the local retry threshold: a timer, then a new local activity ----

// The C++ twin of tsLocalBackoff: a 300 ms backoff over a 100 ms threshold.
Task<std::string> LocalBackoff(WorkflowContext& ctx, std::string key) {
  LocalActivityOptions o;
  o.start_to_close = 10s;
  o.local_retry_threshold = 100ms;
  o.retry_policy = RetryPolicy{.initial_interval = 300ms, .backoff_coefficient = 1, .maximum_attempts = 3};
  auto a = ctx.ExecuteLocalActivity<std::string>("failOnce", o, key);
  co_return co_await a;
}

TEST(LocalActivityCompat, ATypeScriptHistoryWithALocalActivityBackoffTimerReplays) {
  const std::string json = ReadData("ts_local_backoff_history.json");
  ASSERT_FALSE(json.empty());
  Replayer r;
  r.RegisterWorkflow("tsLocalBackoff", LocalBackoff);
  EXPECT_NO_THROW(r.ReplayHistoryJson(json));
}

std::mutex g_fail_once_mu;
std::set<std::string> g_failed_once;
std::vector<int> g_fail_once_attempts;

TEST_F(SdkTest, ALocalActivityBackoffPastTheThresholdIsATimerAndANewLocalActivity) {
  {  // a repeated run (--gtest_repeat) starts from nothing failed
    std::lock_guard<std::mutex> l(g_fail_once_mu);
    g_failed_once.clear();
    g_fail_once_attempts.clear();
  }
  auto w = NewWorker();
  w->RegisterWorkflow("tsLocalBackoff", LocalBackoff);
  w->RegisterActivity("failOnce", [](ActivityContext& ctx, std::string key) {
    std::lock_guard<std::mutex> l(g_fail_once_mu);
    g_fail_once_attempts.push_back(ctx.info().attempt);
    if (g_failed_once.insert(key).second) throw std::runtime_error("first attempt fails");
    return "ok " + key;
  });
  w->Start();
  auto h = client_->Start("tsLocalBackoff", Opts("la-backoff-1"), std::string("c"));
  EXPECT_EQ(h.Result<std::string>(30s), "ok c");
  EXPECT_EQ(g_fail_once_attempts, (std::vector<int>{1, 2}));
  // The shape of the TypeScript SDK's history: a failed marker with the backoff, timer 1 of
  // 300 ms, then local activity 2 with attempt 2 and the first one's schedule time.
  std::vector<std::string> shape;
  std::vector<nlohmann::json> data;
  for (const auto& e : h.FetchHistory()) {
    if (e.has_marker_recorded_event_attributes()) {
      data.push_back(MarkerData(e));
      shape.push_back(e.marker_recorded_event_attributes().has_failure() ? "failed-marker" : "marker");
    }
    if (e.has_timer_started_event_attributes()) {
      const auto& t = e.timer_started_event_attributes();
      shape.push_back("timer" + t.timer_id() + ":" + std::to_string(t.start_to_fire_timeout().nanos() / 1000000));
    }
  }
  EXPECT_EQ(shape, (std::vector<std::string>{"failed-marker", "timer1:300", "marker"}));
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0]["seq"], 1);
  EXPECT_EQ(data[0]["attempt"], 1);
  EXPECT_EQ(data[0]["backoff"]["nanos"], 300000000);
  EXPECT_EQ(data[1]["seq"], 2);
  EXPECT_EQ(data[1]["attempt"], 2);
  EXPECT_TRUE(data[1]["backoff"].is_null());
  EXPECT_EQ(data[1]["original_schedule_time"], data[0]["original_schedule_time"]);
  Replayer r;
  r.RegisterWorkflow("tsLocalBackoff", LocalBackoff);
  EXPECT_NO_THROW(r.ReplayHistory(h.FetchHistory()));
}

// ---- 4. local activities started together run together ----

std::atomic<int> g_running{0}, g_max_running{0};

Task<std::string> TwoTogether(WorkflowContext& ctx) {
  LocalActivityOptions lo;
  lo.start_to_close = 10s;
  auto a = ctx.ExecuteLocalActivity<int>("Overlap", lo, 1);
  auto b = ctx.ExecuteLocalActivity<int>("Overlap", lo, 2);
  int x = co_await a;
  int y = co_await b;
  co_return std::to_string(x + y);
}

int Overlap(int v) {
  int now = ++g_running;
  for (int m = g_max_running; now > m && !g_max_running.compare_exchange_weak(m, now);) {
  }
  std::this_thread::sleep_for(600ms);
  --g_running;
  return v * 10;
}

TEST_F(SdkTest, LocalActivitiesStartedTogetherRunConcurrentlyUpToTheWorkersBound) {
  for (int bound : {100, 1}) {
    g_max_running = 0;
    WorkerOptions wo;
    wo.task_queue = task_queue_ + std::to_string(bound);
    wo.max_concurrent_local_activities = bound;
    Worker w(client_, wo);
    w.RegisterWorkflow("TwoTogether", TwoTogether);
    w.RegisterActivity("Overlap", Overlap);
    w.Start();
    auto o = Opts("la-together-" + std::to_string(bound));
    o.task_queue = wo.task_queue;
    auto h = client_->Start("TwoTogether", o);
    EXPECT_EQ(h.Result<std::string>(30s), "30");
    EXPECT_EQ(g_max_running.load(), std::min(bound, 2)) << "bound " << bound;
    int markers = 0;
    for (const auto& e : h.FetchHistory()) markers += e.has_marker_recorded_event_attributes();
    EXPECT_EQ(markers, 2);
    Replayer r;
    r.RegisterWorkflow("TwoTogether", TwoTogether);
    EXPECT_NO_THROW(r.ReplayHistory(h.FetchHistory()));
  }
}

// ---- 5. cancelling a running local activity ----

std::atomic<bool> g_saw_cancel{false}, g_until_done{false};

// Cancels a running local activity ("UntilCancelled") of the given cancellation type once
// another one ends.
Task<std::string> CancelRunningLocal(WorkflowContext& ctx, int type) {
  auto scope = ctx.NewCancellationScope();
  LocalActivityOptions slow;
  slow.start_to_close = 10s;
  slow.scope = scope;
  slow.cancellation_type = static_cast<ActivityCancellationType>(type);
  slow.retry_policy = RetryPolicy{.maximum_attempts = 1};
  LocalActivityOptions quick;
  quick.start_to_close = 10s;
  auto s = ctx.ExecuteLocalActivity<std::string>("UntilCancelled", slow);
  auto q = ctx.ExecuteLocalActivity<int>("Overlap", quick, 0);
  co_await q;
  scope.Cancel();
  std::string out;
  try {
    out = co_await s;
  } catch (const ActivityFailure& f) {
    out = dynamic_cast<CanceledFailure*>(f.cause().get()) ? "cancelled" : "failed";
  }
  co_return out;
}

// Returns "acknowledged" 300 ms after its context is cancelled, "finished" after 2 s otherwise.
std::string UntilCancelled(ActivityContext& ctx) {
  std::string out = "finished";
  for (int i = 0; i < 200; ++i) {
    if (ctx.IsCancelled()) {
      g_saw_cancel = true;
      std::this_thread::sleep_for(300ms);
      out = "acknowledged";
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  g_until_done = true;
  return out;
}

TEST_F(SdkTest, CancellingARunningLocalActivityFollowsItsCancellationType) {
  auto w = NewWorker();
  w->RegisterWorkflow("CancelRunningLocal", CancelRunningLocal);
  w->RegisterActivity("Overlap", Overlap);
  w->RegisterActivity("UntilCancelled", UntilCancelled);
  w->Start();
  struct Case {
    ActivityCancellationType type;
    std::string result;
    bool saw_cancel;
  };
  for (const Case& c : {Case{ActivityCancellationType::kTryCancel, "cancelled", true},
                        Case{ActivityCancellationType::kWaitCancellationCompleted, "acknowledged", true},
                        Case{ActivityCancellationType::kAbandon, "cancelled", false}}) {
    g_saw_cancel = false;
    g_until_done = false;
    const std::string id = "la-cancel-" + std::to_string(static_cast<int>(c.type));
    auto h = client_->Start("CancelRunningLocal", Opts(id), static_cast<int>(c.type));
    EXPECT_EQ(h.Result<std::string>(30s), c.result) << id;
    for (int i = 0; i < 500 && !g_until_done; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(g_until_done.load());
    EXPECT_EQ(g_saw_cancel.load(), c.saw_cancel) << id;
    // One marker per local activity; the cancelled one records the cancellation (or, waited
    // for, the activity's own outcome).
    std::map<int64_t, bool> failed;  // by seq
    for (const auto& e : h.FetchHistory()) {
      if (e.has_marker_recorded_event_attributes()) {
        failed[MarkerData(e)["seq"].get<int64_t>()] = e.marker_recorded_event_attributes().has_failure();
      }
    }
    EXPECT_EQ(failed, (std::map<int64_t, bool>{{1, c.result == "cancelled"}, {2, false}})) << id;
    Replayer r;
    r.RegisterWorkflow("CancelRunningLocal", CancelRunningLocal);
    EXPECT_NO_THROW(r.ReplayHistory(h.FetchHistory())) << id;
  }
}

}  // namespace
}  // namespace sdk_test
