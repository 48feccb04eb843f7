#include "scheduler/list_query.h"

#include <cctype>

namespace temporalite::scheduler {

namespace {

constexpr const char* kSupported =
    "supported: ScheduleId = '<id>', ScheduleId STARTS_WITH '<prefix>', WorkflowType = '<type>', "
    "TemporalSchedulePaused = true|false, joined with AND";

Status Unsupported(std::string_view q, const std::string& why) {
  return InvalidArgument("unsupported schedule list query \"" + std::string(q) + "\": " + why + " (" + kSupported + ")");
}

// Tokens: identifiers/keywords, '=', quoted strings (quotes kept as the first char).
Result<std::vector<std::string>> Tokenize(std::string_view q) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < q.size()) {
    char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '=') {
      out.emplace_back("=");
      ++i;
    } else if (c == '\'' || c == '"') {
      size_t end = q.find(c, i + 1);
      if (end == std::string_view::npos) return Unsupported(q, "unterminated string");
      out.push_back(std::string(1, '\'') + std::string(q.substr(i + 1, end - i - 1)));
      i = end + 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < q.size() && (std::isalnum(static_cast<unsigned char>(q[j])) || q[j] == '_')) ++j;
      out.emplace_back(q.substr(i, j - i));
      i = j;
    } else {
      return Unsupported(q, std::string("unexpected '") + c + "'");
    }
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool ScheduleListQuery::Matches(const std::string& schedule_id, const std::string& workflow_type, bool paused) const {
  for (const auto& c : clauses_) {
    switch (c.kind) {
      case Clause::kIdEq:
        if (schedule_id != c.value) return false;
        break;
      case Clause::kIdPrefix:
        if (schedule_id.compare(0, c.value.size(), c.value) != 0) return false;
        break;
      case Clause::kTypeEq:
        if (workflow_type != c.value) return false;
        break;
      case Clause::kPaused:
        if (paused != c.flag) return false;
        break;
    }
  }
  return true;
}

Result<ScheduleListQuery> ParseScheduleListQuery(std::string_view q) {
  ScheduleListQuery out;
  auto toks = Tokenize(q);
  if (!toks.ok()) return toks.status();
  const auto& t = *toks;
  size_t i = 0;
  while (i < t.size()) {
    if (i + 2 >= t.size()) return Unsupported(q, "incomplete condition");
    const std::string& field = t[i];
    std::string op = Upper(t[i + 1]);
    const std::string& val = t[i + 2];
    ScheduleListQuery::Clause c{};
    bool quoted = !val.empty() && val[0] == '\'';
    if (field == "ScheduleId" && op == "=" && quoted) {
      c.kind = ScheduleListQuery::Clause::kIdEq;
      c.value = val.substr(1);
    } else if (field == "ScheduleId" && op == "STARTS_WITH" && quoted) {
      c.kind = ScheduleListQuery::Clause::kIdPrefix;
      c.value = val.substr(1);
    } else if (field == "WorkflowType" && op == "=" && quoted) {
      c.kind = ScheduleListQuery::Clause::kTypeEq;
      c.value = val.substr(1);
    } else if (field == "TemporalSchedulePaused" && op == "=" && !quoted &&
               (Upper(val) == "TRUE" || Upper(val) == "FALSE")) {
      c.kind = ScheduleListQuery::Clause::kPaused;
      c.flag = Upper(val) == "TRUE";
    } else {
      return Unsupported(q, "cannot evaluate \"" + field + " " + t[i + 1] + " ...\"");
    }
    out.clauses_.push_back(std::move(c));
    i += 3;
    if (i < t.size()) {
      if (Upper(t[i]) != "AND") return Unsupported(q, "only AND may join conditions");
      ++i;
      if (i == t.size()) return Unsupported(q, "dangling AND");
    }
  }
  return out;
}

}  // namespace temporalite::scheduler
