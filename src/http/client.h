// A small synchronous HTTPS client over the same Boost.Beast/OpenSSL stack: used by the tests
// (real TLS on loopback), the benchmarks and `hokan demo`'s self-check. Not for production
// integrations (they bring their own HTTP client).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "http/http.h"

namespace hokan {

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string ca_file;  // Verify the server against this PEM; empty: do not verify (tests).
  std::string server_name = "localhost";
  // "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" or "" (library default).
  std::string min_version;
  std::string max_version;
  std::string tls12_ciphers;  // OpenSSL cipher list for TLS <= 1.2, "" for the default.
  std::string cert_file;      // Client certificate (mTLS) and its key.
  std::string key_file;
  std::chrono::milliseconds timeout{30'000};
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;  // Names in lower case.
  std::string body;
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct RawRead {
  std::string data;
  bool closed = false;  // The server closed the connection (else: timed out).
};

class HttpsClient {
 public:
  // Connects and completes the TLS handshake; kUnavailable when either fails.
  static Result<std::unique_ptr<HttpsClient>> Connect(const ClientOptions& options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // One request on the kept-alive connection.
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              const HeaderList& headers = {}, std::string_view body = {});
  // Raw bytes, for malformed-request and slow-client tests.
  Status WriteRaw(std::string_view bytes);
  // Reads until the server closes the connection or `timeout` passes.
  RawRead ReadUntilClose(std::chrono::milliseconds timeout);

  std::string tls_version() const;  // "TLSv1.3"
  std::string cipher() const;

  struct Impl;

 private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hokan
