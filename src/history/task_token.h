#pragma once

#include <string>

#include "common/status.h"
#include "history/state.pb.h"

namespace temporalite::history {

// Tokens are issued in Temporal's layouts: workflow and activity task tokens as its token.v1.Task
// message, legacy query task tokens as its token.v1.QueryTask (EncodeQueryTaskToken).
std::string EncodeTaskToken(const state::TaskToken& token);
std::string EncodeQueryTaskToken(const std::string& namespace_id, const std::string& task_queue,
                                 const std::string& query_id);
// INVALID_ARGUMENT if the bytes are not a task token in one of those layouts (or the layout of
// tokens issued by earlier versions of this server).
Result<state::TaskToken> DecodeTaskToken(const std::string& bytes);

}  // namespace temporalite::history
