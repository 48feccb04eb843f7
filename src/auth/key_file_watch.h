// Re-reads the --api-key-file when it changes, without a SIGHUP: a thread compares the file's
// modification time, size, inode and device (stat follows symlinks, so a Kubernetes secret's
// swapped link counts) every `interval` and reloads the KeyRing on any difference. An edit
// caught half-written fails to parse and leaves the keys in force (logged); the completed file
// changes the stat again and is loaded then.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "auth/api_keys.h"

namespace temporalite::auth {

class KeyFileWatcher {
 public:
  // `on_reload`: told the outcome of each reload the watcher made (for the log).
  KeyFileWatcher(KeyRing& keys, std::function<void(const Status&)> on_reload);
  ~KeyFileWatcher();  // stops the thread
  KeyFileWatcher(const KeyFileWatcher&) = delete;
  KeyFileWatcher& operator=(const KeyFileWatcher&) = delete;

  void Start(std::chrono::milliseconds interval);
  // One check: reloads if the file's stat differs from the last one seen. True if it reloaded.
  bool CheckOnce();

 private:
  struct Seen {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Seen&) const = default;
  };
  Seen StatFile() const;

  KeyRing& keys_;
  std::function<void(const Status&)> on_reload_;
  Seen seen_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace temporalite::auth
