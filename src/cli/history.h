// Reading and printing workflow histories: the page/long-poll reader shared by `workflow show`,
// `execute` and `result`, the "Progress:" event table, the detailed event view, and the
// "Results:" card / JSON result of a closed run.
#pragma once

#include <temporal/api/enums/v1/event_type.pb.h>
#include <temporal/api/history/v1/message.pb.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/output.h"

namespace temporalite::cli {

using temporal::api::history::v1::HistoryEvent;

// True for the events that close a run (completed, failed, timed out, canceled, terminated,
// continued as new).
bool IsCloseEvent(temporal::api::enums::v1::EventType type);

// Iterates the events of a run, page by page. With `follow`, long-polls for new events until the
// run closes. With `chain`, after a ContinuedAsNew event it moves on to the new run (as the text
// views of `temporal` do), so the reader ends at the close event of the last run of the chain;
// without, it ends at the run's own close event (a single-run history, e.g. for replay).
class HistoryReader {
 public:
  HistoryReader(Context& ctx, std::string workflow_id, std::string run_id, bool follow, bool chain = true);

  // The next event, or nullopt at the end.
  std::optional<HistoryEvent> Next();
  // The last close event seen (not continued-as-new), if any.
  const std::optional<HistoryEvent>& close_event() const { return close_event_; }

 private:
  void FetchPage();

  Context& ctx_;
  std::string workflow_id_;
  std::string run_id_;
  bool follow_;
  bool chain_;
  bool done_ = false;
  bool started_ = false;
  std::string next_page_token_;
  std::deque<HistoryEvent> buffered_;
  std::optional<HistoryEvent> close_event_;
};

// Waits (long poll) for the close event of the run, following continue-as-new to the last run.
// `closed_run_id` (optional) receives the id of the run that closed (an empty `run_id` is
// resolved to the current run first).
HistoryEvent WaitForCloseEvent(Context& ctx, const std::string& workflow_id, const std::string& run_id,
                               std::string* closed_run_id = nullptr);

// Prints events from `reader` as they arrive: the ID/Time/Type table, or with `detailed` one
// section per event with every field flattened ("attempt: 1", "input[0].storeId: ...").
void PrintEvents(Context& ctx, HistoryReader& reader, bool detailed);

// "COMPLETED", "FAILED", "TIMEOUT", "CANCELED", "TERMINATED" or "CONTINUED_AS_NEW".
std::string CloseStatus(const HistoryEvent& close_event);

// Throws CommandError("workflow failed" / "workflow timed out" / ...) unless the run completed.
void ThrowUnlessCompleted(const HistoryEvent& close_event);

// The "Results:" card. `run_time` is shown when positive.
void PrintResultCard(Printer& out, const HistoryEvent& close_event, std::chrono::nanoseconds run_time);

// The JSON object `temporal workflow execute/result -o json` prints (workflowId, runId, type,
// namespace, taskQueue, durationMillis, status, closeEvent, result).
Json ResultJson(const std::string& workflow_id, const std::string& run_id, const std::string& type,
                const std::string& ns, const std::string& task_queue, std::chrono::milliseconds duration,
                const HistoryEvent& close_event);

}  // namespace temporalite::cli
