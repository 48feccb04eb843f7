// Namespace names (src/common/namespace_name.h): Temporal's RegisterNamespace messages, no
// control characters; and the log helper (src/common/log.h) escapes control characters in
// messages, which carry client-provided strings. End to end: tests/security/namespace-names.test.js.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/log.h"
#include "common/namespace_name.h"

namespace temporalite {
namespace {

TEST(NamespaceName, TemporalsMessagesAndNoControlCharacters) {
  EXPECT_TRUE(ValidateNamespaceName("default", 1000).ok());
  EXPECT_TRUE(ValidateNamespaceName("team-a.prod_1 with space", 1000).ok());
  EXPECT_TRUE(ValidateNamespaceName("名前-über-😀", 1000).ok());  // UTF-8 is fine
  Status empty = ValidateNamespaceName("", 1000);
  EXPECT_EQ(empty.code(), Code::kInvalidArgument);
  EXPECT_EQ(empty.message(), "Namespace is not set on request.");
  Status long_name = ValidateNamespaceName(std::string(1001, 'a'), 1000);
  EXPECT_EQ(long_name.code(), Code::kInvalidArgument);
  EXPECT_EQ(long_name.message(), "Namespace length exceeds limit.");
  EXPECT_TRUE(ValidateNamespaceName(std::string(1000, 'a'), 1000).ok());
  Status nl = ValidateNamespaceName("bad\nlevel=error msg=forged", 1000);
  EXPECT_EQ(nl.code(), Code::kInvalidArgument);
  EXPECT_EQ(nl.message(), "Namespace name contains control character U+000A at byte 3.");
  for (const std::string& bad : {std::string("a\tb"), std::string("a\rb"), std::string("\x1b[31mred"), std::string("a\x7f"),
                                 std::string("nul\0x", 5), std::string("c1\xc2\x85")}) {
    EXPECT_EQ(ValidateNamespaceName(bad, 1000).code(), Code::kInvalidArgument) << EscapeControlCharacters(bad);
  }
  EXPECT_EQ(ValidateNamespaceName("c1\xc2\x85", 1000).message(), "Namespace name contains control character U+0085 at byte 2.");
  EXPECT_TRUE(ValidateNamespaceName("\xc2\xa0nbsp", 1000).ok());  // U+00A0 is not a control character
}

TEST(NamespaceName, EscapeControlCharacters) {
  EXPECT_EQ(EscapeControlCharacters("plain ü"), "plain ü");
  EXPECT_EQ(EscapeControlCharacters("a\nb\rc\td\x1b\x7f"), "a\\nb\\rc\\td\\x1b\\x7f");
}

TEST(Log, ControlCharactersInMessagesAreEscaped) {
  testing::internal::CaptureStderr();
  Log(LogLevel::kWarn, "namespace %s deleted", "x\nlevel=error msg=forged\x1b[2J");
  std::string text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("msg=namespace x\\nlevel=error msg=forged\\x1b[2J deleted\n"), std::string::npos) << text;

  SetLogJson(true);
  testing::internal::CaptureStderr();
  Log(LogLevel::kWarn, "namespace %s deleted", "x\n\"y\"\x01\x1b");
  text = testing::internal::GetCapturedStderr();
  SetLogJson(false);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find(R"("msg":"namespace x\n\"y\"\u0001\u001b deleted"})"), std::string::npos) << text;
}

}  // namespace
}  // namespace temporalite
