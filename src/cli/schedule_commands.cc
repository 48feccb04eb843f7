// temporalite schedule create | update | describe | list | delete | toggle | trigger | backfill |
// list-matching-times, with the official `temporal schedule` flags plus --schedule (the runbook's
// phrase grammar, phrase/schedule_phrase.h).
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/output.h"
#include "common/ids.h"
#include "phrase/schedule_phrase.h"

namespace temporalite::cli {
namespace {

namespace wsv1 = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;
namespace spv1 = temporal::api::schedule::v1;

struct ScheduleId {
  std::string id;
};

void AddScheduleIdFlag(CLI::App* cmd, ScheduleId* s) {
  // Also positional, as the runbook writes it: `schedule create checkers-hourly ...`.
  cmd->add_option("schedule-id,-s,--schedule-id", s->id, "Schedule ID")->required()->type_name("ID");
}

// create/update: the "schedule-configuration", "schedule-id", "overlap-policy",
// "shared-workflow-start" and "payload-input" option sets.
struct ConfigFlags {
  ScheduleId sid;
  std::string phrase;
  std::vector<std::string> calendar;
  std::vector<std::string> cron;
  std::vector<std::string> interval;
  std::string time_zone;
  std::string start_time;
  std::string end_time;
  std::string jitter;
  std::string catchup_window;
  std::string notes;
  bool paused = false;
  bool pause_on_failure = false;
  int64_t remaining_actions = 0;
  std::string overlap_policy = "Skip";
  std::vector<std::string> schedule_search_attributes;
  std::vector<std::string> schedule_memo;
  // The workflow to start.
  std::string workflow_id;
  std::string type;
  std::string task_queue;
  std::string run_timeout;
  std::string execution_timeout;
  std::string task_timeout;
  std::vector<std::string> search_attributes;
  std::vector<std::string> memo;
  std::string static_summary;
  std::string static_details;
  PayloadInput input;
};

constexpr const char* kOverlapPolicies = "Skip, BufferOne, BufferAll, CancelOther, TerminateOther or AllowAll";

enums::ScheduleOverlapPolicy ParseOverlap(const std::string& text) {
  int v = 0;
  if (!ParseEnumName(enums::ScheduleOverlapPolicy_descriptor(), text, &v) ||
      v == enums::SCHEDULE_OVERLAP_POLICY_UNSPECIFIED) {
    throw UsageError("invalid --overlap-policy \"" + text + "\": expected " + kOverlapPolicies);
  }
  return static_cast<enums::ScheduleOverlapPolicy>(v);
}

google::protobuf::Timestamp ParseTime(const std::string& text, const std::string& flag) {
  google::protobuf::Timestamp ts;
  if (!google::protobuf::util::TimeUtil::FromString(text, &ts)) {
    throw UsageError("invalid " + flag + " \"" + text + "\": expected an RFC 3339 time such as 2024-01-02T15:04:05Z");
  }
  return ts;
}

void AddConfigFlags(CLI::App* cmd, ConfigFlags* f) {
  AddScheduleIdFlag(cmd, &f->sid);
  cmd->add_option("--schedule", f->phrase,
                  "Schedule phrase, e.g. \"every 2h between 06:00-22:00 Africa/Johannesburg\", \"daily at 03:30\", "
                  "\"weekdays at 09:00,17:30 America/New_York\"")
      ->type_name("PHRASE");
  cmd->add_option("--calendar", f->calendar, "Calendar specification in JSON (CalendarSpec). Can be passed multiple times.")
      ->type_name("JSON");
  cmd->add_option("--cron", f->cron, "Calendar specification in cron string format. Can be passed multiple times.")
      ->type_name("STRING");
  cmd->add_option("--interval", f->interval,
                  "Interval duration, optionally with an offset: \"45m\" or \"6h/5h\". Can be passed multiple times.")
      ->type_name("DURATION[/OFFSET]");
  cmd->add_option("--time-zone", f->time_zone, "IANA time zone name for the calendar specifications (default UTC)")
      ->type_name("TZ");
  cmd->add_option("--start-time", f->start_time, "Schedule start time (RFC 3339)")->type_name("TIMESTAMP");
  cmd->add_option("--end-time", f->end_time, "Schedule end time (RFC 3339)")->type_name("TIMESTAMP");
  cmd->add_option("--jitter", f->jitter, "Max random delay added to each action time")->type_name("DURATION");
  cmd->add_option("--catchup-window", f->catchup_window, "Maximum catch-up time for when the Service is unavailable")
      ->type_name("DURATION");
  cmd->add_option("--notes", f->notes, "Initial notes field value")->type_name("STRING");
  cmd->add_flag("--paused", f->paused, "Pause the Schedule immediately on creation");
  cmd->add_flag("--pause-on-failure", f->pause_on_failure, "Pause the Schedule if a Workflow run fails or times out");
  cmd->add_option("--remaining-actions", f->remaining_actions,
                  "Total allowed actions; the Schedule stops taking actions after this many (default unlimited)")
      ->type_name("INT");
  cmd->add_option("--overlap-policy", f->overlap_policy, std::string("Policy for overlapping runs: ") + kOverlapPolicies)
      ->default_str("Skip");
  cmd->add_option("--schedule-search-attribute", f->schedule_search_attributes,
                  "Search Attribute of the Schedule as KEY=VALUE, VALUE JSON. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("--schedule-memo", f->schedule_memo,
                  "Memo of the Schedule as KEY=VALUE, VALUE JSON. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("-w,--workflow-id", f->workflow_id,
                  "Workflow ID of the runs (the start time is appended). Default: <schedule ID>-workflow.")
      ->type_name("ID");
  cmd->add_option("--type,--name,--workflow", f->type, "Workflow Type name (--workflow and --name are aliases)")
      ->required()
      ->type_name("TYPE");
  cmd->add_option("-t,--task-queue", f->task_queue, "Workflow Task queue")->required()->type_name("QUEUE");
  cmd->add_option("--run-timeout", f->run_timeout, "Fail a Workflow Run if it lasts longer than DURATION")
      ->type_name("DURATION");
  cmd->add_option("--execution-timeout", f->execution_timeout, "Fail a Workflow Execution after DURATION")
      ->type_name("DURATION");
  cmd->add_option("--task-timeout", f->task_timeout, "Start-to-close timeout of a Workflow Task")
      ->type_name("DURATION");
  cmd->add_option("--search-attribute", f->search_attributes,
                  "Search Attribute of the runs as KEY=VALUE, VALUE JSON. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("--memo", f->memo, "Memo of the runs as KEY=VALUE, VALUE JSON. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("--static-summary", f->static_summary, "Static Workflow summary for UIs (single line)");
  cmd->add_option("--static-details", f->static_details, "Static Workflow details for UIs");
  AddPayloadInputFlags(cmd, &f->input);
}

spv1::Schedule BuildSchedule(const ConfigFlags& f) {
  spv1::Schedule s;
  auto* spec = s.mutable_spec();
  if (!f.phrase.empty()) {
    std::string error;
    if (!phrase::ParseSchedulePhrase(f.phrase, phrase::LooksLikeZoneName, spec, &error)) throw UsageError(error);
    if (!f.time_zone.empty() && f.time_zone != spec->timezone_name()) {
      if (!spec->timezone_name().empty()) throw UsageError("--time-zone conflicts with the zone in --schedule");
      spec->set_timezone_name(f.time_zone);
    }
  } else if (!f.time_zone.empty()) {
    spec->set_timezone_name(f.time_zone);
  }
  for (const auto& c : f.cron) spec->add_cron_string(c);
  for (const auto& json : f.calendar) {
    spv1::CalendarSpec cal;
    if (!google::protobuf::util::JsonStringToMessage(json, &cal).ok()) {
      throw UsageError("invalid --calendar: expected a CalendarSpec in JSON, e.g. {\"hour\":\"6\",\"dayOfWeek\":\"MON-FRI\"}");
    }
    *spec->add_calendar() = cal;
  }
  for (const auto& iv : f.interval) {
    auto slash = iv.find('/');
    if (slash != std::string::npos && iv.find('/', slash + 1) != std::string::npos) {
      throw UsageError("invalid --interval \"" + iv + "\": must be \"<duration>\" or \"<duration>/<duration>\"");
    }
    auto* i = spec->add_interval();
    *i->mutable_interval() = ToProtoDuration(ParseDuration(iv.substr(0, slash), "--interval"));
    if (slash != std::string::npos) *i->mutable_phase() = ToProtoDuration(ParseDuration(iv.substr(slash + 1), "--interval"));
  }
  if (spec->structured_calendar_size() + spec->calendar_size() + spec->cron_string_size() + spec->interval_size() == 0) {
    throw UsageError("no schedule: give --schedule, --cron, --calendar or --interval");
  }
  if (!f.start_time.empty()) *spec->mutable_start_time() = ParseTime(f.start_time, "--start-time");
  if (!f.end_time.empty()) *spec->mutable_end_time() = ParseTime(f.end_time, "--end-time");
  if (!f.jitter.empty()) *spec->mutable_jitter() = ToProtoDuration(ParseDuration(f.jitter, "--jitter"));

  auto* pol = s.mutable_policies();
  pol->set_overlap_policy(ParseOverlap(f.overlap_policy));
  if (!f.catchup_window.empty()) {
    *pol->mutable_catchup_window() = ToProtoDuration(ParseDuration(f.catchup_window, "--catchup-window"));
  }
  pol->set_pause_on_failure(f.pause_on_failure);

  auto* st = s.mutable_state();
  st->set_notes(f.notes);
  st->set_paused(f.paused);
  if (f.remaining_actions < 0) throw UsageError("--remaining-actions must not be negative");
  if (f.remaining_actions > 0) {
    st->set_limited_actions(true);
    st->set_remaining_actions(f.remaining_actions);
  }

  auto* wf = s.mutable_action()->mutable_start_workflow();
  wf->set_workflow_id(f.workflow_id.empty() ? f.sid.id + "-workflow" : f.workflow_id);
  wf->mutable_workflow_type()->set_name(f.type);
  wf->mutable_task_queue()->set_name(f.task_queue);
  wf->mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
  auto input = BuildPayloads(f.input);
  if (input.payloads_size() > 0) *wf->mutable_input() = input;
  if (!f.execution_timeout.empty()) {
    *wf->mutable_workflow_execution_timeout() = ToProtoDuration(ParseDuration(f.execution_timeout, "--execution-timeout"));
  }
  if (!f.run_timeout.empty()) *wf->mutable_workflow_run_timeout() = ToProtoDuration(ParseDuration(f.run_timeout, "--run-timeout"));
  if (!f.task_timeout.empty()) {
    *wf->mutable_workflow_task_timeout() = ToProtoDuration(ParseDuration(f.task_timeout, "--task-timeout"));
  }
  for (auto& [k, p] : KeyJsonPayloads(f.memo, "--memo")) (*wf->mutable_memo()->mutable_fields())[k] = p;
  for (auto& [k, p] : KeyJsonPayloads(f.search_attributes, "--search-attribute")) {
    (*wf->mutable_search_attributes()->mutable_indexed_fields())[k] = p;
  }
  if (!f.static_summary.empty()) *wf->mutable_user_metadata()->mutable_summary() = JsonPayload(f.static_summary);
  if (!f.static_details.empty()) *wf->mutable_user_metadata()->mutable_details() = JsonPayload(f.static_details);
  return s;
}

void RunCreate(Context& ctx, const ConfigFlags& f) {
  wsv1::CreateScheduleRequest req;
  req.set_namespace_(ctx.ns());
  req.set_schedule_id(f.sid.id);
  *req.mutable_schedule() = BuildSchedule(f);
  req.set_identity(ctx.identity());
  req.set_request_id(NewUuid());
  for (auto& [k, p] : KeyJsonPayloads(f.schedule_memo, "--schedule-memo")) (*req.mutable_memo()->mutable_fields())[k] = p;
  for (auto& [k, p] : KeyJsonPayloads(f.schedule_search_attributes, "--schedule-search-attribute")) {
    (*req.mutable_search_attributes()->mutable_indexed_fields())[k] = p;
  }
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::CreateSchedule, "CreateSchedule", req, "failed creating schedule");
  ctx.out().Line("Schedule created");
}

void RunUpdate(Context& ctx, const ConfigFlags& f) {
  wsv1::UpdateScheduleRequest req;
  req.set_namespace_(ctx.ns());
  req.set_schedule_id(f.sid.id);
  *req.mutable_schedule() = BuildSchedule(f);
  req.set_identity(ctx.identity());
  req.set_request_id(NewUuid());
  if (!f.schedule_search_attributes.empty()) {
    for (auto& [k, p] : KeyJsonPayloads(f.schedule_search_attributes, "--schedule-search-attribute")) {
      (*req.mutable_search_attributes()->mutable_indexed_fields())[k] = p;
    }
  }
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::UpdateSchedule, "UpdateSchedule", req, "failed updating schedule");
  ctx.out().Line("Schedule updated");
}

// "0 30 5 * * * *"-like text of a structured calendar, as Temporal's describe shows it.
std::string RangesText(const google::protobuf::RepeatedPtrField<spv1::Range>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) out += ",";
    out += std::to_string(r.start());
    if (r.end() > r.start()) out += "-" + std::to_string(r.end());
    if (r.step() > 1) out += "/" + std::to_string(r.step());
  }
  return out.empty() ? "*" : out;
}

std::vector<std::string> SpecLines(const spv1::ScheduleSpec& spec) {
  std::vector<std::string> out;
  for (const auto& c : spec.structured_calendar()) {
    std::string line = "second=" + RangesText(c.second()) + " minute=" + RangesText(c.minute()) +
                       " hour=" + RangesText(c.hour()) + " dayOfMonth=" + RangesText(c.day_of_month()) +
                       " month=" + RangesText(c.month()) + " dayOfWeek=" + RangesText(c.day_of_week());
    if (c.year_size() > 0) line += " year=" + RangesText(c.year());
    if (!c.comment().empty()) line += " # " + c.comment();
    out.push_back(line);
  }
  for (const auto& c : spec.cron_string()) out.push_back("cron " + c);
  for (const auto& i : spec.interval()) {
    std::string line = "every " + FormatDuration(FromProto(i.interval()));
    if (FromProto(i.phase()).count() > 0) line += " offset " + FormatDuration(FromProto(i.phase()));
    out.push_back(line);
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

void RunDescribe(Context& ctx, const ScheduleId& s) {
  wsv1::DescribeScheduleRequest req;
  req.set_namespace_(ctx.ns());
  req.set_schedule_id(s.id);
  Connection& c = ctx.conn();
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeSchedule, "DescribeSchedule", req,
                     "failed describing schedule");
  Printer& out = ctx.out();
  if (out.json()) {
    out.PrintJson(ProtoJson(resp));
    return;
  }
  const auto& sch = resp.schedule();
  const auto& info = resp.info();
  const auto& wf = sch.action().start_workflow();
  std::vector<std::string> running;
  for (const auto& r : info.running_workflows()) running.push_back(r.workflow_id());
  std::string last_run;
  if (info.recent_actions_size() > 0) last_run = out.Time(info.recent_actions(info.recent_actions_size() - 1).schedule_time());
  std::string next_run;
  if (info.future_action_times_size() > 0) next_run = out.Time(info.future_action_times(0));
  out.Card({
      {"ScheduleId", s.id},
      {"Workflow", wf.workflow_type().name() + " (id " + wf.workflow_id() + ", task queue " + wf.task_queue().name() + ")"},
      {"Spec", JoinLines(SpecLines(sch.spec()), "; "), true},
      {"TimeZoneName", sch.spec().timezone_name(), true},
      {"Jitter", sch.spec().has_jitter() ? FormatDuration(FromProto(sch.spec().jitter())) : "", true},
      {"OverlapPolicy", EnumName(sch.policies().overlap_policy())},
      {"CatchupWindow", FormatDuration(FromProto(sch.policies().catchup_window()))},
      {"PauseOnFailure", sch.policies().pause_on_failure() ? "true" : "false"},
      {"Notes", sch.state().notes(), true},
      {"Paused", sch.state().paused() ? "true" : "false"},
      {"RemainingActions", sch.state().limited_actions() ? std::to_string(sch.state().remaining_actions()) : "", true},
      {"NextRunTime", next_run},
      {"LastRunTime", last_run},
      {"RunningWorkflows", JoinLines(running, ", ")},
      {"CreatedAt", out.Time(info.create_time()), true},
      {"LastUpdateAt", info.has_update_time() ? out.Time(info.update_time()) : "", true},
      {"ActionCounts", "Total " + std::to_string(info.action_count()) + ", MissedCatchupWindow " +
                           std::to_string(info.missed_catchup_window()) + ", SkippedOverlap " +
                           std::to_string(info.overlap_skipped())},
      {"InvalidScheduleError", info.invalid_schedule_error(), true},
  });
}

struct ListFlags {
  bool long_ = false;
  bool really_long = false;
  std::string query;
};

void RunList(Context& ctx, const ListFlags& f) {
  Connection& c = ctx.conn();
  Printer& out = ctx.out();
  std::vector<std::vector<std::string>> rows;
  if (out.json()) out.StartList();
  std::string token;
  do {
    wsv1::ListSchedulesRequest req;
    req.set_namespace_(ctx.ns());
    req.set_query(f.query);
    req.set_next_page_token(token);
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListSchedules, "ListSchedules", req,
                       "failed listing schedules");
    for (const auto& e : resp.schedules()) {
      if (out.json()) {
        out.ListItem(ProtoJson(e));
        continue;
      }
      const auto& info = e.info();
      std::string next = info.future_action_times_size() > 0 ? out.Time(info.future_action_times(0)) : "";
      std::string last =
          info.recent_actions_size() > 0 ? out.Time(info.recent_actions(info.recent_actions_size() - 1).schedule_time()) : "";
      std::vector<std::string> row{e.schedule_id(), info.workflow_type().name(), info.paused() ? "true" : "false", next,
                                   last};
      if (f.long_ || f.really_long) {
        row.push_back(JoinLines(SpecLines(info.spec()), "; "));
        row.push_back(info.notes());
      }
      if (f.really_long) row.push_back(info.spec().timezone_name());
      rows.push_back(std::move(row));
    }
    token = resp.next_page_token();
  } while (!token.empty());
  if (out.json()) {
    out.EndList();
    return;
  }
  std::vector<Column> cols{{"ScheduleId"}, {"Workflow"}, {"Paused"}, {"NextRunTime"}, {"LastRunTime"}};
  if (f.long_ || f.really_long) {
    cols.push_back({"Spec"});
    cols.push_back({"Notes"});
  }
  if (f.really_long) cols.push_back({"TimeZoneName"});
  out.Table(cols, rows);
}

void RunDelete(Context& ctx, const ScheduleId& s) {
  wsv1::DeleteScheduleRequest req;
  req.set_namespace_(ctx.ns());
  req.set_schedule_id(s.id);
  req.set_identity(ctx.identity());
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::DeleteSchedule, "DeleteSchedule", req, "failed deleting schedule");
  if (ctx.out().json()) {
    ctx.out().PrintJson(Json::object());
  } else {
    ctx.out().Line("Schedule deleted");
  }
}

void Patch(Context& ctx, const std::string& id, const spv1::SchedulePatch& patch) {
  wsv1::PatchScheduleRequest req;
  req.set_namespace_(ctx.ns());
  req.set_schedule_id(id);
  *req.mutable_patch() = patch;
  req.set_identity(ctx.identity());
  req.set_request_id(NewUuid());
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::PatchSchedule, "PatchSchedule", req, "failed patching schedule");
}

struct ToggleFlags {
  ScheduleId sid;
  bool pause = false;
  bool unpause = false;
  std::string reason = "(no reason provided)";
};

void RunToggle(Context& ctx, const ToggleFlags& f) {
  if (f.pause == f.unpause) throw UsageError("exactly one of --pause or --unpause is required");
  spv1::SchedulePatch patch;
  if (f.pause) {
    patch.set_pause(f.reason);
  } else {
    patch.set_unpause(f.reason);
  }
  Patch(ctx, f.sid.id, patch);
  ctx.out().Line(f.pause ? "Schedule paused" : "Schedule unpaused");
}

struct TriggerFlags {
  ScheduleId sid;
  std::string overlap_policy = "Skip";
};

void RunTrigger(Context& ctx, const TriggerFlags& f) {
  spv1::SchedulePatch patch;
  patch.mutable_trigger_immediately()->set_overlap_policy(ParseOverlap(f.overlap_policy));
  Patch(ctx, f.sid.id, patch);
  if (ctx.out().json()) {
    ctx.out().PrintJson(Json::object());
  } else {
    ctx.out().Line("Trigger request sent");
  }
}

struct RangeFlags {
  ScheduleId sid;
  std::string start_time;
  std::string end_time;
  std::string overlap_policy = "Skip";
};

void RunBackfill(Context& ctx, const RangeFlags& f) {
  spv1::SchedulePatch patch;
  auto* b = patch.add_backfill_request();
  *b->mutable_start_time() = ParseTime(f.start_time, "--start-time");
  *b->mutable_end_time() = ParseTime(f.end_time, "--end-time");
  b->set_overlap_policy(ParseOverlap(f.overlap_policy));
  Patch(ctx, f.sid.id, patch);
  if (ctx.out().json()) {
    ctx.out().PrintJson(Json::object());
  } else {
    ctx.out().Line("Backfill request sent");
  }
}

void RunMatchingTimes(Context& ctx, const RangeFlags& f) {
  wsv1::ListScheduleMatchingTimesRequest req;
  req.set_namespace_(ctx.ns());
  req.set_schedule_id(f.sid.id);
  *req.mutable_start_time() = ParseTime(f.start_time, "--start-time");
  *req.mutable_end_time() = ParseTime(f.end_time, "--end-time");
  Connection& c = ctx.conn();
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListScheduleMatchingTimes, "ListScheduleMatchingTimes",
                     req, "failed listing matching times");
  Printer& out = ctx.out();
  if (out.json()) {
    out.StartList();
    for (const auto& t : resp.start_time()) out.ListItem(Rfc3339(t));
    out.EndList();
    return;
  }
  for (const auto& t : resp.start_time()) out.Line(Rfc3339(t));
}

}  // namespace

void RegisterScheduleCommands(CLI::App* app, int* exit_code) {
  CLI::App* sched = AddGroup(app, "schedule", "Perform operations on Schedules",
                             "Create, use, and update Schedules that start Workflow Executions on a timetable:\n\n"
                             "  temporalite schedule create \\\n"
                             "      --schedule-id checkers-hourly \\\n"
                             "      --workflow CheckersIngestionWorkflow \\\n"
                             "      --task-queue ingestion \\\n"
                             "      --schedule \"every 2h between 06:00-22:00 Africa/Johannesburg\"\n");
  const std::string phrase_help =
      "\n--schedule takes the runbook's phrases: \"every <N>m|<N>h [between HH:MM-HH:MM] [<zone>]\",\n"
      "\"daily at HH:MM[,HH:MM...] [<zone>]\", \"weekdays at HH:MM[,HH:MM...] [<zone>]\" (zone: IANA name,\n"
      "default UTC). --cron, --calendar and --interval may be combined with it.\n";
  {
    auto f = std::make_shared<ConfigFlags>();
    CLI::App* cmd = AddCommand(sched, "create", "Create a new Schedule",
                               "Create a Schedule that starts a Workflow on a timetable:\n\n"
                               "  temporalite schedule create \\\n"
                               "      --schedule-id YourScheduleId \\\n"
                               "      --cron '3 11 * * Fri' \\\n"
                               "      --workflow-id YourBaseWorkflowIdName \\\n"
                               "      --task-queue YourTaskQueue \\\n"
                               "      --type YourWorkflowType\n" +
                                   phrase_help,
                               exit_code, [f](Context& ctx) { RunCreate(ctx, *f); });
    AddConfigFlags(cmd, f.get());
  }
  {
    auto f = std::make_shared<ConfigFlags>();
    CLI::App* cmd = AddCommand(sched, "update", "Update Schedule details",
                               "Replace a Schedule's spec, action, policies and state with the given flags (a full\n"
                               "replacement: unspecified fields revert to their defaults):\n\n"
                               "  temporalite schedule update \\\n"
                               "      --schedule-id YourScheduleId \\\n"
                               "      --workflow YourWorkflowType --task-queue YourTaskQueue \\\n"
                               "      --interval 10m\n" +
                                   phrase_help,
                               exit_code, [f](Context& ctx) { RunUpdate(ctx, *f); });
    AddConfigFlags(cmd, f.get());
  }
  {
    auto s = std::make_shared<ScheduleId>();
    CLI::App* cmd = AddCommand(sched, "describe", "Display Schedule state",
                               "Show a Schedule's configuration and execution status:\n\n"
                               "  temporalite schedule describe --schedule-id YourScheduleId\n",
                               exit_code, [s](Context& ctx) { RunDescribe(ctx, *s); });
    AddScheduleIdFlag(cmd, s.get());
  }
  {
    auto f = std::make_shared<ListFlags>();
    CLI::App* cmd = AddCommand(sched, "list", "Display hosted Schedules",
                               "List the Schedules of the namespace:\n\n"
                               "  temporalite schedule list\n\n"
                               "--query takes Temporal's list filter language over the schedules' own search\n"
                               "attributes: custom attributes, TemporalSchedulePaused and ScheduleId, e.g.\n"
                               "  --query \"ScheduleId STARTS_WITH 'nightly-' AND TemporalSchedulePaused = false\"\n",
                               exit_code, [f](Context& ctx) { RunList(ctx, *f); });
    cmd->add_flag("-l,--long", f->long_, "Show detailed information");
    cmd->add_flag("--really-long", f->really_long, "Show extensive information in non-table form");
    cmd->add_option("-q,--query", f->query, "Filter results using the given List Filter")->type_name("QUERY");
  }
  {
    auto s = std::make_shared<ScheduleId>();
    CLI::App* cmd = AddCommand(sched, "delete", "Remove a Schedule",
                               "Delete a Schedule. Workflows it already started keep running:\n\n"
                               "  temporalite schedule delete --schedule-id YourScheduleId\n",
                               exit_code, [s](Context& ctx) { RunDelete(ctx, *s); });
    AddScheduleIdFlag(cmd, s.get());
  }
  {
    auto f = std::make_shared<ToggleFlags>();
    CLI::App* cmd = AddCommand(sched, "toggle", "Pause or unpause a Schedule",
                               "Pause or unpause a Schedule, with a reason shown as its notes:\n\n"
                               "  temporalite schedule toggle --schedule-id YourScheduleId --pause \\\n"
                               "      --reason \"YourReason\"\n",
                               exit_code, [f](Context& ctx) { RunToggle(ctx, *f); });
    AddScheduleIdFlag(cmd, &f->sid);
    cmd->add_flag("--pause", f->pause, "Pause the Schedule");
    cmd->add_flag("--unpause", f->unpause, "Unpause the Schedule");
    cmd->add_option("--reason", f->reason, "Reason for pausing or unpausing")->default_str("(no reason provided)");
  }
  {
    auto f = std::make_shared<TriggerFlags>();
    CLI::App* cmd = AddCommand(sched, "trigger", "Immediately run a Schedule",
                               "Start the Schedule's Workflow now (also when paused):\n\n"
                               "  temporalite schedule trigger --schedule-id YourScheduleId\n",
                               exit_code, [f](Context& ctx) { RunTrigger(ctx, *f); });
    AddScheduleIdFlag(cmd, &f->sid);
    cmd->add_option("--overlap-policy", f->overlap_policy, std::string("Policy for overlapping runs: ") + kOverlapPolicies)
        ->default_str("Skip");
  }
  {
    auto f = std::make_shared<RangeFlags>();
    CLI::App* cmd = AddCommand(sched, "backfill", "Backfill past actions",
                               "Run the actions that would have run in a time range (inclusive):\n\n"
                               "  temporalite schedule backfill --schedule-id YourScheduleId \\\n"
                               "      --start-time 2022-05-01T00:00:00Z --end-time 2022-05-31T23:59:59Z \\\n"
                               "      --overlap-policy BufferAll\n",
                               exit_code, [f](Context& ctx) { RunBackfill(ctx, *f); });
    AddScheduleIdFlag(cmd, &f->sid);
    cmd->add_option("--start-time", f->start_time, "Backfill start time (RFC 3339)")->required()->type_name("TIMESTAMP");
    cmd->add_option("--end-time", f->end_time, "Backfill end time (RFC 3339)")->required()->type_name("TIMESTAMP");
    cmd->add_option("--overlap-policy", f->overlap_policy, std::string("Policy for overlapping runs: ") + kOverlapPolicies)
        ->default_str("Skip");
  }
  {
    auto f = std::make_shared<RangeFlags>();
    CLI::App* cmd = AddCommand(sched, "list-matching-times", "List the times a Schedule matches in a range",
                               "Show the action times of a Schedule between two times (at most 1000):\n\n"
                               "  temporalite schedule list-matching-times --schedule-id YourScheduleId \\\n"
                               "      --start-time 2026-03-02T00:00:00Z --end-time 2026-03-03T00:00:00Z\n",
                               exit_code, [f](Context& ctx) { RunMatchingTimes(ctx, *f); });
    AddScheduleIdFlag(cmd, &f->sid);
    cmd->add_option("--start-time", f->start_time, "Range start (RFC 3339)")->required()->type_name("TIMESTAMP");
    cmd->add_option("--end-time", f->end_time, "Range end (RFC 3339)")->required()->type_name("TIMESTAMP");
  }
}

}  // namespace temporalite::cli
