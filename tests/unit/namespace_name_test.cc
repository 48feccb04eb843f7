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

// A JSON line is valid UTF-8: a message cut at the 2 KB buffer inside a character, or bytes that
// are not UTF-8, end up as U+FFFD (a strict parser rejects the raw bytes); valid characters stay.
TEST(Log, JsonLinesAreValidUtf8) {
  auto valid_utf8 = [](const std::string& s) {
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
      if (n == 0 || i + n > s.size()) return false;
      for (size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
      }
      i += n;
    }
    return true;
  };
  SetLogJson(true);
  testing::internal::CaptureStderr();
  // "x" + 2,045 bytes + a 4-byte emoji: the 2,047 bytes that fit end inside the emoji.
  Log(LogLevel::kWarn, "x%s%s", std::string(2045, 'a').c_str(), "\xf0\x9f\x98\x80 and more");
  std::string cut = testing::internal::GetCapturedStderr();
  testing::internal::CaptureStderr();
  Log(LogLevel::kWarn, "id w\xff\xfe" "f \xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80 \xed\xa0\x80 \xc0\xaf");
  std::string bad = testing::internal::GetCapturedStderr();
  SetLogJson(false);
  EXPECT_TRUE(valid_utf8(cut)) << cut;
  EXPECT_NE(cut.find("aaa\\ufffd"), std::string::npos) << cut;
  EXPECT_TRUE(valid_utf8(bad)) << bad;
  const std::string want = R"("msg":"id w\ufffd\ufffdf )" "\xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80 " R"(\ufffd\ufffd\ufffd \ufffd\ufffd"})";
  EXPECT_NE(bad.find(want), std::string::npos) << bad;
}

}  // namespace
}  // namespace temporalite
