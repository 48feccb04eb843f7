#include "server/storage_resume.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace temporalite::server {

bool TakeResumeState(ResumeState* state) {
  const char* v = std::getenv(kResumeEnv);
  if (v == nullptr) return false;
  ResumeState s;
  bool ok = std::sscanf(v, "%d,%d,%d,%d,%d", &s.grpc, &s.http, &s.ui, &s.metrics, &s.resumes) == 5;
  unsetenv(kResumeEnv);  // not inherited by anything this process starts
  if (ok) *state = s;
  return ok;
}

Status ProbeWrite(const std::string& dir, size_t bytes) {
  const std::string path = dir + "/.temporalite-write-probe";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  auto fail = [&](const char* what) {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(path.c_str());
    std::string m = std::string(what) + " " + path + ": " + std::strerror(e);
    return (e == ENOSPC || e == EDQUOT) ? Status(Code::kResourceExhausted, m) : Internal(m);
  };
  if (fd < 0) return fail("cannot create");
  static const char kZeros[64 * 1024] = {};
  for (size_t done = 0; done < bytes;) {
    ssize_t n = write(fd, kZeros, std::min(sizeof(kZeros), bytes - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      return fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail("cannot fsync");
  close(fd);
  unlink(path.c_str());
  return Status::Ok();
}

bool WaitUntilWritable(const std::string& dir, const sigset_t& sigs, std::chrono::milliseconds first_wait) {
  constexpr size_t kProbeBytes = 1 << 20;  // room for a few transactions and a WAL checkpoint
  std::chrono::milliseconds wait = first_wait;
  Status last;
  for (int probes = 0;; ++probes) {
    timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>((wait.count() % 1000) * 1000000)};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) return false;
    if (sig > 0) continue;  // SIGHUP, another SIGUSR2 from a refused background write: wait on
    Status s = ProbeWrite(dir, kProbeBytes);
    if (s.ok()) return true;
    if (probes == 0 || s.code() != last.code()) {
      TL_LOG_WARN("storage failure: a probe write in %s still fails (%s); waiting for space (retrying every %lld ms, "
                  "up to 30 s)",
                  dir.c_str(), s.ToString().c_str(), static_cast<long long>(wait.count()));
    }
    last = s;
    wait = std::min(wait * 2, std::chrono::milliseconds(30000));
  }
}

Status ReExec(const std::vector<std::string>& argv, const ResumeState& state) {
  // Descriptors not opened close-on-exec (listening sockets, the audit log) would leak into the
  // new image and keep ports or files busy.
  if (DIR* d = opendir("/proc/self/fd")) {
    const int self = dirfd(d);
    while (dirent* e = readdir(d)) {
      int fd = std::atoi(e->d_name);
      if (fd > 2 && fd != self) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    closedir(d);
  }
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%d,%d,%d,%d,%d", state.grpc, state.http, state.ui, state.metrics, state.resumes);
  setenv(kResumeEnv, buf, 1);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(nullptr);
  execv("/proc/self/exe", args.data());
  int e = errno;
  unsetenv(kResumeEnv);
  return Internal(std::string("cannot re-execute /proc/self/exe: ") + std::strerror(e));
}

}  // namespace temporalite::server
