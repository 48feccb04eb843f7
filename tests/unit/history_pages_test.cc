// The history pages and the history long poll (history/history_pages.h) over a test HistoryReads
// (runs' events and rows in memory, reads counted, a storage error on demand), a SimClock-driven
// TimerService and a real HistoryCommits notified by the test in place of the engine's commit.
// The entry points' namespace and run lookups are engine_test.cc's; the wire, tests/compat's.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/cancel_hook.h"
#include "common/clock.h"
#include "common/timer_service.h"
#include "history/history_pages.h"
#include "history/state.pb.h"
#include "temporal/api/history/v1/message.pb.h"

namespace temporalite::history {
namespace {

namespace ev1 = ::temporal::api::enums::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

constexpr auto kLongPoll = std::chrono::seconds(20);

class TestHistoryReads final : public HistoryReads {
 public:
  Result<std::vector<persistence::EventRow>> ReadEvents(const std::string& run_id, int64_t first_event_id,
                                                        int64_t limit) override {
    if (!fail.ok()) return fail;
    std::vector<persistence::EventRow> out;
    const auto& events = runs[run_id].events;
    for (int64_t id = first_event_id; id <= static_cast<int64_t>(events.size()) && static_cast<int64_t>(out.size()) < limit;
         ++id) {
      out.push_back({run_id, id, events[id - 1]});
    }
    events_read += out.size();
    return out;
  }
  Result<std::optional<persistence::ExecutionRow>> GetExecution(const std::string& run_id) override {
    if (!fail.ok()) return fail;
    auto it = runs.find(run_id);
    if (it == runs.end()) return std::optional<persistence::ExecutionRow>();
    persistence::ExecutionRow row;
    row.run_id = run_id;
    row.open = it->second.completion_event_id == 0;
    state::ExecutionState st;
    st.set_run_id(run_id);
    st.set_next_event_id(static_cast<int64_t>(it->second.events.size()) + 1);
    st.set_completion_event_id(it->second.completion_event_id);
    row.state = st.SerializeAsString();
    return std::optional<persistence::ExecutionRow>(std::move(row));
  }

  // Appends event `type` (the next id) to the run, durable at once; a closing type closes it.
  void Append(const std::string& run_id, ev1::EventType type, bool closes = false) {
    auto& run = runs[run_id];
    ::temporal::api::history::v1::HistoryEvent e;
    e.set_event_id(static_cast<int64_t>(run.events.size()) + 1);
    e.set_event_type(type);
    run.events.push_back(e.SerializeAsString());
    if (closes) run.completion_event_id = e.event_id();
  }

  struct Run {
    std::vector<std::string> events;  // serialized, event id = index + 1
    int64_t completion_event_id = 0;  // 0: open
  };
  std::map<std::string, Run> runs;
  Status fail;  // non-OK: every read answers it
  size_t events_read = 0;
};

std::vector<int64_t> EventIds(const ::temporal::api::history::v1::History& h) {
  std::vector<int64_t> out;
  for (const auto& e : h.events()) out.push_back(e.event_id());
  return out;
}

class HistoryPagesTest : public ::testing::Test {
 protected:
  HistoryPagesTest()
      : clock_(TimePoint(std::chrono::hours(24 * 20000))), timers_(clock_),
        pages_(reads_, commits_, timers_, clock_, kLongPoll) {
    reads_.Append("run-1", ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    reads_.Append("run-1", ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    reads_.Append("run-1", ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED);
    reads_.Append("run-1", ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    reads_.Append("run-1", ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  }

  // A call in flight: its answer once `done` ran.
  struct Call {
    wsv1::GetWorkflowExecutionHistoryResponse resp;
    std::optional<Status> status;
    std::shared_ptr<CancelHook> cancel = std::make_shared<CancelHook>();
  };
  std::unique_ptr<Call> Get(const HistoryPosition& at, const wsv1::GetWorkflowExecutionHistoryRequest& req) {
    auto call = std::make_unique<Call>();
    Call* c = call.get();
    pages_.Get(at, req, &c->resp, [c](const Status& s) { c->status = s; }, c->cancel);
    return call;
  }
  static wsv1::GetWorkflowExecutionHistoryRequest Request(int32_t page_size, bool wait) {
    wsv1::GetWorkflowExecutionHistoryRequest req;
    req.set_maximum_page_size(page_size);
    req.set_wait_new_event(wait);
    return req;
  }
  // The position of a page's token.
  static HistoryPosition Next(const std::string& token, bool forward = true) {
    auto at = ParseHistoryPageToken(token, forward);
    EXPECT_TRUE(at.ok()) << at.status().message();
    return at.ok() ? at.value() : HistoryPosition{};
  }

  SimClock clock_;
  TimerService timers_;
  TestHistoryReads reads_;
  HistoryCommits commits_;
  HistoryPages pages_;
};

TEST_F(HistoryPagesTest, PagesFollowTheirTokensToTheEndOfAClosedRun) {
  reads_.Append("run-1", ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, /*closes=*/true);
  auto req = Request(4, /*wait=*/true);
  auto first = Get({"run-1", 1}, req);
  ASSERT_TRUE(first->status && first->status->ok());
  EXPECT_EQ(EventIds(first->resp.history()), (std::vector<int64_t>{1, 2, 3, 4}));
  ASSERT_FALSE(first->resp.next_page_token().empty());
  HistoryPosition at = Next(first->resp.next_page_token());
  EXPECT_EQ(at.run_id, "run-1");
  EXPECT_EQ(at.event_id, 5);
  auto last = Get(at, req);
  ASSERT_TRUE(last->status && last->status->ok());
  EXPECT_EQ(EventIds(last->resp.history()), (std::vector<int64_t>{5, 6}));
  EXPECT_TRUE(last->resp.next_page_token().empty()) << "a closed run's last page has no token, even when waiting";
  EXPECT_EQ(commits_.Count(), 0u);
}

TEST_F(HistoryPagesTest, AnOpenRunsLastPageHasATokenOnlyForACallerThatWaits) {
  auto once = Get({"run-1", 1}, Request(0, /*wait=*/false));
  ASSERT_TRUE(once->status && once->status->ok());
  EXPECT_EQ(EventIds(once->resp.history()), (std::vector<int64_t>{1, 2, 3, 4, 5})) << "the default page holds 256";
  EXPECT_TRUE(once->resp.next_page_token().empty());
  auto waiting = Get({"run-1", 1}, Request(0, /*wait=*/true));
  ASSERT_TRUE(waiting->status && waiting->status->ok()) << "events to return: no wait";
  EXPECT_EQ(Next(waiting->resp.next_page_token()).event_id, 6);
}

TEST_F(HistoryPagesTest, ALongPollIsAnsweredByTheRunsNextCommit) {
  auto call = Get({"run-1", 6}, Request(0, /*wait=*/true));
  EXPECT_FALSE(call->status) << "nothing new yet: the call waits";
  EXPECT_EQ(commits_.Count(), 1u);
  commits_.Notify("run-2", false);
  EXPECT_FALSE(call->status) << "another run's commit does not answer it";
  reads_.Append("run-1", ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  commits_.Notify("run-1", false);
  ASSERT_TRUE(call->status && call->status->ok());
  EXPECT_EQ(EventIds(call->resp.history()), (std::vector<int64_t>{6}));
  EXPECT_EQ(Next(call->resp.next_page_token()).event_id, 7);
  EXPECT_EQ(commits_.Count(), 0u);
}

TEST_F(HistoryPagesTest, ACommitWithNothingNewForThePageKeepsThePollWaiting) {
  auto call = Get({"run-1", 7}, Request(0, /*wait=*/true));
  reads_.Append("run-1", ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);  // event 6: before the page
  commits_.Notify("run-1", false);
  EXPECT_FALSE(call->status);
  EXPECT_EQ(commits_.Count(), 1u) << "the poll registered again for the next commit";
  reads_.Append("run-1", ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  commits_.Notify("run-1", false);
  ASSERT_TRUE(call->status && call->status->ok());
  EXPECT_EQ(EventIds(call->resp.history()), (std::vector<int64_t>{7}));
}

TEST_F(HistoryPagesTest, ALongPollEndsEmptyWithATokenAfterTheLongPollTime) {
  auto call = Get({"run-1", 6}, Request(0, /*wait=*/true));
  clock_.Advance(kLongPoll - std::chrono::milliseconds(1));
  timers_.RunDue();
  EXPECT_FALSE(call->status);
  clock_.Advance(std::chrono::milliseconds(1));
  timers_.RunDue();
  ASSERT_TRUE(call->status && call->status->ok());
  EXPECT_EQ(call->resp.history().events_size(), 0);
  EXPECT_EQ(Next(call->resp.next_page_token()).event_id, 6) << "the caller polls again from the same event";
  EXPECT_EQ(commits_.Count(), 0u);
}

TEST_F(HistoryPagesTest, TheCallersCancelEndsTheLongPollAndDropsItsRegistration) {
  auto call = Get({"run-1", 6}, Request(0, /*wait=*/true));
  ASSERT_EQ(commits_.Count(), 1u);
  call->cancel->Cancel();
  ASSERT_TRUE(call->status);
  EXPECT_EQ(call->status->code(), Code::kCancelled);
  EXPECT_EQ(commits_.Count(), 0u);
  reads_.Append("run-1", ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  commits_.Notify("run-1", false);  // nothing left to answer twice
  clock_.Advance(kLongPoll);
  timers_.RunDue();
  EXPECT_EQ(call->resp.history().events_size(), 0);
}

TEST_F(HistoryPagesTest, TheCloseEventFilterWaitsForTheCloseAndReturnsOnlyIt) {
  auto req = Request(0, /*wait=*/true);
  req.set_history_event_filter_type(ev1::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);
  auto call = Get({"run-1", 1}, req);
  EXPECT_FALSE(call->status) << "an open run has no close event yet";
  reads_.Append("run-1", ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  commits_.Notify("run-1", false);
  EXPECT_FALSE(call->status) << "a new event that is not the close does not answer";
  reads_.Append("run-1", ev1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, /*closes=*/true);
  commits_.Notify("run-1", true);
  ASSERT_TRUE(call->status && call->status->ok());
  ASSERT_EQ(call->resp.history().events_size(), 1);
  EXPECT_EQ(call->resp.history().events(0).event_id(), 7);
  EXPECT_EQ(call->resp.history().events(0).event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
  EXPECT_TRUE(call->resp.next_page_token().empty());

  auto open_no_wait = Get({"run-1", 1}, req);
  ASSERT_TRUE(open_no_wait->status && open_no_wait->status->ok());
  EXPECT_EQ(open_no_wait->resp.history().events_size(), 1) << "closed now: answered at once";
}

TEST_F(HistoryPagesTest, AStorageErrorIsTheAnswerNotAnEmptyPageOrAWait) {
  reads_.fail = Status(Code::kUnavailable, "disk I/O error");
  auto at_once = Get({"run-1", 1}, Request(0, /*wait=*/true));
  ASSERT_TRUE(at_once->status);
  EXPECT_EQ(at_once->status->code(), Code::kUnavailable);
  EXPECT_EQ(commits_.Count(), 0u);

  reads_.fail = Status::Ok();
  auto waiting = Get({"run-1", 6}, Request(0, /*wait=*/true));
  ASSERT_FALSE(waiting->status);
  reads_.fail = Status(Code::kUnavailable, "disk I/O error");
  commits_.Notify("run-1", false);
  ASSERT_TRUE(waiting->status);
  EXPECT_EQ(waiting->status->code(), Code::kUnavailable) << "the re-read after the commit failed";
  EXPECT_EQ(commits_.Count(), 0u);
}

TEST_F(HistoryPagesTest, ReversePagesGoNewestFirstReadingOnlyTheirEvents) {
  wsv1::GetWorkflowExecutionHistoryReverseRequest req;
  req.set_maximum_page_size(2);
  std::vector<std::vector<int64_t>> pages;
  HistoryPosition at{"run-1", INT64_MAX};
  for (int i = 0; i < 5; ++i) {
    wsv1::GetWorkflowExecutionHistoryReverseResponse resp;
    reads_.events_read = 0;
    ASSERT_TRUE(pages_.GetReverse(at, req, &resp).ok());
    EXPECT_LE(reads_.events_read, 2u) << "page " << i << " read more than its events";
    pages.push_back(EventIds(resp.history()));
    if (resp.next_page_token().empty()) break;
    at = Next(resp.next_page_token(), /*forward=*/false);
  }
  EXPECT_EQ(pages, (std::vector<std::vector<int64_t>>{{5, 4}, {3, 2}, {1}}));

  wsv1::GetWorkflowExecutionHistoryReverseResponse all;
  ASSERT_TRUE(pages_.GetReverse({"run-1", INT64_MAX}, wsv1::GetWorkflowExecutionHistoryReverseRequest(), &all).ok());
  EXPECT_EQ(EventIds(all.history()), (std::vector<int64_t>{5, 4, 3, 2, 1})) << "the default page holds 256";
  EXPECT_TRUE(all.next_page_token().empty());

  reads_.fail = Status(Code::kUnavailable, "disk I/O error");
  wsv1::GetWorkflowExecutionHistoryReverseResponse failed;
  EXPECT_EQ(pages_.GetReverse({"run-1", 3}, req, &failed).code(), Code::kUnavailable);
}

TEST_F(HistoryPagesTest, APageTokenThisServerDidNotGiveIsInvalid) {
  for (const std::string& bad : {std::string("not a token\xff"), HistoryPageToken({"", 3})}) {
    auto at = ParseHistoryPageToken(bad, /*forward=*/true);
    ASSERT_FALSE(at.ok());
    EXPECT_EQ(at.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(at.status().message(), "Invalid NextPageToken.");
  }
  EXPECT_FALSE(ParseHistoryPageToken(HistoryPageToken({"run-1", 0}), /*forward=*/true).ok())
      << "a forward page starts at event 1 or later";
  auto reverse = ParseHistoryPageToken(HistoryPageToken({"run-1", 0}), /*forward=*/false);
  ASSERT_TRUE(reverse.ok());
  EXPECT_EQ(reverse.value().run_id, "run-1");
}

TEST_F(HistoryPagesTest, CommitsWakeOnlyTheirRunsRegistrationsOnce) {
  std::vector<std::string> woken;
  commits_.Wait("a", [&](bool closed) { woken.push_back(closed ? "a closed" : "a"); });
  const uint64_t dropped = commits_.Wait("a", [&](bool) { woken.push_back("dropped"); });
  commits_.Wait("b", [&](bool) { woken.push_back("b"); });
  commits_.StopWaiting("a", dropped);
  EXPECT_EQ(commits_.Count(), 2u);
  commits_.Notify("a", true);
  commits_.Notify("a", false);
  EXPECT_EQ(woken, (std::vector<std::string>{"a closed"}));
  EXPECT_EQ(commits_.Count(), 1u);
}

}  // namespace
}  // namespace temporalite::history
