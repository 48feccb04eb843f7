// The seam between the HTTP layer and the web UI's built files. The HTTP server asks a
// StaticFiles for a path; an implementation may serve files embedded in the binary or read from a
// directory. The server owns no knowledge of where the files come from.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace temporalite::http {

struct StaticFile {
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;          // served byte for byte
  bool immutable = false;         // true: cache forever (content-hashed names, _app/immutable/*)
};

// Thread-safe: Find may be called from several HTTP threads at once. A returned pointer stays
// valid as long as the StaticFiles lives.
class StaticFiles {
 public:
  virtual ~StaticFiles() = default;
  // `path` is the decoded URL path without the leading '/', e.g. "index.html" or
  // "_app/immutable/entry/start.abc.js"; never contains ".." segments. nullptr when absent.
  virtual const StaticFile* Find(std::string_view path) const = 0;
};

// The MIME type for a file name by its extension ("application/octet-stream" when unknown).
std::string_view ContentTypeFor(std::string_view path);

// Files read once from a directory at start-up (the built UI, e.g. ui/build), kept in memory.
// For development and tests before the files are embedded in the binary. nullptr (and a message
// in *error) when the directory has no index.html.
std::unique_ptr<StaticFiles> LoadStaticFilesFromDirectory(const std::string& dir, std::string* error);

}  // namespace temporalite::http
