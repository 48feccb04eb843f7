#include "frontend/operator_service.h"

#include "auth/call_gate.h"
#include "frontend/grpc_status.h"

namespace temporalite::frontend {

namespace {
template <typename F>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, F&& call) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  // A call the auth interceptor denied (auth/call_gate.h): finished with its status, nothing done.
  if (auto denial = auth::CallDenial(ctx)) {
    reactor->Finish(*denial);
    return reactor;
  }
  call([reactor](const Status& s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}
}  // namespace

OperatorServiceImpl::Reactor* OperatorServiceImpl::AddSearchAttributes(Ctx* ctx, const osv1::AddSearchAttributesRequest* req,
                                                                       osv1::AddSearchAttributesResponse*) {
  return Unary(ctx, [&](history::Done done) { engine_.AddSearchAttributes(*req, std::move(done)); });
}

OperatorServiceImpl::Reactor* OperatorServiceImpl::RemoveSearchAttributes(Ctx* ctx,
                                                                          const osv1::RemoveSearchAttributesRequest* req,
                                                                          osv1::RemoveSearchAttributesResponse*) {
  return Unary(ctx, [&](history::Done done) { engine_.RemoveSearchAttributes(*req, std::move(done)); });
}

OperatorServiceImpl::Reactor* OperatorServiceImpl::ListSearchAttributes(Ctx* ctx,
                                                                        const osv1::ListSearchAttributesRequest* req,
                                                                        osv1::ListSearchAttributesResponse* resp) {
  return Unary(ctx, [&](history::Done done) { engine_.ListSearchAttributes(*req, resp, std::move(done)); });
}

OperatorServiceImpl::Reactor* OperatorServiceImpl::DeleteNamespace(Ctx* ctx, const osv1::DeleteNamespaceRequest* req,
                                                                   osv1::DeleteNamespaceResponse* resp) {
  return Unary(ctx, [&](history::Done done) { engine_.DeleteNamespace(*req, resp, std::move(done)); });
}

}  // namespace temporalite::frontend
