// CheckersIngestionWorkflow on the C++ SDK: the workflow (deterministic coroutine) and the
// registration of its activities over the tl_ingest pieces (IngestionActivities, PriceStore).
//
// Input {"storeId": string, "forceRefresh": bool} (optional tuning: "concurrency" 1..32,
// "heartbeatTimeoutSeconds" 1..600). The run's idempotency key is the workflow id: a retried
// activity, a restarted worker or a redelivered pg-boss job adds no row twice. Steps: BeginRun,
// ListCategories, IngestCategory per category (fan-out, at most `concurrency` at once; each
// heartbeats its page cursor and resumes from it when retried), PublishPriceChanges, FinishRun
// (records the summary in ingest_run). The SLA is the workflow execution timeout set by whoever
// starts it. The result is the run summary (RunSummary::ToJson's fields). A failed activity
// fails the run (recorded as failed in ingest_run) with an ApplicationFailure whose type is the
// gRPC code name of the underlying error (e.g. NOT_FOUND for an unknown store).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <temporalite/sdk/sdk.h>

#include "ingest/activities.h"

namespace tillless::worker {

inline constexpr const char* kWorkflowType = "CheckersIngestionWorkflow";

temporalite::sdk::Task<nlohmann::json> CheckersIngestionWorkflow(temporalite::sdk::WorkflowContext& ctx,
                                                                 nlohmann::json input);

// Registers the workflow and its activities. `activities` and `store` must outlive the worker.
void RegisterCheckersIngestion(temporalite::sdk::Worker& worker, ingest::IngestionActivities& activities,
                               ingest::PriceStore& store);

}  // namespace tillless::worker
