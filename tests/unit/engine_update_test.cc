// Engine tests for workflow updates (update.cc, protocol-notes §6): admission schedules a task
// that carries the request as a protocol message; the worker's Acceptance / Response / Rejection
// messages become events (or none, for a rejection) and answer the waiters at the stage they asked
// for; PollWorkflowExecutionUpdate and the long-poll bound; a run closing under an update.
#include <google/protobuf/any.pb.h>

#include "common/ids.h"
#include "engine_test_util.h"
#include "temporal/api/protocol/v1/message.pb.h"
#include "temporal/api/update/v1/message.pb.h"

namespace temporalite::history::testing {
namespace {

namespace pv1 = ::temporal::api::protocol::v1;
namespace uv1 = ::temporal::api::update::v1;

constexpr auto kAdmitted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
constexpr auto kAccepted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
constexpr auto kCompleted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;

// File-backed (FileEngineTest) so that a test can restart the engine on the same data.
class EngineUpdateTest : public FileEngineTest {
 protected:
  wsv1::UpdateWorkflowExecutionRequest UpdateRequest(const std::string& wid, const std::string& update_id,
                                                     ev1::UpdateWorkflowExecutionLifecycleStage wait) {
    wsv1::UpdateWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_workflow_execution()->set_workflow_id(wid);
    req.mutable_wait_policy()->set_lifecycle_stage(wait);
    req.mutable_request()->mutable_meta()->set_update_id(update_id);
    req.mutable_request()->mutable_meta()->set_identity("client");
    req.mutable_request()->mutable_input()->set_name("increment");
    *req.mutable_request()->mutable_input()->mutable_args() = TextPayloads("by-one");
    return req;
  }
  Poll<wsv1::UpdateWorkflowExecutionResponse> Update(const wsv1::UpdateWorkflowExecutionRequest& req) {
    auto poll = MakePoll<wsv1::UpdateWorkflowExecutionResponse>();
    engine_->UpdateWorkflowExecution(req, poll.waiter);
    Barrier();  // the admission's commit (a new workflow task) and its reply callbacks
    return poll;
  }
  Poll<wsv1::PollWorkflowExecutionUpdateResponse> PollUpdate(const std::string& wid, const std::string& update_id,
                                                            ev1::UpdateWorkflowExecutionLifecycleStage wait) {
    wsv1::PollWorkflowExecutionUpdateRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_update_ref()->mutable_workflow_execution()->set_workflow_id(wid);
    req.mutable_update_ref()->set_update_id(update_id);
    req.mutable_wait_policy()->set_lifecycle_stage(wait);
    auto poll = MakePoll<wsv1::PollWorkflowExecutionUpdateResponse>();
    engine_->PollWorkflowExecutionUpdate(req, poll.waiter);
    Barrier();
    return poll;
  }
  template <typename Resp>
  Status Failed(const Poll<Resp>& poll) {
    if (poll.done.wait_for(kCallbackWait) != std::future_status::ready) return Status(Code::kDeadlineExceeded, "no reply");
    return poll.done.get();
  }

  // The worker's messages for the update request delivered in `task`.
  static pv1::Message Accept(const pv1::Message& request) {
    uv1::Acceptance acc;
    acc.set_accepted_request_message_id(request.id());
    acc.set_accepted_request_sequencing_event_id(request.event_id());
    uv1::Request r;
    request.body().UnpackTo(&r);
    *acc.mutable_accepted_request() = r;
    return Message(request.protocol_instance_id() + "/accept", request.protocol_instance_id(), acc);
  }
  static pv1::Message Respond(const std::string& update_id, const std::string& result) {
    uv1::Response res;
    res.mutable_meta()->set_update_id(update_id);
    res.mutable_meta()->set_identity(kWorker);
    *res.mutable_outcome()->mutable_success() = TextPayloads(result);
    return Message(update_id + "/complete", update_id, res);
  }
  static pv1::Message Reject(const pv1::Message& request, const std::string& why) {
    uv1::Rejection rej;
    rej.set_rejected_request_message_id(request.id());
    rej.set_rejected_request_sequencing_event_id(request.event_id());
    request.body().UnpackTo(rej.mutable_rejected_request());
    *rej.mutable_failure() = AppFailure(why, true);
    return Message(request.protocol_instance_id() + "/reject", request.protocol_instance_id(), rej);
  }
  template <typename Body>
  static pv1::Message Message(const std::string& id, const std::string& instance, const Body& body) {
    pv1::Message m;
    m.set_id(id);
    m.set_protocol_instance_id(instance);
    m.mutable_body()->PackFrom(body);
    return m;
  }
  Status CompleteWithMessages(const std::string& token, const std::vector<pv1::Message>& messages,
                              const std::vector<cmdv1::Command>& commands = {}) {
    return CompleteWft(token, commands, [&](wsv1::RespondWorkflowTaskCompletedRequest& req) {
      for (const auto& m : messages) *req.add_messages() = m;
    });
  }
  // The worker accepts the one update `task` carries and answers it "ok".
  Status AcceptAndAnswer(const wsv1::PollWorkflowTaskQueueResponse& task, const std::string& update_id) {
    return CompleteWithMessages(task.task_token(), {Accept(task.messages(0)), Respond(update_id, "ok")});
  }
  // The next workflow task carries the one update `update_id`; answered there, its waiter succeeds.
  void AnswerOnTheNextTask(const Poll<wsv1::UpdateWorkflowExecutionResponse>& waiting, const std::string& update_id) {
    auto next = PollWft();
    ASSERT_EQ(next.messages_size(), 1);
    ASSERT_TRUE(AcceptAndAnswer(next, update_id).ok());
    EXPECT_TRUE(Await(waiting).outcome().has_success());
  }
  static std::vector<hv1::HistoryEvent> OfType(const std::vector<hv1::HistoryEvent>& events, ev1::EventType t) {
    std::vector<hv1::HistoryEvent> out;
    for (const auto& e : events) {
      if (e.event_type() == t) out.push_back(e);
    }
    return out;
  }
};

TEST_F(EngineUpdateTest, AdmittedUpdateRidesANewTaskAndCompletes) {
  StartAndComplete("wf-u", {});
  auto waiting = Update(UpdateRequest("wf-u", "u1", kCompleted));
  EXPECT_FALSE(waiting.finished());
  // Admission scheduled a workflow task on the quiescent run; it carries the request.
  auto task = PollWft();
  EXPECT_EQ(task.started_event_id(), 6);
  ASSERT_EQ(task.messages_size(), 1);
  const pv1::Message& request = task.messages(0);
  EXPECT_EQ(request.protocol_instance_id(), "u1");
  EXPECT_EQ(request.event_id(), 5);  // sequenced after the task's scheduled event
  uv1::Request delivered;
  ASSERT_TRUE(request.body().UnpackTo(&delivered));
  EXPECT_EQ(delivered.input().name(), "increment");
  EXPECT_EQ(delivered.meta().update_id(), "u1");
  EXPECT_FALSE(waiting.finished());

  ASSERT_TRUE(CompleteWithMessages(task.task_token(), {Accept(request), Respond("u1", "counter=1")}).ok());
  auto resp = Await(waiting);
  EXPECT_EQ(resp.stage(), kCompleted);
  EXPECT_EQ(resp.update_ref().update_id(), "u1");
  EXPECT_EQ(resp.update_ref().workflow_execution().workflow_id(), "wf-u");
  ASSERT_TRUE(resp.outcome().has_success());
  EXPECT_EQ(resp.outcome().success().payloads(0).data(), "\"counter=1\"");

  auto events = History("wf-u");
  EXPECT_TRUE(WellFormed(events));
  EXPECT_TYPES(events, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
  ASSERT_EQ(events.size(), 9u);
  const auto& accepted = events[7].workflow_execution_update_accepted_event_attributes();
  EXPECT_EQ(accepted.protocol_instance_id(), "u1");
  EXPECT_EQ(accepted.accepted_request().input().name(), "increment");
  const auto& completed = events[8].workflow_execution_update_completed_event_attributes();
  EXPECT_EQ(completed.meta().update_id(), "u1");
  EXPECT_EQ(completed.accepted_event_id(), 8);
  EXPECT_EQ(completed.outcome().success().payloads(0).data(), "\"counter=1\"");

  // The same update id again: answered from history, no second task.
  auto again = Update(UpdateRequest("wf-u", "u1", kCompleted));
  auto resp2 = Await(again);
  EXPECT_EQ(resp2.stage(), kCompleted);
  EXPECT_EQ(resp2.outcome().success().payloads(0).data(), "\"counter=1\"");
  EXPECT_EQ(History("wf-u").size(), 9u);
}

TEST_F(EngineUpdateTest, RejectedUpdateLeavesNoUpdateEvents) {
  StartAndComplete("wf-rej", {});
  auto waiting = Update(UpdateRequest("wf-rej", "u-bad", kCompleted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  ASSERT_TRUE(CompleteWithMessages(task.task_token(), {Reject(task.messages(0), "negative increments are not allowed")}).ok());
  auto resp = Await(waiting);
  EXPECT_EQ(resp.stage(), kCompleted);
  ASSERT_TRUE(resp.outcome().has_failure());
  EXPECT_EQ(resp.outcome().failure().message(), "negative increments are not allowed");
  auto events = History("wf-rej");
  EXPECT_TRUE(OfType(events, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).empty()) << Describe(events);
  EXPECT_TRUE(OfType(events, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).empty()) << Describe(events);
  EXPECT_EQ(DescribeWf("wf-rej").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(EngineUpdateTest, WaitStagesAcceptedThenCompletedThroughPollUpdate) {
  StartAndComplete("wf-stage", {});
  auto accepted_wait = Update(UpdateRequest("wf-stage", "u2", kAccepted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  // Accepted only: the ACCEPTED waiter answers with no outcome.
  ASSERT_TRUE(CompleteWithMessages(task.task_token(), {Accept(task.messages(0))}).ok());
  auto resp = Await(accepted_wait);
  EXPECT_EQ(resp.stage(), kAccepted);
  EXPECT_FALSE(resp.has_outcome());

  // A poll for COMPLETED waits; an ADMITTED/ACCEPTED poll answers at once with the stage reached.
  auto completed_wait = PollUpdate("wf-stage", "u2", kCompleted);
  EXPECT_FALSE(completed_wait.finished());
  auto now = PollUpdate("wf-stage", "u2", kAdmitted);
  EXPECT_EQ(Await(now).stage(), kAccepted);

  // The workflow completes the update on its next task (woken by a signal).
  ASSERT_TRUE(Signal("wf-stage", "go").ok());
  auto next = PollWft();
  EXPECT_EQ(next.messages_size(), 0);  // accepted updates are not re-delivered
  ASSERT_TRUE(CompleteWithMessages(next.task_token(), {Respond("u2", "done")}).ok());
  auto done = Await(completed_wait);
  EXPECT_EQ(done.stage(), kCompleted);
  EXPECT_EQ(done.outcome().success().payloads(0).data(), "\"done\"");
  auto events = History("wf-stage");
  ASSERT_EQ(OfType(events, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).size(), 1u);
  ASSERT_EQ(OfType(events, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).size(), 1u);
}

TEST_F(EngineUpdateTest, LongPollAnswersWithTheStageReachedSoFar) {
  StartAndComplete("wf-lp", {});
  auto waiting = Update(UpdateRequest("wf-lp", "u3", kCompleted));
  Advance(options_.history_long_poll - Sec(1));
  EXPECT_FALSE(waiting.finished());
  Advance(Sec(1));
  auto resp = Await(waiting);
  EXPECT_EQ(resp.stage(), kAdmitted);
  EXPECT_FALSE(resp.has_outcome());
  // Still admitted: a later poll finds it and the worker still gets it.
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  EXPECT_EQ(task.messages(0).protocol_instance_id(), "u3");
}

TEST_F(EngineUpdateTest, RunClosingBeforeCompletionFailsTheUpdate) {
  StartAndComplete("wf-close", {});
  auto waiting = Update(UpdateRequest("wf-close", "u4", kCompleted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  // Accepted (ordered by its protocol command, as SDKs send it), then the workflow completes in
  // the same task without responding.
  pv1::Message accept = Accept(task.messages(0));
  cmdv1::Command protocol;
  protocol.set_command_type(ev1::COMMAND_TYPE_PROTOCOL_MESSAGE);
  protocol.mutable_protocol_message_command_attributes()->set_message_id(accept.id());
  ASSERT_TRUE(CompleteWithMessages(task.task_token(), {accept}, {protocol, CompleteWorkflow("bye")}).ok());
  auto resp = Await(waiting);
  EXPECT_EQ(resp.stage(), kCompleted);
  ASSERT_TRUE(resp.outcome().has_failure());
  EXPECT_EQ(resp.outcome().failure().application_failure_info().type(), "AcceptedUpdateCompletedWorkflow");
  EXPECT_EQ(DescribeWf("wf-close").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  auto events = History("wf-close");
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) << Describe(events);
  EXPECT_EQ(events.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) << Describe(events);
  // A new update on the closed run is refused.
  auto refused = Update(UpdateRequest("wf-close", "u5", kCompleted));
  Status s = Failed(refused);
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
}

TEST_F(EngineUpdateTest, AdmissionErrors) {
  StartAndComplete("wf-err", {});
  auto no_meta = UpdateRequest("wf-err", "u5", kCompleted);
  no_meta.mutable_request()->clear_meta();
  Status s = Failed(Update(no_meta));
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  // Temporal refuses a wait for ADMITTED: its answer would come before the update is durable.
  s = Failed(Update(UpdateRequest("wf-err", "u5", kAdmitted)));
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  auto no_name = UpdateRequest("wf-err", "u6", kCompleted);
  no_name.mutable_request()->mutable_input()->clear_name();
  s = Failed(Update(no_name));
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  s = Failed(Update(UpdateRequest("wf-missing", "u7", kCompleted)));
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  s = Failed(PollUpdate("wf-err", "never-sent", kCompleted));
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  // None of these touched the run.
  EXPECT_EQ(History("wf-err").size(), 4u);
}

// Temporal's frontend gives an update without an id a random UUID (it is a new update each time).
TEST_F(EngineUpdateTest, AnUpdateWithoutAnIdIsAdmittedUnderAUuid) {
  StartAndComplete("wf-no-id", {});
  auto first = Update(UpdateRequest("wf-no-id", "", kAccepted));
  auto second = Update(UpdateRequest("wf-no-id", "", kAccepted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 2) << "two updates, not one id twice";
  EXPECT_TRUE(IsUuid(task.messages(0).protocol_instance_id())) << task.messages(0).protocol_instance_id();
  EXPECT_NE(task.messages(0).protocol_instance_id(), task.messages(1).protocol_instance_id());
  Advance(options_.history_long_poll);
  EXPECT_EQ(Await(first).update_ref().update_id(), task.messages(0).protocol_instance_id());
  EXPECT_EQ(Await(second).update_ref().update_id(), task.messages(1).protocol_instance_id());
}

TEST_F(EngineUpdateTest, DeliveredButUnhandledUpdateIsRejected) {
  StartAndComplete("wf-ignore", {});
  auto waiting = Update(UpdateRequest("wf-ignore", "u8", kCompleted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  ASSERT_TRUE(CompleteWft(task.task_token(), {}).ok());  // the worker says nothing about it
  auto resp = Await(waiting);
  EXPECT_EQ(resp.stage(), kCompleted);
  EXPECT_EQ(resp.outcome().failure().message(), "update was not handled by the workflow worker");
}


// Temporal's RejectUnprocessed is skipped for a heartbeat completion (force_create_new_workflow_task:
// local activities still running): the worker may answer the update on a later task. The heartbeat
// task it gets back carries only updates not sent before; the next completion that is not a
// heartbeat rejects what is still unanswered.
TEST_F(EngineUpdateTest, HeartbeatCompletionKeepsASentUpdateForALaterTask) {
  StartAndComplete("wf-hb", {});
  auto waiting = Update(UpdateRequest("wf-hb", "u9", kCompleted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  wsv1::RespondWorkflowTaskCompletedResponse hb;
  ASSERT_TRUE(CompleteWft(task.task_token(), {}, [](wsv1::RespondWorkflowTaskCompletedRequest& req) {
                req.set_force_create_new_workflow_task(true);
                req.set_return_new_workflow_task(true);
              }, &hb).ok());
  EXPECT_FALSE(waiting.finished());  // not rejected
  ASSERT_TRUE(hb.has_workflow_task());
  EXPECT_EQ(hb.workflow_task().messages_size(), 0);  // not sent again on the heartbeat task
  // The worker answers on the heartbeat task.
  ASSERT_TRUE(CompleteWithMessages(hb.workflow_task().task_token(), {Accept(task.messages(0)), Respond("u9", "done")}).ok());
  auto resp = Await(waiting);
  EXPECT_EQ(resp.stage(), kCompleted);
  EXPECT_TRUE(resp.outcome().has_success()) << resp.outcome().DebugString();
}

TEST_F(EngineUpdateTest, UpdateStillUnansweredAfterTheHeartbeatsIsRejected) {
  StartAndComplete("wf-hb2", {});
  auto waiting = Update(UpdateRequest("wf-hb2", "u10", kCompleted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  wsv1::RespondWorkflowTaskCompletedResponse hb;
  ASSERT_TRUE(CompleteWft(task.task_token(), {}, [](wsv1::RespondWorkflowTaskCompletedRequest& req) {
                req.set_force_create_new_workflow_task(true);
                req.set_return_new_workflow_task(true);
              }, &hb).ok());
  ASSERT_TRUE(hb.has_workflow_task());
  ASSERT_TRUE(CompleteWft(hb.workflow_task().task_token(), {}).ok());  // a normal completion, no answer
  auto resp = Await(waiting);
  EXPECT_EQ(resp.outcome().failure().message(), "update was not handled by the workflow worker");
}


// The interleavings suspected after a crash test failed once with "update was not handled by the
// workflow worker" (Temporal's RejectUnprocessed): a completion may reject only the updates that
// were sent on the very task it completes. Task tokens name the task's scheduled and started
// event ids and its attempt, so a completion from a task that never saw the update cannot be
// taken for the one that did.

// An update admitted while a task runs is not attached to it; that task's completion leaves it
// for the next task.
TEST_F(EngineUpdateTest, UpdateAdmittedWhileATaskRunsIsNotRejectedByThatTasksCompletion) {
  StartWorkflow("wf-race1");
  auto running = PollWft();  // started before the update arrives
  auto waiting = Update(UpdateRequest("wf-race1", "u11", kCompleted));
  ASSERT_TRUE(CompleteWft(running.task_token(), {}).ok());  // knows nothing of u11
  EXPECT_FALSE(waiting.finished());
  ASSERT_NO_FATAL_FAILURE(AnswerOnTheNextTask(waiting, "u11"));
}

// The attempt that carried the update timed out and the next attempt carries it again: the late
// completion of the timed-out attempt is refused (NOT_FOUND) and rejects nothing.
TEST_F(EngineUpdateTest, LateCompletionOfATimedOutAttemptCannotRejectTheUpdate) {
  StartAndComplete("wf-race2", {});
  auto waiting = Update(UpdateRequest("wf-race2", "u12", kCompleted));
  auto first = PollWft();
  ASSERT_EQ(first.messages_size(), 1);
  Advance(Sec(15));  // past the 10 s workflow task timeout
  auto second = PollWft();
  EXPECT_EQ(second.attempt(), 2);
  ASSERT_EQ(second.messages_size(), 1);  // sent again
  EXPECT_EQ(CompleteWft(first.task_token(), {}).code(), Code::kNotFound);
  EXPECT_FALSE(waiting.finished());
  ASSERT_TRUE(AcceptAndAnswer(second, "u12").ok());
  EXPECT_TRUE(Await(waiting).outcome().has_success());
}

// After a restart the task started before it is still the pending one (its token still valid),
// and updates admitted after the restart were not sent on it: its completion rejects none of them.
TEST_F(EngineUpdateTest, TaskStartedBeforeARestartDoesNotRejectUpdatesAdmittedAfterIt) {
  StartWorkflow("wf-race3");
  auto before_crash = PollWft();
  Restart();
  auto waiting = Update(UpdateRequest("wf-race3", "u13", kCompleted));
  ASSERT_TRUE(CompleteWft(before_crash.task_token(), {}).ok());
  EXPECT_FALSE(waiting.finished());
  ASSERT_NO_FATAL_FAILURE(AnswerOnTheNextTask(waiting, "u13"));
}

// An update sent to the worker before a restart (admission is in memory, as in Temporal) and
// retried by its client after it: the worker's answer on the task it got before the restart
// completes the retried request.
TEST_F(EngineUpdateTest, UpdateSentBeforeARestartIsAnsweredOnThatTaskAfterIt) {
  StartAndComplete("wf-race4", {});
  auto lost = Update(UpdateRequest("wf-race4", "u14", kCompleted));
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  EXPECT_FALSE(lost.finished());
  Restart();
  auto retried = Update(UpdateRequest("wf-race4", "u14", kCompleted));
  ASSERT_TRUE(AcceptAndAnswer(task, "u14").ok());
  auto resp = Await(retried);
  EXPECT_EQ(resp.stage(), kCompleted);
  EXPECT_TRUE(resp.outcome().has_success()) << resp.outcome().DebugString();
  EXPECT_EQ(OfType(History("wf-race4"), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).size(), 1u);
}


// Temporal's update registry suggests continue-as-new (reason TOO_MANY_UPDATES) once the run's
// admitted + accepted updates reach ceil(history.maxTotalUpdates * suggestContinueAsNewThreshold).
class EngineUpdateSuggestionTest : public EngineUpdateTest {
 protected:
  void SetUp() override {
    options_.max_total_updates = 4;
    options_.max_total_updates_suggest_continue_as_new_threshold = 0.5;  // from the 2nd update
    EngineUpdateTest::SetUp();
  }
  static bool SuggestsTooManyUpdates(const wsv1::PollWorkflowTaskQueueResponse& task) {
    const auto& a = task.history().events(task.history().events_size() - 1).workflow_task_started_event_attributes();
    for (int r : a.suggest_continue_as_new_reasons()) {
      if (r == ev1::SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_UPDATES) return a.suggest_continue_as_new();
    }
    return false;
  }
};

TEST_F(EngineUpdateSuggestionTest, SuggestedFromTheThresholdCountingAdmittedAndCompletedUpdates) {
  StartAndComplete("wf-can-u", {});
  std::vector<bool> suggested;
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "u" + std::to_string(i);
    auto waiting = Update(UpdateRequest("wf-can-u", id, kCompleted));
    auto task = PollWft();
    ASSERT_EQ(task.messages_size(), 1);
    suggested.push_back(SuggestsTooManyUpdates(task));
    ASSERT_TRUE(AcceptAndAnswer(task, id).ok());
    EXPECT_TRUE(Await(waiting).outcome().has_success());
  }
  EXPECT_EQ(suggested, (std::vector<bool>{false, true, true}));
  // The persisted started events carry the reason too.
  int with_reason = 0;
  for (const auto& e : OfType(History("wf-can-u"), ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED)) {
    const auto& a = e.workflow_task_started_event_attributes();
    if (a.suggest_continue_as_new()) {
      ASSERT_EQ(a.suggest_continue_as_new_reasons_size(), 1);
      EXPECT_EQ(a.suggest_continue_as_new_reasons(0), ev1::SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_UPDATES);
      ++with_reason;
    }
  }
  EXPECT_EQ(with_reason, 2);
}

TEST_F(EngineUpdateSuggestionTest, RejectedUpdatesDoNotCount) {
  StartAndComplete("wf-can-rej", {});
  for (int i = 1; i <= 2; ++i) {
    auto waiting = Update(UpdateRequest("wf-can-rej", "r" + std::to_string(i), kCompleted));
    auto task = PollWft();
    ASSERT_EQ(task.messages_size(), 1);
    EXPECT_FALSE(SuggestsTooManyUpdates(task)) << "update " << i;  // only the one in flight counts
    ASSERT_TRUE(CompleteWithMessages(task.task_token(), {Reject(task.messages(0), "no")}).ok());
    EXPECT_TRUE(Await(waiting).outcome().has_failure());
  }
}

class EngineUpdateSuggestionOffTest : public EngineUpdateTest {
 protected:
  void SetUp() override {
    options_.max_total_updates = 4;
    options_.max_total_updates_suggest_continue_as_new_threshold = 0;  // off
    EngineUpdateTest::SetUp();
  }
};

TEST_F(EngineUpdateSuggestionOffTest, AZeroThresholdNeverSuggests) {
  StartAndComplete("wf-can-off", {});
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "o" + std::to_string(i);
    auto waiting = Update(UpdateRequest("wf-can-off", id, kCompleted));
    auto task = PollWft();
    ASSERT_EQ(task.messages_size(), 1);
    EXPECT_FALSE(task.history().events(task.history().events_size() - 1).workflow_task_started_event_attributes()
                     .suggest_continue_as_new());
    ASSERT_TRUE(AcceptAndAnswer(task, id).ok());
    Await(waiting);
  }
}

}  // namespace
}  // namespace temporalite::history::testing
