// DescribeTaskQueue's answer as a function of a hand-built queue of matching
// (history/task_queue_describe.h): the pollers within Temporal's 5 minutes, the live backlog's
// count and age, the rates, the legacy status and the config. The entry point (the namespace, the
// queue's type, the backlog judged against real runs) is engine_matching_test.cc's and
// tests/compat's.
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "history/proto_time.h"
#include "history/task_queue_describe.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kNow = TimePoint(std::chrono::hours(24 * 20000));

class TaskQueueDescribeTest : public ::testing::Test {
 protected:
  // A backlog entry for run `run_id`: live and scheduled at `since`, or stale (nullopt).
  void Backlog(const std::string& run_id, std::optional<TimePoint> since, const std::string& query_id = "") {
    queue_.backlog.push_back(matching::PendingTask{.run_id = run_id, .scheduled_event_id = 5, .query_id = query_id});
    if (since) live_[run_id] = *since;
  }
  wsv1::DescribeTaskQueueResponse Describe(const wsv1::DescribeTaskQueueRequest& req, matching::QueueState* q) {
    wsv1::DescribeTaskQueueResponse resp;
    DescribeQueue(q, req, kNow, [&](const matching::PendingTask& t) -> std::optional<TimePoint> {
      ++judged;
      auto it = live_.find(t.run_id);
      if (it == live_.end()) return std::nullopt;
      return it->second;
    }, &resp);
    return resp;
  }
  static wsv1::DescribeTaskQueueRequest Stats() {
    wsv1::DescribeTaskQueueRequest req;
    req.set_report_stats(true);
    return req;
  }

  matching::QueueState queue_;
  std::map<std::string, TimePoint> live_;
  int judged = 0;
};

TEST_F(TaskQueueDescribeTest, PollersSeenWithinFiveMinutesWithTheirRatesOlderOnesForgotten) {
  queue_.recent_pollers["w1"] = {"w1", kNow - seconds(10), 0};
  queue_.recent_pollers["w2"] = {"w2", kNow - minutes(5), 25.5};
  queue_.recent_pollers["gone"] = {"gone", kNow - minutes(5) - seconds(1), 0};
  auto resp = Describe(wsv1::DescribeTaskQueueRequest(), &queue_);
  ASSERT_EQ(resp.pollers_size(), 2);
  EXPECT_EQ(resp.pollers(0).identity(), "w1");
  EXPECT_EQ(FromProto(resp.pollers(0).last_access_time()), kNow - seconds(10));
  EXPECT_EQ(resp.pollers(0).rate_per_second(), 100000.0) << "Temporal's rate for a poller that set none";
  EXPECT_EQ(resp.pollers(1).identity(), "w2");
  EXPECT_EQ(resp.pollers(1).rate_per_second(), 25.5);
  EXPECT_EQ(queue_.recent_pollers.count("gone"), 0u) << "a poller past the TTL is forgotten";
  EXPECT_FALSE(resp.has_stats()) << "stats only when asked";
  EXPECT_FALSE(resp.has_task_queue_status());
  EXPECT_FALSE(resp.has_config());
}

TEST_F(TaskQueueDescribeTest, TheBacklogCountsLiveTasksAndItsAgeIsTheOldestsSkippingStaleAndQueryEntries) {
  Backlog("a", kNow - seconds(3));
  Backlog("stale", std::nullopt);
  Backlog("b", kNow - seconds(40));
  Backlog("q", kNow - seconds(600), /*query_id=*/"query-1");
  auto resp = Describe(Stats(), &queue_);
  EXPECT_EQ(resp.stats().approximate_backlog_count(), 2);
  EXPECT_EQ(FromProto(resp.stats().approximate_backlog_age()), seconds(40));
  EXPECT_EQ(judged, 3) << "a legacy query task is not judged: it is never backlog";
}

TEST_F(TaskQueueDescribeTest, RatesAreTasksPerSecondOverTheLastThirtySeconds) {
  for (int i = 0; i < 60; ++i) queue_.added.Add(kNow - seconds(i % 10));
  for (int i = 0; i < 15; ++i) queue_.dispatched.Add(kNow - seconds(1));
  queue_.dispatched.Add(kNow - seconds(45));  // outside the window
  auto resp = Describe(Stats(), &queue_);
  EXPECT_FLOAT_EQ(resp.stats().tasks_add_rate(), 2.0f);
  EXPECT_FLOAT_EQ(resp.stats().tasks_dispatch_rate(), 0.5f);
  EXPECT_EQ(resp.stats().approximate_backlog_count(), 0);
  EXPECT_FALSE(resp.stats().has_approximate_backlog_age()) << "no backlog, no age";
}

TEST_F(TaskQueueDescribeTest, LegacyStatusAndConfigWhenAsked) {
  Backlog("a", kNow - seconds(3));
  Backlog("b", kNow);
  wsv1::DescribeTaskQueueRequest req;
  req.set_include_task_queue_status(true);
  req.set_report_config(true);
  auto resp = Describe(req, &queue_);
  EXPECT_EQ(resp.task_queue_status().backlog_count_hint(), 2);
  EXPECT_EQ(resp.task_queue_status().rate_per_second(), 100000.0);
  EXPECT_TRUE(resp.has_config());
  EXPECT_EQ(resp.config().ByteSizeLong(), 0u) << "no per-queue rate limits or fairness on this server";
  EXPECT_FALSE(resp.has_stats());
}

TEST_F(TaskQueueDescribeTest, AQueueNeverUsedHasNoPollersAndAnEmptyBacklog) {
  auto req = Stats();
  req.set_include_task_queue_status(true);
  auto resp = Describe(req, nullptr);
  EXPECT_EQ(resp.pollers_size(), 0);
  EXPECT_TRUE(resp.has_stats());
  EXPECT_EQ(resp.stats().approximate_backlog_count(), 0);
  EXPECT_EQ(resp.stats().tasks_add_rate(), 0.f);
  EXPECT_EQ(resp.task_queue_status().backlog_count_hint(), 0);
  EXPECT_EQ(judged, 0);
}

}  // namespace
}  // namespace temporalite::history
