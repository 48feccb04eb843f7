// An attempt limit for the UI sign-in (/login, ui_login.h), per client address: a few failed
// keys are free, then each further failure makes the client wait before its next attempt,
// doubling (1 s, 2 s, 4 s, ... up to 5 minutes); an attempt during the wait is answered 429 with
// Retry-After and is not checked. A success, or 15 minutes without a failure, forgets the client.
// Keys are at least 16 characters, so this only adds to what guessing costs; it stops a script
// from trying keys at the speed of the server. Thread-safe; time from the injected clock.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/thread_annotations.h"

namespace temporalite::http {

class LoginThrottle {
 public:
  static constexpr int kFreeFailures = 5;
  static constexpr Duration kFirstWait = std::chrono::seconds(1);
  static constexpr Duration kMaxWait = std::chrono::minutes(5);
  static constexpr Duration kForgetAfter = std::chrono::minutes(15);
  static constexpr size_t kMaxClients = 10000;  // beyond: the stalest entries are dropped

  explicit LoginThrottle(const Clock& clock) : clock_(clock) {}

  // Zero when `client` may try a key now, else how long it must still wait.
  Duration WaitBeforeAttempt(const std::string& client);
  // Records the outcome of a key `client` tried.
  void RecordFailure(const std::string& client);
  void RecordSuccess(const std::string& client);

 private:
  struct Entry {
    int failures = 0;
    TimePoint last_failure{};
    TimePoint next_allowed{};
  };
  void DropStaleLocked(TimePoint now) REQUIRES(mu_);

  const Clock& clock_;
  Mutex mu_;
  std::map<std::string, Entry> clients_ GUARDED_BY(mu_);
};

}  // namespace temporalite::http
