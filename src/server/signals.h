// Termination signals reach the main thread, whichever thread the kernel picks.
//
// The server blocks SIGINT, SIGTERM, SIGHUP and SIGUSR2 and waits for them in the main thread
// with sigwait. A process-directed signal goes to any thread that does not block it: a thread
// created before the mask was set, or one that changed its own mask (some of gRPC's and
// libraries' threads), whose default action would kill the process without the clean shutdown.
// InstallSignalForwarding gives these signals a handler that re-sends the signal to the main
// thread (pthread_kill, async-signal-safe), where it stays pending for sigwait.
#ifndef TEMPORALITE_SERVER_SIGNALS_H_
#define TEMPORALITE_SERVER_SIGNALS_H_

#include <signal.h>

namespace temporalite::server {

// Call from the main thread, before blocking `sigs` and before starting threads: records the
// calling thread as the one to forward to and installs the forwarding handler for every signal
// in `sigs` (SA_RESTART). Returns false (errno set) when sigaction fails.
bool InstallSignalForwarding(const sigset_t& sigs);

}  // namespace temporalite::server

#endif  // TEMPORALITE_SERVER_SIGNALS_H_
