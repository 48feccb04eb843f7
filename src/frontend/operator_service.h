// The OperatorService frontend: search attributes (namespace-scoped, stored in the namespace
// record) and DeleteNamespace. Everything else is UNIMPLEMENTED (gRPC's default).
#pragma once

#include "history/engine.h"
#include "temporal/api/operatorservice/v1/service.grpc.pb.h"

namespace temporalite::frontend {

namespace osv1 = ::temporal::api::operatorservice::v1;

class OperatorServiceImpl final : public osv1::OperatorService::CallbackService {
 public:
  explicit OperatorServiceImpl(history::Engine& engine) : engine_(engine) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* AddSearchAttributes(Ctx*, const osv1::AddSearchAttributesRequest*, osv1::AddSearchAttributesResponse*) override;
  Reactor* RemoveSearchAttributes(Ctx*, const osv1::RemoveSearchAttributesRequest*,
                                  osv1::RemoveSearchAttributesResponse*) override;
  Reactor* ListSearchAttributes(Ctx*, const osv1::ListSearchAttributesRequest*,
                                osv1::ListSearchAttributesResponse*) override;
  Reactor* DeleteNamespace(Ctx*, const osv1::DeleteNamespaceRequest*, osv1::DeleteNamespaceResponse*) override;

 private:
  history::Engine& engine_;
};

}  // namespace temporalite::frontend
