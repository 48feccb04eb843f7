// Payload codecs: transformations of payloads on their way to and from the server (encryption,
// compression), as the other Temporal SDKs' PayloadCodec.
//
// Set ClientOptions::codecs; the client and every worker built on it then encode every payload
// they send (workflow and activity inputs and results, signal, query and update arguments and
// results, heartbeat and failure details, memo, markers, schedule actions) and decode every
// payload they receive (tasks, histories, query answers, results). Search attributes stay plain
// (the server indexes them), and so does the `data` of local-activity markers (sdk-core's JSON,
// which the official SDKs read without their codecs; the markers' results are encoded). Encoding applies the codecs in order, decoding in reverse order, as
// the TypeScript SDK's `payloadCodecs` does.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <vector>

#include "temporal/api/common/v1/message.pb.h"

namespace temporalite::sdk {

class PayloadCodec {
 public:
  virtual ~PayloadCodec() = default;
  // Both may throw (a std::exception): the call that carried the payload then fails.
  virtual temporal::api::common::v1::Payload Encode(const temporal::api::common::v1::Payload& p) const = 0;
  // Decode must return payloads it did not encode unchanged (the server, other clients and
  // codec-less runs send plain ones), recognising its own by their metadata.
  virtual temporal::api::common::v1::Payload Decode(const temporal::api::common::v1::Payload& p) const = 0;
};

using PayloadCodecs = std::vector<std::shared_ptr<const PayloadCodec>>;

// Encodes / decodes, in place, every temporal.api.common.v1.Payload inside `msg` (nested
// messages, repeated and map fields, and google.protobuf.Any bodies such as the update
// protocol's messages), except those inside SearchAttributes. Nothing happens with no codecs.
void EncodePayloadsIn(const PayloadCodecs& codecs, google::protobuf::Message* msg);
void DecodePayloadsIn(const PayloadCodecs& codecs, google::protobuf::Message* msg);

}  // namespace temporalite::sdk
