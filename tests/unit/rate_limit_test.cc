// Frontend rate limits (src/frontend/rate_limit.h): Temporal's dynamic config keys, token
// buckets per namespace and for the server on the injected clock, concurrent long polls, and
// the RESOURCE_EXHAUSTED answers with Temporal's messages and ResourceExhaustedFailure details.
// The end-to-end behaviour (SDK retries, polls) is tests/security/rate-limit.test.js.
#include <google/protobuf/any.pb.h>
#include <gtest/gtest.h>

#include "frontend/rate_limit.h"
#include "temporal/api/enums/v1/failed_cause.pb.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::frontend {
namespace {

namespace enums = ::temporal::api::enums::v1;

TimePoint T0() { return TimePoint(std::chrono::seconds(1'800'000'000)); }

constexpr const char* kStart = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
constexpr const char* kDescribeNs = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
constexpr const char* kList = "/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowExecutions";
constexpr const char* kPollWft = "/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowTaskQueue";
constexpr const char* kPollAt = "/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue";

::temporal::api::errordetails::v1::ResourceExhaustedFailure Details(const Status& s) {
  google::protobuf::Any any;
  EXPECT_TRUE(any.ParseFromString(s.details()));
  ::temporal::api::errordetails::v1::ResourceExhaustedFailure f;
  EXPECT_TRUE(any.UnpackTo(&f)) << any.type_url();
  return f;
}

TEST(RateLimit, DynamicConfigKeys) {
  RateLimitOptions o;
  EXPECT_FALSE(o.enabled());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceRPS=50", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.rps=2.5", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceBurstRatio=1", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceCount=3", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceRPS.visibility=10", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceBurstRatio.visibility=1.5", &o).ok());
  EXPECT_EQ(o.namespace_visibility_rps, 10);
  EXPECT_EQ(o.namespace_visibility_burst_ratio, 1.5);
  EXPECT_EQ(o.namespace_rps, 50);
  EXPECT_EQ(o.service_rps, 2.5);
  EXPECT_EQ(o.namespace_burst_ratio, 1);
  EXPECT_EQ(o.namespace_pollers, 3);
  EXPECT_TRUE(o.enabled());
  EXPECT_EQ(ApplyRateLimitConfigValue("limit.historyCount.error=5", &o).code(), Code::kNotFound);
  for (const char* bad : {"frontend.rps=", "frontend.rps=-1", "frontend.rps=fast", "frontend.namespaceCount=1.5",
                          "frontend.namespaceRPS", "frontend.rps=nan"}) {
    EXPECT_EQ(ApplyRateLimitConfigValue(bad, &o).code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceRPS.namespaceReplicationInducingAPIs=1", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceBurstRatio.namespaceReplicationInducingAPIs=3", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.rps.namespaceReplicationInducingAPIs=20", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("system.operatorRPSRatio=0.5", &o).ok());
  EXPECT_EQ(o.namespace_replication_rps, 1);
  EXPECT_EQ(o.namespace_replication_burst_ratio, 3);
  EXPECT_EQ(o.service_replication_rps, 20);
  EXPECT_EQ(o.operator_rps_ratio, 0.5);
  for (const char* bad : {"system.operatorRPSRatio=0", "system.operatorRPSRatio=1.5"}) {
    EXPECT_EQ(ApplyRateLimitConfigValue(bad, &o).code(), Code::kInvalidArgument) << bad;
  }
  RateLimitOptions defaults;
  EXPECT_EQ(defaults.operator_rps_ratio, 0.2);                 // Temporal's default
  EXPECT_EQ(defaults.namespace_replication_burst_ratio, 10);   // Temporal's default
  RateLimitOptions only_replication;
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.rps.namespaceReplicationInducingAPIs=5", &only_replication).ok());
  EXPECT_TRUE(only_replication.enabled());
  RateLimitOptions only_visibility;
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceRPS.visibility=1", &only_visibility).ok());
  EXPECT_TRUE(only_visibility.enabled());
}

TEST(RateLimit, NamespaceBucketsRefillAndAreSeparate) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 2;  // burst 2 x 2 = 4
  RateLimiter l(clock, o);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default", kStart).ok()) << i;
  Status s = l.Admit("default", kStart);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace rate limit exceeded");
  auto f = Details(s);
  EXPECT_EQ(f.cause(), enums::RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
  EXPECT_EQ(f.scope(), enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  EXPECT_TRUE(l.Admit("other", kStart).ok());  // another namespace has its own bucket
  EXPECT_TRUE(l.Admit("", kStart).ok());       // calls without a namespace are not namespace-limited
  clock.Advance(std::chrono::milliseconds(499));
  EXPECT_FALSE(l.Admit("default", kStart).ok());
  clock.Advance(std::chrono::milliseconds(2));  // 0.5 s: one token at 2/s
  EXPECT_TRUE(l.Admit("default", kStart).ok());
  EXPECT_FALSE(l.Admit("default", kStart).ok());
  clock.Advance(std::chrono::hours(1));  // refills up to the burst only
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default", kStart).ok()) << i;
  EXPECT_FALSE(l.Admit("default", kStart).ok());
}

TEST(RateLimit, ServiceLimitCoversEveryNamespace) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.service_rps = 3;
  RateLimiter l(clock, o);
  EXPECT_TRUE(l.Admit("a", kStart).ok());
  EXPECT_TRUE(l.Admit("b", kStart).ok());
  EXPECT_TRUE(l.Admit("", kStart).ok());
  Status s = l.Admit("c", kStart);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "service rate limit exceeded");
  EXPECT_EQ(Details(s).scope(), enums::RESOURCE_EXHAUSTED_SCOPE_SYSTEM);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(l.Admit("c", kStart).ok());
}

TEST(RateLimit, LongPollsAreCountedAndChargedToTheRate) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 10;
  o.namespace_pollers = 2;
  RateLimiter l(clock, o);
  EXPECT_TRUE(IsLongPoll(kPollWft));
  EXPECT_TRUE(IsLongPoll(kPollAt));
  EXPECT_FALSE(IsLongPoll(kStart));
  EXPECT_FALSE(IsLongPoll("/temporal.api.operatorservice.v1.OperatorService/PollWorkflowTaskQueue"));
  EXPECT_TRUE(l.BeginPoll("default", kPollWft).ok());
  EXPECT_TRUE(l.BeginPoll("default", kPollWft).ok());
  Status s = l.BeginPoll("default", kPollWft);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace concurrent poller limit exceeded");
  EXPECT_EQ(Details(s).cause(), enums::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT);
  EXPECT_TRUE(l.BeginPoll("other", kPollWft).ok());
  l.EndPoll("default", kPollWft);
  EXPECT_TRUE(l.BeginPoll("default", kPollWft).ok());
  EXPECT_FALSE(l.BeginPoll("default", kPollWft).ok());
}

// Temporal's ConcurrentRequestLimitInterceptor counts per namespace and per method ("applied per
// poller type ... to prevent one poller type to take all token"), over its
// ExecutionAPICountLimitOverride methods.
TEST(RateLimit, ConcurrentLimitIsPerNamespaceAndMethod) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_pollers = 1;
  RateLimiter l(clock, o);
  const std::string wfs = "/temporal.api.workflowservice.v1.WorkflowService/";
  for (const char* m : {"PollWorkflowTaskQueue", "PollActivityTaskQueue", "PollNexusTaskQueue", "PollWorkflowExecutionUpdate",
                        "QueryWorkflow", "UpdateWorkflowExecution", "ExecuteMultiOperation", "PollWorkflowExecutionHistory"}) {
    EXPECT_TRUE(IsLongRunning(wfs + m)) << m;
  }
  for (const char* m : {"StartWorkflowExecution", "GetWorkflowExecutionHistory", "SignalWorkflowExecution"}) {
    EXPECT_FALSE(IsLongRunning(wfs + m)) << m;
  }
  EXPECT_FALSE(IsLongRunning("/temporal.api.operatorservice.v1.OperatorService/PollWorkflowTaskQueue"));
  // One of each method at once: workflow pollers do not take the activity pollers' slots.
  EXPECT_TRUE(l.BeginPoll("default", kPollWft).ok());
  EXPECT_TRUE(l.BeginPoll("default", kPollAt).ok());
  EXPECT_TRUE(l.BeginPoll("default", wfs + "QueryWorkflow").ok());
  EXPECT_TRUE(l.BeginPoll("default", wfs + "PollWorkflowExecutionHistory").ok());
  EXPECT_EQ(l.BeginPoll("default", kPollWft).message(), "namespace concurrent poller limit exceeded");
  EXPECT_EQ(l.BeginPoll("default", kPollAt).message(), "namespace concurrent poller limit exceeded");
  EXPECT_EQ(l.BeginPoll("default", wfs + "QueryWorkflow").message(), "namespace concurrent poller limit exceeded");
  EXPECT_TRUE(l.BeginPoll("other", kPollAt).ok());
  l.EndPoll("default", kPollAt);
  EXPECT_TRUE(l.BeginPoll("default", kPollAt).ok());
  EXPECT_FALSE(l.BeginPoll("default", kPollWft).ok());
}

// The cluster-wide keys (Temporal's ClusterAwareQuotaCalculator: global / frontends, over the
// per-instance key when positive); this server is one frontend, so a global value is the limit.
TEST(RateLimit, GlobalKeysReplaceThePerInstanceOnes) {
  RateLimitOptions o;
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalNamespaceCount=1", &o).ok());
  EXPECT_TRUE(o.enabled());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceCount=5", &o).ok());  // order does not matter
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalRPS=2", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.rps=100", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalNamespaceRPS=7", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalNamespaceRPS.visibility=3", &o).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalNamespaceRPS.namespaceReplicationInducingAPIs=4", &o).ok());
  EXPECT_EQ(ApplyRateLimitConfigValue("frontend.globalNamespaceCount=1.5", &o).code(), Code::kInvalidArgument);
  EXPECT_EQ(ApplyRateLimitConfigValue("frontend.globalRPS=-1", &o).code(), Code::kInvalidArgument);
  RateLimitOptions e = o.Effective();
  EXPECT_EQ(e.namespace_pollers, 1);
  EXPECT_EQ(e.service_rps, 2);
  EXPECT_EQ(e.namespace_rps, 7);
  EXPECT_EQ(e.namespace_visibility_rps, 3);
  EXPECT_EQ(e.namespace_replication_rps, 4);
  // 0 (the default) leaves the per-instance key in force.
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalNamespaceCount=0", &o).ok());
  EXPECT_EQ(o.Effective().namespace_pollers, 5);

  SimClock clock(T0());
  RateLimitOptions polls;
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.namespaceCount=3", &polls).ok());
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalNamespaceCount=1", &polls).ok());
  RateLimiter l(clock, polls);
  EXPECT_TRUE(l.BeginPoll("default", kPollWft).ok());
  EXPECT_EQ(l.BeginPoll("default", kPollWft).message(), "namespace concurrent poller limit exceeded");
  RateLimitOptions rate;
  EXPECT_TRUE(ApplyRateLimitConfigValue("frontend.globalRPS=1", &rate).ok());
  RateLimiter service(clock, rate);
  EXPECT_TRUE(service.Admit("a", kStart).ok());
  EXPECT_EQ(service.Admit("b", kStart).message(), "service rate limit exceeded");
}

constexpr const char* kWfs = "/temporal.api.workflowservice.v1.WorkflowService/";
std::string M(const char* name) { return std::string(kWfs) + name; }

// Temporal's current table (service/frontend/configs/quotas.go APIToPriority).
TEST(RateLimit, MethodsAreClassedAsTemporalsFrontendDoes) {
  EXPECT_EQ(ClassifyForRate(kDescribeNs).priority, 0);
  EXPECT_EQ(ClassifyForRate(kStart).priority, 1);
  EXPECT_EQ(ClassifyForRate(M("SignalWorkflowExecution")).priority, 1);
  // Progress (task completions, heartbeats) at 1: refusing them only makes the tasks run again.
  for (const char* m : {"RespondWorkflowTaskCompleted", "RespondActivityTaskCompleted", "RespondActivityTaskCompletedById",
                        "RecordActivityTaskHeartbeat", "RecordActivityTaskHeartbeatById", "RespondQueryTaskCompleted",
                        "RespondNexusTaskCompleted"}) {
    EXPECT_EQ(ClassifyForRate(M(m)).priority, 1) << m;
  }
  EXPECT_EQ(ClassifyForRate(M("TerminateWorkflowExecution")).priority, 2);
  EXPECT_EQ(ClassifyForRate(M("GetWorkflowExecutionHistory")).priority, 2);
  EXPECT_EQ(ClassifyForRate(M("DescribeWorkflowExecution")).priority, 3);
  EXPECT_EQ(ClassifyForRate(M("DescribeTaskQueue")).priority, 3);
  EXPECT_FALSE(ClassifyForRate(M("DescribeTaskQueue")).visibility());
  // Failures and cancellations at 3 (those tasks run again anyway).
  for (const char* m : {"RespondWorkflowTaskFailed", "RespondActivityTaskFailed", "RespondActivityTaskFailedById",
                        "RespondActivityTaskCanceled", "RespondActivityTaskCanceledById", "RespondNexusTaskFailed"}) {
    EXPECT_EQ(ClassifyForRate(M(m)).priority, 3) << m;
  }
  // Polls at 4, the history long poll below them at 5.
  for (const char* m : {"PollWorkflowTaskQueue", "PollActivityTaskQueue", "PollWorkflowExecutionUpdate",
                        "PollNexusTaskQueue", "ResetStickyTaskQueue", "ShutdownWorker",
                        "GetWorkflowExecutionHistoryReverse"}) {
    EXPECT_EQ(ClassifyForRate(M(m)).priority, 4) << m;
  }
  EXPECT_EQ(ClassifyForRate(M("PollWorkflowExecutionHistory")).priority, 5);
  // OperatorService and WorkflowService methods in none of Temporal's tables are not limited there, nor here.
  EXPECT_FALSE(ClassifyForRate("/temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes").limited);
  EXPECT_FALSE(ClassifyForRate(M("NoSuchMethod")).limited);
  EXPECT_FALSE(ClassifyForRate(M("GetSystemInfo")).limited);
  EXPECT_TRUE(ClassifyForRate(kStart).limited);
  for (const char* m : {kList, "/temporal.api.workflowservice.v1.WorkflowService/CountWorkflowExecutions",
                        "/temporal.api.workflowservice.v1.WorkflowService/ListSchedules",
                        "/temporal.api.workflowservice.v1.WorkflowService/ListBatchOperations"}) {
    EXPECT_TRUE(ClassifyForRate(m).visibility()) << m;
    EXPECT_EQ(ClassifyForRate(m).priority, 1) << m;
  }
  EXPECT_FALSE(ClassifyForRate(kStart).visibility());
  EXPECT_FALSE(ClassifyForRate(kPollWft).visibility());
}

// GetWorkflowExecutionHistory with wait_new_event is charged as Temporal's PollWorkflowExecutionHistory.
TEST(RateLimit, HistoryLongPollIsChargedAsAPollBelowTheTaskPolls) {
  const std::string get = M("GetWorkflowExecutionHistory");
  ::temporal::api::workflowservice::v1::GetWorkflowExecutionHistoryRequest req;
  EXPECT_EQ(RateLimitMethod(get, req), get);
  req.set_wait_new_event(true);
  EXPECT_EQ(RateLimitMethod(get, req), M("PollWorkflowExecutionHistory"));
  EXPECT_EQ(RateLimitMethod(kStart, req), kStart);  // only that method
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 2;  // burst 4 per priority
  RateLimiter l(clock, o);
  const std::string history_poll = RateLimitMethod(get, req);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default", history_poll).ok()) << i;
  EXPECT_FALSE(l.Admit("default", history_poll).ok());
  // History long polls (5) never take the tokens of the task polls (4) or of plain history reads (2).
  EXPECT_TRUE(l.BeginPoll("default", kPollWft).ok());
  EXPECT_TRUE(l.Admit("default", get).ok());
}

// With Temporal's current table a worker's completions (1) go through where its polls (4) and
// failure reports (3) are refused.
TEST(RateLimit, TaskCompletionsOutrankFailuresAndPolls) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 2;  // burst 4 per priority
  RateLimiter l(clock, o);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default", M("RespondWorkflowTaskFailed")).ok()) << i;
  EXPECT_FALSE(l.Admit("default", M("RespondActivityTaskFailed")).ok());
  EXPECT_FALSE(l.BeginPoll("default", kPollAt).ok());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default", M("RespondWorkflowTaskCompleted")).ok()) << i;
  EXPECT_FALSE(l.Admit("default", M("RespondWorkflowTaskCompleted")).ok());
  EXPECT_FALSE(l.Admit("default", M("RecordActivityTaskHeartbeat")).ok());  // the same priority, the same bucket
}

// Temporal's system.pollWaitForNamespaceRateLimitToken: a task poll that the namespace rate
// refuses waits for a token instead (reserved now, the bucket going into debt), unless it would
// get it later than 10 s before its deadline; off by default, as there.
TEST(RateLimit, RefusedPollWaitsForATokenWhenConfigured) {
  RateLimitOptions o;
  EXPECT_FALSE(o.poll_wait_for_token);
  EXPECT_TRUE(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken=true", &o).ok());
  EXPECT_TRUE(o.poll_wait_for_token);
  EXPECT_EQ(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken=yes", &o).code(), Code::kInvalidArgument);
  o.namespace_rps = 2;  // burst 4 per priority, one token every 0.5 s
  SimClock clock(T0());
  RateLimiter l(clock, o);
  const TimePoint deadline = clock.Now() + std::chrono::seconds(70);  // the SDKs' poll deadline
  PollReservation r;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(l.BeginPoll("default", kPollWft, false, deadline, &r).ok()) << i;
    EXPECT_EQ(r.delay, Duration::zero());
  }
  ASSERT_TRUE(l.BeginPoll("default", kPollWft, false, deadline, &r).ok());
  EXPECT_EQ(r.delay, std::chrono::milliseconds(500));
  ASSERT_TRUE(l.BeginPoll("default", kPollAt, false, deadline, &r).ok());
  EXPECT_EQ(r.delay, std::chrono::milliseconds(1000));  // behind the first reservation
  // Too close to its deadline: refused at once, as without the setting.
  Status s = l.BeginPoll("default", kPollWft, false, clock.Now() + std::chrono::seconds(10), &r);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace rate limit exceeded");
  EXPECT_EQ(l.BeginPoll("default", kPollWft, false, clock.Now() + std::chrono::milliseconds(11'200), &r).code(),
            Code::kResourceExhausted);  // its token (1.5 s) would come after deadline - 10 s
  // Non-poll calls never wait.
  for (int i = 0; i < 8; ++i) (void)l.Admit("default", M("GetWorkflowExecutionHistoryReverse"));
  EXPECT_FALSE(l.Admit("default", M("GetWorkflowExecutionHistoryReverse")).ok());
  // Off: the same poll is refused at once.
  RateLimitOptions off = o;
  off.poll_wait_for_token = false;
  RateLimiter l2(clock, off);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(l2.BeginPoll("default", kPollWft, false, deadline, &r).ok());
  EXPECT_EQ(l2.BeginPoll("default", kPollWft, false, deadline, &r).code(), Code::kResourceExhausted);
  // The concurrent-poll limit is checked first and never waits.
  RateLimitOptions counted = o;
  counted.namespace_pollers = 1;
  RateLimiter l3(clock, counted);
  ASSERT_TRUE(l3.BeginPoll("default", kPollWft, false, deadline, &r).ok());
  EXPECT_EQ(l3.BeginPoll("default", kPollWft, false, deadline, &r).message(), "namespace concurrent poller limit exceeded");
}

// Temporal's setting is namespace-filtered: KEY@NAMESPACE=VALUE, over KEY=VALUE.
TEST(RateLimit, PollWaitIsSetPerNamespace) {
  RateLimitOptions o;
  ASSERT_TRUE(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken@slow=true", &o).ok());
  EXPECT_TRUE(o.PollWaitForToken("slow"));
  EXPECT_FALSE(o.PollWaitForToken("default"));
  ASSERT_TRUE(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken=true", &o).ok());
  ASSERT_TRUE(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken@fast=false", &o).ok());
  EXPECT_TRUE(o.PollWaitForToken("default"));
  EXPECT_FALSE(o.PollWaitForToken("fast"));
  EXPECT_EQ(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken@=true", &o).code(), Code::kInvalidArgument);
  EXPECT_EQ(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken@x=1", &o).code(), Code::kInvalidArgument);
  EXPECT_EQ(ApplyRateLimitConfigValue("frontend.namespaceRPS@x=1", &o).code(), Code::kNotFound);

  RateLimitOptions only;
  only.namespace_rps = 2;  // burst 4
  ASSERT_TRUE(ApplyRateLimitConfigValue("system.pollWaitForNamespaceRateLimitToken@slow=true", &only).ok());
  SimClock clock(T0());
  RateLimiter l(clock, only);
  const TimePoint deadline = clock.Now() + std::chrono::seconds(70);
  PollReservation r;
  for (const char* ns : {"slow", "default"}) {
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(l.BeginPoll(ns, kPollWft, false, deadline, &r).ok()) << ns << i;
  }
  ASSERT_TRUE(l.BeginPoll("slow", kPollWft, false, deadline, &r).ok());
  EXPECT_EQ(r.delay, std::chrono::milliseconds(500));
  EXPECT_EQ(l.BeginPoll("default", kPollWft, false, deadline, &r).code(), Code::kResourceExhausted);
  EXPECT_EQ(r.delay, Duration::zero());
}

// A waiting poll that its caller cancels gives its token back (Temporal's limiter cancels the
// reservation, as golang.org/x/time/rate's CancelAt: less the tokens reserved after it).
TEST(RateLimit, CancelledWaitingPollGivesItsTokenBack) {
  RateLimitOptions o;
  o.namespace_rps = 2;  // burst 4 per priority, one token every 0.5 s
  o.poll_wait_for_token = true;
  SimClock clock(T0());
  RateLimiter l(clock, o);
  const TimePoint deadline = clock.Now() + std::chrono::seconds(70);
  PollReservation r;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(l.BeginPoll("default", kPollWft, false, deadline, &r).ok());
  PollReservation first;
  ASSERT_TRUE(l.BeginPoll("default", kPollWft, false, deadline, &first).ok());
  EXPECT_EQ(first.delay, std::chrono::milliseconds(500));
  ASSERT_TRUE(first.reserved);
  clock.Advance(std::chrono::milliseconds(100));
  l.CancelReservation(first);
  // The next poll takes the token the cancelled one had: due 0.5 s after the start, not 1 s.
  PollReservation next;
  ASSERT_TRUE(l.BeginPoll("default", kPollAt, false, deadline, &next).ok());
  EXPECT_EQ(next.delay, std::chrono::milliseconds(400));
  // A reservation followed by a later one gives nothing back (the later one keeps its place).
  PollReservation later;
  ASSERT_TRUE(l.BeginPoll("default", kPollWft, false, deadline, &later).ok());
  EXPECT_EQ(later.delay, std::chrono::milliseconds(900));
  l.CancelReservation(next);
  PollReservation after;
  ASSERT_TRUE(l.BeginPoll("default", kPollWft, false, deadline, &after).ok());
  EXPECT_EQ(after.delay, std::chrono::milliseconds(1400));
  // Cancelling the latest gives its token back; cancelling one already due changes nothing.
  l.CancelReservation(after);
  clock.Advance(std::chrono::seconds(1));
  l.CancelReservation(later);  // due 0.9 s after it was made: acted on already
  PollReservation last;
  ASSERT_TRUE(l.BeginPoll("default", kPollWft, false, deadline, &last).ok());
  EXPECT_NEAR((std::chrono::duration<double, std::milli>(last.delay).count()), 400, 0.001);
}

// Temporal's priority limiter: a call is decided by its priority's bucket and takes a token from
// every lower priority's bucket too, so a busy namespace refuses polls first and polls never
// take the tokens of starts or task completions.
TEST(RateLimit, PollsHaveTheLowestPriority) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 2;  // burst 4 per priority
  RateLimiter l(clock, o);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default", kStart).ok()) << i;
  // The starts used the poll bucket as well: a poll is refused by the rate (not by the count).
  Status s = l.BeginPoll("default", kPollWft);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace rate limit exceeded");
  EXPECT_EQ(Details(s).cause(), enums::RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
  // A higher priority than the starts still has its own tokens.
  EXPECT_TRUE(l.Admit("default", kDescribeNs).ok());  // poll bucket now -1
  EXPECT_FALSE(l.Admit("default", kStart).ok());
  clock.Advance(std::chrono::milliseconds(500));  // +1 token everywhere: poll bucket 0
  EXPECT_FALSE(l.BeginPoll("default", kPollWft).ok());
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_TRUE(l.BeginPoll("default", kPollWft).ok());
  l.EndPoll("default", kPollWft);

  // The other way round: polls exhaust only their own bucket; starts keep theirs.
  RateLimiter l2(clock, o);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l2.BeginPoll("default", kPollAt).ok()) << i;
  EXPECT_EQ(l2.BeginPoll("default", kPollAt).message(), "namespace rate limit exceeded");
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l2.Admit("default", kStart).ok()) << i;
}

TEST(RateLimit, VisibilityCallsHaveTheirOwnBucket) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 1;             // burst 2
  o.namespace_visibility_rps = 3;  // burst 3 (ratio 1)
  RateLimiter l(clock, o);
  EXPECT_TRUE(l.Admit("default", kStart).ok());
  EXPECT_TRUE(l.Admit("default", kStart).ok());
  EXPECT_FALSE(l.Admit("default", kStart).ok());
  // Lists are not charged to the exhausted namespace rate...
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.Admit("default", kList).ok()) << i;
  // ...but to the visibility rate, with the same answer as Temporal's.
  Status s = l.Admit("default", kList);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace rate limit exceeded");
  EXPECT_EQ(Details(s).scope(), enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  EXPECT_TRUE(l.Admit("other", kList).ok());
  clock.Advance(std::chrono::milliseconds(334));
  EXPECT_TRUE(l.Admit("default", kList).ok());

  // Without frontend.namespaceRPS.visibility, visibility calls are not namespace-limited at all.
  RateLimitOptions o2;
  o2.namespace_rps = 1;
  RateLimiter l2(clock, o2);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(l2.Admit("default", kStart).ok());
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(l2.Admit("default", kList).ok()) << i;
  EXPECT_FALSE(l2.Admit("default", kStart).ok());
}

// Temporal's operator priority: a `caller-type: operator` call is decided at priority 0 of its
// bucket, which holds the same burst but refills at system.operatorRPSRatio x the rate; it goes
// ahead of everything else (lower priorities go into debt), so an operator can still act on a
// namespace whose workers use up its rate.
TEST(RateLimit, OperatorCallsHavePriorityZeroAtAShareOfTheRate) {
  EXPECT_TRUE(IsOperatorCallerType("operator"));
  EXPECT_FALSE(IsOperatorCallerType("api"));
  EXPECT_FALSE(IsOperatorCallerType(""));
  EXPECT_EQ(ClassifyForRate(kPollWft, true).priority, 0);
  EXPECT_EQ(ClassifyForRate(kList, true).priority, 0);
  EXPECT_TRUE(ClassifyForRate(kList, true).visibility());
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 5;  // burst 10 per priority; the operator bucket refills at 1/s
  RateLimiter l(clock, o);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l.Admit("default", kStart).ok()) << i;
  EXPECT_FALSE(l.Admit("default", kStart).ok());
  // Workers' polls are refused; an operator's terminate is not.
  EXPECT_FALSE(l.BeginPoll("default", kPollWft).ok());
  constexpr const char* kTerminate = "/temporal.api.workflowservice.v1.WorkflowService/TerminateWorkflowExecution";
  EXPECT_FALSE(l.Admit("default", kTerminate).ok());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l.Admit("default", kTerminate, /*operator_caller=*/true).ok()) << i;
  Status s = l.Admit("default", kTerminate, true);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace rate limit exceeded");
  // 0.5 s gives the other priorities 2.5 tokens (still in debt from the operator's calls), the
  // operator bucket 0.5: nothing yet. 1 s gives the operator bucket one token (0.2 x 5/s).
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_FALSE(l.Admit("default", kTerminate, true).ok());
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_TRUE(l.Admit("default", kTerminate, true).ok());
  EXPECT_FALSE(l.Admit("default", kTerminate, true).ok());
  // Namespace reads (execution priority 0) share the operator bucket, as in Temporal.
  EXPECT_FALSE(l.Admit("default", kDescribeNs).ok());
  // A ratio of 1: the operator bucket refills at the full rate.
  RateLimitOptions full = o;
  full.operator_rps_ratio = 1;
  RateLimiter l2(clock, full);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l2.Admit("default", kTerminate, true).ok()) << i;
  EXPECT_FALSE(l2.Admit("default", kTerminate, true).ok());
  clock.Advance(std::chrono::milliseconds(250));
  EXPECT_TRUE(l2.Admit("default", kTerminate, true).ok());
}

// Temporal's namespace-replication-inducing APIs have a bucket of their own
// (frontend.namespaceRPS.namespaceReplicationInducingAPIs, burst ratio default 10, and
// frontend.rps.namespaceReplicationInducingAPIs across namespaces), keyed by the namespace
// they change; they are not charged to the namespace rate, nor it to them.
TEST(RateLimit, NamespaceChangesHaveTheirOwnBucket) {
  constexpr const char* kRegister = "/temporal.api.workflowservice.v1.WorkflowService/RegisterNamespace";
  constexpr const char* kUpdate = "/temporal.api.workflowservice.v1.WorkflowService/UpdateNamespace";
  constexpr const char* kVersioning = "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkerVersioningRules";
  EXPECT_EQ(ClassifyForRate(kRegister).bucket, RateBucket::kNamespaceReplication);
  EXPECT_EQ(ClassifyForRate(kUpdate).priority, 1);
  EXPECT_EQ(ClassifyForRate(kVersioning).priority, 2);
  EXPECT_EQ(ClassifyForRate("/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkerBuildIdCompatibility").priority, 2);
  EXPECT_EQ(ClassifyForRate(kStart).bucket, RateBucket::kExecution);
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 1;                    // burst 2
  o.namespace_replication_rps = 0.5;      // burst 0.5 x 10 = 5
  RateLimiter l(clock, o);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(l.Admit("default", kStart).ok()) << i;
  EXPECT_FALSE(l.Admit("default", kStart).ok());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.Admit("default", kUpdate).ok()) << i;
  Status s = l.Admit("default", kUpdate);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace rate limit exceeded");
  EXPECT_EQ(Details(s).scope(), enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  // Versioning-rule changes (priority 2) paid for the updates; a new namespace has its own bucket.
  EXPECT_FALSE(l.Admit("default", kVersioning).ok());
  EXPECT_TRUE(l.Admit("fresh", kRegister).ok());
  clock.Advance(std::chrono::seconds(2));  // one token at 0.5/s
  EXPECT_TRUE(l.Admit("default", kUpdate).ok());
  EXPECT_FALSE(l.Admit("default", kUpdate).ok());

  // The server-wide bucket: every namespace together, burst = the rate.
  RateLimitOptions so;
  so.service_replication_rps = 2;
  RateLimiter l2(clock, so);
  EXPECT_TRUE(l2.Admit("a", kRegister).ok());
  EXPECT_TRUE(l2.Admit("b", kRegister).ok());
  s = l2.Admit("c", kRegister);
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "service rate limit exceeded");
  EXPECT_EQ(Details(s).scope(), enums::RESOURCE_EXHAUSTED_SCOPE_SYSTEM);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(l2.Admit("c", kStart).ok()) << i;  // frontend.rps unset
  // Unset, namespace changes are not limited by frontend.namespaceRPS either.
  RateLimitOptions none;
  none.namespace_rps = 1;
  RateLimiter l3(clock, none);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(l3.Admit("default", kUpdate).ok()) << i;
}

}  // namespace
}  // namespace temporalite::frontend
