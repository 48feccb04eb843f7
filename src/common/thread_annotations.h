// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html) and a
// mutex the analysis understands. Under GCC the macros expand to nothing; the clang check
// (scripts/check-thread-safety.sh, -Wthread-safety -Werror) proves that every member marked
// GUARDED_BY(mu) is touched only with `mu` held and every REQUIRES(mu) function is called so.
//
//   Mutex mu_;
//   int count_ GUARDED_BY(mu_);
//   void BumpLocked() REQUIRES(mu_);
//   void Bump() EXCLUDES(mu_) { MutexLock l(mu_); BumpLocked(); }
#pragma once

#include <mutex>

#if defined(__clang__)
#define TL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TL_THREAD_ANNOTATION(x)
#endif

// Abseil's legacy header (absl/base/internal/thread_annotations.h, included by absl's mutex and
// so by gRPC) defines GUARDED_BY, PT_GUARDED_BY and NO_THREAD_SAFETY_ANALYSIS too, unguarded and
// with the same attributes. When it came first its definitions stay: defining them again would be
// a redefinition warning. (When it comes after, its redefinition is in a system header: silent.)
#define CAPABILITY(x) TL_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY TL_THREAD_ANNOTATION(scoped_lockable)
#ifndef GUARDED_BY
#define GUARDED_BY(x) TL_THREAD_ANNOTATION(guarded_by(x))
#endif
#ifndef PT_GUARDED_BY
#define PT_GUARDED_BY(x) TL_THREAD_ANNOTATION(pt_guarded_by(x))
#endif
#define REQUIRES(...) TL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) TL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) TL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) TL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RETURN_CAPABILITY(x) TL_THREAD_ANNOTATION(lock_returned(x))
#ifndef NO_THREAD_SAFETY_ANALYSIS
#define NO_THREAD_SAFETY_ANALYSIS TL_THREAD_ANNOTATION(no_thread_safety_analysis)
#endif

namespace temporalite {

// std::mutex with the capability attributes (libstdc++'s has none).
class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // For std::condition_variable_any and friends.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis the caller holds it (for callbacks the analysis cannot follow).
  void AssertHeld() const TL_THREAD_ANNOTATION(assert_capability(this)) {}

 private:
  std::mutex mu_;
};

// Holds a Mutex for a scope. Unlock() ends the hold early (reply after unlocking); the destructor
// then does nothing. Lock() takes it again.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  void Unlock() RELEASE() {
    held_ = false;
    mu_.Unlock();
  }
  void Lock() ACQUIRE() {
    mu_.Lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

}  // namespace temporalite
