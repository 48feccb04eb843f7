#include "auth/key_command.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "auth/api_keys.h"

namespace temporalite::auth {

void RegisterHashApiKeyCommand(CLI::App* server, int* rc) {
  struct Flags {
    std::string key;
    bool generate = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = server->add_subcommand(
      "hash-api-key",
      "Print the salted hash (sha256:<salt>:<digest>) of an API key for --api-key-file. The key comes from the "
      "argument or, without one, the first line of standard input (keeps it out of the process list); "
      "--generate makes a new random key and prints it, then its hash");
  cmd->add_option("key", f->key, "The key (16 characters or more)");
  cmd->add_flag("--generate", f->generate, "Make a new random key (64 hex digits): prints `key <key>` and `hash <hash>`");
  cmd->callback([f, rc] {
    if (f->generate) {
      if (!f->key.empty()) {
        std::fprintf(stderr, "error: --generate makes the key; give no key with it\n");
        *rc = 2;
        return;
      }
      std::string key = NewApiKey();
      std::printf("key %s\nhash %s\n", key.c_str(), HashApiKey(key).c_str());
      *rc = 0;
      return;
    }
    std::string key = f->key;
    if (key.empty() || key == "-") {
      std::getline(std::cin, key);
      while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
    }
    if (key.size() < 16) {
      std::fprintf(stderr, "error: an API key needs 16 characters or more (got %zu)\n", key.size());
      *rc = 2;
      return;
    }
    std::printf("%s\n", HashApiKey(key).c_str());
    *rc = 0;
  });
}

}  // namespace temporalite::auth
