// Storage fault injection for tests (issue 15, item 2): libtemporalite_faults.so, a SQLite VFS
// that wraps the default one and, when armed, makes the next read, write or sync of the database
// or its WAL fail the way a disk does. Built only for the tests and never linked into the server:
// a test starts the server with LD_PRELOAD=<build>/tests/libtemporalite_faults.so and
// TEMPORALITE_FAULT_INJECTION=<control file>; the library's constructor registers the VFS as
// SQLite's default before main runs. The server links Debian's libsqlite3.so dynamically, so the
// preloaded library's sqlite3_vfs_register reaches the very SQLite the server opens its database
// with. The production binary has no fault code: the variable alone does nothing.
//
// Arming: write one of these words into the control file; the fault fires once (the file is
// removed when it does), on the first matching call after the file appears:
//   read-fail    the next read returns SQLITE_IOERR_READ (a failing disk; no write is involved)
//   write-fail   the next write returns SQLITE_IOERR_WRITE without writing (nothing reaches disk)
//   disk-full    the next write returns SQLITE_FULL without writing (as when the disk is full)
//   fsync-fail   the next sync returns SQLITE_IOERR_FSYNC without syncing
//   sync-lost    the next sync is performed and then reported failed (SQLITE_IOERR_FSYNC): the
//                transaction is on disk but the store is told it failed ("committed but
//                reported failed")
// and one that persists:
//   eio-until-removed  every write and sync of the database or WAL fails (SQLITE_IOERR_WRITE,
//                SQLITE_IOERR_FSYNC), and so does every fsync(2) of the process (EIO: the library
//                also wraps libc's fsync, which the server's resume probe calls), until the test
//                removes the control file (a disk that keeps failing, then is repaired)
// The server must never acknowledge a write whose commit failed, must keep what it acknowledged,
// and stops with a clear message (the store's fatal error); it resumes or a restart recovers.

#include <dlfcn.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

namespace {

enum class Fault { kNone, kReadFail, kWriteFail, kDiskFull, kFsyncFail, kSyncLost };
enum class Op { kRead, kWrite, kSync };

// The control file's path. Plain data (no constructor): set by the library's constructor, whose
// order against the file's dynamic initializers is not specified.
const char* g_control = nullptr;
sqlite3_vfs* g_base = nullptr;
sqlite3_vfs g_vfs;
sqlite3_io_methods g_methods;
std::mutex g_mu;
std::atomic<bool> g_eio_reported{false};

// The word in the control file ("" when there is none).
std::string ControlWord() {
  struct stat sb;
  if (g_control == nullptr || ::stat(g_control, &sb) != 0) return "";
  std::ifstream in(g_control);
  std::string word;
  in >> word;
  return word;
}

// Whether the persistent fault is armed (the control file holds eio-until-removed).
bool EioUntilRemoved() {
  if (ControlWord() != "eio-until-removed") return false;
  if (!g_eio_reported.exchange(true)) std::fprintf(stderr, "fault injection: eio-until-removed\n");
  return true;
}

// The armed fault, consumed by the call it applies to (a cheap stat when nothing is armed).
Fault TakeFault(Op op) {
  struct stat sb;
  if (::stat(g_control, &sb) != 0) return Fault::kNone;
  std::lock_guard<std::mutex> l(g_mu);
  std::string word = ControlWord();
  if (word == "eio-until-removed") {
    if (op == Op::kRead || !EioUntilRemoved()) return Fault::kNone;
    return op == Op::kWrite ? Fault::kWriteFail : Fault::kFsyncFail;  // the file stays
  }
  Fault f = word == "read-fail"    ? Fault::kReadFail
            : word == "write-fail" ? Fault::kWriteFail
            : word == "disk-full"  ? Fault::kDiskFull
            : word == "fsync-fail" ? Fault::kFsyncFail
            : word == "sync-lost"  ? Fault::kSyncLost
                                   : Fault::kNone;
  Op fault_op = Op::kSync;
  if (f == Fault::kReadFail) fault_op = Op::kRead;
  if (f == Fault::kWriteFail || f == Fault::kDiskFull) fault_op = Op::kWrite;
  if (f == Fault::kNone || fault_op != op) return Fault::kNone;
  if (::unlink(g_control) != 0) return Fault::kNone;  // another call took it
  std::fprintf(stderr, "fault injection: %s\n", word.c_str());
  return f;
}

struct FaultFile {
  sqlite3_file base;   // must be first: SQLite sees a FaultFile as an sqlite3_file
  sqlite3_file* real;  // the wrapped VFS's file (allocated after this struct)
  bool data;           // main database or WAL (journals and temp files are not faulted)
};

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->real; }

int Close(sqlite3_file* f) {
  sqlite3_file* r = Real(f);
  int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
  return rc;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  if (reinterpret_cast<FaultFile*>(f)->data && TakeFault(Op::kRead) == Fault::kReadFail) return SQLITE_IOERR_READ;
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (reinterpret_cast<FaultFile*>(f)->data) {
    switch (TakeFault(Op::kWrite)) {
      case Fault::kWriteFail:
        return SQLITE_IOERR_WRITE;
      case Fault::kDiskFull:
        return SQLITE_FULL;
      default:
        break;
    }
  }
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) { return Real(f)->pMethods->xTruncate(Real(f), size); }
int Sync(sqlite3_file* f, int flags) {
  if (reinterpret_cast<FaultFile*>(f)->data) {
    switch (TakeFault(Op::kSync)) {
      case Fault::kFsyncFail:
        return SQLITE_IOERR_FSYNC;
      case Fault::kSyncLost:
        Real(f)->pMethods->xSync(Real(f), flags);
        return SQLITE_IOERR_FSYNC;
      default:
        break;
    }
  }
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) { return Real(f)->pMethods->xFileSize(Real(f), size); }
int Lock(sqlite3_file* f, int l) { return Real(f)->pMethods->xLock(Real(f), l); }
int Unlock(sqlite3_file* f, int l) { return Real(f)->pMethods->xUnlock(Real(f), l); }
int CheckReservedLock(sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); }
int FileControl(sqlite3_file* f, int op, void* arg) { return Real(f)->pMethods->xFileControl(Real(f), op, arg); }
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); }
int ShmMap(sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
  return Real(f)->pMethods->xShmMap(Real(f), pg, sz, extend, p);
}
int ShmLock(sqlite3_file* f, int off, int n, int flags) { return Real(f)->pMethods->xShmLock(Real(f), off, n, flags); }
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) { return Real(f)->pMethods->xFetch(Real(f), off, n, p); }
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return Real(f)->pMethods->xUnfetch(Real(f), off, p); }

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* ff = reinterpret_cast<FaultFile*>(file);
  ff->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(FaultFile));
  ff->data = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
  int rc = g_base->xOpen(g_base, name, ff->real, flags, out_flags);
  // Only a file the real VFS opened gets methods (SQLite calls xClose only then).
  file->pMethods = ff->real->pMethods ? &g_methods : nullptr;
  return rc;
}
int Delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_base->xDelete(g_base, name, sync_dir); }
int Access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_base->xAccess(g_base, name, flags, out); }
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) { return g_base->xFullPathname(g_base, name, n, out); }
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void DlError(sqlite3_vfs*, int n, char* msg) { g_base->xDlError(g_base, n, msg); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) { return g_base->xDlSym(g_base, h, sym); }
void DlClose(sqlite3_vfs*, void* h) { g_base->xDlClose(g_base, h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int Sleep(sqlite3_vfs*, int us) { return g_base->xSleep(g_base, us); }
int CurrentTime(sqlite3_vfs*, double* t) { return g_base->xCurrentTime(g_base, t); }
int GetLastError(sqlite3_vfs*, int n, char* msg) { return g_base->xGetLastError ? g_base->xGetLastError(g_base, n, msg) : 0; }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* t) { return g_base->xCurrentTimeInt64(g_base, t); }

// Registers the fault-injecting VFS as SQLite's default when TEMPORALITE_FAULT_INJECTION is set.
__attribute__((constructor)) void InstallFaultInjectionFromEnv() {
  const char* control = std::getenv("TEMPORALITE_FAULT_INJECTION");
  if (control == nullptr || *control == '\0' || g_base != nullptr) return;
  g_base = sqlite3_vfs_find(nullptr);
  if (g_base == nullptr || g_base->iVersion < 2) return;
  g_control = strdup(control);

  g_methods = sqlite3_io_methods{};
  g_methods.iVersion = 3;
  g_methods.xClose = Close;
  g_methods.xRead = Read;
  g_methods.xWrite = Write;
  g_methods.xTruncate = Truncate;
  g_methods.xSync = Sync;
  g_methods.xFileSize = FileSize;
  g_methods.xLock = Lock;
  g_methods.xUnlock = Unlock;
  g_methods.xCheckReservedLock = CheckReservedLock;
  g_methods.xFileControl = FileControl;
  g_methods.xSectorSize = SectorSize;
  g_methods.xDeviceCharacteristics = DeviceCharacteristics;
  g_methods.xShmMap = ShmMap;
  g_methods.xShmLock = ShmLock;
  g_methods.xShmBarrier = ShmBarrier;
  g_methods.xShmUnmap = ShmUnmap;
  g_methods.xFetch = Fetch;
  g_methods.xUnfetch = Unfetch;

  g_vfs = sqlite3_vfs{};
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_base->szOsFile;
  g_vfs.mxPathname = g_base->mxPathname;
  g_vfs.zName = "temporalite-fault";
  g_vfs.xOpen = Open;
  g_vfs.xDelete = Delete;
  g_vfs.xAccess = Access;
  g_vfs.xFullPathname = FullPathname;
  g_vfs.xDlOpen = DlOpen;
  g_vfs.xDlError = DlError;
  g_vfs.xDlSym = DlSym;
  g_vfs.xDlClose = DlClose;
  g_vfs.xRandomness = Randomness;
  g_vfs.xSleep = Sleep;
  g_vfs.xCurrentTime = CurrentTime;
  g_vfs.xGetLastError = GetLastError;
  g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(&g_vfs, 1) != SQLITE_OK) return;
  std::fprintf(stderr, "storage fault injection is ON (TEMPORALITE_FAULT_INJECTION=%s): for tests only\n", control);
}

}  // namespace

// libc's fsync, wrapped (the library is preloaded): EIO while eio-until-removed is armed.
extern "C" int fsync(int fd) {
  using Fn = int (*)(int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fsync"));
  if (EioUntilRemoved()) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}
