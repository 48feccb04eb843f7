// Frontend rate limits (src/frontend/rate_limit.h): Temporal's dynamic config keys, token
// buckets per namespace and for the server on the injected clock, concurrent long polls, and
// the RESOURCE_EXHAUSTED answers with Temporal's messages and ResourceExhaustedFailure details.
// The end-to-end behaviour (SDK retries, polls) is tests/security/rate-limit.test.js.
#include <google/protobuf/any.pb.h>
#include <gtest/gtest.h>

#include "frontend/rate_limit.h"
#include "temporal/api/enums/v1/failed_cause.pb.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace temporalite::frontend {
namespace {

namespace enums = ::temporal::api::enums::v1;

TimePoint T0() { return TimePoint(std::chrono::seconds(1'800'000'000)); }

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
}

TEST(RateLimit, NamespaceBucketsRefillAndAreSeparate) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 2;  // burst 2 x 2 = 4
  RateLimiter l(clock, o);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default").ok()) << i;
  Status s = l.Admit("default");
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace rate limit exceeded");
  auto f = Details(s);
  EXPECT_EQ(f.cause(), enums::RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT);
  EXPECT_EQ(f.scope(), enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  EXPECT_TRUE(l.Admit("other").ok());  // another namespace has its own bucket
  EXPECT_TRUE(l.Admit("").ok());       // calls without a namespace are not namespace-limited
  clock.Advance(std::chrono::milliseconds(499));
  EXPECT_FALSE(l.Admit("default").ok());
  clock.Advance(std::chrono::milliseconds(2));  // 0.5 s: one token at 2/s
  EXPECT_TRUE(l.Admit("default").ok());
  EXPECT_FALSE(l.Admit("default").ok());
  clock.Advance(std::chrono::hours(1));  // refills up to the burst only
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(l.Admit("default").ok()) << i;
  EXPECT_FALSE(l.Admit("default").ok());
}

TEST(RateLimit, ServiceLimitCoversEveryNamespace) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.service_rps = 3;
  RateLimiter l(clock, o);
  EXPECT_TRUE(l.Admit("a").ok());
  EXPECT_TRUE(l.Admit("b").ok());
  EXPECT_TRUE(l.Admit("").ok());
  Status s = l.Admit("c");
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "service rate limit exceeded");
  EXPECT_EQ(Details(s).scope(), enums::RESOURCE_EXHAUSTED_SCOPE_SYSTEM);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(l.Admit("c").ok());
}

TEST(RateLimit, LongPollsAreCountedNotRated) {
  SimClock clock(T0());
  RateLimitOptions o;
  o.namespace_rps = 1;
  o.namespace_pollers = 2;
  RateLimiter l(clock, o);
  EXPECT_TRUE(IsLongPoll("/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowTaskQueue"));
  EXPECT_TRUE(IsLongPoll("/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue"));
  EXPECT_FALSE(IsLongPoll("/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution"));
  EXPECT_FALSE(IsLongPoll("/temporal.api.operatorservice.v1.OperatorService/PollWorkflowTaskQueue"));
  EXPECT_TRUE(l.BeginPoll("default").ok());
  EXPECT_TRUE(l.BeginPoll("default").ok());
  Status s = l.BeginPoll("default");
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), "namespace concurrent poller limit exceeded");
  EXPECT_EQ(Details(s).cause(), enums::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT);
  EXPECT_TRUE(l.BeginPoll("other").ok());
  // Polls in flight do not use the namespace's request tokens, nor the other way round.
  EXPECT_TRUE(l.Admit("default").ok());
  l.EndPoll("default");
  EXPECT_TRUE(l.BeginPoll("default").ok());
  EXPECT_FALSE(l.BeginPoll("default").ok());
}

}  // namespace
}  // namespace temporalite::frontend
