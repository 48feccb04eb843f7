// A write the database refuses. The engine applied the transition in memory already, so memory
// is ahead of the disk: the store records the fatal error and refuses every later write, the
// engine answers the error (never OK) and keeps running, and the composition root, told through
// the store's fatal-error listener, decides to exit. Nothing is acknowledged after the failure.
// The failure is a real one: a row the engine is about to append already exists (UNIQUE). Below,
// a read the database refuses (a GatedStore that fails the reads of one run or workflow id).
#include <atomic>
#include <string>

#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

using EngineStoreFailureTest = EngineTest;

TEST_F(EngineStoreFailureTest, AFailedCommitIsAnsweredWithItsErrorAndNothingIsAcknowledgedAfterIt) {
  std::atomic<int> told{0};
  store_->set_fatal_error_listener([&told](const Status&) { ++told; });
  const std::string run = StartWorkflow("wf-doomed");
  ASSERT_FALSE(run.empty());
  // Event 3 of the run is the next one the engine writes (a signal): it will conflict.
  ASSERT_TRUE(store_->CommitSync(persistence::WriteBatch{.append_events = {{run, 3, "squatter"}}}).ok());

  Status s = Signal("wf-doomed", "first");
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_EQ(told.load(), 1);
  EXPECT_EQ(store_->fatal_error().code(), Code::kInternal);

  // The signal exists only in memory: its retry (same request id) must not be acknowledged.
  s = Signal("wf-doomed", "first");
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  // New writes are refused, and a read whose reply waits for durability does not answer OK.
  wsv1::StartWorkflowExecutionResponse resp;
  s = Start(StartRequest("wf-after"), &resp);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  wsv1::DescribeWorkflowExecutionRequest dreq;
  dreq.set_namespace_(kNamespace);
  dreq.mutable_execution()->set_workflow_id("wf-doomed");
  s = Call<wsv1::DescribeWorkflowExecutionResponse>(
      [&](auto* r, Done d) { engine_->DescribeWorkflowExecution(dreq, r, std::move(d)); }, nullptr);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_EQ(told.load(), 1);  // told once

  // Nothing of the refused writes reached the database.
  auto ns_id = engine_->NamespaceIdOf(kNamespace);
  ASSERT_TRUE(ns_id.ok());
  EXPECT_FALSE(store_->GetCurrentRunId(ns_id.value(), "wf-after")->has_value());
  auto events = store_->ReadEvents(run, 1, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);  // started, task scheduled, and the squatter
  EXPECT_EQ(events->back().data, "squatter");
}

// A read the database refuses (the store's INTERNAL "storage error: ..."), of a run that is not in
// memory (closed and durable): every RPC that looks the run up answers that error, as the history
// read does, never "not found" (a client gives up on NOT_FOUND; a storage error is worth a retry or
// an operator's look).
using EngineStoreReadFailureTest = GatedEngineTest;

TEST_F(EngineStoreReadFailureTest, ALookupWhoseStoreReadFailsAnswersTheStorageError) {
  StartWorkflow("wf-gone");
  ASSERT_TRUE(Terminate("wf-gone", "done").ok());
  Barrier();  // durable: the closed run leaves memory, so the lookups read the store
  const Status disk = Internal("storage error: disk I/O error");
  gate_->FailReadsOf("wf-gone", disk);
  auto expect_disk = [&](const Status& s, const char* rpc) {
    EXPECT_EQ(s.code(), Code::kInternal) << rpc << ": " << s.ToString();
    EXPECT_EQ(s.message(), disk.message()) << rpc;
  };
  expect_disk(Signal("wf-gone", "late"), "signal");
  expect_disk(Terminate("wf-gone", "again"), "terminate");
  wsv1::ResetStickyTaskQueueRequest sticky;
  sticky.set_namespace_(kNamespace);
  sticky.mutable_execution()->set_workflow_id("wf-gone");
  expect_disk(Call([&](Done d) { engine_->ResetStickyTaskQueue(sticky, std::move(d)); }), "reset sticky");
  wsv1::RequestCancelWorkflowExecutionRequest cancel;
  cancel.set_namespace_(kNamespace);
  cancel.mutable_workflow_execution()->set_workflow_id("wf-gone");
  expect_disk(Call([&](Done d) { engine_->RequestCancelWorkflowExecution(cancel, std::move(d)); }), "cancel");
  wsv1::DescribeWorkflowExecutionRequest describe;
  describe.set_namespace_(kNamespace);
  describe.mutable_execution()->set_workflow_id("wf-gone");
  expect_disk(Call<wsv1::DescribeWorkflowExecutionResponse>(
                  [&](auto* r, Done d) { engine_->DescribeWorkflowExecution(describe, r, std::move(d)); }, nullptr),
              "describe");

  // Readable again: the same lookups tell a closed run apart, as before.
  gate_->FailReadsOf("", Status::Ok());
  Status s = Signal("wf-gone", "late");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "workflow execution already completed");
  s = Terminate("wf-gone", "again");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "workflow execution already completed");
}

// A SignalExternalWorkflowExecution command whose target the store cannot read: the completion is
// answered with the storage error and applies nothing (the target is not recorded as not found);
// the task stays started, and completing it again once the store reads works records the outcome.
TEST_F(EngineStoreReadFailureTest, ACommandTargetWhoseReadFailsFailsTheCompletionNotTheCommand) {
  StartWorkflow("wf-target");
  ASSERT_TRUE(Terminate("wf-target", "done").ok());
  Barrier();
  StartWorkflow("wf-src");
  auto task = PollWft();
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION);
  auto* a = c.mutable_signal_external_workflow_execution_command_attributes();
  a->mutable_execution()->set_workflow_id("wf-target");
  a->set_signal_name("ping");
  gate_->FailReadsOf("wf-target", Internal("storage error: disk I/O error"));
  Status s = CompleteWft(task.task_token(), {c});
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_EQ(s.message(), "storage error: disk I/O error");
  Barrier();
  auto h = History("wf-src");
  ASSERT_EQ(h.size(), 3u) << Describe(h);  // started, task scheduled, task started: nothing more

  gate_->FailReadsOf("", Status::Ok());
  ASSERT_TRUE(CompleteWft(task.task_token(), {c}).ok());
  Barrier();
  h = History("wf-src");
  ASSERT_FALSE(h.empty());
  bool failed_not_found = false;
  for (const auto& e : h) {
    failed_not_found = failed_not_found || (e.has_signal_external_workflow_execution_failed_event_attributes() &&
                                            e.signal_external_workflow_execution_failed_event_attributes().cause() ==
                                                ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  }
  EXPECT_TRUE(failed_not_found) << Describe(h);
}

}  // namespace
}  // namespace temporalite::history::testing
