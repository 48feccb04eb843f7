// A latency trace for finding where a request's time goes (README "Performance", "Where the time
// goes at concurrency 1"). Off by default and free: without the CMake option
// TEMPORALITE_LATENCY_TRACE (a compile definition) TL_LATENCY_TRACE(name) expands to nothing.
// With it, each call records CLOCK_MONOTONIC (the clock of steady_clock, shared by every process
// on the machine, so the server's and a driver's points line up), the point's name and the thread
// in a fixed in-memory array; when TEMPORALITE_LATENCY_TRACE=path is set in the environment the
// process writes "nanoseconds name thread" lines to path.<pid> at exit. For measuring only: never
// in a shipped build.
#pragma once

#ifdef TEMPORALITE_LATENCY_TRACE

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace temporalite::latency_trace {

struct Point {
  int64_t ns;
  const char* name;  // a string literal
  int thread;
};
inline constexpr size_t kMaxPoints = size_t{1} << 20;
inline Point g_points[kMaxPoints];
inline std::atomic<size_t> g_count{0};

inline void Dump() {
  const char* path = std::getenv("TEMPORALITE_LATENCY_TRACE");
  if (path == nullptr) return;
  char file[512];
  std::snprintf(file, sizeof file, "%s.%d", path, static_cast<int>(getpid()));
  FILE* f = std::fopen(file, "w");
  if (f == nullptr) return;
  size_t n = g_count.load();
  if (n > kMaxPoints) n = kMaxPoints;
  for (size_t i = 0; i < n; ++i) {
    std::fprintf(f, "%lld %s %d\n", static_cast<long long>(g_points[i].ns), g_points[i].name, g_points[i].thread);
  }
  std::fclose(f);
}

struct AtExit {
  AtExit() {
    if (std::getenv("TEMPORALITE_LATENCY_TRACE") != nullptr) std::atexit(Dump);
  }
};
inline AtExit g_at_exit;

inline void Record(const char* name) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  thread_local const int thread = static_cast<int>(syscall(SYS_gettid));
  const size_t i = g_count.fetch_add(1, std::memory_order_relaxed);
  if (i < kMaxPoints) g_points[i] = Point{ts.tv_sec * 1'000'000'000LL + ts.tv_nsec, name, thread};
}

}  // namespace temporalite::latency_trace

#define TL_LATENCY_TRACE(name) ::temporalite::latency_trace::Record(name)

#else

#define TL_LATENCY_TRACE(name) ((void)0)

#endif
