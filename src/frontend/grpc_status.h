#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace temporalite::frontend {

// Maps an engine Status onto grpc::Status. Temporal error details travel as a serialized
// google.rpc.Status in grpc-status-details-bin (the third grpc::Status argument).
grpc::Status ToGrpc(const Status& s);

}  // namespace temporalite::frontend
