// A real payload codec for the tests: zlib compression of the whole Payload proto, with metadata
// encoding "binary/zlib" (as the Go SDK's ZlibCodec; the TypeScript interop test implements the
// same with node:zlib). Payloads of other encodings decode unchanged.
#pragma once

#include <zlib.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "temporalite/sdk/codec.h"
#include "temporalite/sdk/payload.h"

namespace sdk_test {

class ZlibCodec : public temporalite::sdk::PayloadCodec {
 public:
  using Payload = temporalite::sdk::Payload;
  Payload Encode(const Payload& p) const override {
    ++encoded;
    const std::string raw = p.SerializeAsString();
    uLongf n = compressBound(raw.size());
    std::string out(n, '\0');
    if (compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), raw.size(),
                  Z_DEFAULT_COMPRESSION) != Z_OK) {
      throw std::runtime_error("zlib codec: compress failed");
    }
    out.resize(n);
    Payload e;
    (*e.mutable_metadata())["encoding"] = "binary/zlib";
    e.set_data(out);
    return e;
  }
  Payload Decode(const Payload& p) const override {
    if (temporalite::sdk::PayloadEncoding(p) != "binary/zlib") return p;
    ++decoded;
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) throw std::runtime_error("zlib codec: inflateInit failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p.data().data()));
    zs.avail_in = static_cast<uInt>(p.data().size());
    std::string raw;
    char buf[16384];
    int rc = Z_OK;
    while (rc == Z_OK) {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = inflate(&zs, Z_NO_FLUSH);
      raw.append(buf, sizeof buf - zs.avail_out);
    }
    inflateEnd(&zs);
    Payload d;
    if (rc != Z_STREAM_END || !d.ParseFromString(raw)) {
      throw temporalite::sdk::DataConverterError("zlib codec: corrupt binary/zlib payload");
    }
    return d;
  }
  mutable std::atomic<int> encoded{0}, decoded{0};
};

}  // namespace sdk_test
