#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "persistence/store.h"

namespace temporalite::persistence {
namespace {

std::string Errno(int err) { return std::error_code(err, std::generic_category()).message(); }

// The holder writes its pid right after locking, so an empty file means it is mid-Acquire.
std::string ReadHolderPid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "unknown";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return "unknown";
  return pid;
}

}  // namespace

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Unavailable("cannot create data directory " + dir + ": " + ec.message());
  }
  const std::string lock_path = (std::filesystem::path(dir) / "LOCK").string();
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot open " + lock_path + ": " + Errno(errno));

  // flock (not fcntl locks): the lock belongs to this open file description, so it also
  // excludes a second Acquire inside the same process and is released when the fd closes.
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      std::string pid = ReadHolderPid(fd);
      close(fd);
      return FailedPrecondition("data directory " + dir +
                                " is in use by another temporalite server (pid " + pid +
                                "); stop it or use another --db-filename");
    }
    close(fd);
    return Unavailable("cannot lock " + lock_path + ": " + Errno(err));
  }

  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    close(fd);
    return Unavailable("cannot write pid to " + lock_path + ": " + Errno(err));
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

Result<std::unique_ptr<DirLock>> DirLock::AcquireForDatabase(const std::string& db_path) {
  std::error_code ec;
  std::filesystem::path given = std::filesystem::absolute(db_path, ec);
  if (ec) return Unavailable("cannot resolve " + db_path + ": " + ec.message());
  std::filesystem::create_directories(given.parent_path(), ec);
  if (ec) return Unavailable("cannot create data directory " + given.parent_path().string() + ": " + ec.message());
  // The real file behind any symlinks (the file itself need not exist yet).
  std::filesystem::path real = std::filesystem::weakly_canonical(given, ec);
  if (ec) return Unavailable("cannot resolve " + given.string() + ": " + ec.message());
  auto lock = Acquire(real.parent_path().string());
  if (!lock.ok()) return lock.status();
  int fd = open(real.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot open database " + real.string() + ": " + Errno(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPrecondition("database " + real.string() +
                                " is in use by another temporalite server (reached through another path); stop it or "
                                "use another --db-filename");
    }
    return Unavailable("cannot lock " + real.string() + ": " + Errno(err));
  }
  (*lock)->db_fd_ = fd;
  return lock;
}

DirLock::~DirLock() {
  // Closing releases the flocks. The pid is left in the file; it is only read while locked.
  // The database fd must outlive the store: closing any fd of a file drops the process's POSIX
  // (fcntl) locks on it, which SQLite uses.
  if (db_fd_ >= 0) close(db_fd_);
  if (fd_ >= 0) close(fd_);
}

}  // namespace temporalite::persistence
