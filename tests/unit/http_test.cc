// The HTTP layer's pure parts: route matching from the descriptors, request transcoding (body
// rules, query parameters, enums), error JSON, and the metrics registry's exposition.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>

#include <thread>

#include "http/routes.h"
#include "http/static_files.h"
#include "http/transcode.h"
#include "metrics/metrics.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace temporalite::http {
namespace {

namespace pb = google::protobuf;
namespace wsv1 = temporal::api::workflowservice::v1;

RouteTable Api() {
  // A call, not an unused (volatile) local naming the tables: clang drops those, and then
  // service.pb.cc is not linked in and the services are missing from the generated pool.
  google::protobuf::internal::AssignDescriptors(&::descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto);
  google::protobuf::internal::AssignDescriptors(&::descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto);
  const auto* pool = pb::DescriptorPool::generated_pool();
  return RouteTable::Build({pool->FindServiceByName("temporal.api.workflowservice.v1.WorkflowService"),
                            pool->FindServiceByName("temporal.api.operatorservice.v1.OperatorService")},
                           "/api/v1/");
}

TEST(Routes, BuiltFromTheAnnotations) {
  RouteTable t = Api();
  EXPECT_GT(t.routes().size(), 100u);
  for (const Route& r : t.routes()) EXPECT_EQ(r.path.rfind("/api/v1/", 0), 0u) << r.path;
}

TEST(Routes, MatchesByMethodAndPathWithDecodedVariables) {
  RouteTable t = Api();
  PathBindings b;
  bool path_matched = false;
  const Route* r = t.Match("GET", "/api/v1/namespaces/default/workflows/a%2Fb%20c/history", &b, &path_matched);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->method->name(), "GetWorkflowExecutionHistory");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], (std::pair<std::string, std::string>{"namespace", "default"}));
  EXPECT_EQ(b[1], (std::pair<std::string, std::string>{"execution.workflow_id", "a/b c"}));

  // Literal segments win over variables: "schedules" is not a workflow id here.
  r = t.Match("GET", "/api/v1/namespaces/default/schedules", &b, &path_matched);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->method->name(), "ListSchedules");

  EXPECT_EQ(t.Match("PUT", "/api/v1/namespaces/default/schedules", &b, &path_matched), nullptr);
  EXPECT_TRUE(path_matched);  // 405, not 404
  EXPECT_EQ(t.Match("GET", "/api/v1/nope", &b, &path_matched), nullptr);
  EXPECT_FALSE(path_matched);
  EXPECT_EQ(t.Match("GET", "/api/v1/namespaces/%zz", &b, &path_matched), nullptr);
}

TEST(Routes, RestOfPathVariables) {
  const auto* m = pb::DescriptorPool::generated_pool()->FindMethodByName(
      "temporal.api.workflowservice.v1.WorkflowService.DescribeNamespace");
  RouteTable t = RouteTable::FromRoutes({Route{"GET", "/api/v1/files/{namespace=**}", {}, "", m}});
  PathBindings b;
  bool pm = false;
  ASSERT_NE(t.Match("GET", "/api/v1/files/a/b%2Fc/d", &b, &pm), nullptr);
  EXPECT_EQ(b[0].second, "a/b/c/d");
  EXPECT_EQ(t.Match("GET", "/api/v1/files", &b, &pm), nullptr);
}

Status Build(const std::string& verb, const std::string& path, const std::string& body, wsv1::StartWorkflowExecutionRequest* out,
             const QueryParams& q = {}) {
  RouteTable t = Api();
  PathBindings b;
  bool pm = false;
  const Route* r = t.Match(verb, path, &b, &pm);
  if (!r) return NotFound("no route");
  return BuildRequest(*r, b, q, body, out);
}

TEST(Transcode, BodyStarWithPathVariablesAndShortEnums) {
  wsv1::StartWorkflowExecutionRequest req;
  Status s = Build("POST", "/api/v1/namespaces/ns1/workflows/w1",
                   R"({"workflowId":"ignored","workflowType":{"name":"T"},"task_queue":{"name":"q"},
                       "workflowIdReusePolicy":"RejectDuplicate","workflowRunTimeout":"60s",
                       "input":{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"MQ=="}]}})",
                   &req, {{"identity", "ignored for body *"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(req.namespace_(), "ns1");
  EXPECT_EQ(req.workflow_id(), "w1");  // the path wins
  EXPECT_EQ(req.workflow_type().name(), "T");
  EXPECT_EQ(req.task_queue().name(), "q");
  EXPECT_EQ(req.workflow_id_reuse_policy(),
            temporal::api::enums::v1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  EXPECT_EQ(req.workflow_run_timeout().seconds(), 60);
  EXPECT_EQ(req.input().payloads(0).data(), "1");
  EXPECT_EQ(req.identity(), "");
}

TEST(Transcode, BadBodiesAreInvalidArgument) {
  for (const char* body : {"{", "[1]", R"({"workflowType":5})", R"({"bogus":1})", R"({"taskQueue":{"bogus":1}})",
                           R"({"workflowIdReusePolicy":"NOPE"})", R"({"workflowRunTimeout":12})"}) {
    wsv1::StartWorkflowExecutionRequest req;
    Status s = Build("POST", "/api/v1/namespaces/ns1/workflows/w1", body, &req);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << body;
  }
}

TEST(Transcode, QueryParametersCamelAndSnakeDottedRepeatedEnums) {
  RouteTable t = Api();
  PathBindings b;
  bool pm = false;
  const Route* r = t.Match("GET", "/api/v1/namespaces/ns/workflows/w/history", &b, &pm);
  ASSERT_NE(r, nullptr);
  wsv1::GetWorkflowExecutionHistoryRequest h;
  ASSERT_TRUE(BuildRequest(*r, b,
                           {{"execution.run_id", "r1"}, {"maximumPageSize", "7"}, {"waitNewEvent", "true"},
                            {"next_page_token", "AAE="}, {"historyEventFilterType", "CLOSE_EVENT"}, {"unknownParam", "x"}},
                           "", &h)
                  .ok());
  EXPECT_EQ(h.execution().workflow_id(), "w");
  EXPECT_EQ(h.execution().run_id(), "r1");
  EXPECT_EQ(h.maximum_page_size(), 7);
  EXPECT_TRUE(h.wait_new_event());
  EXPECT_EQ(h.next_page_token(), std::string("\0\1", 2));
  EXPECT_EQ(h.history_event_filter_type(), temporal::api::enums::v1::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);

  wsv1::GetWorkflowExecutionHistoryRequest bad;
  EXPECT_EQ(BuildRequest(*r, b, {{"waitNewEvent", "maybe"}}, "", &bad).code(), Code::kInvalidArgument);
  EXPECT_EQ(BuildRequest(*r, b, {{"maximumPageSize", "many"}}, "", &bad).code(), Code::kInvalidArgument);
  EXPECT_EQ(BuildRequest(*r, b, {{"execution", "x"}}, "", &bad).code(), Code::kInvalidArgument);

  const Route* tq = t.Match("GET", "/api/v1/namespaces/ns/task-queues/q1", &b, &pm);
  ASSERT_NE(tq, nullptr);
  wsv1::DescribeTaskQueueRequest d;
  ASSERT_TRUE(BuildRequest(*tq, b, {{"taskQueueType", "2"}}, "", &d).ok());
  EXPECT_EQ(d.task_queue().name(), "q1");
  EXPECT_EQ(d.task_queue_type(), temporal::api::enums::v1::TASK_QUEUE_TYPE_ACTIVITY);
}

TEST(Transcode, ErrorJsonWithDecodedDetails) {
  EXPECT_EQ(HttpStatusForCode(3), 400);
  EXPECT_EQ(HttpStatusForCode(5), 404);
  EXPECT_EQ(HttpStatusForCode(6), 409);
  EXPECT_EQ(HttpStatusForCode(9), 400);
  EXPECT_EQ(HttpStatusForCode(12), 501);
  EXPECT_EQ(HttpStatusForCode(14), 503);
  // google.rpc.Status{code=6, details=[Any{WorkflowExecutionAlreadyStartedFailure}]}, encoded by hand.
  temporal::api::errordetails::v1::WorkflowExecutionAlreadyStartedFailure f;
  f.set_run_id("r9");
  pb::Any any;
  any.PackFrom(f);
  std::string any_bytes = any.SerializeAsString();
  std::string status;
  {
    pb::io::StringOutputStream raw(&status);
    pb::io::CodedOutputStream os(&raw);
    os.WriteTag((1 << 3) | 0);
    os.WriteVarint32(6);
    os.WriteTag((3 << 3) | 2);
    os.WriteVarint32(static_cast<uint32_t>(any_bytes.size()));
    os.WriteString(any_bytes);
  }
  std::string j = StatusToJson(6, "already started", status);
  EXPECT_NE(j.find(R"("@type":"type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure")"),
            std::string::npos) << j;
  EXPECT_NE(j.find(R"("runId":"r9")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("code":6)"), std::string::npos) << j;
}

TEST(StaticFiles, ContentTypes) {
  EXPECT_EQ(ContentTypeFor("_app/immutable/x.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a/b.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("noext"), "application/octet-stream");
}

TEST(Metrics, ExpositionAndConcurrentCounting) {
  metrics::Registry r;
  metrics::Counter& c = r.counter("workflow_success", "Runs", {{"namespace", "default"}, {"workflow_type", "A\"b"}});
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) ts.emplace_back([&c] { for (int k = 0; k < 10000; ++k) c.Inc(); });
  for (auto& t : ts) t.join();
  r.gauge("temporalite_open_workflows", "Open").Set(3);
  metrics::Histogram& h = r.histogram("service_latency", "Latency", {{"operation", "X"}});
  h.Observe(0.0005);
  h.Observe(0.3);
  h.Observe(100);
  int collected = 0;
  r.AddCollector([&collected](metrics::Registry& reg) { reg.gauge("temporalite_wal_size_bytes", "WAL").Set(++collected); });
  std::string text = r.Expose();
  EXPECT_NE(text.find("# TYPE workflow_success_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("workflow_success_total{namespace=\"default\",workflow_type=\"A\\\"b\"} 40000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("temporalite_open_workflows 3\n"), std::string::npos);
  EXPECT_NE(text.find("service_latency_bucket{operation=\"X\",le=\"0.001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("service_latency_bucket{operation=\"X\",le=\"0.5\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("service_latency_bucket{operation=\"X\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("service_latency_count{operation=\"X\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("temporalite_wal_size_bytes 1\n"), std::string::npos) << text;
  EXPECT_EQ(&c, &r.counter("workflow_success", "", {{"namespace", "default"}, {"workflow_type", "A\"b"}}));
}

}  // namespace
}  // namespace temporalite::http
