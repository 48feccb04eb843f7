#include "cli/history.h"

#include <temporal/api/workflowservice/v1/request_response.pb.h>

#include <algorithm>
#include <cctype>

#include "cli/client.h"
#include "cli/format.h"
#include "cli/payloads.h"

namespace temporalite::cli {
namespace {

using temporal::api::enums::v1::EventType;
namespace wsv1 = temporal::api::workflowservice::v1;

Style EventStyle(EventType t) {
  switch (t) {
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_TASK_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      return Style::kRed;
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
    case temporal::api::enums::v1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
    case temporal::api::enums::v1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
      return Style::kYellow;
    case temporal::api::enums::v1::EVENT_TYPE_TIMER_CANCELED:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
    case temporal::api::enums::v1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
      return Style::kMagenta;
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
    case temporal::api::enums::v1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      return Style::kGreen;
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
    case temporal::api::enums::v1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
      return Style::kBlue;
    default:
      return Style::kPlain;
  }
}

// Flattens JSON into "a.b[0].c: value" lines.
void Flatten(const std::string& field, const Json& v, std::vector<std::pair<std::string, std::string>>* out) {
  if (v.is_object()) {
    for (const auto& [k, sub] : v.items()) Flatten(field.empty() ? k : field + "." + k, sub, out);
  } else if (v.is_array()) {
    if (v.empty()) out->emplace_back(field, "[]");
    for (size_t i = 0; i < v.size(); ++i) Flatten(field + "[" + std::to_string(i) + "]", v[i], out);
  } else if (v.is_string()) {
    out->emplace_back(field, v.get<std::string>());
  } else {
    out->emplace_back(field, CompactJson(v));
  }
}

void PrintDetailedEvent(Printer& out, const HistoryEvent& e, bool first) {
  if (!first) out.Line();
  out.Line("--------------- [" + std::to_string(e.event_id()) + "] " + EnumName(e.event_type()) +
           " ---------------");
  Json j = ProtoJson(e);
  DecodePayloadsInJson(&j);
  j.erase("eventId");
  j.erase("eventType");
  Json lifted = Json::object();
  for (auto& [k, v] : j.items()) {
    if (k.size() > 10 && k.compare(k.size() - 10, 10, "Attributes") == 0 && v.is_object()) {
      for (auto& [sk, sv] : v.items()) lifted[sk] = sv;
    } else {
      lifted[k] = v;
    }
  }
  std::vector<std::pair<std::string, std::string>> fields;
  Flatten("", lifted, &fields);
  std::sort(fields.begin(), fields.end());
  for (const auto& [k, v] : fields) out.Line(k + ": " + v);
}

}  // namespace

bool IsCloseEvent(EventType type) {
  switch (type) {
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      return true;
    default:
      return false;
  }
}

HistoryReader::HistoryReader(Context& ctx, std::string workflow_id, std::string run_id, bool follow, bool chain)
    : ctx_(ctx), workflow_id_(std::move(workflow_id)), run_id_(std::move(run_id)), follow_(follow), chain_(chain) {}

void HistoryReader::FetchPage() {
  wsv1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(ctx_.ns());
  req.mutable_execution()->set_workflow_id(workflow_id_);
  req.mutable_execution()->set_run_id(run_id_);
  req.set_next_page_token(next_page_token_);
  req.set_wait_new_event(follow_);
  Connection& c = ctx_.conn();
  for (;;) {
    try {
      auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::GetWorkflowExecutionHistory,
                         "GetWorkflowExecutionHistory", req, "failed reading history", follow_);
      for (const HistoryEvent& e : resp.history().events()) buffered_.push_back(e);
      next_page_token_ = resp.next_page_token();
      started_ = true;
      return;
    } catch (const RpcError& e) {
      if (!e.poll_timeout()) throw;  // a long poll that saw nothing new: ask again
    }
  }
}

std::optional<HistoryEvent> HistoryReader::Next() {
  while (buffered_.empty()) {
    if (done_) return std::nullopt;
    if (started_ && next_page_token_.empty()) {
      done_ = true;
      return std::nullopt;
    }
    FetchPage();
  }
  HistoryEvent e = std::move(buffered_.front());
  buffered_.pop_front();
  if (IsCloseEvent(e.event_type())) {
    if (e.has_workflow_execution_continued_as_new_event_attributes() && chain_) {
      // Continue with the next run of the chain.
      run_id_ = e.workflow_execution_continued_as_new_event_attributes().new_execution_run_id();
      next_page_token_.clear();
      started_ = false;
      buffered_.clear();
    } else {
      close_event_ = e;
      if (follow_) done_ = buffered_.empty();  // a followed run ends at its close event
    }
  }
  return e;
}

HistoryEvent WaitForCloseEvent(Context& ctx, const std::string& workflow_id, const std::string& run_id,
                               std::string* closed_run_id) {
  std::string run = run_id;
  Connection& c = ctx.conn();
  if (run.empty() && closed_run_id != nullptr) {
    wsv1::DescribeWorkflowExecutionRequest d;
    d.set_namespace_(ctx.ns());
    d.mutable_execution()->set_workflow_id(workflow_id);
    run = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeWorkflowExecution, "DescribeWorkflowExecution", d,
                 "failed describing workflow")
              .workflow_execution_info()
              .execution()
              .run_id();
  }
  for (;;) {
    wsv1::GetWorkflowExecutionHistoryRequest req;
    req.set_namespace_(ctx.ns());
    req.mutable_execution()->set_workflow_id(workflow_id);
    req.mutable_execution()->set_run_id(run);
    req.set_wait_new_event(true);
    req.set_history_event_filter_type(temporal::api::enums::v1::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);
    std::optional<HistoryEvent> close;
    for (;;) {
      wsv1::GetWorkflowExecutionHistoryResponse resp;
      try {
        resp = c.Call(c.workflow(), &Connection::WorkflowStub::GetWorkflowExecutionHistory,
                      "GetWorkflowExecutionHistory", req, "failed waiting for the workflow to close", true);
      } catch (const RpcError& e) {
        if (e.poll_timeout()) continue;
        throw;
      }
      for (const HistoryEvent& e : resp.history().events()) {
        if (IsCloseEvent(e.event_type())) close = e;
      }
      if (close || resp.next_page_token().empty()) break;
      req.set_next_page_token(resp.next_page_token());
    }
    if (!close) throw CommandError("the server returned no close event for workflow " + workflow_id);
    if (!close->has_workflow_execution_continued_as_new_event_attributes()) {
      if (closed_run_id != nullptr) *closed_run_id = run;
      return *close;
    }
    run = close->workflow_execution_continued_as_new_event_attributes().new_execution_run_id();
  }
}

void PrintEvents(Context& ctx, HistoryReader& reader, bool detailed) {
  Printer& out = ctx.out();
  const std::vector<Column> cols = {{"ID", 3, true}, {"Time", 20, false}, {"Type", 26, false}};
  bool first = true;
  while (std::optional<HistoryEvent> e = reader.Next()) {
    if (detailed) {
      PrintDetailedEvent(out, *e, first);
    } else {
      if (first) out.TableHeader(cols);
      out.TableRow(cols, {std::to_string(e->event_id()), Rfc3339(e->event_time()),
                          out.Paint(EventStyle(e->event_type()), EnumName(e->event_type()))});
    }
    first = false;
    out.Flush();
  }
}

std::string CloseStatus(const HistoryEvent& e) {
  switch (e.event_type()) {
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: return "COMPLETED";
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: return "FAILED";
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: return "TIMEOUT";
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: return "CANCELED";
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: return "TERMINATED";
    case temporal::api::enums::v1::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: return "CONTINUED_AS_NEW";
    default: return "<unknown>";
  }
}

void ThrowUnlessCompleted(const HistoryEvent& e) {
  std::string status = CloseStatus(e);
  if (status == "COMPLETED") return;
  if (status == "TIMEOUT") throw CommandError("workflow timed out");
  if (status == "CONTINUED_AS_NEW") throw CommandError("workflow continued as new");
  std::string lower;
  for (char c : status) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  throw CommandError("workflow " + lower);
}

void PrintResultCard(Printer& out, const HistoryEvent& e, std::chrono::nanoseconds run_time) {
  out.Title("Results");
  std::vector<Field> fields;
  if (run_time.count() > 0) {
    auto truncated = std::chrono::duration_cast<std::chrono::milliseconds>(run_time) / 10 * 10;
    fields.push_back({"RunTime", FormatDuration(truncated)});
  }
  std::string status = CloseStatus(e);
  fields.push_back({"Status", out.Paint(status == "COMPLETED" ? Style::kGreen : Style::kRed, status)});
  if (e.has_workflow_execution_completed_event_attributes()) {
    const auto& result = e.workflow_execution_completed_event_attributes().result();
    fields.push_back({"Result", CompactJson(PayloadsValue(result)), true});
    fields.push_back({"ResultEncoding", PayloadsEncoding(result), true});
  } else if (e.has_workflow_execution_failed_event_attributes()) {
    fields.push_back({"Failure", FailureText(e.workflow_execution_failed_event_attributes().failure(), "    ")});
  } else if (e.has_workflow_execution_terminated_event_attributes()) {
    const auto& a = e.workflow_execution_terminated_event_attributes();
    fields.push_back({"Reason", a.reason(), true});
    fields.push_back({"Identity", a.identity(), true});
  } else if (e.has_workflow_execution_canceled_event_attributes()) {
    const auto& d = e.workflow_execution_canceled_event_attributes().details();
    if (d.payloads_size() > 0) fields.push_back({"Details", CompactJson(PayloadsValue(d))});
  }
  out.Card(fields);
}

Json ResultJson(const std::string& workflow_id, const std::string& run_id, const std::string& type,
                const std::string& ns, const std::string& task_queue, std::chrono::milliseconds duration,
                const HistoryEvent& close) {
  Json j = Json::object();
  j["workflowId"] = workflow_id;
  j["runId"] = run_id;
  if (!type.empty()) j["type"] = type;
  if (!ns.empty()) j["namespace"] = ns;
  if (!task_queue.empty()) j["taskQueue"] = task_queue;
  if (duration.count() > 0) j["durationMillis"] = duration.count();
  j["status"] = CloseStatus(close);
  j["closeEvent"] = ProtoJson(close);
  if (close.has_workflow_execution_completed_event_attributes()) {
    j["result"] = PayloadsValue(close.workflow_execution_completed_event_attributes().result());
  }
  return j;
}

}  // namespace temporalite::cli
