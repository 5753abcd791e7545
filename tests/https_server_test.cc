// The HTTPS transport on real TLS over loopback: protocol versions and cipher suites
// (G-6.11-C10), HSTS (G-6.11-C9), client certificates (G-6.11-C2), limits on hostile clients,
// graceful shutdown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "crypto/x509.h"
#include "http/client.h"
#include "http/server.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = MakeCertificate(
        {.common_name = "localhost", .dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"}});
    ASSERT_OK(server);
    cert_ = dir_.path() + "/tls.crt";
    key_ = dir_.path() + "/tls.key";
    WriteText(cert_, server->cert_pem);
    WriteText(key_, server->key_pem);
    options_.port = 0;
    options_.io_threads = 2;
    options_.worker_threads = 4;
    options_.tls.cert_file = cert_;
    options_.tls.key_file = key_;
  }

  void Start(HttpHandler handler = nullptr) {
    if (!handler) {
      handler = [this](HttpRequest& req) {
        handled_++;
        HttpResponse r;
        r.body = "{\"path\":\"" + req.path + "\",\"bytes\":" + std::to_string(req.body.size()) +
                 ",\"cert\":\"" + req.client_cert_sha256 + "\"}";
        return r;
      };
    }
    auto s = Server::Start(options_, std::move(handler));
    ASSERT_OK(s);
    server_ = std::move(*s);
  }

  ClientOptions Client() const {
    ClientOptions o;
    o.port = server_->port();
    o.ca_file = cert_;
    o.timeout = std::chrono::seconds(10);
    return o;
  }

  // The server still answers a fresh client.
  void ExpectStillServing() {
    auto c = HttpsClient::Connect(Client());
    ASSERT_OK(c);
    auto r = (*c)->Send("GET", "/still");
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 200);
  }

  testing::TempDir dir_;
  std::string cert_, key_;
  ServerOptions options_;
  std::unique_ptr<Server> server_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpsServerTest, Tls13ByDefaultWithAesGcmAndSecurityHeaders_G_6_11_C10) {
  Start();
  auto c = HttpsClient::Connect(Client());
  ASSERT_OK(c);
  EXPECT_EQ((*c)->tls_version(), "TLSv1.3");
  EXPECT_THAT((*c)->cipher(), HasSubstr("AES"));
  auto r = (*c)->Send("GET", "/api/v1/x%20y?q=1");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("\"path\":\"/api/v1/x y\""));
  EXPECT_THAT(std::string(r->Header("strict-transport-security").value_or("")),
              HasSubstr("max-age="));  // G-6.11-C9
  EXPECT_EQ(r->Header("x-content-type-options").value_or(""), "nosniff");
  EXPECT_THAT(std::string(r->Header("content-security-policy").value_or("")),
              HasSubstr("default-src 'none'"));
  EXPECT_EQ(r->Header("x-request-id").value_or("").size(), 32u);
  // Keep-alive: a second request on the same connection.
  auto again = (*c)->Send("GET", "/second");
  ASSERT_OK(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(HttpsServerTest, OldProtocolsAreRefused_G_6_11_C10) {
  Start();
  for (const char* version : {"TLSv1", "TLSv1.1", "TLSv1.2"}) {
    ClientOptions o = Client();
    o.max_version = version;
    o.tls12_ciphers = "DEFAULT:@SECLEVEL=0";  // Let the client at least try.
    auto c = HttpsClient::Connect(o);
    EXPECT_THAT(c, StatusIs(StatusCode::kUnavailable)) << version;
  }
  ExpectStillServing();
}

TEST_F(HttpsServerTest, Tls12OnlyWhenConfiguredAndOnlyWithStrongSuites_G_6_11_C10) {
  options_.tls.allow_tls12 = true;
  Start();
  ClientOptions o = Client();
  o.max_version = "TLSv1.2";
  auto c = HttpsClient::Connect(o);
  ASSERT_OK(c);
  EXPECT_EQ((*c)->tls_version(), "TLSv1.2");
  EXPECT_THAT((*c)->cipher(), HasSubstr("GCM"));
  EXPECT_THAT((*c)->cipher(), StartsWith("ECDHE"));
  // CBC, static RSA key exchange, ChaCha20: refused.
  for (const char* weak : {"ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA", "AES128-GCM-SHA256",
                           "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-SHA256"}) {
    ClientOptions w = Client();
    w.max_version = "TLSv1.2";
    w.tls12_ciphers = weak;
    EXPECT_THAT(HttpsClient::Connect(w), StatusIs(StatusCode::kUnavailable)) << weak;
  }
  ClientOptions old = Client();
  old.max_version = "TLSv1.1";
  old.tls12_ciphers = "DEFAULT:@SECLEVEL=0";
  EXPECT_THAT(HttpsClient::Connect(old), StatusIs(StatusCode::kUnavailable));
}

TEST_F(HttpsServerTest, OversizedBodyIsRefusedAndTheServerKeepsServing) {
  options_.limits.max_body_bytes = 1000;
  std::atomic<int> rejected{0};
  options_.on_rejected = [&](const HttpRequest&, const HttpResponse& r) {
    if (r.status == 413) rejected++;
  };
  Start();
  auto c = HttpsClient::Connect(Client());
  ASSERT_OK(c);
  auto r = (*c)->Send("POST", "/api/v1/records", {}, std::string(5000, 'x'));
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_THAT(r->body, HasSubstr("\"code\":\"too_large\""));
  EXPECT_THAT(r->body, HasSubstr("\"request_id\":\""));
  EXPECT_EQ(handled_, 0);
  server_->Shutdown();  // Joins the workers that run on_rejected.
  EXPECT_EQ(rejected, 1);
}

TEST_F(HttpsServerTest, OversizedHeaderAndMalformedRequestsGetClear4xx) {
  options_.limits.max_header_bytes = 2048;
  Start();
  {
    auto c = HttpsClient::Connect(Client());
    ASSERT_OK(c);
    auto r = (*c)->Send("GET", "/x", {{"X-Big", std::string(4000, 'a')}});
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 431);
  }
  for (const char* garbage :
       {"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET x HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: zz\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"}) {
    auto c = HttpsClient::Connect(Client());
    ASSERT_OK(c);
    ASSERT_OK((*c)->WriteRaw(garbage));
    RawRead got = (*c)->ReadUntilClose(std::chrono::seconds(5));
    EXPECT_TRUE(got.closed) << garbage;
    EXPECT_THAT(got.data, StartsWith("HTTP/1.1 400")) << garbage;
  }
  EXPECT_EQ(handled_, 0);
  ExpectStillServing();
}

TEST_F(HttpsServerTest, SlowClientIsCutOffAndOthersAreServed) {
  options_.limits.header_timeout = std::chrono::milliseconds(300);
  Start();
  auto slow = HttpsClient::Connect(Client());
  ASSERT_OK(slow);
  ASSERT_OK((*slow)->WriteRaw("GET /x HTTP/1.1\r\nHost: a\r\n"));  // ... and never finishes.
  ExpectStillServing();
  RawRead got = (*slow)->ReadUntilClose(std::chrono::seconds(5));
  EXPECT_TRUE(got.closed);
  EXPECT_EQ(handled_, 1);  // Only ExpectStillServing's request.
}

TEST_F(HttpsServerTest, ConnectionsOverTheCapAreClosed) {
  options_.limits.max_connections = 2;
  Start();
  auto a = HttpsClient::Connect(Client());
  auto b = HttpsClient::Connect(Client());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_FALSE(HttpsClient::Connect(Client()));
  a->reset();
  // The freed slot is usable again (the server notices the close asynchronously).
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    auto c = HttpsClient::Connect(Client());
    if (c) {
      auto r = (*c)->Send("GET", "/x");
      served = r && r->status == 200;
    }
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
  EXPECT_GE(server_->stats().refused, 1u);
}

TEST_F(HttpsServerTest, ClientCertificatesAreVerifiedAndPassedOn_G_6_11_C2) {
  auto ca = MakeCertificate({.common_name = "hokan test CA", .is_ca = true});
  ASSERT_OK(ca);
  auto client = MakeCertificate({.common_name = "ward-system", .client_auth = true}, &*ca);
  ASSERT_OK(client);
  auto rogue_ca = MakeCertificate({.common_name = "rogue CA", .is_ca = true});
  ASSERT_OK(rogue_ca);
  auto rogue = MakeCertificate({.common_name = "ward-system", .client_auth = true}, &*rogue_ca);
  ASSERT_OK(rogue);
  const std::string ca_file = dir_.path() + "/clients-ca.crt";
  WriteText(ca_file, ca->cert_pem);
  for (const auto& [name, pair] : {std::pair{"client", &*client}, std::pair{"rogue", &*rogue}}) {
    WriteText(dir_.path() + "/" + name + ".crt", pair->cert_pem);
    WriteText(dir_.path() + "/" + name + ".key", pair->key_pem);
  }
  options_.tls.client_ca_file = ca_file;
  options_.tls.require_client_cert = true;
  Start();

  ClientOptions good = Client();
  good.cert_file = dir_.path() + "/client.crt";
  good.key_file = dir_.path() + "/client.key";
  auto c = HttpsClient::Connect(good);
  ASSERT_OK(c);
  auto r = (*c)->Send("GET", "/whoami");
  ASSERT_OK(r);
  auto fp = CertificateFingerprint(client->cert_pem);
  ASSERT_OK(fp);
  EXPECT_THAT(r->body, HasSubstr("\"cert\":\"" + *fp + "\""));

  // Without a certificate, or with one from another CA: no connection (TLS 1.3 reports the
  // refusal on the first read, so try a request).
  ClientOptions bad = Client();
  bad.cert_file = dir_.path() + "/rogue.crt";
  bad.key_file = dir_.path() + "/rogue.key";
  for (const ClientOptions& o : {Client(), bad}) {
    auto conn = HttpsClient::Connect(o);
    if (conn) {
      EXPECT_FALSE((*conn)->Send("GET", "/whoami"));
    }
  }
  EXPECT_EQ(handled_, 1);
}

TEST_F(HttpsServerTest, ShutdownFinishesInFlightRequests) {
  std::atomic<bool> entered{false};
  Start([&](HttpRequest&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    HttpResponse r;
    r.body = "{\"done\":true}";
    return r;
  });
  auto c = HttpsClient::Connect(Client());
  ASSERT_OK(c);
  Result<ClientResponse> got = InternalError("not run");
  std::thread t([&] { got = (*c)->Send("GET", "/slow"); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->Shutdown();
  t.join();
  ASSERT_OK(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->Header("connection").value_or(""), "close");
  EXPECT_FALSE(HttpsClient::Connect(Client()));
}

TEST_F(HttpsServerTest, BadCertificateOrBusyPortIsAClearError) {
  ServerOptions o = options_;
  o.tls.key_file = cert_;  // Not a key.
  EXPECT_THAT(Server::Start(o, [](HttpRequest&) { return HttpResponse{}; }),
              StatusIs(StatusCode::kInvalidArgument));
  Start();
  o = options_;
  o.port = server_->port();
  EXPECT_THAT(Server::Start(o, [](HttpRequest&) { return HttpResponse{}; }),
              StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace hokan
