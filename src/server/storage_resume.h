// Resuming after a storage failure (disk full, an I/O or fsync error) without a supervisor.
//
// After a write the database refused, the engine's memory may be ahead of the disk, so nothing
// is rolled back in-process: the server stops serving, waits until a probe write in the data
// directory succeeds (space was freed), and re-executes its own binary with the same arguments
// (execv of /proc/self/exe: same pid), which recovers from the database as any restart does.
#ifndef TEMPORALITE_SERVER_STORAGE_RESUME_H_
#define TEMPORALITE_SERVER_STORAGE_RESUME_H_

#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace temporalite::server {

// The environment variable that carries the bound ports (grpc,http,ui,metrics) and the resume
// count into the re-executed process, so that a server started with port 0 keeps its ports.
inline constexpr const char* kResumeEnv = "TEMPORALITE_RESUMED";

struct ResumeState {
  int grpc = 0, http = 0, ui = 0, metrics = 0;
  int resumes = 0;  // how many times this process has re-executed itself
};

// Reads (and removes from the environment) what a previous image of this process left in
// kResumeEnv; false when this is a first start.
bool TakeResumeState(ResumeState* state);

// Writes `bytes` zero bytes to a new file in `dir`, fsyncs it and removes it. OK when the file
// system takes writes again; the error (RESOURCE_EXHAUSTED for ENOSPC/EDQUOT) otherwise.
Status ProbeWrite(const std::string& dir, size_t bytes);

// Probes `dir` until ProbeWrite succeeds, waiting between probes (from `first_wait`, doubling up
// to 30 s) in sigtimedwait on `sigs`. Returns true once writable; false when SIGINT or SIGTERM
// arrived first (the caller shuts down). Other signals in `sigs` are consumed and ignored.
bool WaitUntilWritable(const std::string& dir, const sigset_t& sigs, std::chrono::milliseconds first_wait);

// Marks every descriptor above stderr close-on-exec, sets kResumeEnv from `state` and execs
// /proc/self/exe with `argv`. Returns only if the exec failed (the error is returned).
Status ReExec(const std::vector<std::string>& argv, const ResumeState& state);

}  // namespace temporalite::server

#endif  // TEMPORALITE_SERVER_STORAGE_RESUME_H_
