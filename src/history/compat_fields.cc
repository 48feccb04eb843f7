#include "history/compat_fields.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;

bool MergePriority(const cv1::Priority* base, const cv1::Priority* override, cv1::Priority* out) {
  if (!base && !override) return false;
  if (!base || !override) {
    *out = base ? *base : *override;
    return true;
  }
  cv1::Priority p;
  p.set_priority_key(override->priority_key() != 0 ? override->priority_key() : base->priority_key());
  p.set_fairness_key(!override->fairness_key().empty() ? override->fairness_key() : base->fairness_key());
  p.set_fairness_weight(override->fairness_weight() != 0 ? override->fairness_weight() : base->fairness_weight());
  *out = std::move(p);
  return true;
}

Status ValidatePriority(const cv1::Priority& p) {
  if (p.priority_key() < 0) return Status(Code::kInvalidArgument, "priority key can't be negative");
  if (p.fairness_key().size() > 64) return Status(Code::kInvalidArgument, "fairness key length exceeds limit");
  if (p.fairness_weight() < 0) return Status(Code::kInvalidArgument, "must be greater than zero");
  return Status::Ok();
}

void RecordStartExtras(const ::temporal::api::sdk::v1::UserMetadata& metadata,
                       ::temporal::api::history::v1::HistoryEvent* started, state::ExecutionState* st) {
  if (HasUserMetadata(metadata)) *started->mutable_user_metadata() = metadata;
  ExtrasFromStartedEvent(*started, st);
}

void ExtrasFromStartedEvent(const ::temporal::api::history::v1::HistoryEvent& started, state::ExecutionState* st) {
  if (HasUserMetadata(started.user_metadata())) *st->mutable_user_metadata() = started.user_metadata();
  const auto& a = started.workflow_execution_started_event_attributes();
  if (a.has_priority()) *st->mutable_priority() = a.priority();
}

void SuggestContinueAsNew(int64_t event_count, int64_t count_limit, int64_t size_limit, bool too_many_updates,
                          ::temporal::api::history::v1::WorkflowTaskStartedEventAttributes* a) {
  if (a->history_size_bytes() >= size_limit) {
    a->add_suggest_continue_as_new_reasons(::temporal::api::enums::v1::SUGGEST_CONTINUE_AS_NEW_REASON_HISTORY_SIZE_TOO_LARGE);
  }
  if (event_count >= count_limit) {
    a->add_suggest_continue_as_new_reasons(::temporal::api::enums::v1::SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_HISTORY_EVENTS);
  }
  if (too_many_updates) {
    a->add_suggest_continue_as_new_reasons(::temporal::api::enums::v1::SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_UPDATES);
  }
  a->set_suggest_continue_as_new(a->suggest_continue_as_new_reasons_size() > 0);
}

bool UpdateBuildIds(const cv1::WorkerVersionStamp* stamp, cv1::SearchAttributes* attrs) {
  auto& fields = *attrs->mutable_indexed_fields();
  std::vector<std::string> existing;
  if (auto it = fields.find("BuildIds"); it != fields.end()) {
    auto parsed = nlohmann::json::parse(it->second.data(), nullptr, false);
    if (parsed.is_array()) {
      for (const auto& v : parsed) {
        if (v.is_string()) existing.push_back(v.get<std::string>());
      }
    }
  }
  std::vector<std::string> values = {"unversioned"};
  std::string build_id;
  if (stamp) {
    if (stamp->build_id().empty()) build_id = "unversioned";
    else build_id = (stamp->use_versioning() ? "versioned:" : "unversioned:") + stamp->build_id();
  }
  bool found = false;
  for (const auto& v : existing) {
    if (v == build_id) found = true;
    if (v != "unversioned" && v.rfind("assigned:", 0) != 0 && v.rfind("pinned", 0) != 0) values.push_back(v);
  }
  if (!found && !build_id.empty()) values.push_back(build_id);
  if (values == existing) return false;
  cv1::Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  (*p.mutable_metadata())["type"] = "KeywordList";
  p.set_data(nlohmann::json(values).dump());
  fields["BuildIds"] = std::move(p);
  return true;
}

void FillDescribeExtras(const state::ExecutionState& st,
                        ::temporal::api::workflowservice::v1::DescribeWorkflowExecutionResponse* resp) {
  if (st.has_user_metadata()) *resp->mutable_execution_config()->mutable_user_metadata() = st.user_metadata();
  if (st.has_priority()) *resp->mutable_workflow_execution_info()->mutable_priority() = st.priority();
}

}  // namespace temporalite::history
