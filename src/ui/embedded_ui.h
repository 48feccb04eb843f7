// The official Temporal Web UI, built from ui/ at build time and embedded in the binary, served
// through the HTTP layer's StaticFiles seam. One file to copy: the binary finds its UI without
// the source tree.
#pragma once

#include <memory>
#include <string>

#include "http/static_files.h"

namespace temporalite::ui {

// The embedded UI files, or nullptr when this binary was built without them (no node, the UI
// build failed, or -DTEMPORALITE_UI=OFF); then *why says so in a sentence for the UI port.
std::unique_ptr<http::StaticFiles> EmbeddedUi(std::string* why);

// Number of files and bytes embedded (0, 0 without the UI): for the start-up log.
struct EmbeddedUiSize {
  size_t files = 0;
  uint64_t bytes = 0;
};
EmbeddedUiSize EmbeddedUiStats();

}  // namespace temporalite::ui
