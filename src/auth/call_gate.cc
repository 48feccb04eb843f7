#include "auth/call_gate.h"

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace temporalite::auth {
namespace {

std::mutex mu;
std::unordered_map<const grpc::ServerContextBase*, grpc::Status> denied;
std::atomic<int> denied_count{0};

}  // namespace

void DenyCall(const grpc::ServerContextBase* ctx, grpc::Status status) {
  std::lock_guard<std::mutex> l(mu);
  if (denied.insert_or_assign(ctx, std::move(status)).second) denied_count.fetch_add(1);
}

void ForgetCall(const grpc::ServerContextBase* ctx) {
  if (denied_count.load() == 0) return;
  std::lock_guard<std::mutex> l(mu);
  if (denied.erase(ctx) > 0) denied_count.fetch_sub(1);
}

std::optional<grpc::Status> CallDenial(const grpc::ServerContextBase* ctx) {
  if (denied_count.load() == 0) return std::nullopt;
  std::lock_guard<std::mutex> l(mu);
  auto it = denied.find(ctx);
  if (it == denied.end()) return std::nullopt;
  return it->second;
}

}  // namespace temporalite::auth
