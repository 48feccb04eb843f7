#include "http/login_throttle.h"

#include <algorithm>

namespace temporalite::http {

void LoginThrottle::DropStaleLocked(TimePoint now) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    it = now - it->second.last_failure >= kForgetAfter ? clients_.erase(it) : std::next(it);
  }
  while (clients_.size() >= kMaxClients) {
    auto oldest = std::min_element(clients_.begin(), clients_.end(),
                                   [](const auto& a, const auto& b) { return a.second.last_failure < b.second.last_failure; });
    clients_.erase(oldest);
  }
}

Duration LoginThrottle::WaitBeforeAttempt(const std::string& client) {
  const TimePoint now = clock_.Now();
  MutexLock l(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return Duration::zero();
  if (now - it->second.last_failure >= kForgetAfter) {
    clients_.erase(it);
    return Duration::zero();
  }
  return std::max(Duration::zero(), it->second.next_allowed - now);
}

void LoginThrottle::RecordFailure(const std::string& client) {
  const TimePoint now = clock_.Now();
  MutexLock l(mu_);
  if (clients_.find(client) == clients_.end()) DropStaleLocked(now);
  Entry& e = clients_[client];
  if (e.failures > 0 && now - e.last_failure >= kForgetAfter) e = Entry{};
  e.failures++;
  e.last_failure = now;
  if (e.failures >= kFreeFailures) {
    Duration wait = kFirstWait;
    for (int i = kFreeFailures; i < e.failures && wait < kMaxWait; ++i) wait *= 2;
    e.next_allowed = now + std::min(wait, kMaxWait);
  }
}

void LoginThrottle::RecordSuccess(const std::string& client) {
  MutexLock l(mu_);
  clients_.erase(client);
}

}  // namespace temporalite::http
