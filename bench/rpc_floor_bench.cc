// rpc_floor_bench: what one gRPC call costs on this machine, with no workflow work in it.
//
// The workflow benchmark's figures (README "Performance") are bounded below by the transport: a
// single-activity workflow is at least four request/reply round trips on its critical path
// (start, two workflow-task completions, the activity's completion; the tasks themselves arrive in
// poll replies or eagerly in those replies). This driver measures that floor: it calls
// WorkflowService/GetSystemInfo (no store access, no engine mutex, the server's whole gRPC path:
// interceptors, the callback service, serialization) from --concurrency threads on synchronous
// stubs, as workflow_bench does, and prints the round-trip latency and the calls per second.
//
// With --self-server 1 it first starts, in this process, a bare gRPC callback server on
// 127.0.0.1 whose GetSystemInfo answers an empty reply at once (no interceptors, nothing else),
// and calls that instead: the floor of gRPC itself (the same library build the server links).
// bench/run_rpc_floor_bench.sh runs both against a throwaway server and adds the server's CPU per
// call.
//
//   rpc_floor_bench --address 127.0.0.1:7233 --concurrency 1 --calls 5000 --warmup 500
//   rpc_floor_bench --self-server 1 --concurrency 64 --calls 50000 --warmup 5000

#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace {

namespace wfs = temporal::api::workflowservice::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string address;
  int concurrency = 1;
  int64_t calls = 5000;
  int64_t warmup = 500;
  int channels = 4;
  bool self_server = false;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (name == "--address") {
      o->address = value;
    } else if (name == "--concurrency") {
      o->concurrency = std::atoi(value);
    } else if (name == "--calls") {
      o->calls = std::atoll(value);
    } else if (name == "--warmup") {
      o->warmup = std::atoll(value);
    } else if (name == "--channels") {
      o->channels = std::atoi(value);
    } else if (name == "--self-server") {
      o->self_server = std::atoi(value) != 0;
    } else {
      return false;
    }
  }
  return o->concurrency > 0 && o->calls > 0 && o->warmup >= 0 && o->channels > 0 &&
         (o->self_server || !o->address.empty());
}

// The bare server of --self-server: GetSystemInfo answered empty, on the callback API as the
// Temporalite server serves its methods.
class BareService final : public wfs::WorkflowService::CallbackService {
  grpc::ServerUnaryReactor* GetSystemInfo(grpc::CallbackServerContext* context, const wfs::GetSystemInfoRequest*,
                                          wfs::GetSystemInfoResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

double CpuSecondsOfThisProcess() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Measured {
  std::vector<double> latencies_us;
  double seconds = 0;
  double cpu_seconds = 0;
  int64_t failures = 0;
};

// Runs `total` calls from o.concurrency threads (each takes the next call number until none is
// left); records the latencies of the calls numbered at or past `record_from`.
Measured Run(const Options& o, const std::vector<std::unique_ptr<wfs::WorkflowService::Stub>>& stubs, int64_t total,
             int64_t record_from) {
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> failures{0};
  std::vector<std::vector<double>> per_thread(o.concurrency);
  const double cpu_before = CpuSecondsOfThisProcess();
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.concurrency; ++t) {
    threads.emplace_back([&, t] {
      wfs::WorkflowService::Stub* stub = stubs[t % stubs.size()].get();
      for (int64_t n = next.fetch_add(1); n < total; n = next.fetch_add(1)) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        wfs::GetSystemInfoRequest request;
        wfs::GetSystemInfoResponse response;
        const Clock::time_point sent = Clock::now();
        if (!stub->GetSystemInfo(&context, request, &response).ok()) failures.fetch_add(1);
        if (n >= record_from) {
          per_thread[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  Measured m;
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  m.cpu_seconds = CpuSecondsOfThisProcess() - cpu_before;
  m.failures = failures.load();
  for (std::vector<double>& v : per_thread) m.latencies_us.insert(m.latencies_us.end(), v.begin(), v.end());
  std::sort(m.latencies_us.begin(), m.latencies_us.end());
  return m;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: rpc_floor_bench (--address HOST:PORT | --self-server 1) [--concurrency N] [--calls N]\n"
                 "                       [--warmup N] [--channels N]\n");
    return 2;
  }
  BareService service;
  std::unique_ptr<grpc::Server> bare;
  if (o.self_server) {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    bare = builder.BuildAndStart();
    if (bare == nullptr || port == 0) {
      std::fprintf(stderr, "error: could not start the bare server on 127.0.0.1\n");
      return 1;
    }
    o.address = "127.0.0.1:" + std::to_string(port);
  }
  std::vector<std::unique_ptr<wfs::WorkflowService::Stub>> stubs;
  for (int c = 0; c < o.channels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // distinct channels, not one shared subchannel
    stubs.push_back(wfs::WorkflowService::NewStub(
        grpc::CreateCustomChannel(o.address, grpc::InsecureChannelCredentials(), args)));
  }
  const Measured m = Run(o, stubs, o.warmup + o.calls, o.warmup);
  if (m.failures > 0) {
    std::fprintf(stderr, "error: %lld of %lld calls failed\n", static_cast<long long>(m.failures),
                 static_cast<long long>(o.warmup + o.calls));
    return 1;
  }
  const auto total = static_cast<double>(o.warmup + o.calls);
  std::printf("target: %s concurrency: %d calls: %lld warmup: %lld channels: %d\n",
              o.self_server ? "bare gRPC server (this process)" : o.address.c_str(), o.concurrency,
              static_cast<long long>(o.calls), static_cast<long long>(o.warmup), o.channels);
  std::printf("calls_per_second: %.0f\n", total / m.seconds);
  std::printf("round_trip_us: p50 %.0f p90 %.0f p99 %.0f\n", Percentile(m.latencies_us, 0.50),
              Percentile(m.latencies_us, 0.90), Percentile(m.latencies_us, 0.99));
  std::printf("%s_cpu_us_per_call: %.1f\n", o.self_server ? "process" : "client", m.cpu_seconds * 1e6 / total);
  if (bare != nullptr) bare->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
