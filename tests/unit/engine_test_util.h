// Test harness for the history engine: a real SQLite store (in memory or in a temp directory), a
// SimClock and a TimerService driven by hand. Engine replies arrive on the store's writer thread,
// so every call here waits for its callback with a bounded wait; nothing sleeps.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/timer_service.h"
#include "gated_store.h"
#include "history/engine.h"
#include "matching/task_queues.h"
#include "persistence/store.h"
#include "temporal/api/command/v1/message.pb.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "temporal/api/failure/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"

namespace temporalite::history::testing {

namespace cmdv1 = ::temporal::api::command::v1;
namespace cv1 = ::temporal::api::common::v1;
namespace ev1 = ::temporal::api::enums::v1;
namespace fv1 = ::temporal::api::failure::v1;
namespace hv1 = ::temporal::api::history::v1;

// Upper bound for one engine callback to arrive on the writer thread. Never reached when the
// engine works; it only turns a lost reply into a test failure instead of a hang.
constexpr auto kCallbackWait = std::chrono::seconds(5);
constexpr char kNamespace[] = "default";
constexpr char kTaskQueue[] = "tq";
constexpr char kWorker[] = "worker-1";

inline std::chrono::seconds Sec(int64_t s) { return std::chrono::seconds(s); }
inline std::chrono::milliseconds Ms(int64_t ms) { return std::chrono::milliseconds(ms); }

// Short names for the tests; the conversions are common/proto_time.h's.
inline google::protobuf::Duration PbDur(Duration d) { return ToProtoDuration(d); }
inline Duration FromPb(const google::protobuf::Duration& d) { return FromProto(d); }
inline TimePoint FromPb(const google::protobuf::Timestamp& t) { return FromProto(t); }

inline cv1::Payloads TextPayloads(const std::string& text) {
  cv1::Payloads p;
  auto* one = p.add_payloads();
  (*one->mutable_metadata())["encoding"] = "json/plain";
  one->set_data("\"" + text + "\"");
  return p;
}

inline fv1::Failure AppFailure(const std::string& message, bool non_retryable = false) {
  fv1::Failure f;
  f.set_message(message);
  f.mutable_application_failure_info()->set_type("TestError");
  f.mutable_application_failure_info()->set_non_retryable(non_retryable);
  return f;
}

// --- Commands ---
inline cmdv1::Command ScheduleActivity(const std::string& id, Duration start_to_close,
                                       const std::function<void(cmdv1::ScheduleActivityTaskCommandAttributes&)>& edit = {}) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK);
  auto* a = c.mutable_schedule_activity_task_command_attributes();
  a->set_activity_id(id);
  a->mutable_activity_type()->set_name("TestActivity");
  *a->mutable_input() = TextPayloads("input-" + id);
  if (start_to_close > Duration::zero()) *a->mutable_start_to_close_timeout() = PbDur(start_to_close);
  if (edit) edit(*a);
  return c;
}
inline cmdv1::Command StartTimer(const std::string& id, Duration d) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_START_TIMER);
  c.mutable_start_timer_command_attributes()->set_timer_id(id);
  *c.mutable_start_timer_command_attributes()->mutable_start_to_fire_timeout() = PbDur(d);
  return c;
}
inline cmdv1::Command CancelTimer(const std::string& id) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_CANCEL_TIMER);
  c.mutable_cancel_timer_command_attributes()->set_timer_id(id);
  return c;
}
inline cmdv1::Command CompleteWorkflow(const std::string& result) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION);
  *c.mutable_complete_workflow_execution_command_attributes()->mutable_result() = TextPayloads(result);
  return c;
}
inline cmdv1::Command RequestCancelActivity(int64_t scheduled_event_id) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK);
  c.mutable_request_cancel_activity_task_command_attributes()->set_scheduled_event_id(scheduled_event_id);
  return c;
}

// --- History assertions ---
inline std::vector<ev1::EventType> Types(const std::vector<hv1::HistoryEvent>& events) {
  std::vector<ev1::EventType> out;
  for (const auto& e : events) out.push_back(e.event_type());
  return out;
}
inline std::string Describe(const std::vector<hv1::HistoryEvent>& events) {
  std::string s;
  for (const auto& e : events) s += "  " + std::to_string(e.event_id()) + " " + ev1::EventType_Name(e.event_type()) + "\n";
  return s;
}
// Ids 1..n, contiguous, each with an event_time.
inline ::testing::AssertionResult WellFormed(const std::vector<hv1::HistoryEvent>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].event_id() != static_cast<int64_t>(i + 1)) {
      return ::testing::AssertionFailure() << "event #" << i << " has id " << events[i].event_id() << "\n" << Describe(events);
    }
    if (!events[i].has_event_time() || events[i].event_time().seconds() == 0) {
      return ::testing::AssertionFailure() << "event " << events[i].event_id() << " has no event_time";
    }
  }
  return ::testing::AssertionSuccess();
}

#define EXPECT_TYPES(events, ...)                                                              \
  EXPECT_EQ(::temporalite::history::testing::Types(events), (std::vector<ev1::EventType>{__VA_ARGS__})) \
      << ::temporalite::history::testing::Describe(events)

// A poll in flight: the engine owns `waiter` until it calls finish exactly once.
template <typename Resp>
struct Poll {
  std::shared_ptr<matching::PollWaiter<Resp>> waiter;
  std::shared_ptr<Resp> resp;
  std::shared_future<Status> done;
  bool finished() const { return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
};

class EngineTest : public ::testing::Test {
 protected:
  // 2024-01-01T00:00:00Z.
  EngineTest() : clock_(TimePoint(std::chrono::seconds(1704067200))) {}

  void SetUp() override { OpenEngine(":memory:"); }
  void TearDown() override { CloseEngine(); }

  void OpenEngine(const std::string& path) {
    auto store = persistence::OpenSqliteStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    OpenEngineOn(std::move(store).value());
  }
  // An engine over `store` (a real store, or a wrapper of one such as GatedStore), recovered.
  void OpenEngineOn(std::unique_ptr<persistence::Store> store) {
    store_ = std::move(store);
    timers_ = std::make_unique<TimerService>(clock_);
    engine_ = std::make_unique<Engine>(*store_, clock_, *timers_, options_);
    Status s = engine_->Recover();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Drains the store (running every pending callback) before the engine they refer to goes.
  void CloseEngine() {
    if (store_) store_->Close();
    engine_.reset();
    timers_.reset();
    store_.reset();
  }

  // Waits until everything submitted to the store so far is durable and its callbacks have run.
  void Barrier() {
    Status s = store_->CommitSync(persistence::WriteBatch{});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Moves the clock, fires due timers, and waits for what they committed.
  void Advance(Duration d) {
    clock_.Advance(d);
    timers_->RunDue();
    Barrier();
  }

  // Runs an engine call taking a Done and waits for it. `resp` (if any) is owned by the callback
  // so a late reply after a timed-out wait cannot write to a dead object.
  template <typename Resp>
  Status Call(const std::function<void(Resp*, Done)>& fn, Resp* out) {
    auto resp = std::make_shared<Resp>();
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    fn(resp.get(), [p, resp](const Status& s) { p->set_value(s); });
    if (f.wait_for(kCallbackWait) != std::future_status::ready) {
      ADD_FAILURE() << "engine callback did not arrive";
      return Status(Code::kDeadlineExceeded, "test: engine callback did not arrive");
    }
    if (out) *out = *resp;
    return f.get();
  }
  Status Call(const std::function<void(Done)>& fn) {
    struct None {};
    return Call<None>([&fn](None*, Done d) { fn(std::move(d)); }, nullptr);
  }

  // --- Workflow lifecycle ---
  wsv1::StartWorkflowExecutionRequest StartRequest(const std::string& wid) {
    wsv1::StartWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.set_workflow_id(wid);
    req.mutable_workflow_type()->set_name("TestWorkflow");
    req.mutable_task_queue()->set_name(kTaskQueue);
    *req.mutable_input() = TextPayloads("workflow-input");
    req.set_identity("client");
    req.set_request_id("req-" + wid);
    return req;
  }
  Status Start(const wsv1::StartWorkflowExecutionRequest& req, wsv1::StartWorkflowExecutionResponse* resp) {
    return Call<wsv1::StartWorkflowExecutionResponse>(
        [&](auto* r, Done d) { engine_->StartWorkflowExecution(req, r, std::move(d)); }, resp);
  }
  // Starts a workflow and returns its run id.
  std::string StartWorkflow(const std::string& wid,
                            const std::function<void(wsv1::StartWorkflowExecutionRequest&)>& edit = {}) {
    auto req = StartRequest(wid);
    if (edit) edit(req);
    wsv1::StartWorkflowExecutionResponse resp;
    Status s = Start(req, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp.run_id();
  }
  Status Signal(const std::string& wid, const std::string& name) {
    wsv1::SignalWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_workflow_execution()->set_workflow_id(wid);
    req.set_signal_name(name);
    *req.mutable_input() = TextPayloads("signal-" + name);
    req.set_identity("client");
    req.set_request_id("sig-" + name);
    return Call([&](Done d) { engine_->SignalWorkflowExecution(req, std::move(d)); });
  }
  Status Terminate(const std::string& wid, const std::string& reason) {
    wsv1::TerminateWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_workflow_execution()->set_workflow_id(wid);
    req.set_reason(reason);
    req.set_identity("client");
    return Call([&](Done d) { engine_->TerminateWorkflowExecution(req, std::move(d)); });
  }
  wsv1::DescribeWorkflowExecutionResponse DescribeWf(const std::string& wid) {
    wsv1::DescribeWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id(wid);
    wsv1::DescribeWorkflowExecutionResponse resp;
    Status s = Call<wsv1::DescribeWorkflowExecutionResponse>(
        [&](auto* r, Done d) { engine_->DescribeWorkflowExecution(req, r, std::move(d)); }, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  // The durable history, as a client sees it (after a barrier, so timer-driven commits are in).
  std::vector<hv1::HistoryEvent> History(const std::string& wid) {
    Barrier();
    wsv1::GetWorkflowExecutionHistoryRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id(wid);
    req.set_maximum_page_size(1000);
    wsv1::GetWorkflowExecutionHistoryResponse resp;
    Status s = Call<wsv1::GetWorkflowExecutionHistoryResponse>(
        [&](auto* r, Done d) { engine_->GetWorkflowExecutionHistory(req, r, std::move(d)); }, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(resp.next_page_token().empty());
    return {resp.history().events().begin(), resp.history().events().end()};
  }

  // --- Workflow tasks ---
  // `sticky_queue` empty: the normal queue; else that sticky queue (kind STICKY).
  Poll<wsv1::PollWorkflowTaskQueueResponse> StartWftPoll(Duration max_wait = Sec(60),
                                                         const std::string& sticky_queue = "") {
    wsv1::PollWorkflowTaskQueueRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_task_queue()->set_name(sticky_queue.empty() ? kTaskQueue : sticky_queue);
    req.mutable_task_queue()->set_kind(sticky_queue.empty() ? ev1::TASK_QUEUE_KIND_NORMAL : ev1::TASK_QUEUE_KIND_STICKY);
    if (!sticky_queue.empty()) req.mutable_task_queue()->set_normal_name(kTaskQueue);
    req.set_identity(kWorker);
    auto poll = MakePoll<wsv1::PollWorkflowTaskQueueResponse>();
    engine_->PollWorkflowTaskQueue(req, poll.waiter, max_wait);
    return poll;
  }
  // Polls and expects a task to be delivered (now or by what the caller already arranged).
  wsv1::PollWorkflowTaskQueueResponse PollWft() { return Await(StartWftPoll()); }
  Status CompleteWft(const std::string& token, const std::vector<cmdv1::Command>& commands,
                     const std::function<void(wsv1::RespondWorkflowTaskCompletedRequest&)>& edit = {},
                     wsv1::RespondWorkflowTaskCompletedResponse* out = nullptr) {
    wsv1::RespondWorkflowTaskCompletedRequest req;
    req.set_task_token(token);
    req.set_identity(kWorker);
    req.set_namespace_(kNamespace);
    for (const auto& c : commands) *req.add_commands() = c;
    if (edit) edit(req);
    return Call<wsv1::RespondWorkflowTaskCompletedResponse>(
        [&](auto* r, Done d) { engine_->RespondWorkflowTaskCompleted(req, r, std::move(d)); }, out);
  }

  // --- Activities ---
  Poll<wsv1::PollActivityTaskQueueResponse> StartActivityPoll(Duration max_wait = Sec(60)) {
    wsv1::PollActivityTaskQueueRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_task_queue()->set_name(kTaskQueue);
    req.set_identity(kWorker);
    auto poll = MakePoll<wsv1::PollActivityTaskQueueResponse>();
    engine_->PollActivityTaskQueue(req, poll.waiter, max_wait);
    return poll;
  }
  wsv1::PollActivityTaskQueueResponse PollActivity() { return Await(StartActivityPoll()); }
  Status CompleteActivity(const std::string& token, const std::string& result) {
    wsv1::RespondActivityTaskCompletedRequest req;
    req.set_namespace_(kNamespace);
    req.set_task_token(token);
    req.set_identity(kWorker);
    *req.mutable_result() = TextPayloads(result);
    return Call([&](Done d) { engine_->RespondActivityTaskCompleted(req, std::move(d)); });
  }
  Status FailActivity(const std::string& token, const fv1::Failure& failure) {
    wsv1::RespondActivityTaskFailedRequest req;
    req.set_namespace_(kNamespace);
    req.set_task_token(token);
    req.set_identity(kWorker);
    *req.mutable_failure() = failure;
    return Call([&](Done d) { engine_->RespondActivityTaskFailed(req, std::move(d)); });
  }
  Status Heartbeat(const std::string& token, const std::string& details,
                   wsv1::RecordActivityTaskHeartbeatResponse* resp = nullptr) {
    wsv1::RecordActivityTaskHeartbeatRequest req;
    req.set_namespace_(kNamespace);
    req.set_task_token(token);
    req.set_identity(kWorker);
    *req.mutable_details() = TextPayloads(details);
    return Call<wsv1::RecordActivityTaskHeartbeatResponse>(
        [&](auto* r, Done d) { engine_->RecordActivityTaskHeartbeat(req, r, std::move(d)); }, resp);
  }
  Status CancelActivity(const std::string& token, const std::string& details) {
    wsv1::RespondActivityTaskCanceledRequest req;
    req.set_namespace_(kNamespace);
    req.set_task_token(token);
    req.set_identity(kWorker);
    *req.mutable_details() = TextPayloads(details);
    return Call([&](Done d) { engine_->RespondActivityTaskCanceled(req, std::move(d)); });
  }

  // Waits for a poll to finish OK and returns its response (empty on failure or expiry).
  template <typename Resp>
  Resp Await(const Poll<Resp>& poll) {
    if (poll.done.wait_for(kCallbackWait) != std::future_status::ready) {
      ADD_FAILURE() << "poll did not finish";
      return Resp();
    }
    Status s = poll.done.get();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return *poll.resp;
  }

  // Starts `wid`, takes its first workflow task and completes it with `commands`. Returns the
  // first task's response (started_event_id 3).
  wsv1::PollWorkflowTaskQueueResponse StartAndComplete(const std::string& wid,
                                                       const std::vector<cmdv1::Command>& commands) {
    StartWorkflow(wid);
    auto task = PollWft();
    EXPECT_EQ(task.started_event_id(), 3);
    Status s = CompleteWft(task.task_token(), commands);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return task;
  }

  SimClock clock_;
  EngineOptions options_;
  std::unique_ptr<persistence::Store> store_;
  std::unique_ptr<TimerService> timers_;
  std::unique_ptr<Engine> engine_;

  // A waiting RPC's handle (poll, query, update wait), for calls the helpers above do not wrap.
  template <typename Resp>
  static Poll<Resp> MakePoll() {
    Poll<Resp> poll;
    poll.resp = std::make_shared<Resp>();
    poll.waiter = std::make_shared<matching::PollWaiter<Resp>>(poll.resp.get());
    auto p = std::make_shared<std::promise<Status>>();
    poll.done = p->get_future().share();
    // Holds the response alive for as long as the engine may still write it.
    poll.waiter->finish = [p, resp = poll.resp](const Status& s) { p->set_value(s); };
    return poll;
  }
};

// An in-memory store behind a GatedStore (gated_store.h): tests hold its commits back or block
// its reads to act inside the engine's windows deterministically.
class GatedEngineTest : public EngineTest {
 protected:
  void SetUp() override { OpenGated(":memory:"); }
  void OpenGated(const std::string& path) {
    auto inner = persistence::OpenSqliteStore({.path = path});
    ASSERT_TRUE(inner.ok()) << inner.status().ToString();
    auto gate = std::make_unique<GatedStore>(std::move(inner).value());
    gate_ = gate.get();
    OpenEngineOn(std::move(gate));
  }

  GatedStore* gate_ = nullptr;
};

// A file-backed store in a fresh temp directory, removed afterwards.
class FileEngineTest : public EngineTest {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tl_engine_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    OpenEngine(path());
  }
  void TearDown() override {
    CloseEngine();
    std::filesystem::remove_all(dir_);
  }
  std::string path() const { return dir_ + "/temporalite.db"; }
  void Restart() {
    CloseEngine();
    OpenEngine(path());
  }

  std::string dir_;
};

}  // namespace temporalite::history::testing
