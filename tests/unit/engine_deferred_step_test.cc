// A close's steps on runs evicted from memory (deferred_steps.cc): parents of open children and
// children of open parents leave memory like any idle run; a child's close then reaches its
// evicted parent, and a parent's close its evicted children, by a step written in the close's
// transaction and applied after it (the other run read back without the engine mutex), and a
// restart between the two applies the step once.
#include "engine_test_util.h"

#include <sqlite3.h>

namespace temporalite::history::testing {
namespace {

constexpr char kChildQueue[] = "child-tq";

cmdv1::Command StartChild(const std::string& wid, ev1::ParentClosePolicy policy = ev1::PARENT_CLOSE_POLICY_UNSPECIFIED) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION);
  auto* a = c.mutable_start_child_workflow_execution_command_attributes();
  a->set_workflow_id(wid);
  a->mutable_workflow_type()->set_name("ChildWorkflow");
  a->mutable_task_queue()->set_name(kChildQueue);
  a->set_parent_close_policy(policy);
  return c;
}

int CountType(const std::vector<hv1::HistoryEvent>& events, ev1::EventType type) {
  int n = 0;
  for (const auto& e : events) n += e.event_type() == type;
  return n;
}

class DeferredStepTest : public FileEngineTest {
 protected:
  wsv1::PollWorkflowTaskQueueResponse PollChildQueue() {
    wsv1::PollWorkflowTaskQueueRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_task_queue()->set_name(kChildQueue);
    req.set_identity("child-worker");
    auto poll = MakePoll<wsv1::PollWorkflowTaskQueueResponse>();
    engine_->PollWorkflowTaskQueue(req, poll.waiter, Sec(60));
    return Await(poll);
  }
  // The step rows left in the database (the engine closed: the file is read directly).
  std::string StepRows() {
    CloseEngine();
    sqlite3* db = nullptr;
    std::string out;
    EXPECT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM server_state WHERE key LIKE 'history.step/%'", -1, &s, nullptr),
              SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    OpenEngine(path());
    return out;
  }
  // "parent" starts "child" and finishes its ChildStarted task: the parent is idle (evicted),
  // the child has its first task pending. Returns that task.
  wsv1::PollWorkflowTaskQueueResponse ParentWaitingOnChild() {
    StartWorkflow("parent");
    EXPECT_TRUE(CompleteWft(PollWft().task_token(), {StartChild("child")}).ok());
    EXPECT_TRUE(CompleteWft(PollWft().task_token(), {}).ok());
    Barrier();
    auto c = engine_->CountRuns();
    EXPECT_EQ(c.evicted, 1u) << "the idle parent of an open child stayed in memory";
    EXPECT_EQ(c.in_memory, 1u);
    return PollChildQueue();
  }
};

TEST_F(DeferredStepTest, EvictedParentGetsItsChildsCompletion) {
  auto child_task = ParentWaitingOnChild();
  ASSERT_TRUE(CompleteWft(child_task.task_token(), {CompleteWorkflow("child-result")}).ok());
  Advance(Sec(0));  // the step, after the close's commit
  auto events = History("parent");
  EXPECT_TRUE(WellFormed(events));
  ASSERT_EQ(events.size(), 11u) << Describe(events);
  ASSERT_EQ(events[9].event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED) << Describe(events);
  const auto& done = events[9].child_workflow_execution_completed_event_attributes();
  EXPECT_EQ(done.initiated_event_id(), 5);
  EXPECT_EQ(done.started_event_id(), 6);
  EXPECT_EQ(done.workflow_execution().workflow_id(), "child");
  EXPECT_EQ(done.result().payloads(0).data(), "\"child-result\"");
  EXPECT_EQ(events[10].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
  EXPECT_EQ(DescribeWf("parent").pending_children_size(), 0);
  // The parent reacts to it and completes.
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {CompleteWorkflow("parent-done")}).ok());
  EXPECT_EQ(History("parent").back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  EXPECT_EQ(StepRows(), "0");
}

TEST_F(DeferredStepTest, EvictedChildrenGetTheParentClosePolicy) {
  StartWorkflow("parent");
  ASSERT_TRUE(CompleteWft(PollWft().task_token(),
                          {StartChild("c-term", ev1::PARENT_CLOSE_POLICY_TERMINATE),
                           StartChild("c-cancel", ev1::PARENT_CLOSE_POLICY_REQUEST_CANCEL),
                           StartChild("c-abandon", ev1::PARENT_CLOSE_POLICY_ABANDON)})
                  .ok());
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {}).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(CompleteWft(PollChildQueue().task_token(), {StartTimer("t", Sec(3600))}).ok());
  Barrier();
  auto c = engine_->CountRuns();
  EXPECT_EQ(c.evicted, 4u) << "the idle parent and its idle children stayed in memory";
  EXPECT_EQ(c.in_memory, 0u);

  ASSERT_TRUE(Terminate("parent", "operator").ok());
  Advance(Sec(0));  // the step on the evicted children
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
  auto term = History("c-term");
  ASSERT_FALSE(term.empty());
  EXPECT_EQ(term.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED) << Describe(term);
  EXPECT_EQ(term.back().workflow_execution_terminated_event_attributes().reason(), "by parent close policy");
  auto cancel = History("c-cancel");
  EXPECT_EQ(CountType(cancel, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 1) << Describe(cancel);
  EXPECT_EQ(cancel.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(DescribeWf("c-abandon").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(CountType(History("c-abandon"), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 0);
  EXPECT_EQ(StepRows(), "0");
}

// A restart between the close's commit and its step (the step timer never fired): recovery runs
// the step, which records the close once; a second restart adds nothing.
TEST_F(DeferredStepTest, StepLeftByARestartIsAppliedOnce) {
  auto child_task = ParentWaitingOnChild();
  ASSERT_TRUE(CompleteWft(child_task.task_token(), {CompleteWorkflow("child-result")}).ok());
  EXPECT_EQ(StepRows(), "1");  // restarted here, the step not run
  auto events = History("parent");
  EXPECT_EQ(CountType(events, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 0) << Describe(events);
  Advance(Sec(0));  // recovery scheduled the step
  events = History("parent");
  EXPECT_TRUE(WellFormed(events));
  EXPECT_EQ(CountType(events, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 1) << Describe(events);
  EXPECT_EQ(events.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(StepRows(), "0");
  Restart();
  Advance(Sec(1));
  events = History("parent");
  EXPECT_EQ(CountType(events, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 1) << Describe(events);
  EXPECT_EQ(events.size(), 11u) << Describe(events);
}

// The step is idempotent: run twice (a row applied, then recovered from an older copy), the
// parent records the close once.
TEST_F(DeferredStepTest, ParentRecordsAChildsCloseOnlyWhileItIsPending) {
  auto child_task = ParentWaitingOnChild();
  ASSERT_TRUE(CompleteWft(child_task.task_token(), {CompleteWorkflow("child-result")}).ok());
  // Copy the step row, let it run, then put the copy back and restart.
  CloseEngine();
  std::string copy = dir_ + "/copy.db";
  std::filesystem::copy_file(path(), copy);
  for (const char* ext : {"-wal", "-shm"}) {
    if (std::filesystem::exists(path() + ext)) std::filesystem::copy_file(path() + ext, copy + ext);
  }
  OpenEngine(path());
  Advance(Sec(0));
  ASSERT_EQ(CountType(History("parent"), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 1);
  CloseEngine();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  std::string sql = "ATTACH '" + copy + "' AS old; INSERT INTO server_state SELECT * FROM old.server_state "
                    "WHERE key LIKE 'history.step/%'; DETACH old;";
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  OpenEngine(path());
  Advance(Sec(0));
  auto events = History("parent");
  EXPECT_EQ(CountType(events, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 1) << Describe(events);
  EXPECT_EQ(events.size(), 11u) << Describe(events);
  EXPECT_EQ(StepRows(), "0");
}

}  // namespace
}  // namespace temporalite::history::testing
