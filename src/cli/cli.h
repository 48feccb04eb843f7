// The `temporalite` client commands: a gRPC client of Temporal's WorkflowService and
// OperatorService that mirrors the official `temporal` CLI (command names, flags, environment
// variables, text and JSON output). It depends only on the generated API library and works
// against any Temporal frontend, not just ours.
#pragma once

#include <CLI/CLI.hpp>

namespace temporalite::cli {

// Adds the `workflow`, `operator` and `task-queue` subcommands (and their subcommands) to `app`.
// When a client command runs (as a CLI11 callback during app.parse), it sets *exit_code to 0 on
// success, 1 when the command failed (an RPC error, a failed workflow for `execute`/`result`)
// and 2 for invalid flag combinations; CLI11's own usage errors keep CLI11's exit codes.
// Data goes to stdout, messages and errors ("Error: ...") to stderr.
//
// The flag storage lives inside `app` (captured by its callbacks): `app` must outlive parsing.
// REQUIRES: exit_code stays valid while `app` is parsed.
void RegisterCommands(CLI::App& app, int* exit_code);

}  // namespace temporalite::cli
