#include "frontend/grpc_log.h"

#include <grpc/support/log.h>

#include "common/log.h"

namespace temporalite::frontend {
namespace {

void GrpcLog(gpr_log_func_args* args) {
  const char* file = args->file != nullptr ? args->file : "?";
  switch (args->severity) {
    case GPR_LOG_SEVERITY_ERROR:
      TL_LOG_ERROR("grpc %s:%d: %s", file, args->line, args->message);
      break;
    case GPR_LOG_SEVERITY_INFO:
      TL_LOG_INFO("grpc %s:%d: %s", file, args->line, args->message);
      break;
    default:
      TL_LOG_DEBUG("grpc %s:%d: %s", file, args->line, args->message);
      break;
  }
}

}  // namespace

void InstallGrpcLogHandler() { gpr_set_log_function(&GrpcLog); }

}  // namespace temporalite::frontend
