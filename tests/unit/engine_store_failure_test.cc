// A write the database refuses. The engine applied the transition in memory already, so memory
// is ahead of the disk: the store records the fatal error and refuses every later write, the
// engine answers the error (never OK) and keeps running, and the composition root, told through
// the store's fatal-error listener, decides to exit. Nothing is acknowledged after the failure.
// The failure is a real one: a row the engine is about to append already exists (UNIQUE).
#include <atomic>

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

}  // namespace
}  // namespace temporalite::history::testing
