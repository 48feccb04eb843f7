// .env parsing and validation: bad values are rejected with the variable named.
#include "ingest/config.h"

#include <gtest/gtest.h>

namespace tillless::ingest {
namespace {

const std::map<std::string, std::string> kGood = {
    {"DATABASE_URL", "postgres://u@127.0.0.1:5432/db"},
    {"SIXTY60_BASE_URL", "http://127.0.0.1:9000/"},
    {"SIXTY60_CLIENT_ID", "id"},
    {"SIXTY60_CLIENT_SECRET", "secret"}};

TEST(DotEnv, Parses) {
  auto r = ParseDotEnv("# comment\n\nexport A=1\nB = \"two words\" \nC='x#y'\nD=plain # trailing\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at("A"), "1");
  EXPECT_EQ(r->at("B"), "two words");
  EXPECT_EQ(r->at("C"), "x#y");
  EXPECT_EQ(r->at("D"), "plain");
  auto bad = ParseDotEnv("A=1\nthis is not a line\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseDotEnv("A=\"unterminated\n").ok());
}

TEST(Config, DefaultsAndOverrides) {
  auto c = LoadConfig(kGood, {{"INGEST_CONCURRENCY", "8"}, {"TEMPORAL_ADDRESS", "localhost:7233"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->concurrency, 8);
  EXPECT_EQ(c->retailer_base_url, "http://127.0.0.1:9000");
  EXPECT_EQ(c->task_queue, "checkers-ingestion");
  EXPECT_EQ(c->temporal_namespace, "default");
}

TEST(Config, RejectsBadValuesNamingTheVariable) {
  struct Case {
    std::string key, value, expect;
  } cases[] = {
      {"DATABASE_URL", "", "DATABASE_URL is not set"},
      {"DATABASE_URL", "mysql://x", "DATABASE_URL"},
      {"SIXTY60_BASE_URL", "ftp://x", "SIXTY60_BASE_URL"},
      {"SIXTY60_CLIENT_SECRET", "", "SIXTY60_CLIENT_SECRET is not set"},
      {"INGEST_CONCURRENCY", "abc", "INGEST_CONCURRENCY=\"abc\" (.env) is not an integer in 1..64"},
      {"INGEST_CONCURRENCY", "0", "INGEST_CONCURRENCY"},
      {"HTTP_TIMEOUT_MS", "10s", "HTTP_TIMEOUT_MS"},
      {"TEMPORAL_ADDRESS", "localhost", "TEMPORAL_ADDRESS=\"localhost\" (.env) is not host:port"},
      {"PG_BOSS_QUEUE", "bad queue!", "PG_BOSS_QUEUE"},
  };
  for (const auto& c : cases) {
    auto env = kGood;
    env[c.key] = c.value;
    auto r = LoadConfig(env, {});
    ASSERT_FALSE(r.ok()) << c.key << "=" << c.value;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace tillless::ingest
