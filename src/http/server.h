// The HTTPS server: Boost.Beast over Asio with OpenSSL, TLS only (G-6.11-C9, G-6.11-C10).
// I/O runs on a few threads (one per core by default); handlers may block (a durable commit,
// an Argon2 check), so they run on a separate worker pool and never stall the I/O threads.
//
// Limits (docs/configuration.md): header and body size, a deadline for the TLS handshake and
// the request header (slow clients), a body deadline, an idle keep-alive deadline, and a cap
// on concurrent connections. A request over a limit gets a JSON 4xx and the connection is
// closed; the server keeps serving everyone else.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "http/http.h"

namespace hokan {

struct TlsOptions {
  std::string cert_file;  // PEM certificate chain.
  std::string key_file;   // PEM private key.
  // TLS 1.3 only unless set; then TLS 1.2 too, with the CRYPTREC high-security suites only
  // (ECDHE + AES-GCM).
  bool allow_tls12 = false;
  // Client certificates (mTLS): CA bundle that issues them. Empty: not asked for.
  std::string client_ca_file;
  // With a CA set: refuse connections without a valid client certificate.
  bool require_client_cert = false;
};

struct ServerLimits {
  std::size_t max_header_bytes = 16384;
  std::uint64_t max_body_bytes = (64ull << 20) + (64ull << 10);
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds header_timeout{10'000};  // First byte to end of the header.
  std::chrono::milliseconds body_timeout{300'000};
  std::chrono::milliseconds idle_timeout{30'000};  // Keep-alive wait for the next request.
  std::chrono::milliseconds write_timeout{300'000};
  std::size_t max_connections = 1024;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;  // 0: any free port (see Server::port()).
  unsigned io_threads = 0;    // 0: one per core.
  unsigned worker_threads = 32;
  TlsOptions tls;
  ServerLimits limits;
  // How long Shutdown() waits for in-flight requests before closing anyway.
  std::chrono::milliseconds shutdown_grace{30'000};
  // Told about requests the server answered itself (malformed, over a limit) so that they
  // are audited too. Runs on an I/O thread: keep it short.
  std::function<void(const HttpRequest&, const HttpResponse&)> on_rejected;
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

// One JSON error body: {"error":{"code":"...","message":"..."},"request_id":"..."}.
HttpResponse JsonError(int http_status, std::string_view code, std::string_view message,
                       std::string_view request_id);

class Server {
 public:
  // Binds, loads the certificate and key, and starts serving. kInvalidArgument for a bad
  // certificate/key/CA file, kUnavailable when the address is in use.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, HttpHandler handler);
  ~Server();  // Shutdown() if still running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  // Stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
  // connections, and joins every thread. Idempotent.
  void Shutdown();
  // Blocks until SIGTERM or SIGINT arrives (then shuts down) or Shutdown() is called.
  void WaitForSignalOrShutdown();

  struct Stats {
    std::uint64_t connections = 0;  // Accepted so far.
    std::uint64_t refused = 0;      // Closed at once over max_connections.
    std::uint64_t requests = 0;
    std::uint64_t open = 0;  // Open now.
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hokan
