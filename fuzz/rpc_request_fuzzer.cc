// libFuzzer target: whole RPCs as a client sends them. The first byte picks one of the
// WorkflowService and OperatorService methods; the rest is sent, as is, as that method's request
// bytes to a real in-process gRPC server (the frontend services over an engine on an in-memory
// SQLite store, the decode-error interceptor of the server). So every input goes through the
// server's own protobuf decoding, the request validation of the frontend and the engine, and the
// handler. Structure-aware through protobuf's wire format: the seeds (fuzz/make_seeds.sh, and
// fuzz/corpus/rpc_request/) are valid requests that libFuzzer mutates field by field.
//
// A finding: a crash or sanitizer report anywhere in the server, or an answer with a status a
// client must never get for its own input: UNKNOWN, INTERNAL or DATA_LOSS (INTERNAL is for
// storage failures, which an in-memory store does not have), or UNIMPLEMENTED from a method
// that is implemented with gRPC's empty message (the symptom of an undecodable request answered
// as "not implemented").
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/timer_service.h"
#include "frontend/operator_service.h"
#include "frontend/request_decoding.h"
#include "frontend/workflow_service.h"
#include "history/engine.h"
#include "persistence/store.h"
#include "scheduler/scheduler.h"
#include "scheduler/spec.h"
#include "server/engine_runner.h"
#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace {

using namespace temporalite;  // NOLINT: one fuzz target

class InProcessServer {
 public:
  InProcessServer()
      : store_(Must(persistence::OpenSqliteStore(Options()))),
        timers_(clock_),
        engine_(*store_, clock_, timers_, {}),
        runner_(engine_, clock_),
        sched_(*store_, clock_, timers_, runner_, {}),
        workflow_service_(engine_, sched_, clock_, {"fuzz"}),
        operator_service_(engine_) {
    engine_.set_cron_next([](const std::string& cron, TimePoint after) {  // as main.cc wires it
      temporal::api::schedule::v1::ScheduleSpec spec;
      spec.add_cron_string(cron);
      auto compiled = scheduler::CompiledSpec::Compile(spec);
      return compiled.ok() ? compiled->Next(after) : TimePoint::max();
    });
    engine_.set_run_closed_listener([this](const history::Engine::RunClosed& rc) {
      sched_.OnRunClosed(rc.namespace_id, rc.workflow_id, rc.run_id, rc.status, rc.chain_continues, rc.failure_message,
                         rc.result, rc.failure);
    });
    Status s = engine_.Recover();
    if (s.ok()) s = sched_.Recover();
    if (!s.ok()) {
      std::fprintf(stderr, "rpc_request fuzzer: recovery failed: %s\n", s.ToString().c_str());
      std::abort();
    }
    timer_thread_ = std::thread([this] { timers_.RunLoop(); });
    frontend::InstallProtobufLogHandler();
    grpc::ServerBuilder builder;
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(frontend::NewDecodeErrorInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    builder.RegisterService(&workflow_service_);
    builder.RegisterService(&operator_service_);
    server_ = builder.BuildAndStart();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
    // The services' descriptors (not otherwise linked in from the static API library).
    google::protobuf::internal::AssignDescriptors(&descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto);
    google::protobuf::internal::AssignDescriptors(&descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto);
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const char* name : {"temporal.api.workflowservice.v1.WorkflowService", "temporal.api.operatorservice.v1.OperatorService"}) {
      const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
      if (service == nullptr) std::abort();
      for (int i = 0; i < service->method_count(); ++i) {
        const auto* m = service->method(i);
        if (m->client_streaming() || m->server_streaming()) continue;
        methods_.push_back("/" + service->full_name() + "/" + m->name());
      }
    }
    // Methods this server does not implement answer UNIMPLEMENTED to any request. A generous
    // deadline: under ASan on a loaded machine the first calls can take longer than an input's
    // 300 ms, and a probe that timed out made an unimplemented method look implemented (its
    // UNIMPLEMENTED answer to the seed was then reported as a finding).
    for (const std::string& m : methods_) {
      if (Call(m, "", std::chrono::seconds(10)).error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        unimplemented_.insert(m);
      }
    }
  }

  // The server runs for the life of the process (libFuzzer exits without destructors).

  void Run(uint8_t selector, const std::string& request) {
    const std::string& method = methods_[selector % methods_.size()];
    grpc::Status s = Call(method, request);
    switch (s.error_code()) {
      case grpc::StatusCode::UNKNOWN:
      case grpc::StatusCode::INTERNAL:
      case grpc::StatusCode::DATA_LOSS:
        break;
      case grpc::StatusCode::UNIMPLEMENTED:
        // A feature the server declines says so; gRPC's own answer to an undecodable request
        // (what request_decoding.h must turn into INVALID_ARGUMENT) has no message.
        if (unimplemented_.count(method) || !s.error_message().empty()) return;
        break;
      default:
        return;
    }
    std::fprintf(stderr, "rpc_request fuzzer: %s answered %d: %s\n", method.c_str(), static_cast<int>(s.error_code()),
                 s.error_message().c_str());
    std::abort();
  }

 private:
  static persistence::SqliteOptions Options() {
    persistence::SqliteOptions o;
    o.path = ":memory:";
    return o;
  }
  template <typename T>
  static T Must(Result<T> r) {
    if (!r.ok()) {
      std::fprintf(stderr, "rpc_request fuzzer: %s\n", r.status().ToString().c_str());
      std::abort();
    }
    return std::move(r).value();
  }

  // Long polls, updates waiting for a worker and result waits end at the deadline.
  grpc::Status Call(const std::string& method, const std::string& request,
                    std::chrono::milliseconds deadline = std::chrono::milliseconds(300)) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    grpc::Slice slice(request);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    grpc::Status result;
    bool done = false;
    std::mutex mu;
    std::condition_variable cv;
    stub_->UnaryCall(&ctx, method, grpc::StubOptions(), &in, &out, [&](grpc::Status s) {
      std::lock_guard<std::mutex> l(mu);
      result = std::move(s);
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
    return result;
  }

  std::unique_ptr<persistence::Store> store_;
  SystemClock clock_;
  TimerService timers_;
  history::Engine engine_;
  server::EngineRunner runner_;
  scheduler::Scheduler sched_;
  frontend::WorkflowServiceImpl workflow_service_;
  frontend::OperatorServiceImpl operator_service_;
  std::thread timer_thread_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::vector<std::string> methods_;
  std::set<std::string> unimplemented_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static InProcessServer* server = new InProcessServer();
  if (size == 0) return 0;
  server->Run(data[0], std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
