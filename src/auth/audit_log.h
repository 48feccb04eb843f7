// The audit log (--audit-log-file): one JSON line per client write or admin call and per denied
// call: time, principal (the API key's name, "" without keys), peer, method, namespace, workflow
// or schedule id, outcome (the gRPC code name) and, when not OK, the message. Appended with
// O_APPEND, one write(2) per line, so lines stay whole with several writers.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace temporalite::auth {

struct AuditRecord {
  std::string principal;
  std::string peer;
  std::string method;  // short name: "StartWorkflowExecution"
  std::string ns;
  std::string workflow_id;
  std::string schedule_id;
  std::string outcome;  // "OK", "PERMISSION_DENIED", ...
  std::string message;
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();
  void Write(const AuditRecord& r);

 private:
  explicit AuditLog(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace temporalite::auth
