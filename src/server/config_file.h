// temporalite.yaml: every `server start-dev` flag as a YAML key (the flag's long name without
// dashes), turned into command-line arguments placed before the real ones. A flag given on the
// command line wins: its key in the file is ignored.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace temporalite::server {

// Arguments for the keys of the YAML file at `path` that `cmd` (the start-dev command) knows and
// `given` (the command-line arguments after "start-dev") does not set. INVALID_ARGUMENT for an
// unreadable file, an unknown key or a value of the wrong shape.
Result<std::vector<std::string>> ConfigFileArgs(const std::string& path, const CLI::App& cmd,
                                                const std::vector<std::string>& given);

}  // namespace temporalite::server
