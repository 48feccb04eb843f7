#include "alerts/alerter.h"

#include <temporal/api/workflow/v1/message.pb.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace temporalite::alerts {
namespace {

namespace fs = std::filesystem;
namespace enums = temporal::api::enums::v1;
using Json = nlohmann::json;

int64_t Nanos(TimePoint t) { return t.time_since_epoch().count(); }

std::string Slack(const std::string& text) { return Json{{"text", text}}.dump(); }

}  // namespace

Alerter::Alerter(persistence::Store& store, const Clock& clock, AlerterOptions options, PostFn post)
    : store_(store), clock_(clock), options_(std::move(options)), post_(std::move(post)) {}

Status Alerter::Load() {
  Result<std::optional<std::string>> stored = store_.GetServerState(kStateKey);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) return Parse(**stored, "the database's alert record");
  // Migration from the side file of earlier versions: into the database, then the file aside.
  if (!options_.legacy_state_path.empty() && fs::exists(options_.legacy_state_path)) {
    std::ifstream in(options_.legacy_state_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    TL_RETURN_IF_ERROR(Parse(text, "alert state file " + options_.legacy_state_path));
    TL_RETURN_IF_ERROR(Save());
    std::error_code ec;
    fs::rename(options_.legacy_state_path, options_.legacy_state_path + ".migrated", ec);
    if (ec) TL_LOG_WARN("alerts: migrated %s into the database but cannot rename it: %s",
                        options_.legacy_state_path.c_str(), ec.message().c_str());
    TL_LOG_INFO("alerts: state migrated from %s into the database", options_.legacy_state_path.c_str());
    return Status::Ok();
  }
  start_time_ = Nanos(clock_.Now());
  return Save();
}

Status Alerter::Parse(const std::string& text, const std::string& where) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return FailedPrecondition(where + " is damaged");
  try {
    start_time_ = j.value("startTime", int64_t{0});
    for (auto& [ns, c] : j["cursors"].items()) cursors_[ns] = Cursor{c.at("closeTime").get<int64_t>(), c.at("runId").get<std::string>()};
    for (auto& [k, st] : j["streaks"].items()) streaks_[k] = Streak{st.at("failures").get<int>(), st.at("alerted").get<bool>()};
    for (auto& m : j["outbox"]) outbox_.push_back(m.get<std::string>());
  } catch (const Json::exception& e) {
    return FailedPrecondition(where + " is damaged: " + e.what());
  }
  return Status::Ok();
}

Status Alerter::Save() {
  Json j;
  j["startTime"] = start_time_;
  j["cursors"] = Json::object();
  for (const auto& [ns, c] : cursors_) j["cursors"][ns] = {{"closeTime", c.close_time}, {"runId", c.run_id}};
  j["streaks"] = Json::object();
  for (const auto& [k, st] : streaks_) {
    if (st.failures > 0 || st.alerted) j["streaks"][k] = {{"failures", st.failures}, {"alerted", st.alerted}};
  }
  j["outbox"] = Json::array();
  for (const auto& m : outbox_) j["outbox"].push_back(m);
  persistence::WriteBatch batch;
  batch.put_server_state.emplace_back(kStateKey, j.dump());
  return store_.CommitSync(std::move(batch));
}

void Alerter::Observe(const std::string& key, const std::string& label, bool failed, const std::string& run_desc) {
  Streak& s = streaks_[key];
  if (failed) {
    ++s.failures;
    if (s.failures >= options_.alert_after && !s.alerted) {
      s.alerted = true;
      outbox_.push_back(Slack(":rotating_light: " + label + ": " + std::to_string(s.failures) +
                              " consecutive runs failed (latest " + run_desc + ")"));
    }
  } else {
    if (s.alerted) outbox_.push_back(Slack(":white_check_mark: " + label + " recovered: " + run_desc + " succeeded"));
    s = Streak{};
  }
}

Status Alerter::ProcessNewCloses() {
  Result<std::vector<persistence::NamespaceRow>> nss = store_.LoadNamespaces();
  if (!nss.ok()) return nss.status();
  bool changed = false;
  for (const auto& ns : *nss) {
    Cursor& cur = cursors_[ns.id];
    if (cur.close_time == 0) cur.close_time = start_time_;
    for (;;) {
      persistence::VisibilityQuery q;
      q.namespace_id = ns.id;
      // Closed after the cursor in (close_time ASC, run_id DESC) order, the store's tie-break.
      q.where = "close_time IS NOT NULL AND (close_time > ? OR (close_time = ? AND run_id < ?))";
      q.args = {cur.close_time, cur.close_time, cur.run_id.empty() ? std::string("\xff") : cur.run_id};
      q.order_by = "close_time ASC";
      q.limit = 500;
      Result<persistence::VisibilityPage> page = store_.ListVisibility(q);
      if (!page.ok()) return page.status();
      for (size_t i = 0; i < page->infos.size(); ++i) {
        temporal::api::workflow::v1::WorkflowExecutionInfo info;
        if (!info.ParseFromString(page->infos[i])) continue;
        cur.close_time = static_cast<int64_t>(info.close_time().seconds()) * 1000000000 + info.close_time().nanos();
        cur.run_id = page->cursors[i].run_id;
        changed = true;
        const auto st = info.status();
        const bool failed = st == enums::WORKFLOW_EXECUTION_STATUS_FAILED || st == enums::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
        if (!failed && st != enums::WORKFLOW_EXECUTION_STATUS_COMPLETED) continue;  // canceled, terminated, continued
        const std::string run = info.execution().workflow_id() + " " + (failed ? (st == enums::WORKFLOW_EXECUTION_STATUS_FAILED ? "failed" : "timed out") : "completed");
        Observe("type:" + ns.name + "/" + info.type().name(), "Workflow type " + info.type().name() + " (namespace " + ns.name + ")",
                failed, run);
        auto sa = info.search_attributes().indexed_fields().find("TemporalScheduledById");
        if (sa != info.search_attributes().indexed_fields().end()) {
          std::string id = sa->second.data();
          if (id.size() >= 2 && id.front() == '"') id = id.substr(1, id.size() - 2);
          Observe("schedule:" + ns.name + "/" + id, "Schedule " + id + " (namespace " + ns.name + ")", failed, run);
        }
      }
      if (page->infos.size() < static_cast<size_t>(q.limit)) break;
    }
  }
  if (changed) return Save();
  return Status::Ok();
}

void Alerter::Deliver() {
  while (!outbox_.empty() && clock_.Now() >= next_delivery_) {
    Status s = post_(outbox_.front());
    if (!s.ok()) {
      ++retry_attempt_;
      auto delay = std::chrono::milliseconds(std::min<int64_t>(60000, 1000LL << std::min(retry_attempt_ - 1, 6)));
      next_delivery_ = clock_.Now() + delay;
      TL_LOG_WARN("alert webhook failed (%s); retrying in %lld ms", s.message().c_str(), static_cast<long long>(delay.count()));
      return;
    }
    retry_attempt_ = 0;
    outbox_.pop_front();
    Status saved = Save();
    if (!saved.ok()) TL_LOG_ERROR("cannot save alert state: %s", saved.message().c_str());
  }
}

void Alerter::Run() {
  for (;;) {
    Status s = ProcessNewCloses();
    if (!s.ok()) TL_LOG_WARN("alerts: %s", s.message().c_str());
    Deliver();
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, options_.poll_interval, [this] { return stop_ || nudged_; });
    if (stop_) return;
    nudged_ = false;
  }
}

void Alerter::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  stop_ = true;
  cv_.notify_all();
}

void Alerter::Nudge() {
  std::lock_guard<std::mutex> l(mu_);
  nudged_ = true;
  cv_.notify_all();
}

}  // namespace temporalite::alerts
