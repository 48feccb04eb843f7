#include "history/commands/handlers.h"

namespace temporalite::history::commands {

bool ValidDuration(const google::protobuf::Duration& d) { return d.seconds() >= 0 && d.nanos() >= 0; }

}  // namespace temporalite::history::commands
