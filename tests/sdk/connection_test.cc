// C++ SDK client connections against real servers started here: TLS, mutual TLS (certificates
// made by openssl in a temp dir), disable_host_verification, TLS handshake failures (not
// retried), API keys, the TEMPORAL_* environment as the CLI reads it, config-file profiles, and
// their failure paths; the client authority and the remote codec settings.
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
    Env e({{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "yes"}});
    EXPECT_NE(EnvError().find("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=yes: not a boolean"), std::string::npos)
        << EnvError();
  }
}

// ---- disable_host_verification ----

TEST_F(ConnectionTest, DisableHostVerificationAcceptsACertificateOfAnotherName) {
  // The server's certificate is for temporalite.test, the address is 127.0.0.1: refused.
  auto o = Tls(tls_->address(), *certs_);
  o.tls_server_name = "";
  std::string err = ConnectError(o);
  EXPECT_NE(err.find("RpcError 14"), std::string::npos) << err;
  o.tls_disable_host_verification = true;
  RunHello(Client::Connect(o), "tls-no-host-check");
  // As Go's InsecureSkipVerify (what the CLI and envconfig set): the chain is not checked
  // either, so no CA is needed; a client certificate is still presented (mutual TLS).
  auto any = o;
  any.tls_ca_pem = "";
  EXPECT_NO_THROW(Client::Connect(any)->Count());
  auto mutual = any;
  mutual.address = mtls_->address();
  mutual.tls_cert_pem = certs_->Pem("client.pem");
  mutual.tls_key_pem = certs_->Pem("client.key");
  EXPECT_NO_THROW(Client::Connect(mutual)->Count());
  // The same from the environment (it alone turns TLS on).
  Env e({{"TEMPORAL_CONFIG_FILE", certs_->Path("none.toml")},
         {"TEMPORAL_ADDRESS", tls_->address()},
         {"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true"}});
  auto eo = ClientOptions::FromEnvironment();
  EXPECT_TRUE(eo.tls_disable_host_verification);
  EXPECT_NO_THROW(Client::Connect(eo)->Count());
  setenv("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "0", 1);
  eo = ClientOptions::FromEnvironment();
  eo.max_attempts = 1;
  EXPECT_NE(ConnectError(eo).find("RpcError 14"), std::string::npos);
}

// ---- TLS handshake failures are not retried ----

TEST_F(ConnectionTest, ATlsHandshakeFailureFailsAtOnceNamingTheProblem) {
  auto other = Tls(tls_->address(), *certs_);
  other.tls_ca_pem = certs_->Pem("other-ca.pem");
  other.max_attempts = 10;  // retried like UNAVAILABLE, 10 attempts took about 30 s
  auto t0 = std::chrono::steady_clock::now();
  std::string err = ConnectError(other);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << err;
  EXPECT_NE(err.find("RpcError 14: TLS handshake with " + tls_->address() + " failed: the server's certificate"),
            std::string::npos)
      << err;
  // The wrong server name: the same.
  auto wrong_name = Tls(tls_->address(), *certs_);
  wrong_name.tls_server_name = "other.test";
  wrong_name.max_attempts = 10;
  t0 = std::chrono::steady_clock::now();
  err = ConnectError(wrong_name);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << err;
  EXPECT_NE(err.find("TLS handshake with"), std::string::npos) << err;
  // A server that is not there is still retried (here: twice, 100 ms apart).
  ClientOptions gone;
  gone.address = "127.0.0.1:1";
  gone.max_attempts = 2;
  err = ConnectError(gone);
  EXPECT_NE(err.find("RpcError 14"), std::string::npos) << err;
  EXPECT_EQ(err.find("TLS"), std::string::npos) << err;
}

// ---- config file profiles (envconfig's TOML) ----

// Writes `text` to a file of the certificates' directory; returns its path.
std::string WriteFile(const Certs& c, const std::string& name, const std::string& text) {
  std::ofstream(c.Path(name)) << text;
  return c.Path(name);
}

std::string ProfilesToml(const Certs& c, const std::string& mtls, const std::string& tls) {
  return "# Temporal client profiles\n"
         "[profile.default]\n"
         "address = \"" + mtls + "\"\n"
         "namespace = \"default\"\n"
         "[profile.default.tls]\n"
         "server_ca_cert_path = \"" + c.Path("ca.pem") + "\"\n"
         "client_cert_path = \"" + c.Path("client.pem") + "\"\n"
         "client_key_data = \"\"\"\n" + c.Pem("client.key") + "\"\"\"\n"
         "server_name = \"temporalite.test\"\n"
         "[profile.default.grpc_meta]\n"
         "X_Team = \"ingest\"\n"
         "\n"
         "[profile.staging]\n"
         "address = \"" + tls + "\"\n"
         "[profile.staging.tls]\n"
         "disable_host_verification = true\n";
}

TEST_F(ConnectionTest, ConfigFileProfilesAsEnvconfigReadsThem) {
  const std::string file = WriteFile(*certs_, "temporal.toml", ProfilesToml(*certs_, mtls_->address(), tls_->address()));
  {  // The file alone: the default profile (mutual TLS, a header).
    Env e({{"TEMPORAL_CONFIG_FILE", file}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.address, mtls_->address());
    EXPECT_TRUE(o.tls);
    EXPECT_EQ(o.tls_server_name, "temporalite.test");
    EXPECT_EQ(o.tls_key_pem, certs_->Pem("client.key"));
    EXPECT_EQ(o.grpc_metadata.at("x-team"), "ingest");
    RunHello(Client::Connect(o), "profile-hello");
  }
  {  // The environment over the file: the namespace, a header removed, another CA (replacing the file's path).
    Env e({{"TEMPORAL_CONFIG_FILE", file},
           {"TEMPORAL_NAMESPACE", "no-such-namespace"},
           {"TEMPORAL_GRPC_META_X_TEAM", ""}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.address, mtls_->address());
    EXPECT_EQ(o.grpc_metadata.count("x-team"), 0u);
    try {
      Client::Connect(o);
      ADD_FAILURE() << "expected NOT_FOUND";
    } catch (const RpcError& err) {
      EXPECT_EQ(err.code(), grpc::StatusCode::NOT_FOUND) << err.what();
    }
    setenv("TEMPORAL_TLS_SERVER_CA_CERT_DATA", certs_->Pem("other-ca.pem").c_str(), 1);
    o = ClientOptions::FromEnvironment();
    unsetenv("TEMPORAL_TLS_SERVER_CA_CERT_DATA");
    EXPECT_EQ(o.tls_ca_pem, certs_->Pem("other-ca.pem"));
    EXPECT_NE(ConnectError(o).find("TLS handshake"), std::string::npos);
  }
  {  // A named profile, by TEMPORAL_PROFILE and by argument.
    Env e({{"TEMPORAL_CONFIG_FILE", file}, {"TEMPORAL_PROFILE", "staging"}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.address, tls_->address());
    EXPECT_TRUE(o.tls_disable_host_verification);
    EXPECT_TRUE(o.tls_cert_pem.empty());
    EXPECT_NO_THROW(Client::Connect(o)->Count());
  }
  EXPECT_EQ(ClientOptions::FromProfile("staging", file).address, tls_->address());
  // Failure paths: a profile asked for that is not there; bad TOML (the file and the line); a
  // key of the wrong type; path and data both given.
  {
    Env e({{"TEMPORAL_CONFIG_FILE", file}, {"TEMPORAL_PROFILE", "prod"}});
    EXPECT_NE(EnvError().find("unable to find profile prod in config file " + file), std::string::npos) << EnvError();
  }
  EXPECT_THROW(ClientOptions::FromProfile("prod", certs_->Path("none.toml")), std::invalid_argument);
  {
    auto bad = WriteFile(*certs_, "bad.toml", "[profile.default]\naddress = \"x:1\"\nnamespace = \n");
    Env e({{"TEMPORAL_CONFIG_FILE", bad}});
    EXPECT_NE(EnvError().find("config file " + bad + ": "), std::string::npos) << EnvError();
    EXPECT_NE(EnvError().find("line 3"), std::string::npos) << EnvError();
  }
  {
    auto typed = WriteFile(*certs_, "typed.toml", "[profile.default]\naddress = 7233\n");
    Env e({{"TEMPORAL_CONFIG_FILE", typed}});
    EXPECT_NE(EnvError().find("profile.default.address: not a string"), std::string::npos) << EnvError();
  }
  {
    auto both = WriteFile(*certs_, "both.toml",
                          "[profile.default.tls]\nserver_ca_cert_path = \"/x\"\nserver_ca_cert_data = \"y\"\n");
    Env e({{"TEMPORAL_CONFIG_FILE", both}});
    EXPECT_NE(EnvError().find("tls.server_ca_cert_path and " + both), std::string::npos) << EnvError();
  }
  {  // No file, or a file without the default profile: no error, the defaults.
    Env e({{"TEMPORAL_CONFIG_FILE", certs_->Path("none.toml")}});
    EXPECT_EQ(ClientOptions::FromEnvironment().address, ClientOptions().address);
    EXPECT_EQ(ClientOptions::FromProfile("", WriteFile(*certs_, "other.toml", "[profile.x]\n")).address,
              ClientOptions().address);
  }
  {  // The user config directory's temporalio/temporal.toml when TEMPORAL_CONFIG_FILE is unset.
    fs::create_directories(certs_->Path("xdg/temporalio"));
    fs::copy_file(file, certs_->Path("xdg/temporalio/temporal.toml"));
    Env e({{"XDG_CONFIG_HOME", certs_->Path("xdg")}, {"TEMPORAL_PROFILE", "staging"}});
    EXPECT_EQ(ClientOptions::FromEnvironment().address, tls_->address());
  }
}

// ---- the authority (TEMPORAL_CLIENT_AUTHORITY) and the remote codec settings ----

// A frontend that only answers DescribeNamespace (what Client::Connect calls), recording the
// :authority each call arrived with.
class AuthorityRecorder final : public wsv1::WorkflowService::Service {
 public:
  AuthorityRecorder() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(this);
    server_ = b.BuildAndStart();
  }
  ~AuthorityRecorder() override { server_->Shutdown(std::chrono::system_clock::now() + 2s); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string last() {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }
  grpc::Status DescribeNamespace(grpc::ServerContext* ctx, const wsv1::DescribeNamespaceRequest*,
                                 wsv1::DescribeNamespaceResponse*) override {
    std::lock_guard<std::mutex> l(mu_);
    last_ = std::string(ctx->ExperimentalGetAuthority().data(), ctx->ExperimentalGetAuthority().size());
    return grpc::Status::OK;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::string last_;
};

TEST_F(ConnectionTest, ClientAuthorityIsTheCallsAuthorityAndTheTlsName) {
  AuthorityRecorder rec;
  {  // Without it: the address.
    Env e({{"TEMPORAL_ADDRESS", rec.address()}});
    Client::Connect(ClientOptions::FromEnvironment());
    EXPECT_EQ(rec.last(), rec.address());
  }
  {  // From the environment: the server sees it as the call's :authority.
    Env e({{"TEMPORAL_ADDRESS", rec.address()}, {"TEMPORAL_CLIENT_AUTHORITY", "frontend.example:7233"}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.authority, "frontend.example:7233");
    Client::Connect(o);
    EXPECT_EQ(rec.last(), "frontend.example:7233");
  }
  {  // From the file's profile (authority = ...), the environment over it.
    auto file = WriteFile(*certs_, "authority.toml",
                          "[profile.default]\naddress = \"" + rec.address() + "\"\nauthority = \"file.example\"\n");
    Env e({{"TEMPORAL_CONFIG_FILE", file}});
    Client::Connect(ClientOptions::FromEnvironment());
    EXPECT_EQ(rec.last(), "file.example");
    setenv("TEMPORAL_CLIENT_AUTHORITY", "env.example", 1);
    auto o = ClientOptions::FromEnvironment();
    unsetenv("TEMPORAL_CLIENT_AUTHORITY");
    Client::Connect(o);
    EXPECT_EQ(rec.last(), "env.example");
  }
  {  // With TLS and no server name: the certificate is checked against the authority (as in Go),
     // so a certificate for "temporalite.test" on 127.0.0.1 is accepted; another name is not.
    Env e({{"TEMPORAL_ADDRESS", tls_->address()},
           {"TEMPORAL_TLS_SERVER_CA_CERT_PATH", certs_->Path("ca.pem")},
           {"TEMPORAL_CLIENT_AUTHORITY", "temporalite.test"}});
    auto o = ClientOptions::FromEnvironment();
    o.max_attempts = 2;
    EXPECT_TRUE(o.tls_server_name.empty());
    EXPECT_EQ(ConnectError(o), "");
    o.authority = "other.test";
    EXPECT_NE(ConnectError(o).find("TLS handshake with"), std::string::npos);
  }
}

TEST_F(ConnectionTest, RemoteCodecSettingsAreLoadedAndNotApplied) {
  auto file = WriteFile(*certs_, "codec.toml",
                        "[profile.default]\naddress = \"" + tls_->address() + "\"\n"
                        "[profile.default.tls]\ndisable_host_verification = true\n"
                        "[profile.default.codec]\nendpoint = \"http://127.0.0.1:1/codec\"\nauth = \"Bearer c\"\n");
  {
    Env e({{"TEMPORAL_CONFIG_FILE", file}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.codec_endpoint, "http://127.0.0.1:1/codec");
    EXPECT_EQ(o.codec_auth, "Bearer c");
    // Not used (as the official SDKs' clients by default): the endpoint is not reachable and
    // payloads still round-trip through the client's own converter.
    auto client = Client::Connect(o);
    RunHello(client, "codec-not-applied");
  }
  {
    Env e({{"TEMPORAL_CONFIG_FILE", file}, {"TEMPORAL_CODEC_ENDPOINT", "https://codec.example"},
           {"TEMPORAL_CODEC_AUTH", "Bearer e"}});
    auto o = ClientOptions::FromEnvironment();
    EXPECT_EQ(o.codec_endpoint, "https://codec.example");
    EXPECT_EQ(o.codec_auth, "Bearer e");
  }
  {  // Failure paths: the codec not a table, its endpoint not a string.
    Env e({{"TEMPORAL_CONFIG_FILE", WriteFile(*certs_, "codec-bad.toml", "[profile.default]\ncodec = 1\n")}});
    EXPECT_NE(EnvError().find("profile.default.codec: not a table"), std::string::npos) << EnvError();
  }
  {
    Env e({{"TEMPORAL_CONFIG_FILE",
            WriteFile(*certs_, "codec-bad2.toml", "[profile.default.codec]\nendpoint = true\n")}});
    EXPECT_NE(EnvError().find("profile.default.codec.endpoint: not a string"), std::string::npos) << EnvError();
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
