// C++ SDK: payload conversion and Failure protos (no server).
#include "sdk_fixture.h"

namespace sdk_test {
namespace {

TEST(PayloadTest, RoundTripsJsonBinaryNullAndUserTypes) {
  Payload p = ToPayload(Order{"milk", 2});
  EXPECT_EQ(PayloadEncoding(p), "json/plain");
  EXPECT_EQ(p.data(), R"({"item":"milk","quantity":2})");
  Order o = FromPayload<Order>(p);
  EXPECT_EQ(o.item, "milk");
  EXPECT_EQ(o.quantity, 2);
  EXPECT_EQ(PayloadEncoding(ToPayload(Bytes{"\x01\x02"})), "binary/plain");
  EXPECT_EQ(FromPayload<Bytes>(ToPayload(Bytes{"\x01\x02"})).data, "\x01\x02");
  EXPECT_EQ(PayloadEncoding(ToPayload(nullptr)), "binary/null");
  EXPECT_FALSE(FromPayload<std::optional<int>>(ToPayload(std::optional<int>())).has_value());
  EXPECT_EQ(*FromPayload<std::optional<int>>(ToPayload(std::optional<int>(7))), 7);
  EXPECT_THROW(FromPayload<int>(ToPayload(std::string("x"))), DataConverterError);
  EXPECT_THROW(FromPayload<Bytes>(ToPayload(1)), DataConverterError);
  temporal::api::common::v1::WorkflowExecution we;
  we.set_workflow_id("w");
  Payload pp = ToPayload(we);
  EXPECT_EQ(PayloadEncoding(pp), "json/protobuf");
  EXPECT_EQ(FromPayload<temporal::api::common::v1::WorkflowExecution>(pp).workflow_id(), "w");
}

TEST(FailureTest, ConvertsToAndFromProtoWithCauses) {
  ApplicationFailure inner("out of stock", "StockError", true, ToPayloads(std::string("milk")));
  inner.next_retry_delay = 1500ms;
  ActivityFailure outer("Activity task failed", std::make_shared<ApplicationFailure>(inner));
  outer.activity_type = "Reserve";
  FailureProto f = ToFailureProto(std::make_exception_ptr(outer));
  EXPECT_EQ(f.activity_failure_info().activity_type().name(), "Reserve");
  EXPECT_EQ(f.cause().application_failure_info().type(), "StockError");
  EXPECT_TRUE(f.cause().application_failure_info().non_retryable());
  EXPECT_EQ(f.cause().application_failure_info().next_retry_delay().seconds(), 1);
  auto back = FromFailureProto(f);
  auto* af = dynamic_cast<ActivityFailure*>(back.get());
  ASSERT_NE(af, nullptr);
  auto* cause = dynamic_cast<ApplicationFailure*>(af->cause().get());
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->type, "StockError");
  EXPECT_EQ(cause->message(), "out of stock");
  EXPECT_EQ(FirstPayload<std::string>(cause->details), "milk");
  EXPECT_EQ(cause->next_retry_delay, 1500ms);
  FailureProto plain = ToFailureProto(std::make_exception_ptr(std::out_of_range("bad index")));
  EXPECT_EQ(plain.application_failure_info().type(), "std::out_of_range");
  EXPECT_FALSE(plain.application_failure_info().non_retryable());
}

}  // namespace
}  // namespace sdk_test
