#include "history/task_token.h"

namespace temporalite::history {

// Tokens are issued in Temporal's layouts: workflow and activity task tokens as its token.v1.Task
// message (a workflow task token names no activity), legacy query task tokens as its
// token.v1.QueryTask (namespace id, task queue, task id). Tokens issued by earlier versions of
// this server (a version byte, then our own TaskToken message) still decode, so a worker holding
// one across an upgrade can still answer its task.
namespace {
constexpr char kLegacyTokenVersion = '\x01';

Status Malformed() { return InvalidArgument("Error deserializing task token: the token is malformed"); }
}  // namespace

std::string EncodeTaskToken(const state::TaskToken& token) {
  if (token.kind() == state::TaskToken::QUERY_TASK) {
    return EncodeQueryTaskToken(token.namespace_id(), "", token.query_id());
  }
  state::TemporalTaskToken t;
  t.set_namespace_id(token.namespace_id());
  t.set_workflow_id(token.workflow_id());
  t.set_run_id(token.run_id());
  t.set_scheduled_event_id(token.scheduled_event_id());
  t.set_attempt(token.attempt());
  t.set_started_event_id(token.started_event_id());
  if (token.kind() == state::TaskToken::ACTIVITY_TASK) {
    t.set_activity_id(token.activity_id());
    t.set_workflow_type(token.workflow_type());
    t.set_activity_type(token.activity_type());
  }
  return t.SerializeAsString();
}

std::string EncodeQueryTaskToken(const std::string& namespace_id, const std::string& task_queue,
                                 const std::string& query_id) {
  // QueryTask's fields 1-3 (namespace id, task queue, task id) are strings with the numbers of
  // Task's namespace id, workflow id and run id: the same bytes as a Task carrying only those.
  state::TemporalTaskToken q;
  q.set_namespace_id(namespace_id);
  q.set_workflow_id(task_queue);
  q.set_run_id(query_id);
  return q.SerializeAsString();
}

Result<state::TaskToken> DecodeTaskToken(const std::string& bytes) {
  state::TaskToken t;
  if (bytes.empty()) return Malformed();
  if (bytes[0] == kLegacyTokenVersion) {  // Temporal's tokens start with a field tag, never 0x01
    if (!t.ParseFromArray(bytes.data() + 1, static_cast<int>(bytes.size() - 1)) ||
        t.kind() == state::TaskToken::KIND_UNSPECIFIED || t.run_id().empty()) {
      return Malformed();
    }
    return t;
  }
  // Temporal's formats. A task token always names its scheduled event; a query token (fields 1-3
  // are strings in both messages) never carries field 4.
  state::TemporalTaskToken tt;
  if (!tt.ParseFromString(bytes) || tt.workflow_id().empty() || tt.run_id().empty()) return Malformed();
  if (tt.scheduled_event_id() <= 0) {
    // QueryTask: fields 2 and 3 are its task queue and task id (the pending query's id).
    if (!tt.activity_id().empty() || tt.attempt() != 0 || tt.started_event_id() != 0) return Malformed();
    t.set_kind(state::TaskToken::QUERY_TASK);
    t.set_namespace_id(tt.namespace_id());
    t.set_query_id(tt.run_id());
    return t;
  }
  // An activity token names its activity; a workflow task token does not.
  t.set_kind(tt.activity_id().empty() ? state::TaskToken::WORKFLOW_TASK : state::TaskToken::ACTIVITY_TASK);
  t.set_namespace_id(tt.namespace_id());
  t.set_workflow_id(tt.workflow_id());
  t.set_run_id(tt.run_id());
  t.set_scheduled_event_id(tt.scheduled_event_id());
  t.set_started_event_id(tt.started_event_id());
  t.set_attempt(tt.attempt());
  t.set_activity_id(tt.activity_id());
  t.set_workflow_type(tt.workflow_type());
  t.set_activity_type(tt.activity_type());
  return t;
}

}  // namespace temporalite::history
