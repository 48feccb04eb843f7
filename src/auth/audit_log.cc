#include "auth/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace temporalite::auth {

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return InvalidArgument("--audit-log-file: cannot open " + path + ": " + std::strerror(errno));
  return std::unique_ptr<AuditLog>(new AuditLog(fd));
}

AuditLog::~AuditLog() { ::close(fd_); }

void AuditLog::Write(const AuditRecord& r) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  nlohmann::ordered_json j;
  j["time"] = buf;
  j["principal"] = r.principal;
  j["peer"] = r.peer;
  j["method"] = r.method;
  j["namespace"] = r.ns;
  if (!r.workflow_id.empty()) j["workflowId"] = r.workflow_id;
  if (!r.schedule_id.empty()) j["scheduleId"] = r.schedule_id;
  j["outcome"] = r.outcome;
  if (!r.message.empty()) j["message"] = r.message;
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) TL_LOG_WARN("audit log write failed: %s", std::strerror(errno));
}

}  // namespace temporalite::auth
