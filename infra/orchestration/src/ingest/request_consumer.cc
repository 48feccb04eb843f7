#include "ingest/request_consumer.h"

#include <nlohmann/json.hpp>

namespace tillless::ingest {

Result<IngestRequest> ParseIngestRequest(const std::string& job_id, const std::string& data_json) {
  auto j = nlohmann::json::parse(data_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("job data is not a JSON object");
  if (!j.contains("storeId") || !j["storeId"].is_string() || j["storeId"].get<std::string>().empty()) {
    return InvalidArgument("job data needs \"storeId\" (a non-empty string)");
  }
  if (j.contains("forceRefresh") && !j["forceRefresh"].is_boolean()) {
    return InvalidArgument("job data \"forceRefresh\" must be true or false");
  }
  return IngestRequest{j["storeId"].get<std::string>(), j.value("forceRefresh", false), "pgboss-" + job_id};
}

Result<int> RequestConsumer::PollOnce(int batch) {
  auto jobs = boss_.Fetch(queue_, batch);
  if (!jobs.ok()) return jobs.status();
  for (const Job& job : jobs.value()) {
    auto request = ParseIngestRequest(job.id, job.data_json);
    Result<std::string> outcome = request.ok() ? starter_.Run(request.value()) : Result<std::string>(request.status());
    Result<bool> recorded =
        outcome.ok()
            ? boss_.Complete(queue_, job.id, outcome.value())
            : boss_.Fail(queue_, job.id,
                         nlohmann::json{{"message", outcome.status().message()},
                                        {"code", CodeName(outcome.status().code())}}.dump());
    if (!recorded.ok()) return recorded.status();
  }
  return static_cast<int>(jobs->size());
}

}  // namespace tillless::ingest
