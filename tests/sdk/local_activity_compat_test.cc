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

}  // namespace
}  // namespace sdk_test
