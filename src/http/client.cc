#include "http/client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace hokan {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

int VersionNumber(std::string_view v) {
  if (v == "TLSv1") return TLS1_VERSION;
  if (v == "TLSv1.1") return TLS1_1_VERSION;
  if (v == "TLSv1.2") return TLS1_2_VERSION;
  if (v == "TLSv1.3") return TLS1_3_VERSION;
  return 0;
}

}  // namespace

std::optional<std::string_view> ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

struct HttpsClient::Impl {
  explicit Impl(const ClientOptions& o) : options(o) {}
  ClientOptions options;
  asio::io_context ioc;
  asio::ssl::context ssl{asio::ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_storage;  // Made once configured.
  beast::ssl_stream<beast::tcp_stream>& stream() { return *stream_storage; }
  beast::flat_buffer buffer;

  // Runs the io_context until the started operation completes or the timeout passes.
  void RunFor() {
    ioc.restart();
    ioc.run_for(options.timeout);
    if (!ioc.stopped()) {
      beast::get_lowest_layer(stream()).cancel();
      ioc.run();
    }
  }
};

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::~HttpsClient() = default;

Result<std::unique_ptr<HttpsClient>> HttpsClient::Connect(const ClientOptions& options) {
  // The context is configured before the stream is made from it.
  auto impl = std::make_unique<Impl>(options);
  SSL_CTX* ctx = impl->ssl.native_handle();
  if (const int v = VersionNumber(options.min_version)) SSL_CTX_set_min_proto_version(ctx, v);
  if (const int v = VersionNumber(options.max_version)) SSL_CTX_set_max_proto_version(ctx, v);
  if (!options.tls12_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx, options.tls12_ciphers.c_str()) != 1) {
    return InvalidArgumentError("cipher list not understood: " + options.tls12_ciphers);
  }
  beast::error_code ec;
  if (!options.ca_file.empty()) {
    impl->ssl.load_verify_file(options.ca_file, ec);
    if (ec) return InvalidArgumentError("cannot load CA file " + options.ca_file);
    impl->ssl.set_verify_mode(asio::ssl::verify_peer);
  } else {
    impl->ssl.set_verify_mode(asio::ssl::verify_none);
  }
  if (!options.cert_file.empty()) {
    impl->ssl.use_certificate_chain_file(options.cert_file, ec);
    if (!ec) impl->ssl.use_private_key_file(options.key_file, asio::ssl::context::pem, ec);
    if (ec) return InvalidArgumentError("cannot load client certificate " + options.cert_file);
  }
  impl->stream_storage.emplace(impl->ioc, impl->ssl);
  SSL_set_tlsext_host_name(impl->stream().native_handle(), options.server_name.c_str());
  if (!options.ca_file.empty()) {
    SSL_set1_host(impl->stream().native_handle(), options.server_name.c_str());
  }

  const asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgumentError("not an IP address: " + options.host);
  beast::get_lowest_layer(impl->stream()).expires_after(options.timeout);
  beast::error_code result = asio::error::would_block;
  beast::get_lowest_layer(impl->stream())
      .async_connect(tcp::endpoint(address, options.port),
                     [&](beast::error_code e) { result = e; });
  impl->RunFor();
  if (result) return UnavailableError("cannot connect: " + result.message());
  beast::error_code nodelay_ec;  // Small requests must not wait for delayed ACKs.
  beast::get_lowest_layer(impl->stream()).socket().set_option(tcp::no_delay(true), nodelay_ec);
  result = asio::error::would_block;
  impl->stream().async_handshake(asio::ssl::stream_base::client,
                                 [&](beast::error_code e) { result = e; });
  impl->RunFor();
  if (result) return UnavailableError("TLS handshake failed: " + result.message());
  beast::get_lowest_layer(impl->stream()).expires_never();
  return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
}

Result<ClientResponse> HttpsClient::Send(std::string_view method, std::string_view target,
                                         const HeaderList& headers, std::string_view body) {
  Impl& s = *impl_;
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, s.options.server_name);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::string(body);
  req.prepare_payload();
  req.keep_alive(true);

  beast::get_lowest_layer(s.stream()).expires_after(s.options.timeout);
  beast::error_code result = asio::error::would_block;
  bhttp::async_write(s.stream(), req, [&](beast::error_code e, std::size_t) { result = e; });
  s.RunFor();
  if (result) return UnavailableError("sending the request failed: " + result.message());

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1ull << 31);
  result = asio::error::would_block;
  bhttp::async_read(s.stream(), s.buffer, parser,
                    [&](beast::error_code e, std::size_t) { result = e; });
  s.RunFor();
  if (result) return UnavailableError("reading the response failed: " + result.message());
  auto msg = parser.release();
  ClientResponse out;
  out.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg) {
    out.headers.emplace_back(AsciiLower(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(msg.body());
  return out;
}

Status HttpsClient::WriteRaw(std::string_view bytes) {
  Impl& s = *impl_;
  beast::get_lowest_layer(s.stream()).expires_after(s.options.timeout);
  beast::error_code result = asio::error::would_block;
  asio::async_write(s.stream(), asio::buffer(bytes.data(), bytes.size()),
                    [&](beast::error_code e, std::size_t) { result = e; });
  s.RunFor();
  if (result) return UnavailableError("write failed: " + result.message());
  return OkStatus();
}

RawRead HttpsClient::ReadUntilClose(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  RawRead r;
  std::string& out = r.data;
  out.assign(static_cast<const char*>(s.buffer.data().data()), s.buffer.size());
  s.buffer.consume(s.buffer.size());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[4096];
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return r;
    beast::get_lowest_layer(s.stream()).expires_at(deadline);
    beast::error_code result = asio::error::would_block;
    std::size_t n = 0;
    s.stream().async_read_some(asio::buffer(chunk), [&](beast::error_code e, std::size_t got) {
      result = e;
      n = got;
    });
    s.ioc.restart();
    s.ioc.run();
    out.append(chunk, n);
    if (result == beast::error::timeout) return r;
    if (result) {  // Closed (EOF, truncated, reset).
      r.closed = true;
      return r;
    }
  }
}

std::string HttpsClient::tls_version() const {
  return SSL_get_version(impl_->stream().native_handle());
}

std::string HttpsClient::cipher() const {
  const char* c = SSL_get_cipher_name(impl_->stream().native_handle());
  return c ? c : "";
}

}  // namespace hokan
