#include "history/task_token.h"

namespace temporalite::history {

namespace {
// A version byte in front of our own serialized token (workflow and query tokens). Temporal's
// token format (activity tokens) starts with a field tag instead, never with this byte.
constexpr char kTokenVersion = '\x01';

Status Malformed() { return InvalidArgument("Error deserializing task token: the token is malformed"); }
}  // namespace

std::string EncodeTaskToken(const state::TaskToken& token) {
  if (token.kind() == state::TaskToken::ACTIVITY_TASK) {
    state::TemporalTaskToken t;
    t.set_namespace_id(token.namespace_id());
    t.set_workflow_id(token.workflow_id());
    t.set_run_id(token.run_id());
    t.set_scheduled_event_id(token.scheduled_event_id());
    t.set_attempt(token.attempt());
    t.set_activity_id(token.activity_id());
    t.set_workflow_type(token.workflow_type());
    t.set_activity_type(token.activity_type());
    t.set_started_event_id(token.started_event_id());
    return t.SerializeAsString();
  }
  std::string out(1, kTokenVersion);
  token.AppendToString(&out);
  return out;
}

Result<state::TaskToken> DecodeTaskToken(const std::string& bytes) {
  state::TaskToken t;
  if (bytes.empty()) return Malformed();
  if (bytes[0] == kTokenVersion) {
    if (!t.ParseFromArray(bytes.data() + 1, static_cast<int>(bytes.size() - 1)) ||
        t.kind() == state::TaskToken::KIND_UNSPECIFIED || t.run_id().empty()) {
      return Malformed();
    }
    return t;
  }
  // Temporal's format: an activity token names its activity; a workflow task token does not.
  state::TemporalTaskToken tt;
  if (!tt.ParseFromString(bytes) || tt.workflow_id().empty() || tt.run_id().empty() || tt.scheduled_event_id() <= 0) {
    return Malformed();
  }
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
