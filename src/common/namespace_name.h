// Namespace names: what RegisterNamespace (and every other path that creates a namespace: the
// server's --namespace flag, the CLI's `operator namespace create`, the HTTP API) accepts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace temporalite {

// INVALID_ARGUMENT with Temporal's messages for an empty name ("Namespace is not set on
// request.") and one longer than `max_length` bytes, limit.maxIDLength ("Namespace length exceeds
// limit."), as Temporal's frontend answers RegisterNamespace; and (this server's own rule; the
// name goes into log lines, CLI tables and file names) for a name with a control character
// (C0, DEL or C1): "Namespace name contains control character U+000A at byte 3.".
Status ValidateNamespaceName(std::string_view name, size_t max_length);

// `s` with each control character (C0 and DEL) written as \n, \r, \t or \xNN (for log lines).
std::string EscapeControlCharacters(std::string_view s);

}  // namespace temporalite
