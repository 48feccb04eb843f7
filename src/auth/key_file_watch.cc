#include "auth/key_file_watch.h"

namespace temporalite::auth {

KeyFileWatcher::KeyFileWatcher(KeyRing& keys, std::function<void(const Status&)> on_reload)
    : keys_(keys), on_reload_(std::move(on_reload)), seen_(StatFile()) {}

KeyFileWatcher::~KeyFileWatcher() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

KeyFileWatcher::Seen KeyFileWatcher::StatFile() const {
  struct stat st {};
  Seen s;
  if (stat(keys_.path().c_str(), &st) != 0) return s;  // missing for now (being replaced): no reload
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

bool KeyFileWatcher::CheckOnce() {
  Seen now = StatFile();
  if (!now.exists || now == seen_) return false;
  seen_ = now;
  Status s = keys_.Reload();
  if (on_reload_) on_reload_(s);
  return true;
}

void KeyFileWatcher::Start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, interval, [this] { return stop_; })) {
      l.unlock();
      CheckOnce();
      l.lock();
    }
  });
}

}  // namespace temporalite::auth
