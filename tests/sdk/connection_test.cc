// C++ SDK client connections against real servers started here: TLS, mutual TLS (certificates
// made by openssl in a temp dir), API keys, the TEMPORAL_* environment as the CLI reads it, and
// their failure paths.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "sdk_fixture.h"

namespace sdk_test {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A CA, a server certificate for the name "temporalite.test" (not the address: tests must use
// the server-name override), a client certificate of the CA and one of another CA.
class Certs {
 public:
  Certs() {
    char tmpl[] = "/tmp/sdk-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2";
    std::string sh = "set -e; cd " + dir_ + "; exec >openssl.log 2>&1;"
                     " openssl req -x509" + ec + " -keyout ca.key -out ca.pem -subj /CN=TestCA;"
                     " openssl req -x509" + ec + " -keyout other-ca.key -out other-ca.pem -subj /CN=OtherCA;"
                     " printf 'subjectAltName=DNS:temporalite.test\\n' > san.ext;"
                     " openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=temporalite.test;"
                     " openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
                     "   -extfile san.ext -out server.pem;"
                     " openssl req" + ec + " -keyout client.key -out client.csr -subj /CN=client;"
                     " openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem;"
                     " openssl req" + ec + " -keyout intruder.key -out intruder.csr -subj /CN=intruder;"
                     " openssl x509 -req -in intruder.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial"
                     "   -days 2 -out intruder.pem";
    ok_ = std::system(("sh -c \"" + sh + "\"").c_str()) == 0;
  }
  ~Certs() { fs::remove_all(dir_); }
  bool ok() const { return ok_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Pem(const std::string& name) const { return Slurp(Path(name)); }

 private:
  std::string dir_;
  bool ok_ = false;
};

// Connects, or returns the error: the exception's type, gRPC code if any, and message.
std::string ConnectError(const ClientOptions& o) {
  try {
    Client::Connect(o);
    return "";
  } catch (const RpcError& e) {
    return "RpcError " + std::to_string(static_cast<int>(e.code())) + ": " + e.what();
  } catch (const std::exception& e) {
    return std::string("error: ") + e.what();
  }
}

ClientOptions Tls(const std::string& address, const Certs& c) {
  ClientOptions o;
  o.address = address;
  o.tls_ca_pem = c.Pem("ca.pem");
  o.tls_server_name = "temporalite.test";
  o.max_attempts = 2;  // failures below are not worth 10 attempts
  return o;
}

void RunHello(std::shared_ptr<Client> client, const std::string& tq) {
  WorkerOptions wo;
  wo.task_queue = tq;
  Worker w(client, wo);
  w.RegisterWorkflow("Hello", [](WorkflowContext& ctx, std::string name) -> Task<std::string> {
    co_return co_await ctx.ExecuteActivity<std::string>("Greet", Short(), name);
  });
  w.RegisterActivity("Greet", [](std::string name) { return "hello " + name; });
  w.Start();
  StartWorkflowOptions so;
  so.id = tq + "-wf";
  so.task_queue = tq;
  EXPECT_EQ(client->Execute<std::string>("Hello", so, std::string("tls")), "hello tls");
}

class ConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new Certs();
    if (!certs_->ok()) return;
    tls_ = new TestServer(ServerBinary(), {"--tls-cert-file", certs_->Path("server.pem"), "--tls-key-file",
                                           certs_->Path("server.key")});
    mtls_ = new TestServer(ServerBinary(), {"--tls-cert-file", certs_->Path("server.pem"), "--tls-key-file",
                                            certs_->Path("server.key"), "--tls-ca-file", certs_->Path("ca.pem")});
  }
  static void TearDownTestSuite() {
    delete tls_;
    delete mtls_;
    delete certs_;
  }
  void SetUp() override { ASSERT_TRUE(certs_->ok()) << "openssl failed"; }
  static inline Certs* certs_ = nullptr;
  static inline TestServer *tls_ = nullptr, *mtls_ = nullptr;
};

TEST_F(ConnectionTest, TlsWithTheServersCaAndServerName) {
  auto client = Client::Connect(Tls(tls_->address(), *certs_));
  RunHello(client, "tls-hello");
  // Failure paths: plain text to a TLS port, another CA, the wrong server name.
  ClientOptions plain;
  plain.address = tls_->address();
  plain.max_attempts = 2;
  EXPECT_NE(ConnectError(plain).find("RpcError 14"), std::string::npos);  // UNAVAILABLE
  auto other = Tls(tls_->address(), *certs_);
  other.tls_ca_pem = certs_->Pem("other-ca.pem");
  std::string err = ConnectError(other);
  EXPECT_NE(err.find("RpcError 14"), std::string::npos) << err;
  EXPECT_NE(err.find("certificate"), std::string::npos) << err;
  auto wrong_name = Tls(tls_->address(), *certs_);
  wrong_name.tls_server_name = "";
  err = ConnectError(wrong_name);
  EXPECT_NE(err.find("RpcError 14"), std::string::npos) << err;
}

TEST_F(ConnectionTest, MutualTlsNeedsAClientCertificateOfTheCa) {
  auto o = Tls(mtls_->address(), *certs_);
  o.tls_cert_pem = certs_->Pem("client.pem");
  o.tls_key_pem = certs_->Pem("client.key");
  RunHello(Client::Connect(o), "mtls-hello");
  // No client certificate: the server ends the handshake.
  std::string err = ConnectError(Tls(mtls_->address(), *certs_));
  EXPECT_NE(err.find("RpcError 14"), std::string::npos) << err;
  // A client certificate of another CA.
  auto intruder = Tls(mtls_->address(), *certs_);
  intruder.tls_cert_pem = certs_->Pem("intruder.pem");
  intruder.tls_key_pem = certs_->Pem("intruder.key");
  err = ConnectError(intruder);
  EXPECT_NE(err.find("RpcError 14"), std::string::npos) << err;
  // A certificate without its key, a key that is not one, a key of another certificate: refused
  // before any call, with a message saying which.
  auto half = Tls(mtls_->address(), *certs_);
  half.tls_cert_pem = certs_->Pem("client.pem");
  err = ConnectError(half);
  EXPECT_NE(err.find("error: mutual TLS needs both"), std::string::npos) << err;
  auto garbage = half;
  garbage.tls_key_pem = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
  err = ConnectError(garbage);
  EXPECT_NE(err.find("key"), std::string::npos) << err;
  auto mismatch = half;
  mismatch.tls_key_pem = certs_->Pem("intruder.key");
  err = ConnectError(mismatch);
  EXPECT_NE(err.find("key"), std::string::npos) << err;
}

// Sets environment variables for one scope, and unsets them after.
class Env {
 public:
  Env(std::initializer_list<std::pair<std::string, std::string>> vars) {
    for (const auto& [k, v] : vars) {
      setenv(k.c_str(), v.c_str(), 1);
      names_.push_back(k);
    }
  }
  ~Env() {
    for (const auto& k : names_) unsetenv(k.c_str());
  }

 private:
  std::vector<std::string> names_;
};

std::string EnvError() {
  try {
    ClientOptions::FromEnvironment();
    return "";
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

TEST_F(ConnectionTest, TemporalEnvironmentAsTheCliReadsIt) {
  {
    Env e({{"TEMPORAL_ADDRESS", mtls_->address()},
           {"TEMPORAL_NAMESPACE", "default"},
           {"TEMPORAL_TLS_SERVER_CA_CERT_PATH", certs_->Path("ca.pem")},
           {"TEMPORAL_TLS_CLIENT_CERT_PATH", certs_->Path("client.pem")},
           {"TEMPORAL_TLS_CLIENT_KEY_PATH", certs_->Path("client.key")},
           {"TEMPORAL_TLS_SERVER_NAME", "temporalite.test"}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.address, mtls_->address());
    EXPECT_NO_THROW(Client::Connect(o)->Count());
  }
  {  // The CLI's older names, and PEM text in _DATA variables.
    Env e({{"TEMPORAL_ADDRESS", mtls_->address()},
           {"TEMPORAL_TLS_CA", certs_->Path("ca.pem")},
           {"TEMPORAL_TLS_CERT_DATA", certs_->Pem("client.pem")},
           {"TEMPORAL_TLS_KEY", certs_->Path("client.key")},
           {"TEMPORAL_TLS_SERVER_NAME", "temporalite.test"}});
    EXPECT_NO_THROW(Client::Connect(ClientOptions::FromEnvironment())->Count());
  }
  {  // A namespace that does not exist: NOT_FOUND from Connect.
    Env e({{"TEMPORAL_ADDRESS", tls_->address()},
           {"TEMPORAL_NAMESPACE", "no-such-namespace"},
           {"TEMPORAL_TLS_SERVER_CA_CERT_DATA", certs_->Pem("ca.pem")},
           {"TEMPORAL_TLS_SERVER_NAME", "temporalite.test"}});
    try {
      Client::Connect(ClientOptions::FromEnvironment());
      ADD_FAILURE() << "expected NOT_FOUND";
    } catch (const RpcError& err) {
      EXPECT_EQ(err.code(), grpc::StatusCode::NOT_FOUND) << err.what();
    }
  }
  {  // TLS on by TEMPORAL_TLS alone (system roots): our CA is not one of them.
    Env e({{"TEMPORAL_ADDRESS", tls_->address()}, {"TEMPORAL_TLS", "true"}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_TRUE(o.tls);
    o.max_attempts = 1;
    EXPECT_NE(ConnectError(o).find("RpcError 14"), std::string::npos);
  }
  // Failure paths: each names the variable.
  {
    Env e({{"TEMPORAL_TLS_CLIENT_CERT_PATH", certs_->Path("nope.pem")}});
    EXPECT_NE(EnvError().find("TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read"), std::string::npos) << EnvError();
  }
  {
    Env e({{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", certs_->Path("ca.pem")},
           {"TEMPORAL_TLS_SERVER_CA_CERT_DATA", certs_->Pem("ca.pem")}});
    EXPECT_NE(EnvError().find("are both set"), std::string::npos) << EnvError();
  }
  {
    Env e({{"TEMPORAL_TLS", "maybe"}});
    EXPECT_NE(EnvError().find("TEMPORAL_TLS=maybe: not a boolean"), std::string::npos) << EnvError();
  }
  {
    Env e({{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true"}});
    EXPECT_NE(EnvError().find("not supported"), std::string::npos) << EnvError();
  }
}

// ---- API keys ----

class ApiKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/sdk-keys-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/keys.txt") << "worker wk-0123456789abcdef0123 writer\n"
                                         "viewer rk-0123456789abcdef0123 reader\n";
    server_ = new TestServer(ServerBinary(), {"--api-key-file", dir_ + "/keys.txt"});
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(dir_);
  }
  ClientOptions Keyed(const std::string& key) {
    ClientOptions o;
    o.address = server_->address();
    o.api_key = key;
    o.tls_disabled = true;  // a plain-text port (the CLI's --tls=false)
    return o;
  }
  static inline std::string dir_;
  static inline TestServer* server_ = nullptr;
};

TEST_F(ApiKeyTest, BearerKeyIsSentAndRolesApply) {
  RunHello(Client::Connect(Keyed("wk-0123456789abcdef0123")), "key-hello");
  // Failure paths: no key, an unknown key (UNAUTHENTICATED), a reader starting (PERMISSION_DENIED).
  try {
    Client::Connect(Keyed(""));
    FAIL() << "expected UNAUTHENTICATED";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::UNAUTHENTICATED) << e.what();
  }
  try {
    Client::Connect(Keyed("xx-0123456789abcdef0123"));
    FAIL() << "expected UNAUTHENTICATED";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::UNAUTHENTICATED) << e.what();
  }
  auto reader = Client::Connect(Keyed("rk-0123456789abcdef0123"));
  StartWorkflowOptions so;
  so.id = "key-reader";
  so.task_queue = "key-hello";
  try {
    reader->Start("Hello", so, std::string("x"));
    FAIL() << "expected PERMISSION_DENIED";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::PERMISSION_DENIED) << e.what();
    EXPECT_NE(std::string(e.what()).find("needs writer"), std::string::npos) << e.what();
  }
  // Without tls_disabled an API key means TLS: the plain-text port refuses the handshake.
  auto tls = Keyed("wk-0123456789abcdef0123");
  tls.tls_disabled = false;
  tls.max_attempts = 1;
  EXPECT_NE(ConnectError(tls).find("RpcError 14"), std::string::npos);
}

TEST_F(ApiKeyTest, KeyAndHeadersFromTheEnvironment) {
  {
    Env e({{"TEMPORAL_ADDRESS", server_->address()},
           {"TEMPORAL_API_KEY", "wk-0123456789abcdef0123"},
           {"TEMPORAL_TLS", "false"}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_TRUE(o.tls_disabled);
    EXPECT_NO_THROW(Client::Connect(o)->Count());
  }
  {  // TEMPORAL_GRPC_META_AUTHORIZATION is sent as the "authorization" header.
    Env e({{"TEMPORAL_ADDRESS", server_->address()},
           {"TEMPORAL_GRPC_META_AUTHORIZATION", "Bearer rk-0123456789abcdef0123"}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.grpc_metadata.at("authorization"), "Bearer rk-0123456789abcdef0123");
    EXPECT_NO_THROW(Client::Connect(o)->Count());
  }
  {
    Env e({{"TEMPORAL_ADDRESS", server_->address()}, {"TEMPORAL_API_KEY", "wrong-key-0123456789abc"},
           {"TEMPORAL_TLS", "0"}});
    EXPECT_THROW(Client::Connect(ClientOptions::FromEnvironment()), RpcError);
  }
}

}  // namespace
}  // namespace sdk_test
