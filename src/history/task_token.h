#pragma once

#include <string>

#include "common/status.h"
#include "history/state.pb.h"

namespace temporalite::history {

std::string EncodeTaskToken(const state::TaskToken& token);
// INVALID_ARGUMENT if the bytes are not a token this server issued.
Result<state::TaskToken> DecodeTaskToken(const std::string& bytes);

}  // namespace temporalite::history
