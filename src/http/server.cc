#include "http/server.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "base/encoding.h"
#include "base/mutex.h"

namespace hokan {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using beast::error_code;

// CRYPTREC "high security" profile: AEAD with forward secrecy, AES-GCM only (ChaCha20 is not
// on the e-Government recommended ciphers list), NIST curves.
constexpr const char* kTls13Suites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
constexpr const char* kGroups = "P-256:P-384:P-521";

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t a = rng();
  const std::uint64_t b = rng();
  std::uint8_t bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<std::uint8_t>(a >> (8 * i));
    bytes[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
  }
  return HexEncode(ByteView(bytes, sizeof bytes));
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Security headers on every response (G-6.11-C9: HSTS).
void AddStandardHeaders(bhttp::response<bhttp::string_body>& res, const std::string& request_id) {
  res.set(bhttp::field::server, "hokan");
  res.set(bhttp::field::strict_transport_security, "max-age=63072000; includeSubDomains");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set(bhttp::field::cache_control, "no-store");
  res.set("Referrer-Policy", "no-referrer");
  // An API answers data, never pages: a downloaded document opened in a browser runs no
  // script and is framed by nobody.
  res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
  res.set("X-Request-Id", request_id);
}

}  // namespace

HttpResponse JsonError(int http_status, std::string_view code, std::string_view message,
                       std::string_view request_id) {
  HttpResponse r;
  r.status = http_status;
  r.body = "{\"error\":{\"code\":\"" + JsonEscape(code) + "\",\"message\":\"" +
           JsonEscape(message) + "\"},\"request_id\":\"" + JsonEscape(request_id) + "\"}";
  return r;
}

class TlsConnection;

struct Server::Impl {
  explicit Impl(ServerOptions o) : options(std::move(o)), workers(options.worker_threads) {}

  // Declared before the I/O objects: sessions destroyed with the io_context unregister here.
  ServerOptions options;
  HttpHandler handler;
  Mutex mu;
  CondVar cv;
  std::unordered_map<TlsConnection*, std::weak_ptr<TlsConnection>> sessions HK_GUARDED_BY(mu);
  bool shutdown_requested HK_GUARDED_BY(mu) = false;
  bool shut_down HK_GUARDED_BY(mu) = false;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> requests{0};
  std::uint16_t port = 0;

  asio::ssl::context ssl{asio::ssl::context::tls_server};
  asio::io_context ioc;
  // Keeps the I/O threads running while a request is on the worker pool and nothing else
  // is pending; Shutdown() stops the context explicitly.
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  tcp::acceptor acceptor{ioc};
  asio::thread_pool workers;
  std::vector<std::thread> threads;

  void Accept();
  void Register(const std::shared_ptr<TlsConnection>& s) HK_EXCLUDES(mu);
  void Unregister(TlsConnection* s) HK_EXCLUDES(mu);
  std::vector<std::shared_ptr<TlsConnection>> Live() HK_EXCLUDES(mu);
  std::size_t Open() HK_EXCLUDES(mu) {
    MutexLock lock(mu);
    return sessions.size();
  }
};

class TlsConnection : public std::enable_shared_from_this<TlsConnection> {
 public:
  TlsConnection(tcp::socket socket, Server::Impl& server)
      : stream_(std::move(socket), server.ssl), server_(server) {
    error_code ec;
    const tcp::endpoint peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) client_address_ = peer.address().to_string();
  }
  ~TlsConnection() { server_.Unregister(this); }

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&TlsConnection::Handshake, shared_from_this()));
  }

  // On the session's strand: close now unless a request is being handled or written.
  void StopIfIdle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->busy_) return;
      // Waiting for a next request that will not be read: no TLS goodbye, just close (a
      // pending read would otherwise hold the connection until its own deadline).
      self->closing_ = true;
      error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(self->stream_).socket().close(ignored);
    });
  }

 private:
  const ServerLimits& limits() const { return server_.options.limits; }

  void Handshake() {
    beast::get_lowest_layer(stream_).expires_after(limits().handshake_timeout);
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        beast::bind_front_handler(&TlsConnection::OnHandshake, shared_from_this()));
  }

  void OnHandshake(error_code ec) {
    if (ec) return Close();  // Wrong protocol version, no shared cipher, bad client cert, ...
    SSL* ssl = stream_.native_handle();
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      if (SSL_get_verify_result(ssl) == X509_V_OK) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
          cert_sha256_ = HexEncode(ByteView(md, len));
        }
      }
      X509_free(cert);
    }
    ReadHeader();
  }

  void ReadHeader() {
    if (server_.stopping) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits().max_header_bytes));
    parser_->body_limit(limits().max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(first_ ? limits().header_timeout
                                                          : limits().idle_timeout);
    first_ = false;
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&TlsConnection::OnHeader, shared_from_this()));
  }

  void OnHeader(error_code ec, std::size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    auto& req = parser_->get();
    if (parser_->content_length() && *parser_->content_length() > limits().max_body_bytes) {
      return Reject(413, "too_large", "the request body is larger than the server accepts");
    }
    beast::get_lowest_layer(stream_).expires_after(limits().body_timeout);
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       req.version());
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](error_code wec, std::size_t) {
                           if (wec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&TlsConnection::OnBody, shared_from_this()));
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::eof || ec == asio::error::connection_reset) {
      return Close();  // A slow client's timer has already closed the socket.
    }
    busy_ = true;
    if (ec == bhttp::error::header_limit) {
      return Reject(431, "header_too_large",
                    "the request header is larger than the server accepts");
    }
    if (ec == bhttp::error::body_limit) {
      return Reject(413, "too_large", "the request body is larger than the server accepts");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return Reject(400, "bad_request", "the request is not valid HTTP/1.1");
    }
    Close();
  }

  void OnBody(error_code ec, std::size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    server_.requests++;
    auto msg = parser_->release();
    auto req = std::make_shared<HttpRequest>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    req->client_address = client_address_;
    req->client_cert_sha256 = cert_sha256_;
    req->request_id = NewRequestId();
    keep_alive_ = msg.keep_alive();
    for (const auto& field : msg) {
      req->headers.emplace_back(AsciiLower(field.name_string()), std::string(field.value()));
    }
    req->body = std::move(msg.body());
    if (!ParseTarget(req->target, req->path, req->query)) {
      return Reject(400, "bad_request", "the request target is malformed", req);
    }
    // The handler may block (durable commits, Argon2): run it on the worker pool.
    asio::post(server_.workers, [self = shared_from_this(), req] {
      HttpResponse res;
      res = self->server_.handler(*req);
      asio::post(self->stream_.get_executor(),
                 [self, req, r = std::move(res)]() mutable { self->Write(*req, std::move(r)); });
    });
  }

  void Reject(int status, std::string_view code, std::string_view message,
              std::shared_ptr<HttpRequest> req = nullptr) {
    if (!req) {
      req = std::make_shared<HttpRequest>();
      req->client_address = client_address_;
      req->request_id = NewRequestId();
      if (parser_ && parser_->is_header_done()) {
        req->method = std::string(parser_->get().method_string());
        req->target = std::string(parser_->get().target());
      }
    }
    keep_alive_ = false;
    HttpResponse res = JsonError(status, code, message, req->request_id);
    if (server_.options.on_rejected) {
      // Auditing commits durably: not on an I/O thread.
      asio::post(server_.workers,
                 [cb = &server_.options.on_rejected, req, res] { (*cb)(*req, res); });
    }
    Write(*req, std::move(res));
  }

  void Write(const HttpRequest& req, HttpResponse r) {
    res_.emplace();
    res_->version(11);
    res_->result(static_cast<unsigned>(r.status));
    AddStandardHeaders(*res_, req.request_id);
    if (!r.content_type.empty()) res_->set(bhttp::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res_->insert(name, value);
    res_->body() = std::move(r.body);
    res_->keep_alive(keep_alive_ && !server_.stopping);
    res_->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(limits().write_timeout);
    bhttp::async_write(stream_, *res_,
                       beast::bind_front_handler(&TlsConnection::OnWrite, shared_from_this()));
  }

  void OnWrite(error_code ec, std::size_t /*bytes*/) {
    busy_ = false;
    const bool close = ec || !res_->keep_alive();
    res_.reset();
    if (close) return Close();
    ReadHeader();
  }

  void Close() {
    if (closing_) return;
    closing_ = true;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](error_code) {
      error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().close(ignored);
    });
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  std::string client_address_;
  std::string cert_sha256_;
  bool first_ = true;
  bool busy_ = false;
  bool keep_alive_ = false;
  bool closing_ = false;
};

void Server::Impl::Register(const std::shared_ptr<TlsConnection>& s) {
  MutexLock lock(mu);
  sessions.emplace(s.get(), s);
}

void Server::Impl::Unregister(TlsConnection* s) {
  MutexLock lock(mu);
  sessions.erase(s);
  cv.SignalAll();
}

std::vector<std::shared_ptr<TlsConnection>> Server::Impl::Live() {
  std::vector<std::shared_ptr<TlsConnection>> live;
  MutexLock lock(mu);
  live.reserve(sessions.size());
  for (auto& [ptr, weak] : sessions) {
    if (auto p = weak.lock()) live.push_back(std::move(p));
  }
  return live;
}

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      return Accept();  // EMFILE and friends: keep serving the others.
    }
    if (stopping) return;
    connections++;
    if (Open() >= options.limits.max_connections) {
      refused++;
      error_code ignored;
      socket.close(ignored);
      return Accept();
    }
    // Responses go out as header and body writes: without this, Nagle's algorithm holds the
    // second until the client's delayed ACK (40 ms per request on Linux).
    error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    auto session = std::make_shared<TlsConnection>(std::move(socket), *this);
    Register(session);
    session->Start();
    Accept();
  });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, HttpHandler handler) {
  auto impl = std::make_unique<Impl>(options);
  impl->handler = std::move(handler);
  SSL_CTX* ctx = impl->ssl.native_handle();
  SSL_CTX_set_min_proto_version(ctx, options.tls.allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    return InternalError("the TLS library refused hokan's cipher configuration");
  }
  error_code ec;
  impl->ssl.use_certificate_chain_file(options.tls.cert_file, ec);
  if (ec) {
    return InvalidArgumentError("cannot load the TLS certificate " + options.tls.cert_file + " (" +
                                ec.message() + ")");
  }
  impl->ssl.use_private_key_file(options.tls.key_file, asio::ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgumentError("cannot load the TLS private key " + options.tls.key_file +
                                " or it does not match the certificate");
  }
  if (!options.tls.client_ca_file.empty()) {
    impl->ssl.load_verify_file(options.tls.client_ca_file, ec);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.tls.client_ca_file.c_str());
    if (ec || names == nullptr) {
      return InvalidArgumentError("cannot load the client CA file " + options.tls.client_ca_file);
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    impl->ssl.set_verify_mode(
        asio::ssl::verify_peer |
        (options.tls.require_client_cert ? asio::ssl::verify_fail_if_no_peer_cert : 0));
  }

  error_code aec;
  const asio::ip::address address = asio::ip::make_address(options.address, aec);
  if (aec) return InvalidArgumentError("listen address '" + options.address + "' is not an IP");
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), aec);
  if (!aec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), aec);
  if (!aec) impl->acceptor.bind(endpoint, aec);
  if (!aec) impl->acceptor.listen(asio::socket_base::max_listen_connections, aec);
  if (aec) {
    return UnavailableError("cannot listen on " + options.address + ":" +
                            std::to_string(options.port) + " (" + aec.message() + ")");
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  unsigned n = options.io_threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    impl->threads.emplace_back([io = &impl->ioc] { io->run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const { return impl_->port; }

Server::Stats Server::stats() const {
  return Stats{.connections = impl_->connections,
               .refused = impl_->refused,
               .requests = impl_->requests,
               .open = impl_->Open()};
}

void Server::Shutdown() {
  Impl& s = *impl_;
  {
    MutexLock lock(s.mu);
    if (s.shut_down) return;
    s.shut_down = true;
    s.shutdown_requested = true;
    s.cv.SignalAll();
  }
  s.stopping = true;
  asio::post(s.ioc, [&s] {
    error_code ignored;
    s.acceptor.close(ignored);
  });
  // Idle connections close now; busy ones finish their request (keep-alive is off).
  const auto deadline = std::chrono::steady_clock::now() + s.options.shutdown_grace;
  for (;;) {
    std::vector<std::shared_ptr<TlsConnection>> live = s.Live();
    if (live.empty()) break;
    for (auto& p : live) p->StopIfIdle();
    live.clear();  // Without the lock: ~TlsConnection takes it.
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    MutexLock lock(s.mu);
    if (!s.sessions.empty()) {
      (void)s.cv.WaitUntil(s.mu, std::min(deadline, now + std::chrono::milliseconds(100)));
    }
  }
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.workers.join();
}

void Server::WaitForSignalOrShutdown() {
  Impl& s = *impl_;
  asio::signal_set signals(s.ioc, SIGINT, SIGTERM);
  signals.async_wait([&s](error_code ec, int) {
    if (ec) return;
    MutexLock lock(s.mu);
    s.shutdown_requested = true;
    s.cv.SignalAll();
  });
  {
    MutexLock lock(s.mu);
    while (!s.shutdown_requested) s.cv.Wait(s.mu);
  }
  error_code ignored;
  signals.cancel(ignored);
  Shutdown();
}

}  // namespace hokan
