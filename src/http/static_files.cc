#include "http/static_files.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace temporalite::http {

std::string_view ContentTypeFor(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".otf", "font/otf"},
      {".mp4", "video/mp4"},
      {".webm", "video/webm"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string_view ext = name.substr(dot);
  for (const auto& [e, type] : kTypes) {
    if (ext.size() == e.size()) {
      bool same = true;
      for (size_t i = 0; i < ext.size() && same; ++i) same = std::tolower(static_cast<unsigned char>(ext[i])) == e[i];
      if (same) return type;
    }
  }
  return "application/octet-stream";
}

namespace {

class DirectoryStaticFiles final : public StaticFiles {
 public:
  const StaticFile* Find(std::string_view path) const override {
    auto it = files_.find(std::string(path));
    return it == files_.end() ? nullptr : &it->second.file;
  }

  bool Load(const std::filesystem::path& root, std::string* error) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string rel = std::filesystem::relative(it->path(), root).generic_string();
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream buf;
      buf << in.rdbuf();
      Entry& e = files_[rel];
      e.body = buf.str();
      e.file.body = e.body;
      e.file.content_type = ContentTypeFor(rel);
      e.file.immutable = rel.rfind("_app/immutable/", 0) == 0;
    }
    if (ec) {
      *error = "cannot read " + root.string() + ": " + ec.message();
      return false;
    }
    if (!files_.count("index.html")) {
      *error = root.string() + " has no index.html";
      return false;
    }
    return true;
  }

 private:
  struct Entry {
    std::string body;
    StaticFile file;
  };
  // Node-based map: Entry addresses (and the views into body) stay put.
  std::unordered_map<std::string, Entry> files_;
};

}  // namespace

std::unique_ptr<StaticFiles> LoadStaticFilesFromDirectory(const std::string& dir, std::string* error) {
  auto files = std::make_unique<DirectoryStaticFiles>();
  if (!files->Load(dir, error)) return nullptr;
  return files;
}

}  // namespace temporalite::http
