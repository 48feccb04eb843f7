// API keys (src/auth/api_keys.h): the key file, what each method needs, and the decisions with
// Temporal's codes. The end-to-end behaviour (SDK, CLI, HTTP, audit) is tests/security.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "auth/api_keys.h"
#include "auth/auth_interceptor.h"
#include "auth/key_file_watch.h"
#include "auth/server_security.h"

namespace temporalite::auth {
namespace {

constexpr const char* kWs = "/temporal.api.workflowservice.v1.WorkflowService/";
constexpr const char* kOs = "/temporal.api.operatorservice.v1.OperatorService/";

ApiKeys Keys() {
  auto k = ApiKeys::Parse(
      "# comment line\n"
      "ops    admin-key-0123456789  admin\n"
      "bot    writer-key-0123456789 writer@default reader@other  # trailing comment\n"
      "viewer reader-key-0123456789 reader\n");
  EXPECT_TRUE(k.ok()) << k.status().message();
  return std::move(k).value();
}

TEST(ApiKeys, ParsesGrantsAndFindsKeys) {
  ApiKeys k = Keys();
  EXPECT_EQ(k.size(), 3u);
  const Principal* bot = k.Find("writer-key-0123456789");
  ASSERT_NE(bot, nullptr);
  EXPECT_EQ(bot->name, "bot");
  EXPECT_EQ(bot->On("default"), Role::kWriter);
  EXPECT_EQ(bot->On("other"), Role::kReader);
  EXPECT_EQ(bot->On("third"), Role::kNone);
  EXPECT_EQ(k.Find("writer-key-012345678"), nullptr);
  EXPECT_EQ(k.Find(""), nullptr);
}

TEST(ApiKeys, RejectsMalformedFiles) {
  for (const char* text : {"", "# only comments\n", "a key-0123456789abcdef\n", "a short reader\n",
                           "a key-0123456789abcdef owner\n", "a key-0123456789abcdef reader@\n",
                           "a key-0123456789abcdef reader\nb key-0123456789abcdef admin\n",
                           "a key-0123456789abcdef reader\na key-1123456789abcdef admin\n"}) {
    auto k = ApiKeys::Parse(text);
    EXPECT_FALSE(k.ok()) << text;
    EXPECT_EQ(k.status().code(), Code::kInvalidArgument) << text;
  }
  auto k = ApiKeys::Parse("ok key-0123456789abcdef reader\nbad key-1123456789abcdef superuser\n");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("line 2"), std::string::npos) << k.status().message();
}

TEST(ApiKeys, WhatEachMethodNeeds) {
  auto need = [](std::string prefix, const char* m) { return RequiredAccess(prefix + m); };
  EXPECT_EQ(need(kWs, "GetSystemInfo"), Access::kOpen);
  EXPECT_EQ(RequiredAccess("/grpc.health.v1.Health/Check"), Access::kOpen);
  EXPECT_EQ(need(kWs, "ListNamespaces"), Access::kAuthenticated);
  EXPECT_EQ(need(kWs, "DescribeWorkflowExecution"), Access::kRead);
  EXPECT_EQ(need(kWs, "CountWorkflowExecutions"), Access::kRead);
  EXPECT_EQ(need(kWs, "QueryWorkflow"), Access::kRead);
  EXPECT_EQ(need(kWs, "StartWorkflowExecution"), Access::kWrite);
  EXPECT_EQ(need(kWs, "PollWorkflowTaskQueue"), Access::kWrite);
  EXPECT_EQ(need(kWs, "StartBatchOperation"), Access::kWrite);
  EXPECT_EQ(need(kWs, "UpdateNamespace"), Access::kAdmin);
  EXPECT_EQ(need(kWs, "RegisterNamespace"), Access::kClusterAdmin);
  EXPECT_EQ(need(kOs, "ListSearchAttributes"), Access::kRead);
  EXPECT_EQ(need(kOs, "AddSearchAttributes"), Access::kAdmin);
  EXPECT_EQ(need(kOs, "DeleteNamespace"), Access::kClusterAdmin);
  EXPECT_EQ(RequiredAccess("/temporalite.admin.v1.AdminService/CreateSnapshot"), Access::kClusterAdmin);
  EXPECT_EQ(RequiredAccess("/some.Unknown/Method"), Access::kClusterAdmin);
  EXPECT_TRUE(Audited(std::string(kWs) + "StartWorkflowExecution"));
  EXPECT_TRUE(Audited(std::string(kOs) + "AddSearchAttributes"));
  EXPECT_FALSE(Audited(std::string(kWs) + "PollActivityTaskQueue"));
  EXPECT_FALSE(Audited(std::string(kWs) + "RespondWorkflowTaskCompleted"));
  EXPECT_FALSE(Audited(std::string(kWs) + "DescribeWorkflowExecution"));
}

TEST(ApiKeys, DecisionsWithTemporalCodes) {
  ApiKeys k = Keys();
  const std::string start = std::string(kWs) + "StartWorkflowExecution";
  EXPECT_TRUE(Authorize(k, "", std::string(kWs) + "GetSystemInfo", "").status.ok());
  Decision d = Authorize(k, "", start, "default");
  EXPECT_EQ(d.status.code(), Code::kUnauthenticated);
  EXPECT_EQ(Authorize(k, "Basic d3JpdGVy", start, "default").status.code(), Code::kUnauthenticated);
  EXPECT_EQ(Authorize(k, "Bearer nope-0123456789abc", start, "default").status.code(), Code::kUnauthenticated);
  d = Authorize(k, "Bearer writer-key-0123456789", start, "default");
  EXPECT_TRUE(d.status.ok());
  EXPECT_EQ(d.principal, "bot");
  EXPECT_TRUE(Authorize(k, "bearer  writer-key-0123456789 ", start, "default").status.ok());  // scheme case, spaces
  d = Authorize(k, "Bearer writer-key-0123456789", start, "other");
  EXPECT_EQ(d.status.code(), Code::kPermissionDenied);
  EXPECT_EQ(d.status.message().rfind("Request unauthorized.", 0), 0u) << d.status.message();
  EXPECT_NE(d.status.message().find("\"bot\" has reader"), std::string::npos) << d.status.message();
  EXPECT_EQ(Authorize(k, "Bearer reader-key-0123456789", start, "default").status.code(), Code::kPermissionDenied);
  EXPECT_TRUE(Authorize(k, "Bearer reader-key-0123456789", std::string(kWs) + "ListWorkflowExecutions", "x").status.ok());
  // A namespace admin grant is not a cluster admin.
  auto ns_admin = ApiKeys::Parse("nsadmin key-0123456789abcdef admin@default\n");
  ASSERT_TRUE(ns_admin.ok());
  EXPECT_TRUE(Authorize(*ns_admin, "Bearer key-0123456789abcdef", std::string(kOs) + "AddSearchAttributes", "default").status.ok());
  EXPECT_EQ(Authorize(*ns_admin, "Bearer key-0123456789abcdef", std::string(kWs) + "RegisterNamespace", "new").status.code(),
            Code::kPermissionDenied);
  EXPECT_TRUE(Authorize(k, "Bearer admin-key-0123456789", std::string(kWs) + "RegisterNamespace", "new").status.ok());
}


TEST(ApiKeys, SaltedHashesInTheFile) {
  const std::string h1 = HashApiKey("hashed-key-0123456789");
  const std::string h2 = HashApiKey("hashed-key-0123456789");
  EXPECT_EQ(h1.rfind("sha256:", 0), 0u) << h1;
  EXPECT_NE(h1, h2);  // a fresh salt each time
  EXPECT_EQ(h1.find("hashed-key"), std::string::npos);
  auto k = ApiKeys::Parse("ops " + h1 + " admin\nbot " + h2 + " writer@default\nplain plain-key-0123456789 reader\n");
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->size(), 3u);
  const Principal* p = k->Find("hashed-key-0123456789");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, "ops");  // the first line whose hash matches
  EXPECT_EQ(k->Find(h1), nullptr);  // the file's text is not a key
  EXPECT_EQ(k->Find("hashed-key-012345678"), nullptr);
  ASSERT_NE(k->Find("plain-key-0123456789"), nullptr);
  EXPECT_TRUE(Authorize(*k, "Bearer hashed-key-0123456789", std::string(kWs) + "RegisterNamespace", "x").status.ok());
  for (const std::string& bad : {std::string("sha256:zz:00"), std::string("sha256::") + std::string(64, 'a'),
                                  "sha256:00ff:" + std::string(63, 'a'), std::string("sha256:00ff")}) {
    auto r = ApiKeys::Parse("x " + bad + " reader\n");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("hash-api-key"), std::string::npos) << r.status().message();
  }
  auto twice = ApiKeys::Parse("a " + h1 + " reader\nb " + h1 + " admin\n");
  EXPECT_FALSE(twice.ok());
  EXPECT_EQ(NewApiKey().size(), 64u);
  EXPECT_NE(NewApiKey(), NewApiKey());
}

TEST(KeyRing, ReloadReplacesKeysAndKeepsThemOnABadFile) {
  char tmpl[] = "/tmp/keyring-test-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string path = tmpl;
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::trunc) << text; };
  write("old old-key-0123456789 admin\n");
  auto first = ApiKeys::Load(path);
  ASSERT_TRUE(first.ok());
  KeyRing ring(path, std::move(first).value());
  std::shared_ptr<const ApiKeys> before = ring.Current();
  ASSERT_NE(before->Find("old-key-0123456789"), nullptr);
  write("new " + HashApiKey("new-key-0123456789") + " reader\n");
  ASSERT_TRUE(ring.Reload().ok());
  EXPECT_EQ(ring.Current()->Find("old-key-0123456789"), nullptr);
  EXPECT_NE(ring.Current()->Find("new-key-0123456789"), nullptr);
  EXPECT_NE(before->Find("old-key-0123456789"), nullptr);  // a call holding the old set keeps it
  write("broken line\n");
  Status s = ring.Reload();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1"), std::string::npos) << s.message();
  EXPECT_NE(ring.Current()->Find("new-key-0123456789"), nullptr);
  std::remove(path.c_str());
}

// The key file is watched (no SIGHUP): a changed stat reloads it; an unchanged one does nothing.
TEST(KeyFileWatcher, ReloadsWhenTheFileChanges) {
  char tmpl[] = "/tmp/keywatch-test-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string path = tmpl;
  // Each write gets its own modification time, as edits seconds apart would.
  int64_t mtime = 1'800'000'000;
  auto write = [&](const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
    struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ++mtime;
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  };
  write("old old-key-0123456789 admin\n");
  auto first = ApiKeys::Load(path);
  ASSERT_TRUE(first.ok());
  KeyRing ring(path, std::move(first).value());
  std::vector<Status> reloads;
  KeyFileWatcher watcher(ring, [&](const Status& s) { reloads.push_back(s); });
  EXPECT_FALSE(watcher.CheckOnce()) << "unchanged";
  write("new new-key-0123456789 reader\n");
  EXPECT_TRUE(watcher.CheckOnce());
  ASSERT_EQ(reloads.size(), 1u);
  EXPECT_TRUE(reloads[0].ok());
  EXPECT_NE(ring.Current()->Find("new-key-0123456789"), nullptr);
  EXPECT_EQ(ring.Current()->Find("old-key-0123456789"), nullptr);
  EXPECT_FALSE(watcher.CheckOnce());
  // Half-written: the keys in force stay, the error is reported; the finished file loads.
  write("new new-key-0123456789 rea");
  EXPECT_TRUE(watcher.CheckOnce());
  EXPECT_FALSE(reloads.back().ok());
  EXPECT_NE(ring.Current()->Find("new-key-0123456789"), nullptr);
  write("new new-key-0123456789 reader\nlate late-key-0123456789 admin\n");
  EXPECT_TRUE(watcher.CheckOnce());
  EXPECT_TRUE(reloads.back().ok());
  EXPECT_NE(ring.Current()->Find("late-key-0123456789"), nullptr);
  // Replaced by a rename (a new inode), as editors and secret mounts do.
  const std::string tmp = path + ".new";
  std::ofstream(tmp) << "only only-key-0123456789 admin\n";
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
  EXPECT_TRUE(watcher.CheckOnce());
  EXPECT_NE(ring.Current()->Find("only-key-0123456789"), nullptr);
  // Removed for a moment: nothing happens (the keys stay).
  std::remove(path.c_str());
  EXPECT_FALSE(watcher.CheckOnce());
  EXPECT_NE(ring.Current()->Find("only-key-0123456789"), nullptr);
}

// The start-up warning (main.cc logs it): a non-loopback address served without TLS or without API
// keys is named, with what is missing; loopback, or TLS with keys, gives none. Asserts the
// existing decision (ServerSecurity::ExposureWarning), no address is bound.
TEST(ServerSecurity, WarnsForANonLoopbackAddressWithoutTlsOrKeys) {
  auto keys = ApiKeys::Parse("ops admin-key-0123456789 admin\n");
  ASSERT_TRUE(keys.ok());
  ServerSecurity open;  // neither TLS nor keys
  for (const char* ip : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"}) {
    EXPECT_EQ(open.ExposureWarning(ip), "") << ip;
  }
  for (const char* ip : {"0.0.0.0", "::", "[::]", "192.168.1.10", "example.com"}) {
    const std::string w = open.ExposureWarning(ip);
    EXPECT_NE(w.find(std::string("serving ") + ip + ", which is not a loopback address"), std::string::npos) << w;
    EXPECT_NE(w.find("without TLS and without API keys"), std::string::npos) << w;
    EXPECT_NE(w.find("--api-key-file"), std::string::npos) << w;
  }
  ServerSecurity tls_only;
  tls_only.tls = true;
  EXPECT_NE(tls_only.ExposureWarning("0.0.0.0").find("without API keys (anyone who reaches it may call every method)"),
            std::string::npos);
  ServerSecurity keys_only;
  keys_only.keys = std::make_unique<KeyRing>("unused", std::move(keys).value());
  EXPECT_NE(keys_only.ExposureWarning("0.0.0.0").find("without TLS (API keys travel in clear text)"), std::string::npos);
  EXPECT_EQ(keys_only.ExposureWarning("127.0.0.1"), "");
  ServerSecurity both;
  both.tls = true;
  both.keys = std::move(keys_only.keys);
  EXPECT_EQ(both.ExposureWarning("0.0.0.0"), "");
}

}  // namespace
}  // namespace temporalite::auth
