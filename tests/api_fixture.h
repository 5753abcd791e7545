// The HTTPS API fixture shared by the end-to-end tests: a fresh store, its ApiService and a
// Server on a free loopback port, with a client that trusts the store's certificate.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "base/posix_env.h"
#include "http/api_v1.h"
#include "http/client.h"
#include "http/server.h"
#include "service/api_service.h"
#include "testing/manual_clock.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {

constexpr PasswordHashParams kCheapHash{.ops_limit = 1, .mem_limit = 8192};

// A store, its API service and an HTTPS server on a free loopback port.
class ApiFixture : public ::testing::Test {
 protected:
  // `configure` adjusts the new store's configuration (hokan.toml) before it is opened.
  void StartServer(bool two_factor, const std::string& client_ca = "",
                   const std::function<void(Config&)>& configure = {}) {
    clock_.Set(std::chrono::system_clock::now());
    dir_ = tmp_.path() + "/store";
    ArchiveOptions init;
    init.configure = [two_factor, configure](Config& c) {
      c.identity.require_two_factor = two_factor;
      if (configure) configure(c);
    };
    ASSERT_OK(Archive::Init(env_, dir_, local_, init));
    client_ca_ = client_ca;
    Serve({.password_hash = kCheapHash});
  }

  // Stops the server and serves the same store again with `options`: e.g. read_only, as a
  // restored copy is served in an emergency (G-6.10). Sessions and data stay in the store.
  void RestartServer(const ApiServiceOptions& options) {
    server_->Shutdown();
    server_.reset();
    router_.reset();
    api_.reset();
    archive_.reset();
    Serve(options);
  }

  // Opens the store in dir_ and serves it on a free loopback port.
  void Serve(const ApiServiceOptions& options) {
    auto archive = Archive::Open(env_, dir_);
    ASSERT_OK(archive);
    archive_ = std::move(*archive);
    auto api = ApiService::Open(*archive_, env_, options);
    ASSERT_OK(api);
    api_ = std::move(*api);
    router_ = MakeApiRouter(*api_);
    auto files = ServerTlsFiles(env_, *archive_);
    ASSERT_OK(files);
    ServerOptions o;
    o.port = 0;
    o.io_threads = 2;
    o.worker_threads = 8;
    o.tls.cert_file = files->cert;
    o.tls.key_file = files->key;
    o.tls.client_ca_file = client_ca_;
    o.limits.max_body_bytes = 1 << 20;
    o.on_rejected = MakeRejectionAuditor(*api_);
    auto server = Server::Start(o, MakeApiHandler(*api_, *router_));
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::unique_ptr<HttpsClient> Connect(const std::string& cert = "", const std::string& key = "") {
    ClientOptions o;
    o.port = server_->port();
    o.ca_file = dir_ + "/keys/tls.crt";
    o.cert_file = cert;
    o.key_file = key;
    auto c = HttpsClient::Connect(o);
    EXPECT_OK(c);
    return c ? std::move(*c) : nullptr;
  }

  ClientResponse Send(std::string_view method, std::string_view target, const HeaderList& h = {},
                      std::string_view body = {}) {
    auto c = Connect();
    if (!c) return {};
    auto r = c->Send(method, target, h, body);
    EXPECT_OK(r);
    return r ? *r : ClientResponse{};
  }

  // Signs in and returns the Cookie header for the session.
  HeaderList Login(const std::string& user, const std::string& password,
                   const std::string& second = "") {
    nlohmann::json b = {{"user_id", user}, {"password", password}};
    if (!second.empty()) b["second_factor"] = second;
    ClientResponse r =
        Send("POST", "/api/v1/session", {{"Content-Type", "application/json"}}, b.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    std::string cookie(r.Header("set-cookie").value_or(""));
    EXPECT_THAT(cookie, ::testing::HasSubstr("HttpOnly"));
    EXPECT_THAT(cookie, ::testing::HasSubstr("Secure"));
    EXPECT_THAT(cookie, ::testing::HasSubstr("SameSite=Strict"));
    return {{"Cookie", cookie.substr(0, cookie.find(';'))}};
  }

  // The audit entry written for the request with this id (the response's X-Request-Id).
  std::optional<DecodedAuditEntry> EntryFor(const ClientResponse& r) {
    const std::string id(r.Header("x-request-id").value_or(""));
    std::optional<DecodedAuditEntry> found;
    EXPECT_OK(archive_->audit().ForEach(0, UINT64_MAX, [&](std::uint64_t, std::string_view text) {
      auto d = DecodeAuditEntry(text);
      if (d && d->event.request_id == id) found = *d;
      return OkStatus();
    }));
    return found;
  }

  std::string PutLocal(const std::string& patient, const std::string& content) {
    auto r = archive_->PutRecord(local_, PutRequest{.patient_id = patient,
                                                    .record_type = "progress-note",
                                                    .media_type = "text/plain",
                                                    .content = AsBytes(content)});
    EXPECT_OK(r);
    return r ? r->version.record_id : "";
  }

  std::uint64_t AuditSize() {
    auto n = archive_->AuditSize();
    EXPECT_OK(n);
    return n ? *n : 0;
  }

  testing::TempDir tmp_;
  PosixFileSystem fs_;
  testing::ManualClock clock_;
  Env env_{fs_, clock_};
  const Actor local_{"local:test", "cli"};
  std::string dir_;
  std::string client_ca_;
  std::unique_ptr<Archive> archive_;
  std::unique_ptr<ApiService> api_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
};

}  // namespace hokan
