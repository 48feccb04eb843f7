// The web UI files packed into the binary at build time (cmake/pack_ui.cmake generates the
// definition of GetEmbeddedIndex). Internal to src/ui: the rest of the program sees them through
// http::StaticFiles (ui/embedded_ui.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace temporalite::ui {

struct EmbeddedEntry {
  const char* path;  // relative to the UI root, '/'-separated, e.g. "_app/immutable/entry/app.js"
  uint64_t offset;   // into EmbeddedIndex::blob
  uint64_t size;
};

struct EmbeddedIndex {
  const char* blob;  // every file's bytes, back to back
  const EmbeddedEntry* entries;
  size_t count;  // 0 when the binary was built without the UI
};

const EmbeddedIndex& GetEmbeddedIndex();

}  // namespace temporalite::ui
