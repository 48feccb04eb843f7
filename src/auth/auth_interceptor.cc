#include "auth/auth_interceptor.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>

#include <string>

#include "auth/call_gate.h"

namespace temporalite::auth {
namespace {

namespace pb = google::protobuf;
using grpc::experimental::InterceptionHookPoints;

std::string_view ShortName(std::string_view full_method) { return full_method.substr(full_method.rfind('/') + 1); }

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string StringField(const pb::Message& m, const char* name) {
  const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() || f->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING) return "";
  return m.GetReflection()->GetString(m, f);
}

const pb::Message* MessageField(const pb::Message& m, const char* name) {
  const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() || f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) return nullptr;
  if (!m.GetReflection()->HasField(m, f)) return nullptr;
  return &m.GetReflection()->GetMessage(m, f);
}

std::string WorkflowId(const pb::Message& m) {
  std::string id = StringField(m, "workflow_id");
  if (!id.empty()) return id;
  for (const char* name : {"workflow_execution", "execution"}) {
    if (const pb::Message* e = MessageField(m, name)) {
      id = StringField(*e, "workflow_id");
      if (!id.empty()) return id;
    }
  }
  return "";
}

// The request's fields of its audit record.
void RecordRequest(const pb::Message& m, AuditRecord* record) {
  record->ns = StringField(m, "namespace");
  record->workflow_id = WorkflowId(m);
  record->schedule_id = StringField(m, "schedule_id");
}

class AuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuthInterceptor(grpc::experimental::ServerRpcInfo* info, const KeyRing* keys, AuditLog* audit)
      : info_(info), keys_(keys), audit_(audit), method_(info->method()),
        open_(RequiredAccess(method_) == Access::kOpen) {}
  ~AuthInterceptor() override { ForgetCall(info_->server_context()); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      if (md != nullptr) {
        auto it = md->find("authorization");
        if (it != md->end()) authorization_.assign(it->second.data(), it->second.size());
      }
    }
    // An open method (health checks, GetSystemInfo: RequiredAccess) is neither authorized nor
    // audited, so its request is not looked at; gRPC's own health service reads its requests as
    // raw bytes (a grpc::ByteBuffer), which must not be taken for a protobuf message.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) && !open_) {
      // The decoded request: a generated message whose pb::Message base is at its address
      // (single inheritance). nullptr when decoding failed (request_decoding.h answers those).
      if (void* raw = methods->GetRecvMessage()) {
        RecordRequest(*static_cast<const pb::Message*>(raw), &record_);
        decided_ = true;
        if (keys_ != nullptr) {
          Decision d = Authorize(*keys_->Current(), authorization_, method_, record_.ns);
          record_.principal = d.principal;
          if (!d.status.ok()) {
            denied_ = true;
            DenyCall(info_->server_context(), grpc::Status(static_cast<grpc::StatusCode>(d.status.code()), d.status.message()));
          }
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && audit_ != nullptr && decided_ &&
        (denied_ || Audited(method_))) {
      WriteAudit(*audit_, record_, method_, info_->server_context() != nullptr ? info_->server_context()->peer() : "",
                 methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  const KeyRing* keys_;
  AuditLog* audit_;
  std::string method_;
  const bool open_;
  std::string authorization_;
  bool decided_ = false;
  bool denied_ = false;
  AuditRecord record_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  Factory(const KeyRing* keys, AuditLog* audit) : keys_(keys), audit_(audit) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new AuthInterceptor(info, keys_, audit_);
  }

 private:
  const KeyRing* keys_;
  AuditLog* audit_;
};

}  // namespace

bool RecordEncodedRequest(std::string_view full_method, const std::string& bytes, AuditRecord* record) {
  std::string_view m = full_method;
  if (!m.empty() && m[0] == '/') m.remove_prefix(1);
  const size_t slash = m.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string service(m.substr(0, slash));
  const std::string method(m.substr(slash + 1));
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  // The method's input type; the service's file may not be linked in (a binary that only uses its
  // messages), so also by Temporal's convention: method M of package p takes p.MRequest.
  const pb::Descriptor* input = nullptr;
  if (const pb::MethodDescriptor* d = pool->FindMethodByName(service + "." + method)) input = d->input_type();
  if (input == nullptr) input = pool->FindMessageTypeByName(service.substr(0, service.rfind('.') + 1) + method + "Request");
  const pb::Message* prototype = input ? pb::MessageFactory::generated_factory()->GetPrototype(input) : nullptr;
  if (prototype == nullptr) return false;
  std::unique_ptr<pb::Message> request(prototype->New());
  if (!request->ParseFromString(bytes)) return false;
  RecordRequest(*request, record);
  return true;
}

std::string EncodedRequestNamespace(std::string_view full_method, const std::string& bytes) {
  AuditRecord r;
  return RecordEncodedRequest(full_method, bytes, &r) ? r.ns : "";
}

void WriteAudit(AuditLog& audit, AuditRecord record, std::string_view full_method, const std::string& peer,
                const grpc::Status& status) {
  static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                                 "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                 "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  record.method = std::string(ShortName(full_method));
  record.peer = peer;
  const int code = static_cast<int>(status.error_code());
  record.outcome = code >= 0 && code <= 16 ? kNames[code] : std::to_string(code);
  record.message = status.ok() ? "" : status.error_message();
  audit.Write(record);
}

bool Audited(std::string_view full_method) {
  Access a = RequiredAccess(full_method);
  if (a == Access::kOpen || a == Access::kAuthenticated || a == Access::kRead) return false;
  std::string_view m = ShortName(full_method);
  // Worker traffic: every poll and task response would drown the client writes.
  for (std::string_view p : {"Poll", "Respond", "RecordActivityTaskHeartbeat", "ShutdownWorker", "ResetStickyTaskQueue"}) {
    if (StartsWith(m, p)) return false;
  }
  return true;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewAuthInterceptorFactory(const KeyRing* keys,
                                                                                                  AuditLog* audit) {
  return std::make_unique<Factory>(keys, audit);
}

}  // namespace temporalite::auth
