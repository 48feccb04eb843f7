// Which format the log module writes (SetLogJson in common/log.h), for the few callers that
// print outside it and must match it (the server's start errors). A header of its own so that
// the many files including log.h are not recompiled for it.
#pragma once

namespace temporalite {

// True once SetLogJson(true) was called (--log-format json).
bool LogJson();

}  // namespace temporalite
