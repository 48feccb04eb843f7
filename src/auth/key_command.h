// `temporalite server hash-api-key`: the salted hash of an API key for the --api-key-file
// (api_keys.h), so that the file holds no key a caller could send.
#pragma once

namespace CLI {
class App;
}

namespace temporalite::auth {

// Adds the command under `server`; it sets *rc (0, or 2 for bad input).
void RegisterHashApiKeyCommand(CLI::App* server, int* rc);

}  // namespace temporalite::auth
