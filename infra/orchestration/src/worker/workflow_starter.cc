#include "worker/workflow_starter.h"

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "worker/checkers_workflow.h"

namespace tillless::worker {
namespace {

namespace sdk = temporalite::sdk;
namespace enums = temporal::api::enums::v1;

ingest::Code CodeFromName(const std::string& name, ingest::Code fallback) {
  static const std::map<std::string, ingest::Code> kByName = [] {
    std::map<std::string, ingest::Code> m;
    for (int c = 1; c <= 16; ++c) m[ingest::CodeName(static_cast<ingest::Code>(c))] = static_cast<ingest::Code>(c);
    return m;
  }();
  auto it = kByName.find(name);
  return it == kByName.end() ? fallback : it->second;
}

}  // namespace

ingest::Result<std::string> WorkflowRunStarter::Run(const ingest::IngestRequest& request) {
  try {
    sdk::StartWorkflowOptions o;
    o.id = request.run_id;
    o.task_queue = task_queue_;
    o.execution_timeout = sla_;
    // A completed run is final (its result is the job's output); a failed one may run again.
    o.id_reuse_policy = enums::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY;
    nlohmann::json input = {{"storeId", request.store_id}, {"forceRefresh", request.force_refresh}};
    std::optional<sdk::WorkflowHandle> handle;
    try {
      handle = client_->Start(kWorkflowType, o, input);
    } catch (const sdk::WorkflowAlreadyStartedError&) {
      handle = client_->GetHandle(request.run_id);
    }
    // Wait for the run to close, checking `stop_` between short waits.
    for (;;) {
      auto status = handle->Describe().workflow_execution_info().status();
      if (status != enums::WORKFLOW_EXECUTION_STATUS_RUNNING) break;
      if (stop_.load()) {
        return ingest::Status(ingest::Code::kCancelled, "the worker stopped before workflow " + request.run_id +
                                                            " finished; it keeps running and the job's retry waits for it");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return handle->Result<nlohmann::json>().dump();
  } catch (const sdk::WorkflowFailedError& e) {
    const auto* cause = e.cause().get();
    ingest::Code code = ingest::Code::kAborted;
    if (auto* app = dynamic_cast<const sdk::ApplicationFailure*>(cause)) {
      code = CodeFromName(app->type, ingest::Code::kAborted);
    } else if (dynamic_cast<const sdk::TimeoutFailure*>(cause)) {
      code = ingest::Code::kDeadlineExceeded;
    } else if (dynamic_cast<const sdk::CanceledFailure*>(cause)) {
      code = ingest::Code::kCancelled;
    }
    return ingest::Status(code, std::string(kWorkflowType) + " " + request.run_id + ": " +
                                    (cause ? cause->message() : std::string(e.what())));
  } catch (const sdk::RpcError& e) {
    return ingest::Status(static_cast<ingest::Code>(static_cast<int>(e.code())),
                          std::string("Temporalite: ") + e.what());
  } catch (const std::exception& e) {
    return ingest::Status(ingest::Code::kInternal, e.what());
  }
}

}  // namespace tillless::worker
