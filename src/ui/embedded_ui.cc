#include "ui/embedded_ui.h"

#include <string_view>
#include <unordered_map>
#include <vector>

#include "ui/embedded_index.h"

namespace temporalite::ui {
namespace {

// StaticFiles over the embedded blob: the bodies are views into read-only data of the binary,
// the map is built once and never changes (so Find is thread-safe).
class EmbeddedStaticFiles final : public http::StaticFiles {
 public:
  explicit EmbeddedStaticFiles(const EmbeddedIndex& index) {
    files_.reserve(index.count);
    for (size_t i = 0; i < index.count; ++i) {
      const EmbeddedEntry& e = index.entries[i];
      std::string_view path(e.path);
      http::StaticFile file;
      file.content_type = http::ContentTypeFor(path);
      file.body = std::string_view(index.blob + e.offset, e.size);
      // SvelteKit puts content-hashed files under _app/immutable/: they never change in place.
      file.immutable = path.starts_with("_app/immutable/");
      files_.emplace(path, file);
    }
  }

  const http::StaticFile* Find(std::string_view path) const override {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
  }

 private:
  std::unordered_map<std::string_view, http::StaticFile> files_;
};

}  // namespace

std::unique_ptr<http::StaticFiles> EmbeddedUi(std::string* why) {
  const EmbeddedIndex& index = GetEmbeddedIndex();
  if (index.count == 0) {
    *why =
        "The Temporal Web UI is not part of this temporalite binary: it was built without the UI "
        "(node or the UI's npm packages missing, the UI build failed, or -DTEMPORALITE_UI=OFF). "
        "Run scripts/deps.sh and scripts/build.sh to build it in; gRPC and the HTTP API work "
        "without it.";
    return nullptr;
  }
  return std::make_unique<EmbeddedStaticFiles>(index);
}

EmbeddedUiSize EmbeddedUiStats() {
  const EmbeddedIndex& index = GetEmbeddedIndex();
  EmbeddedUiSize size;
  size.files = index.count;
  for (size_t i = 0; i < index.count; ++i) size.bytes += index.entries[i].size;
  return size;
}

}  // namespace temporalite::ui
