// SigV4 signing against the worked examples of AWS's S3 documentation ("Signature Calculations
// for the Authorization Header: Transferring Payload in a Single Chunk", example credentials
// AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 2013-05-24, us-east-1).
#include "ops/sigv4.h"

#include <gtest/gtest.h>

#include "ops/hash.h"

namespace temporalite::ops {
namespace {

SigV4Request Example(const std::string& method, const std::string& path) {
  SigV4Request r;
  r.method = method;
  r.path = path;
  r.amz_date = "20130524T000000Z";
  r.region = "us-east-1";
  r.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  r.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return r;
}

std::string SignatureOf(const std::string& auth) { return auth.substr(auth.find("Signature=") + 10); }

TEST(SigV4, GetObjectExample) {
  SigV4Request r = Example("GET", "/test.txt");
  r.payload_sha256 = Sha256Hex("");
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"range", "bytes=0-9"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", r.amz_date}};
  std::string auth = SignV4(r);
  EXPECT_EQ(SignatureOf(auth), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_NE(auth.find("Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"), std::string::npos);
  EXPECT_NE(auth.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"), std::string::npos);
}

TEST(SigV4, PutObjectExample) {
  SigV4Request r = Example("PUT", "/test$file.text");
  r.payload_sha256 = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(r.payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  r.headers = {{"date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", r.amz_date},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  EXPECT_EQ(SignatureOf(SignV4(r)), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, ListObjectsExample) {
  SigV4Request r = Example("GET", "/");
  r.query = {{"max-keys", "2"}, {"prefix", "J"}};
  r.payload_sha256 = Sha256Hex("");
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", r.amz_date}};
  EXPECT_EQ(SignatureOf(SignV4(r)), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, WrongSecretChangesTheSignature) {
  SigV4Request r = Example("GET", "/test.txt");
  r.payload_sha256 = Sha256Hex("");
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", r.amz_date}};
  std::string good = SignV4(r);
  r.secret_access_key += "x";
  EXPECT_NE(SignV4(r), good);
}

TEST(SigV4, EncodesQueryAndPath) {
  EXPECT_EQ(UriEncode("/a b/c~d$", true), "/a%20b/c~d%24");
  EXPECT_EQ(CanonicalQuery({{"uploadId", "x/y+z"}, {"partNumber", "1"}, {"uploads", ""}}),
            "partNumber=1&uploadId=x%2Fy%2Bz&uploads=");
}

}  // namespace
}  // namespace temporalite::ops
