// The HTTP layer under many waiting requests: the listener's elastic pool keeps threads for new
// requests while others wait, the handler bounds its long polls, and the UI port's API-key login
// (cookie forwarded as the Authorization of API calls, never on the API port).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/elastic_pool.h"
#include "common/clock.h"
#include "http/handler.h"
#include "http/login_throttle.h"
#include "http/listener.h"
#include "http/ui_login.h"

namespace temporalite::http {
namespace {

using namespace std::chrono_literals;

// A gate tasks wait on until opened.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(l, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool AwaitWaiting(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(ElasticPool, ANewTaskRunsWhileManyWait) {
  ElasticPool pool(4, 300, 50ms);
  Gate gate;
  for (int i = 0; i < 200; i++) pool.enqueue([&gate] { gate.Wait(); });
  ASSERT_TRUE(gate.AwaitWaiting(200, 20s)) << "all 200 tasks run at once";
  std::promise<void> ran;
  pool.enqueue([&ran] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(5s), std::future_status::ready) << "a task beyond the core ran promptly";
  EXPECT_GE(pool.threads(), 201u);
  gate.Open();
  // Threads above the core end once idle.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (pool.threads() > 4 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(pool.threads(), 4u);
  pool.shutdown();
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(ElasticPool, NeverMoreThanMaxThreadsAndQueuedTasksRunLater) {
  ElasticPool pool(1, 3, 1s);
  Gate gate;
  std::atomic<int> done{0};
  for (int i = 0; i < 10; i++) pool.enqueue([&] { gate.Wait(); done++; });
  ASSERT_TRUE(gate.AwaitWaiting(3, 10s));
  EXPECT_EQ(pool.threads(), 3u);
  EXPECT_EQ(done.load(), 0);
  gate.Open();
  pool.shutdown();  // runs the queued tasks first
  EXPECT_EQ(done.load(), 10);
}

// Answers every call at once, except Poll* methods, which wait for the gate. Records the
// authorization each call carried.
class FakeInvoker final : public MethodInvoker {
 public:
  CallResult Call(const google::protobuf::MethodDescriptor& method, const google::protobuf::Message&,
                  google::protobuf::Message*, std::chrono::milliseconds, const CallMetadata& metadata,
                  const std::function<bool()>&) override {
    const std::string& authorization = metadata.authorization;
    {
      std::lock_guard<std::mutex> l(mu_);
      last_authorization_ = authorization;
      last_caller_type_ = metadata.caller_type;
      ++calls_;
    }
    if (method.name() == "GetClusterInfo" && authorization != "Bearer good-key-0123456789") return {16, "bad key", {}};
    if (method.name().rfind("Poll", 0) == 0) gate.Wait();
    return {};
  }
  std::string last_authorization() {
    std::lock_guard<std::mutex> l(mu_);
    return last_authorization_;
  }
  std::string last_caller_type() {
    std::lock_guard<std::mutex> l(mu_);
    return last_caller_type_;
  }
  size_t calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }
  Gate gate;

 private:
  std::mutex mu_;
  std::string last_authorization_;
  std::string last_caller_type_;
  size_t calls_ = 0;
};

Request Req(std::string method, std::string target, std::string body = "", std::map<std::string, std::string> headers = {}) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.header = [headers](std::string_view name) {
    for (const auto& [k, v] : headers)
      if (strcasecmp(k.c_str(), std::string(name).c_str()) == 0) return v;
    return std::string();
  };
  return r;
}

TEST(Handler, LongPollsAreBoundedAndOtherRequestsStillAnswer) {
  FakeInvoker invoker;
  HandlerOptions o;
  o.max_long_polls = 3;
  Handler h(invoker, nullptr, o);
  const std::string history = "/api/v1/namespaces/default/workflows/w/history?waitNewEvent=true";
  std::vector<std::future<Response>> waiting;
  // The fake holds Poll* calls until the gate opens.
  const std::string activity_poll = "/api/v1/namespaces/default/activities/a/outcome";  // PollActivityExecution
  for (int i = 0; i < 3; i++)
    waiting.push_back(std::async(std::launch::async, [&] { return h.Handle(Req("GET", activity_poll), false); }));
  ASSERT_TRUE(invoker.gate.AwaitWaiting(3, 10s));
  Response over = h.Handle(Req("GET", activity_poll), false);
  EXPECT_EQ(over.status, 429) << over.body;
  EXPECT_NE(over.body.find("too many long polls"), std::string::npos) << over.body;
  // Not long polls: answered while three wait.
  EXPECT_EQ(h.Handle(Req("GET", "/api/v1/namespaces"), false).status, 200);
  EXPECT_EQ(h.Handle(Req("GET", "/api/v1/namespaces/default/workflows/w/history"), false).status, 200);
  EXPECT_EQ(h.Handle(Req("GET", history), false).status, 429) << "waitNewEvent counts as a long poll";
  invoker.gate.Open();
  for (auto& f : waiting) EXPECT_EQ(f.get().status, 200);
  EXPECT_EQ(h.Handle(Req("GET", history), false).status, 200) << "slots are given back";
}

// Waits in every call until the HTTP client is gone (or 20 s) and records which it was.
class ClientWatchingInvoker final : public MethodInvoker {
 public:
  CallResult Call(const google::protobuf::MethodDescriptor&, const google::protobuf::Message&, google::protobuf::Message*,
                  std::chrono::milliseconds, const CallMetadata&, const std::function<bool()>& client_gone) override {
    entered.Wait();  // counts the call; the gate is open
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (client_gone && client_gone()) {
        gone.set_value(true);
        return {1, "cancelled", {}};
      }
      std::this_thread::sleep_for(20ms);
    }
    gone.set_value(false);
    return {};
  }
  Gate entered;
  std::promise<bool> gone;
};

int ConnectTo(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  return s;
}

TEST(Listener, AClientThatHangsUpEndsItsWaitingCall) {
  ClientWatchingInvoker invoker;
  invoker.entered.Open();
  Handler h(invoker, nullptr, HandlerOptions{});
  Listener listener([&h](const Request& r) { return h.Handle(r, false); }, 1 << 20, [&h] { return h.BodyTooLarge(); }, 2,
                    nullptr, 8);
  const int port = listener.Bind("127.0.0.1", 0);
  ASSERT_GT(port, 0);
  std::thread serving([&listener] { listener.Run(); });
  // A second, idle connection to the same port must not be mistaken for the poll's.
  const int idle = ConnectTo(port);
  const int s = ConnectTo(port);
  ASSERT_GE(s, 0);
  const std::string request =
      "GET /api/v1/namespaces/default/workflows/w/history?waitNewEvent=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(send(s, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(invoker.entered.AwaitWaiting(1, 10s)) << "the call is waiting";
  const auto closed_at = std::chrono::steady_clock::now();
  close(s);
  auto gone = invoker.gone.get_future();
  ASSERT_EQ(gone.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(gone.get()) << "the call saw the client go";
  EXPECT_LT(std::chrono::steady_clock::now() - closed_at, 5s);
  close(idle);
  listener.Stop();
  serving.join();
}

TEST(UiLogin, CookieAndReturnPath) {
  EXPECT_EQ(KeyFromCookie("a=1; temporalite-ui-key=k%3Bx%20y; b=2"), "k;x y");
  EXPECT_EQ(KeyFromCookie("a=1"), "");
  EXPECT_EQ(SafeReturnPath("http://127.0.0.1:8233/namespaces/default/workflows?x=1"), "/namespaces/default/workflows?x=1");
  EXPECT_EQ(SafeReturnPath("/schedules"), "/schedules");
  EXPECT_EQ(SafeReturnPath("//evil.example/x"), "/");
  EXPECT_EQ(SafeReturnPath("/\\evil.example"), "/");
  EXPECT_EQ(SafeReturnPath("javascript:alert(1)"), "/");
  EXPECT_EQ(SafeReturnPath("/login?x"), "/");
  Response r = LoginRedirect("k;1", "/a");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.headers["Location"], "/a");
  EXPECT_EQ(r.headers["Set-Cookie"], "temporalite-ui-key=k%3B1; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_NE(LoginRedirect("", "/").headers["Set-Cookie"].find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(LoginRedirect("k", "/").headers["Set-Cookie"].find("Secure"), std::string::npos);
  EXPECT_NE(LoginRedirect("k", "/", true).headers["Set-Cookie"].find("; Secure"), std::string::npos);
  Response page = LoginPage("<script>", "/x\"><script>");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "escaped";
}

TEST(UiLogin, TheUiPortChecksTheKeyAndForwardsItsCookieTheApiPortDoesNot) {
  FakeInvoker invoker;
  HandlerOptions o;
  o.api_keys = true;
  Handler h(invoker, nullptr, o);
  EXPECT_EQ(h.Handle(Req("GET", "/login?returnUrl=%2Fschedules&error=401%20no%20key"), true).status, 200);
  Response bad = h.Handle(Req("POST", "/login", "key=wrong-key-0123456789&returnUrl=%2Fschedules"), true);
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.headers.count("Set-Cookie"), 0u);
  EXPECT_NE(bad.body.find("Sign-in failed"), std::string::npos);
  Response good = h.Handle(Req("POST", "/login", "key=good-key-0123456789&returnUrl=%2Fschedules"), true);
  EXPECT_EQ(good.status, 303);
  EXPECT_EQ(good.headers["Location"], "/schedules");
  EXPECT_EQ(good.headers["Set-Cookie"].rfind("temporalite-ui-key=good-key-0123456789;", 0), 0u);
  // A login POST from another site is refused.
  EXPECT_EQ(h.Handle(Req("POST", "/login", "key=good-key-0123456789", {{"Origin", "http://evil.example"}, {"Host", "127.0.0.1:8233"}}), true).status, 403);

  auto cookie = std::map<std::string, std::string>{{"Cookie", "temporalite-ui-key=good-key-0123456789"}};
  EXPECT_EQ(h.Handle(Req("GET", "/api/v1/namespaces", "", cookie), true).status, 200);
  EXPECT_EQ(invoker.last_authorization(), "Bearer good-key-0123456789") << "UI port: the cookie's key";
  h.Handle(Req("GET", "/api/v1/namespaces", "", cookie), false);
  EXPECT_EQ(invoker.last_authorization(), "") << "API port: no cookie forwarding";
  auto both = cookie;
  both["Authorization"] = "Bearer other";
  h.Handle(Req("GET", "/api/v1/namespaces", "", both), true);
  EXPECT_EQ(invoker.last_authorization(), "Bearer other") << "an explicit header wins";
  // Without --api-key-file there is no login page and no cookie forwarding.
  Handler open(invoker, nullptr, HandlerOptions{});
  open.Handle(Req("GET", "/api/v1/namespaces", "", cookie), true);
  EXPECT_EQ(invoker.last_authorization(), "");
  EXPECT_NE(open.Handle(Req("GET", "/login"), true).body.find("not built"), std::string::npos) << "SPA fallback";
}

// The sign-in attempt limit (login_throttle.h): 5 free failures per address, then a doubling wait.
// Temporal's UI sends `Caller-Type: operator` with each API request (its UI server passes it on),
// so the UI's calls get the operator rate-limit priority; on the HTTP API port only grpc-gateway's
// `Grpc-Metadata-Caller-Type` form is passed on, as Temporal's HTTP API does by default.
TEST(Handler, TheUiPortPassesTheCallerTypeOn) {
  FakeInvoker invoker;
  Handler h(invoker, nullptr, HandlerOptions{});
  const std::map<std::string, std::string> ui_headers = {{"Caller-Type", "operator"}};
  EXPECT_EQ(h.Handle(Req("GET", "/api/v1/namespaces", "", ui_headers), true).status, 200);
  EXPECT_EQ(invoker.last_caller_type(), "operator");
  EXPECT_EQ(h.Handle(Req("GET", "/api/v1/namespaces", "", ui_headers), false).status, 200);
  EXPECT_EQ(invoker.last_caller_type(), "") << "API port: a plain Caller-Type header is not passed on";
  EXPECT_EQ(h.Handle(Req("GET", "/api/v1/namespaces", "", {{"Grpc-Metadata-Caller-Type", "operator"}}), false).status, 200);
  EXPECT_EQ(invoker.last_caller_type(), "operator");
  EXPECT_EQ(h.Handle(Req("GET", "/api/v1/namespaces"), true).status, 200);
  EXPECT_EQ(invoker.last_caller_type(), "");
}

TEST(LoginThrottle, FailuresPerAddressThenADoublingWaitForgottenOnSuccess) {
  SimClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));
  LoginThrottle t(clock);
  for (int i = 0; i < LoginThrottle::kFreeFailures - 1; ++i) {
    EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), Duration::zero()) << i;
    t.RecordFailure("10.0.0.1");
  }
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), Duration::zero());
  t.RecordFailure("10.0.0.1");  // the fifth: from now on a wait
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), 1s);
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.2"), Duration::zero()) << "per address";
  clock.Advance(1s);
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), Duration::zero());
  t.RecordFailure("10.0.0.1");
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), 2s);
  clock.Advance(2s);
  t.RecordFailure("10.0.0.1");
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), 4s);
  for (int i = 0; i < 20; ++i) t.RecordFailure("10.0.0.1");
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), LoginThrottle::kMaxWait) << "capped";
  t.RecordSuccess("10.0.0.1");
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.1"), Duration::zero());
  // 15 minutes without a failure forget the count.
  for (int i = 0; i < LoginThrottle::kFreeFailures; ++i) t.RecordFailure("10.0.0.3");
  EXPECT_GT(t.WaitBeforeAttempt("10.0.0.3"), Duration::zero());
  clock.Advance(LoginThrottle::kForgetAfter);
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.3"), Duration::zero());
  t.RecordFailure("10.0.0.3");
  EXPECT_EQ(t.WaitBeforeAttempt("10.0.0.3"), Duration::zero()) << "counting starts again";
}

TEST(UiLogin, RepeatedWrongKeysFromOneAddressGet429WithRetryAfter) {
  FakeInvoker invoker;
  SimClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));
  HandlerOptions o;
  o.api_keys = true;
  o.clock = &clock;
  Handler h(invoker, nullptr, o);
  auto from = [](std::string peer, std::string body) {
    Request r = Req("POST", "/login", std::move(body));
    r.peer = std::move(peer);
    return r;
  };
  for (int i = 0; i < LoginThrottle::kFreeFailures; ++i) {
    EXPECT_EQ(h.Handle(from("192.0.2.7", "key=wrong-key-0123456789"), true).status, 401) << i;
  }
  const size_t calls = invoker.calls();
  Response limited = h.Handle(from("192.0.2.7", "key=good-key-0123456789&returnUrl=%2Fx"), true);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["Retry-After"], "1");
  EXPECT_NE(limited.body.find("Too many failed sign-in attempts"), std::string::npos);
  EXPECT_EQ(limited.headers.count("Set-Cookie"), 0u);
  EXPECT_EQ(invoker.calls(), calls) << "the key was not even tried";
  EXPECT_EQ(h.Handle(from("192.0.2.8", "key=good-key-0123456789"), true).status, 303) << "another address";
  clock.Advance(1s);
  EXPECT_EQ(h.Handle(from("192.0.2.7", "key=good-key-0123456789"), true).status, 303) << "after the wait";
  EXPECT_EQ(h.Handle(from("192.0.2.7", "key=wrong-key-0123456789"), true).status, 401) << "the success reset the count";
}

}  // namespace
}  // namespace temporalite::http
