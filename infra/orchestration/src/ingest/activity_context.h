// What an ingestion activity sees of the thing running it. The offline runner implements it in
// memory; the C++ SDK worker (issue 10) adapts its activity context to it, so the activities
// contain no server or SDK code.
#pragma once

#include <string>

#include "ingest/status.h"

namespace tillless::ingest {

class ActivityContext {
 public:
  virtual ~ActivityContext() = default;
  // 1 for the first attempt.
  virtual int Attempt() const = 0;
  // Details of the last heartbeat recorded by an earlier attempt of this activity ("" if none):
  // a retried activity resumes from them.
  virtual std::string LastHeartbeatDetails() const = 0;
  // Records progress. A non-OK status means the activity was cancelled or timed out: stop.
  virtual Status Heartbeat(const std::string& details_json) = 0;
};

}  // namespace tillless::ingest
