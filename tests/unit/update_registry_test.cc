// The update registry (history/update_registry.h) as a unit over its narrow interface: a run's
// MutableState built by hand, a SimClock and a hand-driven TimerService, and a small
// EngineContext (test_engine_context.h) that records what the registry asked of the engine (a
// workflow task; replies after commit) instead of a whole engine. A "commit" is the test running
// the transaction's after_commit callbacks (Commit). The engine-level behaviour of the update
// RPCs is engine_update_test.cc's.
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/thread_annotations.h"
#include "common/timer_service.h"
#include "execution_test_util.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "history/txn.h"
#include "history/update_registry.h"
#include "test_engine_context.h"

namespace temporalite::history {
namespace {

namespace pv1 = ::temporal::api::protocol::v1;
namespace uv1 = ::temporal::api::update::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;
using Response = wsv1::UpdateWorkflowExecutionResponse;

constexpr auto kAdmitted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
constexpr auto kAccepted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
constexpr auto kCompleted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;

struct Waiting {
  std::shared_ptr<Response> resp = std::make_shared<Response>();
  std::shared_ptr<matching::PollWaiter<Response>> waiter = std::make_shared<matching::PollWaiter<Response>>(resp.get());
  std::shared_ptr<std::promise<Status>> promise = std::make_shared<std::promise<Status>>();
  std::shared_future<Status> done = promise->get_future().share();
  Waiting() {
    waiter->finish = [p = promise, r = resp](const Status& s) { p->set_value(s); };
  }
  bool finished() const { return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
};

class UpdateRegistryTest : public ::testing::Test {
 protected:
  UpdateRegistryTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_) {
    EditState(run_, [&](state::ExecutionState& s) {
      s.set_run_id("run-1");
      s.set_workflow_id("wf-1");
      s.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
      s.set_next_event_id(1);
    });
    run_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, clock_.Now());
  }

  UpdateRegistry& Registry(UpdateRegistry::Limits limits = {}) {
    registry_ = std::make_unique<UpdateRegistry>(mu_, context_, limits);
    return *registry_;
  }
  static wsv1::UpdateWorkflowExecutionRequest Request(const std::string& update_id,
                                                      ev1::UpdateWorkflowExecutionLifecycleStage wait,
                                                      const std::string& args = "x") {
    wsv1::UpdateWorkflowExecutionRequest req;
    req.mutable_workflow_execution()->set_workflow_id("wf-1");
    req.mutable_wait_policy()->set_lifecycle_stage(wait);
    req.mutable_request()->mutable_meta()->set_update_id(update_id);
    req.mutable_request()->mutable_input()->set_name("increment");
    req.mutable_request()->mutable_input()->mutable_args()->add_payloads()->set_data(args);
    return req;
  }
  Status Admit(Txn& txn, const wsv1::UpdateWorkflowExecutionRequest& req, const Waiting& w) {
    MutexLock l(mu_);
    return registry_->Admit(txn, run_, req, w.waiter, UpdateRegistry::FillInto(w.resp.get()));
  }
  static void Commit(Txn& txn) {
    for (auto& f : txn.after_commit) f();
    txn.after_commit.clear();
  }
  // The worker's message for the update whose request a task carried.
  static pv1::Message Accept(const pv1::Message& request) {
    uv1::Acceptance acc;
    acc.set_accepted_request_message_id(request.id());
    request.body().UnpackTo(acc.mutable_accepted_request());
    pv1::Message m;
    m.set_id(request.protocol_instance_id() + "/accept");
    m.set_protocol_instance_id(request.protocol_instance_id());
    m.mutable_body()->PackFrom(acc);
    return m;
  }
  static pv1::Message Respond(const std::string& update_id, const std::string& result) {
    uv1::Response res;
    res.mutable_meta()->set_update_id(update_id);
    res.mutable_outcome()->mutable_success()->add_payloads()->set_data(result);
    pv1::Message m;
    m.set_id(update_id + "/complete");
    m.set_protocol_instance_id(update_id);
    m.mutable_body()->PackFrom(res);
    return m;
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  Execution run_;
  std::unique_ptr<UpdateRegistry> registry_;
};

TEST_F(UpdateRegistryTest, AdmitDeliverAcceptComplete) {
  Registry();
  Txn txn;
  Waiting accepted, completed;
  ASSERT_TRUE(Admit(txn, Request("u1", kAccepted), accepted).ok());
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);  // an admitted update needs a workflow task
  ASSERT_TRUE(Admit(txn, Request("u1", kCompleted), completed).ok());  // same id: waits on it
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  EXPECT_EQ(run_.admitted_updates, std::vector<std::string>{"u1"});

  wsv1::PollWorkflowTaskQueueResponse task;
  Txn accept_txn;
  {
    MutexLock l(mu_);
    EXPECT_TRUE(registry_->HasUndelivered(run_));
    registry_->AttachToTask(run_, 3, &task);
    EXPECT_FALSE(registry_->HasUndelivered(run_));
    ASSERT_EQ(task.messages_size(), 1);
    EXPECT_EQ(task.messages(0).protocol_instance_id(), "u1");
    EXPECT_EQ(task.messages(0).event_id(), 2);
    registry_->ApplyProtocolMessage(accept_txn, run_, Accept(task.messages(0)));
  }
  ASSERT_EQ(run_.events.size(), 2u);
  EXPECT_EQ(run_.events[1].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  EXPECT_TRUE(run_.admitted_updates.empty());
  EXPECT_FALSE(accepted.finished()) << "answered before the transaction's commit";
  Commit(accept_txn);
  ASSERT_TRUE(accepted.finished());
  EXPECT_TRUE(accepted.done.get().ok());
  EXPECT_EQ(accepted.resp->stage(), kAccepted);
  EXPECT_FALSE(completed.finished());

  Txn complete_txn;
  {
    MutexLock l(mu_);
    registry_->ApplyProtocolMessage(complete_txn, run_, Respond("u1", "done"));
  }
  EXPECT_EQ(run_.events.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
  EXPECT_EQ(run_.events.back().workflow_execution_update_completed_event_attributes().accepted_event_id(), 2);
  Commit(complete_txn);
  ASSERT_TRUE(completed.finished());
  EXPECT_EQ(completed.resp->stage(), kCompleted);
  EXPECT_EQ(completed.resp->outcome().success().payloads(0).data(), "done");
  EXPECT_EQ(registry_->size(), 0u);  // completed updates live on in history only
}

TEST_F(UpdateRegistryTest, RecoversFromHistoryAndUnknownIsNotFound) {
  Registry();
  auto* acc = run_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, clock_.Now());
  acc->mutable_workflow_execution_update_accepted_event_attributes()->set_protocol_instance_id("old");
  auto* done = run_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, clock_.Now());
  done->mutable_workflow_execution_update_completed_event_attributes()->mutable_meta()->set_update_id("old");
  done->mutable_workflow_execution_update_completed_event_attributes()->mutable_outcome()->mutable_success()
      ->add_payloads()->set_data("earlier");
  Waiting poll, missing;
  MutexLock l(mu_);
  ASSERT_TRUE(registry_->Poll(run_, "old", kCompleted, poll.waiter, UpdateRegistry::FillInto(poll.resp.get())).ok());
  ASSERT_TRUE(poll.finished());
  EXPECT_EQ(poll.resp->stage(), kCompleted);
  EXPECT_EQ(poll.resp->outcome().success().payloads(0).data(), "earlier");
  Status s = registry_->Poll(run_, "nope", kCompleted, missing.waiter, UpdateRegistry::FillInto(missing.resp.get()));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_FALSE(missing.finished());  // an error leaves the waiter to the caller
}

TEST_F(UpdateRegistryTest, LimitsInFlightTotalAndPayload) {
  Registry({.max_in_flight = 2, .max_total = 2, .max_in_flight_payloads = 0});
  Txn txn;
  Waiting a, b, c;
  ASSERT_TRUE(Admit(txn, Request("a", kAdmitted), a).ok());
  ASSERT_TRUE(Admit(txn, Request("b", kAdmitted), b).ok());
  EXPECT_EQ(Admit(txn, Request("c", kAdmitted), c).code(), Code::kResourceExhausted);
  // "b" is accepted and completed: one in flight again, but the total counts it.
  {
    MutexLock l(mu_);
    wsv1::PollWorkflowTaskQueueResponse task;
    registry_->AttachToTask(run_, 3, &task);
    ASSERT_EQ(task.messages_size(), 2);
    registry_->ApplyProtocolMessage(txn, run_, Accept(task.messages(1)));
    registry_->ApplyProtocolMessage(txn, run_, Respond("b", "ok"));
  }
  EXPECT_EQ(run_.admitted_updates, std::vector<std::string>{"a"});
  EXPECT_EQ(Admit(txn, Request("c", kAdmitted), c).code(), Code::kFailedPrecondition);

  Registry({.max_in_flight = 0, .max_total = 0, .max_in_flight_payloads = 200});
  run_.admitted_updates.clear();
  Waiting d, e;
  ASSERT_TRUE(Admit(txn, Request("d", kAdmitted, std::string(60, 'd')), d).ok());
  Status s = Admit(txn, Request("e", kAdmitted, std::string(120, 'e')), e);
  EXPECT_EQ(s.code(), Code::kResourceExhausted) << s.ToString();
}

TEST_F(UpdateRegistryTest, LongPollAnswersWithTheStageReached) {
  Registry({.long_poll = std::chrono::seconds(20)});
  Txn txn;
  Waiting w;
  ASSERT_TRUE(Admit(txn, Request("u1", kCompleted), w).ok());
  clock_.Advance(std::chrono::seconds(19));
  context_.timers().RunDue();
  EXPECT_FALSE(w.finished());
  clock_.Advance(std::chrono::seconds(1));
  context_.timers().RunDue();  // takes mu_ itself, as the engine's timers do
  ASSERT_TRUE(w.finished());
  EXPECT_TRUE(w.done.get().ok());
  EXPECT_EQ(w.resp->stage(), kAdmitted);
}

TEST_F(UpdateRegistryTest, SettleAfterTaskRejectsIgnoredAndFailsOnClose) {
  Registry();
  Txn txn;
  Waiting ignored, open_wait;
  ASSERT_TRUE(Admit(txn, Request("ignored", kCompleted), ignored).ok());
  wsv1::PollWorkflowTaskQueueResponse task;
  {
    MutexLock l(mu_);
    registry_->AttachToTask(run_, 3, &task);
  }
  ASSERT_TRUE(Admit(txn, Request("later", kCompleted), open_wait).ok());  // admitted while the task ran
  Txn settle;
  {
    MutexLock l(mu_);
    registry_->SettleAfterTask(settle, run_, /*task_completed=*/true);
    EXPECT_TRUE(registry_->HasUndelivered(run_));  // "later": delivered on the next task
  }
  Commit(settle);
  ASSERT_TRUE(ignored.finished());
  EXPECT_EQ(ignored.resp->stage(), kCompleted);
  EXPECT_EQ(ignored.resp->outcome().failure().message(), "update was not handled by the workflow worker");
  EXPECT_EQ(run_.admitted_updates, std::vector<std::string>{"later"});

  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  Txn close;
  {
    MutexLock l(mu_);
    registry_->SettleAfterTask(close, run_, /*task_completed=*/true);
  }
  Commit(close);
  ASSERT_TRUE(open_wait.finished());
  EXPECT_EQ(open_wait.resp->stage(), kCompleted);
  EXPECT_EQ(open_wait.resp->outcome().failure().message(), "workflow execution already completed");
  EXPECT_TRUE(run_.admitted_updates.empty());
  EXPECT_EQ(registry_->size(), 0u);
  // A new update of the closed run is refused.
  Waiting late;
  EXPECT_EQ(Admit(txn, Request("late", kAdmitted), late).code(), Code::kNotFound);
}

TEST_F(UpdateRegistryTest, ValidateHasTemporalsFrontendChecksInItsOrder) {
  const UpdateRegistry& r = Registry();
  EXPECT_TRUE(r.Validate(Request("u1", kAccepted)).ok());
  EXPECT_TRUE(r.Validate(Request("u1", kCompleted)).ok());
  auto no_meta = Request("u1", kAdmitted);
  no_meta.mutable_request()->clear_meta();
  no_meta.mutable_request()->clear_input();
  EXPECT_EQ(r.Validate(no_meta).message(), "Update meta is not set on request.");
  auto no_input = Request("u1", kAdmitted);
  no_input.mutable_request()->clear_input();
  EXPECT_EQ(r.Validate(no_input).message(), "Update input is not set on request.");
  auto no_name = Request("u1", kAdmitted);
  no_name.mutable_request()->mutable_input()->clear_name();
  Status s = r.Validate(no_name);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "Update name is not set on request.");
  s = r.Validate(Request("u1", kAdmitted));
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_EQ(s.message(), "UpdateWorkflowExecution issued asynchronously and waiting on update admitted is not supported.");
}

TEST_F(UpdateRegistryTest, AnUpdateWithoutAnIdIsGivenAUuidOthersAreNotCopied) {
  auto named = Request("u1", kAccepted);
  wsv1::UpdateWorkflowExecutionRequest storage;
  EXPECT_EQ(&UpdateRegistry::WithUpdateId(named, &storage), &named);
  auto unnamed = Request("", kAccepted);
  const auto& given = UpdateRegistry::WithUpdateId(unnamed, &storage);
  EXPECT_EQ(&given, &storage);
  EXPECT_TRUE(IsUuid(given.request().meta().update_id())) << given.request().meta().update_id();
  EXPECT_EQ(given.request().input().name(), "increment");
  auto no_meta = Request("", kAccepted);
  no_meta.mutable_request()->clear_meta();
  EXPECT_EQ(&UpdateRegistry::WithUpdateId(no_meta, &storage), &no_meta) << "Validate refuses it";
}

}  // namespace
}  // namespace temporalite::history
