// C++ SDK: payload codecs. A real zlib codec on the client and the worker: the server stores only
// encoded payloads (a codec-less client sees binary/zlib), while the codec's client and worker
// see plain values; search attributes stay plain; a codec that cannot decode fails the call.
#include <google/protobuf/util/message_differencer.h>

#include "sdk_fixture.h"
#include "temporal/api/update/v1/message.pb.h"
#include "zlib_codec.h"

namespace sdk_test {
namespace {

TEST(CodecTest, EncodesEveryPayloadButSearchAttributesAndDecodesThemBack) {
  auto codec = std::make_shared<ZlibCodec>();
  PayloadCodecs codecs{codec};
  wsv1::StartWorkflowExecutionRequest start;
  *start.mutable_input() = ToPayloads(std::string("in"), 2);
  (*start.mutable_memo()->mutable_fields())["note"] = ToPayload(std::string("m"));
  (*start.mutable_search_attributes()->mutable_indexed_fields())["CustomKeywordField"] = ToPayload(std::string("k"));
  const auto original = start;
  EncodePayloadsIn(codecs, &start);
  EXPECT_EQ(codec->encoded.load(), 3);
  EXPECT_EQ(PayloadEncoding(start.input().payloads(0)), "binary/zlib");
  EXPECT_EQ(PayloadEncoding(start.input().payloads(1)), "binary/zlib");
  EXPECT_EQ(PayloadEncoding(start.memo().fields().at("note")), "binary/zlib");
  EXPECT_EQ(PayloadEncoding(start.search_attributes().indexed_fields().at("CustomKeywordField")), "json/plain");
  DecodePayloadsIn(codecs, &start);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(start, original));

  // Update results travel inside google.protobuf.Any (protocol messages) and failures nest.
  wsv1::RespondWorkflowTaskCompletedRequest done;
  temporal::api::update::v1::Response r;
  *r.mutable_outcome()->mutable_success() = ToPayloads(42);
  done.add_messages()->mutable_body()->PackFrom(r);
  auto* fail = done.add_commands()->mutable_fail_workflow_execution_command_attributes()->mutable_failure();
  *fail = ToFailureProto(ApplicationFailure("x", "T", false, {}, std::make_shared<ApplicationFailure>(
                                                                     "inner", "U", false, ToPayloads(7))));
  EncodePayloadsIn(codecs, &done);
  temporal::api::update::v1::Response back;
  ASSERT_TRUE(done.messages(0).body().UnpackTo(&back));
  EXPECT_EQ(PayloadEncoding(back.outcome().success().payloads(0)), "binary/zlib");
  EXPECT_EQ(PayloadEncoding(fail->cause().application_failure_info().details().payloads(0)), "binary/zlib");
  DecodePayloadsIn(codecs, &done);
  ASSERT_TRUE(done.messages(0).body().UnpackTo(&back));
  EXPECT_EQ(FirstPayload<int>(back.outcome().success()), 42);
  EXPECT_EQ(FirstPayload<int>(fail->cause().application_failure_info().details()), 7);

  // Corrupt data: the codec's error reaches the caller.
  Payload bad;
  (*bad.mutable_metadata())["encoding"] = "binary/zlib";
  bad.set_data("not zlib");
  Payloads ps;
  *ps.add_payloads() = bad;
  EXPECT_THROW(DecodePayloadsIn(codecs, &ps), DataConverterError);
}

Task<std::string> CodecWorkflow(WorkflowContext& ctx, std::string name) {
  auto n = std::make_shared<int>(0);
  ctx.SetSignalHandler("add", [n](int k) { *n += k; });
  ctx.SetQueryHandler("n", [n]() { return *n; });
  ctx.SetUpdateHandler(
      "double", [n]() { return *n *= 2; }, []() {});
  std::string upper = co_await ctx.ExecuteActivity<std::string>("Upper", Short(), name);
  auto reached = ctx.Condition([n] { return *n >= 10; });
  co_await reached;
  co_return upper + ":" + std::to_string(*n);
}

Task<void> CodecFailWorkflow(WorkflowContext& ctx) {
  co_await ctx.Sleep(1ms);
  throw ApplicationFailure("secret failure", "CodecError", true, ToPayloads(nlohmann::json{{"code", 7}}));
}

// Every payload of the run's history, as the server stores it.
std::vector<Payload> StoredPayloads(const std::vector<HistoryEvent>& events) {
  std::vector<Payload> out;
  for (const auto& e : events) {
    std::function<void(const google::protobuf::Message&)> walk = [&](const google::protobuf::Message& m) {
      if (m.GetDescriptor()->full_name() == "temporal.api.common.v1.Payload") {
        out.push_back(static_cast<const Payload&>(m));
        return;
      }
      if (m.GetDescriptor()->full_name() == "temporal.api.common.v1.SearchAttributes") return;
      const auto* r = m.GetReflection();
      std::vector<const google::protobuf::FieldDescriptor*> fields;
      r->ListFields(m, &fields);
      for (const auto* f : fields) {
        if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
        if (f->is_repeated()) {
          for (int i = 0; i < r->FieldSize(m, f); ++i) walk(r->GetRepeatedMessage(m, f, i));
        } else {
          walk(r->GetMessage(m, f));
        }
      }
    };
    walk(e);
  }
  return out;
}

TEST_F(SdkTest, ZlibCodecOnClientAndWorkerServerStoresOnlyEncodedPayloads) {
  auto codec = std::make_shared<ZlibCodec>();
  ClientOptions co;
  co.address = server_->address();
  co.codecs = {codec};
  auto client = Client::Connect(co);
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  Worker w(client, wo);
  w.RegisterWorkflow("Codec", CodecWorkflow);
  w.RegisterWorkflow("CodecFail", CodecFailWorkflow);
  w.RegisterActivity("Upper", [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  });
  w.Start();

  StartWorkflowOptions so = Opts("codec-1");
  so.memo["owner"] = "ops";
  auto h = client->Start("Codec", so, std::string("ada"));
  h.Signal("add", 3);
  int n = 0;
  for (int i = 0; i < 200 && n != 3; ++i) {
    n = h.Query<int>("n");
    if (n != 3) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(n, 3);
  EXPECT_EQ(h.ExecuteUpdate<int>("double"), 6);
  h.Signal("add", 4);
  EXPECT_EQ(h.Result<std::string>(30s), "ADA:10");
  EXPECT_GT(codec->encoded.load(), 5);
  EXPECT_GT(codec->decoded.load(), 5);

  // A client without the codec: the server has only binary/zlib payloads, none readable.
  auto plain = client_->GetHandle("codec-1");
  auto stored = StoredPayloads(plain.FetchHistory());
  ASSERT_GE(stored.size(), 7u);  // input, memo, activity input and result, signals, update, result
  for (const auto& p : stored) {
    EXPECT_EQ(PayloadEncoding(p), "binary/zlib") << p.DebugString();
    EXPECT_EQ(p.data().find("ada"), std::string::npos);
  }
  EXPECT_THROW(plain.Result<std::string>(), DataConverterError);
  Payloads raw = plain.ResultPayloads();
  Payloads decoded;
  *decoded.add_payloads() = ZlibCodec().Decode(raw.payloads(0));
  EXPECT_EQ(FirstPayload<std::string>(decoded), "ADA:10");

  // Failure details are encoded too, and decoded for the codec's client.
  auto f = client->Start("CodecFail", Opts("codec-fail"));
  try {
    f.Result<void>(30s);
    FAIL() << "expected a failure";
  } catch (const WorkflowFailedError& e) {
    auto* app = dynamic_cast<ApplicationFailure*>(e.cause().get());
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(app->type, "CodecError");
    EXPECT_EQ(FirstPayload<nlohmann::json>(app->details), (nlohmann::json{{"code", 7}}));
  }
  for (const auto& e : client_->GetHandle("codec-fail").FetchHistory()) {
    if (!e.has_workflow_execution_failed_event_attributes()) continue;
    const auto& d = e.workflow_execution_failed_event_attributes().failure().application_failure_info().details();
    ASSERT_EQ(d.payloads_size(), 1);
    EXPECT_EQ(PayloadEncoding(d.payloads(0)), "binary/zlib");
  }
  w.Shutdown();
}

}  // namespace
}  // namespace sdk_test
