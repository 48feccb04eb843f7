// gRPC's own log lines (gpr_log) go through the server's logger, so `--log-format json` and
// `--log-level` apply to them too.
#pragma once

namespace temporalite::frontend {

// Process-wide; call once from main before creating any gRPC object.
void InstallGrpcLogHandler();

}  // namespace temporalite::frontend
