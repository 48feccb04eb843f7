// The web UI embedded in the binary: every file the UI build wrote is found byte for byte with
// its content type and cache flag; a binary built without the UI says so instead.
#include "ui/embedded_ui.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace temporalite::ui {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The UI build's stamp starts with "built:" when the files were built (scripts/build-ui.sh).
bool UiWasBuilt() {
  std::string stamp = TEMPORALITE_UI_STAMP;
  if (stamp.empty() || !std::filesystem::exists(stamp)) return false;
  return ReadFile(stamp).rfind("built:", 0) == 0;
}

TEST(EmbeddedUiTest, ServesEveryBuiltFileByteForByte) {
  if (!UiWasBuilt()) GTEST_SKIP() << "this build has no web UI (see EmbeddedUiTest.WithoutUi)";
  std::string why;
  auto files = EmbeddedUi(&why);
  ASSERT_NE(files, nullptr) << why;
  const std::filesystem::path site = TEMPORALITE_UI_SITE;
  size_t count = 0;
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(site)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = std::filesystem::relative(entry.path(), site).generic_string();
    const http::StaticFile* file = files->Find(rel);
    ASSERT_NE(file, nullptr) << rel;
    std::string want = ReadFile(entry.path());
    ASSERT_EQ(file->body.size(), want.size()) << rel;
    ASSERT_TRUE(file->body == want) << rel;
    EXPECT_EQ(file->content_type, http::ContentTypeFor(rel)) << rel;
    EXPECT_EQ(file->immutable, rel.starts_with("_app/immutable/")) << rel;
    ++count;
    bytes += want.size();
  }
  EXPECT_GT(count, 10u);
  EXPECT_EQ(EmbeddedUiStats().files, count);
  EXPECT_EQ(EmbeddedUiStats().bytes, bytes);

  const http::StaticFile* index = files->Find("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_FALSE(index->immutable);
  EXPECT_NE(index->body.find("/_app/immutable/"), std::string_view::npos);
  EXPECT_EQ(files->Find("no/such/file.js"), nullptr);
  EXPECT_EQ(files->Find(""), nullptr);
}

TEST(EmbeddedUiTest, WithoutUi) {
  if (UiWasBuilt()) GTEST_SKIP() << "this build has the web UI (see ServesEveryBuiltFileByteForByte)";
  std::string why;
  EXPECT_EQ(EmbeddedUi(&why), nullptr);
  EXPECT_NE(why.find("not part of this temporalite binary"), std::string::npos) << why;
  EXPECT_EQ(EmbeddedUiStats().files, 0u);
}

}  // namespace
}  // namespace temporalite::ui
