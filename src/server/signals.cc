#include "server/signals.h"

#include <pthread.h>

#include <cerrno>

namespace temporalite::server {
namespace {

pthread_t g_main_thread;
volatile sig_atomic_t g_installed = 0;

// Runs on a thread that does not block the signal (the main thread blocks it and takes it with
// sigwait, which does not run handlers). Only async-signal-safe calls here.
void ForwardToMainThread(int sig) {
  const int saved = errno;
  if (g_installed) pthread_kill(g_main_thread, sig);
  errno = saved;
}

}  // namespace

bool InstallSignalForwarding(const sigset_t& sigs) {
  g_main_thread = pthread_self();
  g_installed = 1;
  struct sigaction sa {};
  sa.sa_handler = ForwardToMainThread;
  sa.sa_flags = SA_RESTART;
  sigfillset(&sa.sa_mask);  // nothing interrupts the forwarding
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&sigs, sig) != 1) continue;
    if (sigaction(sig, &sa, nullptr) != 0) return false;
  }
  return true;
}

}  // namespace temporalite::server
