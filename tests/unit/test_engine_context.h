// An EngineContext (history/engine_context.h) for unit tests of the engine's RPC-family units
// (update_registry_test.cc, query_registry_test.cc): a SimClock-driven TimerService, runs in
// memory by id, and a record of what the unit asked of the engine (workflow tasks scheduled,
// query tasks offered) in place of a whole engine. Matching is the test's: an offered query task
// goes to `next_poller` if the test set one, is refused if `refuse_query_tasks`, else is queued.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "common/timer_service.h"
#include "history/engine_context.h"
#include "history/execution.h"

namespace temporalite::history::testing {

class TestEngineContext : public EngineContext {
 public:
  TestEngineContext(SimClock& clock, Mutex& mu) : clock_(clock), mu_(mu), timers_(clock) {}

  TimePoint Now() const override { return clock_.Now(); }
  TimerService& timers() override { return timers_; }
  void ScheduleWorkflowTask(Txn& txn, Execution& ex) override {
    ++workflow_tasks_scheduled;
    ex.st.mutable_wft()->set_scheduled_event_id(static_cast<int64_t>(ex.events.size()) + 1);
    txn.Touch(&ex);
  }
  // Nothing is pending in a store here: durable at once.
  void ReplyWhenDurable(Done done, Status reply) override { done(reply); }
  Execution* LoadedRun(const std::string& run_id) override {
    auto it = runs.find(run_id);
    return it == runs.end() ? nullptr : it->second;
  }
  QueryTaskOffer OfferQueryTask(const Execution& ex, const std::string& query_id) override {
    mu_.AssertHeld();  // the units call the engine under its mutex
    offered_queries.push_back(query_id);
    QueryTaskOffer offer;
    offer.sticky = !ex.st.sticky_task_queue().empty();
    if (next_poller) {
      next_poller->Complete(mu_);  // as matching marks the poller it pops
      offer.poller = std::exchange(next_poller, nullptr);
    } else {
      offer.refused = refuse_query_tasks;
    }
    return offer;
  }

  std::map<std::string, Execution*> runs;  // LoadedRun's answers
  WorkflowPoller next_poller;
  bool refuse_query_tasks = false;
  int workflow_tasks_scheduled = 0;
  std::vector<std::string> offered_queries;

 private:
  SimClock& clock_;
  Mutex& mu_;
  TimerService timers_;
};

}  // namespace temporalite::history::testing
