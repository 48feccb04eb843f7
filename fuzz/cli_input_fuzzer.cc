// libFuzzer target: the CLI's parsing of user-typed values (src/cli): durations (--retention,
// --execution-timeout, ...), --input payloads with --input-meta and --input-base64,
// KEY=JSON pairs (--memo, --search-attribute), base64, enum names, and printing payloads back.
// The first byte picks the parser. Bad input must be a UsageError (exit 2 with a message),
// nothing else may escape and nothing may crash.
#include <google/protobuf/descriptor.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cli/command.h"
#include "cli/format.h"
#include "cli/payloads.h"
#include "temporal/api/enums/v1/workflow.pb.h"

namespace cli = temporalite::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 5) {
      case 0: {
        auto d = cli::ParseDuration(text, "--fuzz");
        // A duration without a minus sign is never negative (one beyond int64 nanoseconds once
        // came back as INT64_MIN: fuzz/regressions/cli_input/duration-beyond-int64).
        if (text[0] != '-' && d.count() < 0) __builtin_trap();
        (void)cli::FormatDuration(d);
        (void)temporalite::ToProtoDuration(d);
        break;
      }
      case 1: {
        cli::PayloadInput in;
        size_t nl = text.find('\n');
        in.input.push_back(text.substr(0, nl));
        if (nl != std::string::npos) in.input_meta.push_back(text.substr(nl + 1));
        in.input_base64 = (data[0] & 0x80) != 0;
        auto payloads = cli::BuildPayloads(in);
        for (const auto& p : payloads.payloads()) (void)cli::PayloadValue(p);
        break;
      }
      case 2: {
        (void)cli::KeyJsonPayloads({text}, "--memo");
        (void)cli::KeyValues({text}, "--grpc-meta");
        break;
      }
      case 3: {
        std::string out;
        if (cli::Base64Decode(text, &out)) (void)cli::Base64Encode(out);
        break;
      }
      default: {
        int v = 0;
        (void)cli::ParseEnumName(temporal::api::enums::v1::WorkflowExecutionStatus_descriptor(), text, &v);
        temporal::api::common::v1::Payload p;
        (*p.mutable_metadata())["encoding"] = (data[0] & 0x80) ? "json/plain" : "binary/plain";
        p.set_data(text);
        (void)cli::PayloadValue(p);
        break;
      }
    }
  } catch (const cli::UsageError&) {
  }
  return 0;
}
