#include "temporalite/sdk/codec.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <functional>
#include <mutex>
#include <unordered_map>

#include "temporal/api/command/v1/message.pb.h"

namespace temporalite::sdk {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using Payload = temporal::api::common::v1::Payload;
using Transform = std::function<Payload(const Payload&)>;

constexpr const char* kPayload = "temporal.api.common.v1.Payload";
constexpr const char* kSearchAttributes = "temporal.api.common.v1.SearchAttributes";
constexpr const char* kAny = "google.protobuf.Any";
constexpr const char* kRecordMarker = "temporal.api.command.v1.RecordMarkerCommandAttributes";

// Whether a message of type `d` can hold a codec-visible payload (cached; cycles count as yes).
bool MayHoldPayload(const Descriptor* d) {
  static std::mutex mu;
  static std::unordered_map<const Descriptor*, bool> cache;
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = cache.find(d);
    if (it != cache.end()) return it->second;
    cache[d] = true;  // in progress: a recursive type (Failure) reaches itself
  }
  bool holds = false;
  if (d->full_name() == kPayload || d->full_name() == kAny) {
    holds = true;
  } else if (d->full_name() != kSearchAttributes) {
    for (int i = 0; i < d->field_count() && !holds; ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) holds = MayHoldPayload(f->message_type());
    }
  }
  std::lock_guard<std::mutex> l(mu);
  cache[d] = holds;
  return holds;
}

bool Walk(const Transform& fn, Message* m);

// An Any holding a message of a type this binary knows: its payloads are transformed and the
// body repacked.
bool WalkAny(const Transform& fn, google::protobuf::Any* any) {
  const std::string& url = any->type_url();
  const Descriptor* d =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(url.substr(url.rfind('/') + 1));
  if (!d || !MayHoldPayload(d)) return false;
  const Message* proto = google::protobuf::MessageFactory::generated_factory()->GetPrototype(d);
  if (!proto) return false;
  std::unique_ptr<Message> body(proto->New());
  if (!body->ParseFromString(any->value())) return false;
  if (!Walk(fn, body.get())) return false;
  any->set_value(body->SerializeAsString());
  return true;
}

// A local-activity marker as sdk-core writes it: its "data" (the marker's JSON, which sdk-core
// reads itself on replay) stays plain; its result, failure and header go through the codecs.
bool WalkLocalActivityMarker(const Transform& fn, temporal::api::command::v1::RecordMarkerCommandAttributes* m) {
  bool changed = false;
  for (auto& [key, payloads] : *m->mutable_details()) {
    if (key != "data") changed |= Walk(fn, &payloads);
  }
  if (m->has_header()) changed |= Walk(fn, m->mutable_header());
  if (m->has_failure()) changed |= Walk(fn, m->mutable_failure());
  return changed;
}

bool Walk(const Transform& fn, Message* m) {
  const Descriptor* d = m->GetDescriptor();
  if (!MayHoldPayload(d)) return false;
  if (d->full_name() == kRecordMarker) {
    auto* marker = dynamic_cast<temporal::api::command::v1::RecordMarkerCommandAttributes*>(m);
    if (marker && marker->marker_name() == "core_local_activity") return WalkLocalActivityMarker(fn, marker);
  }
  if (d->full_name() == kPayload) {
    auto* p = dynamic_cast<Payload*>(m);
    if (p) {
      *p = fn(*p);
    } else {
      Payload tmp;
      tmp.ParseFromString(m->SerializeAsString());
      m->ParseFromString(fn(tmp).SerializeAsString());
    }
    return true;
  }
  if (d->full_name() == kAny) {
    auto* any = dynamic_cast<google::protobuf::Any*>(m);
    return any && WalkAny(fn, any);
  }
  const google::protobuf::Reflection* r = m->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(*m, &fields);
  bool changed = false;
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || !MayHoldPayload(f->message_type())) continue;
    if (f->is_repeated()) {
      const int n = r->FieldSize(*m, f);
      for (int i = 0; i < n; ++i) changed |= Walk(fn, r->MutableRepeatedMessage(m, f, i));
    } else {
      changed |= Walk(fn, r->MutableMessage(m, f));
    }
  }
  return changed;
}

}  // namespace

void EncodePayloadsIn(const PayloadCodecs& codecs, google::protobuf::Message* msg) {
  if (codecs.empty()) return;
  Walk(
      [&](const Payload& p) {
        Payload out = p;
        for (const auto& c : codecs) out = c->Encode(out);
        return out;
      },
      msg);
}

void DecodePayloadsIn(const PayloadCodecs& codecs, google::protobuf::Message* msg) {
  if (codecs.empty()) return;
  Walk(
      [&](const Payload& p) {
        Payload out = p;
        for (auto it = codecs.rbegin(); it != codecs.rend(); ++it) out = (*it)->Decode(out);
        return out;
      },
      msg);
}

}  // namespace temporalite::sdk
