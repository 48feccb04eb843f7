#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "ops/object_store.h"

namespace temporalite::ops {
namespace {

namespace fs = std::filesystem;

Status FsyncPath(const std::string& path, bool dir) {
  int fd = open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path + " to sync it: " + std::strerror(errno));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return Unavailable("fsync " + path + ": " + std::strerror(err));
  return Status::Ok();
}

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(std::string dir) : dir_(std::move(dir)) {}

  Status Put(const std::string& key, const std::string& path) override {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Unavailable("cannot create backup directory " + dir_ + ": " + ec.message());
    const std::string dest = (fs::path(dir_) / key).string();
    const std::string tmp = dest + ".partial";
    fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return Unavailable("cannot write " + tmp + ": " + ec.message());
    TL_RETURN_IF_ERROR(FsyncPath(tmp, false));
    fs::rename(tmp, dest, ec);
    if (ec) return Unavailable("cannot rename " + tmp + " to " + dest + ": " + ec.message());
    return FsyncPath(dir_, true);
  }

  Status Get(const std::string& key, const std::string& path) override {
    const std::string src = (fs::path(dir_) / key).string();
    std::error_code ec;
    if (!fs::exists(src, ec)) return NotFound(src + " does not exist");
    fs::copy_file(src, path, fs::copy_options::overwrite_existing, ec);
    if (ec) return Unavailable("cannot copy " + src + ": " + ec.message());
    return Status::Ok();
  }

  Result<std::vector<ObjectInfo>> List() override {
    std::vector<ObjectInfo> out;
    std::error_code ec;
    if (!fs::exists(dir_, ec)) return out;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      if (!e.is_regular_file()) continue;
      out.push_back(ObjectInfo{e.path().filename().string(), static_cast<int64_t>(e.file_size())});
    }
    if (ec) return Unavailable("cannot list " + dir_ + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Delete(const std::string& key) override {
    std::error_code ec;
    fs::remove(fs::path(dir_) / key, ec);
    if (ec) return Unavailable("cannot delete " + key + " in " + dir_ + ": " + ec.message());
    return Status::Ok();
  }

  std::string Describe() const override { return dir_; }

 private:
  std::string dir_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenLocalStore(const std::string& dir) {
  if (dir.empty()) return InvalidArgument("backup destination is empty");
  return std::unique_ptr<ObjectStore>(new LocalStore(dir));
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& dest, const S3Settings& s3) {
  if (dest.rfind("s3://", 0) == 0) {
    std::string rest = dest.substr(5);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t slash = rest.find('/');
    std::string bucket = rest.substr(0, slash);
    std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (bucket.empty()) return InvalidArgument("invalid S3 destination \"" + dest + "\": want s3://bucket[/prefix]");
    return OpenS3Store(bucket, prefix, s3);
  }
  if (dest.find("://") != std::string::npos) {
    return InvalidArgument("unsupported backup destination \"" + dest + "\": want a directory or s3://bucket[/prefix]");
  }
  return OpenLocalStore(dest);
}

}  // namespace temporalite::ops
