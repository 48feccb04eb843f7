// Request checks shared by the frontend and the engine: Go's uuid.Validate forms (common/ids.h)
// and Temporal's validateExecution (history/errors.h). End to end: tests/badinput.
#include <gtest/gtest.h>

#include "common/ids.h"
#include "history/errors.h"

namespace temporalite {
namespace {

TEST(IsUuid, AcceptsTheFormsGoAccepts) {
  const std::string id = NewUuid();
  EXPECT_TRUE(IsUuid(id));
  EXPECT_TRUE(IsUuid("6BA7B810-9DAD-11D1-80B4-00C04FD430C8"));  // any case
  EXPECT_TRUE(IsUuid("{" + id + "}"));
  EXPECT_TRUE(IsUuid("urn:uuid:" + id));
  EXPECT_TRUE(IsUuid("URN:UUID:" + id));
  EXPECT_TRUE(IsUuid("6ba7b8109dad11d180b400c04fd430c8"));
  EXPECT_TRUE(IsUuid(NewTimeOrderedUuid(1'700'000'000'000)));
}

TEST(IsUuid, RefusesEverythingElse) {
  const std::string id = NewUuid();
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid(id.substr(1)));
  EXPECT_FALSE(IsUuid(id + "0"));
  EXPECT_FALSE(IsUuid("6ba7b810_9dad-11d1-80b4-00c04fd430c8"));  // a dash misplaced
  EXPECT_FALSE(IsUuid("6ba7b810-9dad-11d1-80b4-00c04fd430cg"));  // not hex
  EXPECT_FALSE(IsUuid("[" + id + "]"));
  EXPECT_FALSE(IsUuid("urn:uid::" + id));
  EXPECT_FALSE(IsUuid("6ba7b8109dad11d180b400c04fd430cz"));
}

TEST(ValidateExecution, TemporalsMessagesInTemporalsOrder) {
  temporal::api::common::v1::WorkflowExecution ex;
  EXPECT_EQ(history::ValidateExecution(nullptr).message(), "Execution is not set on request.");
  ex.set_run_id("not-a-uuid");
  Status s = history::ValidateExecution(&ex);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "WorkflowId is not set on request.");
  ex.set_workflow_id("wf");
  s = history::ValidateExecution(&ex);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "Invalid RunId.");
  ex.set_run_id(NewUuid());
  EXPECT_TRUE(history::ValidateExecution(&ex).ok());
  ex.clear_run_id();
  EXPECT_TRUE(history::ValidateExecution(&ex).ok());
}

}  // namespace
}  // namespace temporalite
