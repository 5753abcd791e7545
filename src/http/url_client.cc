#include "http/url_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/encoding.h"
#include "base/mutex.h"
#include "base/scope_exit.h"
#include "http/http.h"

namespace hokan {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using beast::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;

struct ParsedUrl {
  bool https = false;
  std::string host;                     // Lower case; an IPv6 literal without its brackets.
  std::optional<asio::ip::address> ip;  // Set when the host is an IP literal.
  std::uint16_t port = 0;
  std::string target;       // Path and query, as sent in the request line.
  std::string host_header;  // host[:port] as the Host header wants it.
  std::string origin;       // scheme://host:port: the only part of the URL messages show.
  std::string credentials;  // "user:password", percent-decoded; empty without userinfo.
};

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Visible ASCII only: a URL with spaces, controls or raw UTF-8 is refused rather than guessed at.
bool IsUrlChar(char c) { return c > 0x20 && c < 0x7f; }

// Header values: no CR, LF or other controls (they would split the request); tab is allowed.
bool IsHeaderValue(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Status BadUrl(std::string_view why) {
  return InvalidArgumentError("malformed URL: " + std::string(why));
}

// scheme://[user[:password]@]host[:port][/path][?query][#fragment], RFC 3986 syntax restricted
// to what an HTTP client needs. Nothing of the URL is echoed in these messages: the caller's
// URL may carry credentials anywhere.
Result<ParsedUrl> ParseUrl(const std::string& url) {
  for (const char c : url) {
    if (!IsUrlChar(c)) return BadUrl("it contains spaces, control or non-ASCII characters");
  }
  const std::size_t sep = url.find("://");
  if (sep == std::string::npos) return BadUrl("it has no scheme://");
  const std::string scheme = AsciiLower(url.substr(0, sep));
  ParsedUrl out;
  if (scheme == "https") {
    out.https = true;
  } else if (scheme != "http") {
    return InvalidArgumentError("only http:// and https:// URLs are supported");
  }
  const std::string_view rest = std::string_view(url).substr(sep + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  path_query = path_query.substr(0, path_query.find('#'));  // The fragment is not sent.

  // The last '@' ends the userinfo: an unencoded '@' in a password is common enough.
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    std::optional<std::string> user = PercentDecode(userinfo.substr(0, colon));
    std::optional<std::string> password =
        colon == std::string_view::npos ? std::string() : PercentDecode(userinfo.substr(colon + 1));
    if (!user || !password) return BadUrl("the user information has a bad percent escape");
    if (user->find(':') != std::string::npos) {
      return BadUrl("the user name contains ':', which Basic authentication cannot carry");
    }
    if (!userinfo.empty()) out.credentials = *user + ":" + *password;
  }

  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl("an IPv6 address lacks its ']'");
    out.host = AsciiLower(authority.substr(1, close - 1));
    error_code ec;
    const asio::ip::address_v6 v6 = asio::ip::make_address_v6(out.host, ec);
    if (ec || out.host.find('%') != std::string::npos) {
      return BadUrl("the host is not an IPv6 address");
    }
    out.ip = asio::ip::address(v6);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl("unexpected characters after the IPv6 address");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = AsciiLower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return BadUrl("the host is empty");
    for (const char c : out.host) {
      if (!IsAsciiAlnum(c) && c != '-' && c != '.' && c != '_') {
        return BadUrl("the host contains characters not allowed in a host name");
      }
    }
    error_code ec;
    const asio::ip::address_v4 v4 = asio::ip::make_address_v4(out.host, ec);
    if (!ec) out.ip = asio::ip::address(v4);
  }

  const std::uint16_t default_port = out.https ? 443 : 80;
  out.port = default_port;
  if (has_port && !port_text.empty()) {  // RFC 3986 allows "host:" for the default port.
    if (port_text.size() > 5) return BadUrl("the port is out of range");
    std::uint32_t port = 0;
    for (const char c : port_text) {
      if (c < '0' || c > '9') return BadUrl("the port is not a number");
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) return BadUrl("the port is out of range");
    out.port = static_cast<std::uint16_t>(port);
  }

  out.target = path_query.empty() || path_query.front() == '?' ? "/" + std::string(path_query)
                                                               : std::string(path_query);
  const std::string bracketed = out.ip && out.ip->is_v6() ? "[" + out.host + "]" : out.host;
  out.host_header =
      out.port == default_port ? bracketed : bracketed + ":" + std::to_string(out.port);
  out.origin = scheme + "://" + bracketed + ":" + std::to_string(out.port);
  return out;
}

// getaddrinfo() cannot be cancelled and may block far longer than any deadline, so it runs on
// a detached thread that owns its share of the state; a caller who gives up leaves it to
// finish on its own.
struct Resolution {
  Mutex mu;
  CondVar cv;
  bool done HK_GUARDED_BY(mu) = false;
  int error HK_GUARDED_BY(mu) = 0;
  std::vector<tcp::endpoint> endpoints HK_GUARDED_BY(mu);
};

void ResolveBlocking(const std::shared_ptr<Resolution>& state, const std::string& host,
                     std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  std::vector<tcp::endpoint> endpoints;
  for (const addrinfo* ai = rc == 0 ? list : nullptr; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(sockaddr_in)) {
      sockaddr_in sin{};
      std::memcpy(&sin, ai->ai_addr, sizeof sin);
      asio::ip::address_v4::bytes_type b{};
      std::memcpy(b.data(), &sin.sin_addr, b.size());
      endpoints.emplace_back(asio::ip::address_v4(b), port);
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(sockaddr_in6)) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, ai->ai_addr, sizeof sin6);
      asio::ip::address_v6::bytes_type b{};
      std::memcpy(b.data(), &sin6.sin6_addr, b.size());
      endpoints.emplace_back(asio::ip::address_v6(b, sin6.sin6_scope_id), port);
    }
  }
  if (list != nullptr) ::freeaddrinfo(list);
  MutexLock lock(state->mu);
  state->done = true;
  state->error = rc;
  state->endpoints = std::move(endpoints);
  state->cv.SignalAll();
}

Result<std::vector<tcp::endpoint>> Resolve(const ParsedUrl& url, Clock::time_point deadline,
                                           const UrlPostOptions& options) {
  if (url.ip) return std::vector<tcp::endpoint>{tcp::endpoint(*url.ip, url.port)};
  auto state = std::make_shared<Resolution>();
  std::thread([state, host = url.host, port = url.port] {
    ResolveBlocking(state, host, port);
  }).detach();
  MutexLock lock(state->mu);
  while (!state->done) {
    if (!state->cv.WaitUntil(state->mu, deadline) && !state->done) {
      return UnavailableError("resolving " + url.host + " took longer than the " +
                              std::to_string(options.timeout.count()) + " ms allowed");
    }
  }
  if (state->error != 0) {
    return UnavailableError("cannot resolve " + url.host + ": " + ::gai_strerror(state->error));
  }
  if (state->endpoints.empty()) {
    return UnavailableError("cannot resolve " + url.host + ": it has no IP address");
  }
  return std::move(state->endpoints);
}

// One request on one connection. Every operation shares the stream's deadline, so the whole
// exchange ends by then however the server behaves.
class Exchange {
 public:
  Exchange(const ParsedUrl& url, const UrlPostOptions& options, Clock::time_point deadline)
      : url_(url), options_(options), deadline_(deadline) {}

  Result<std::string> Run(const std::vector<tcp::endpoint>& endpoints,
                          bhttp::request<bhttp::string_body>& request) {
    if (!url_.https) {
      beast::tcp_stream stream(ioc_);
      HK_RETURN_IF_ERROR(Connect(stream, endpoints));
      return SendAndRead(stream, stream, request);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    HK_RETURN_IF_ERROR(ConfigureTls(ctx));
    beast::ssl_stream<beast::tcp_stream> stream(ioc_, ctx);
    HK_RETURN_IF_ERROR(ConfigureSession(stream.native_handle()));
    HK_RETURN_IF_ERROR(Connect(beast::get_lowest_layer(stream), endpoints));
    HK_RETURN_IF_ERROR(Handshake(stream));
    return SendAndRead(stream, beast::get_lowest_layer(stream), request);
  }

 private:
  std::string TimeoutText() const {
    return "within the " + std::to_string(options_.timeout.count()) + " ms allowed";
  }
  bool TimedOut(const error_code& ec) const {
    return ec == beast::error::timeout || Clock::now() >= deadline_;
  }

  // Runs the operation just started on `lowest` to completion. The stream's own timer ends it
  // at the deadline; the grace period only guards against an operation that ignores the timer.
  void Wait(beast::tcp_stream& lowest) {
    ioc_.restart();
    ioc_.run_until(deadline_ + std::chrono::seconds(1));
    if (!ioc_.stopped()) {
      lowest.close();
      ioc_.run();
    }
  }

  Status ConfigureTls(asio::ssl::context& ctx) {
    SSL_CTX* native = ctx.native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
      return InternalError("cannot require TLS 1.2 or later");
    }
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    error_code ec;
    if (!options_.ca_file.empty()) {
      ctx.load_verify_file(options_.ca_file, ec);
      if (ec) return InvalidArgumentError("cannot load the CA file " + options_.ca_file);
    } else {
      ctx.set_default_verify_paths(ec);
      if (ec) return UnavailableError("cannot load the system's trusted CA certificates");
    }
    return OkStatus();
  }

  // SNI and the name the certificate must carry: a DNS name, or an IP address (which SNI must
  // not carry, RFC 6066 section 3).
  Status ConfigureSession(SSL* ssl) {
    if (url_.ip) {
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str()) != 1) {
        return InternalError("cannot set the IP address to verify");
      }
      return OkStatus();
    }
    std::string name = url_.host;
    if (name.size() > 1 && name.back() == '.') name.pop_back();  // "example.jp." is absolute.
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1 || SSL_set1_host(ssl, name.c_str()) != 1) {
      return InternalError("cannot set the host name to verify");
    }
    return OkStatus();
  }

  Status Connect(beast::tcp_stream& stream, const std::vector<tcp::endpoint>& endpoints) {
    stream.expires_at(deadline_);
    error_code result = asio::error::would_block;
    stream.async_connect(endpoints, [&](error_code ec, const tcp::endpoint&) { result = ec; });
    Wait(stream);
    if (result) {
      if (TimedOut(result)) {
        return UnavailableError("no connection to " + url_.origin + " " + TimeoutText());
      }
      return UnavailableError("cannot connect to " + url_.origin + ": " + result.message());
    }
    error_code ignored;  // A small request must not wait for delayed ACKs.
    stream.socket().set_option(tcp::no_delay(true), ignored);
    return OkStatus();
  }

  Status Handshake(beast::ssl_stream<beast::tcp_stream>& stream) {
    beast::get_lowest_layer(stream).expires_at(deadline_);
    error_code result = asio::error::would_block;
    stream.async_handshake(asio::ssl::stream_base::client, [&](error_code ec) { result = ec; });
    Wait(beast::get_lowest_layer(stream));
    if (!result) return OkStatus();
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) {
      return UnavailableError("the TLS certificate of " + url_.origin +
                              " was refused: " + X509_verify_cert_error_string(verify));
    }
    if (TimedOut(result)) {
      return UnavailableError("no TLS handshake with " + url_.origin + " " + TimeoutText());
    }
    return UnavailableError("the TLS handshake with " + url_.origin +
                            " failed: " + result.message());
  }

  template <typename Stream>
  Result<std::string> SendAndRead(Stream& stream, beast::tcp_stream& lowest,
                                  bhttp::request<bhttp::string_body>& request) {
    lowest.expires_at(deadline_);
    error_code result = asio::error::would_block;
    bhttp::async_write(stream, request, [&](error_code ec, std::size_t) { result = ec; });
    Wait(lowest);
    if (result) {
      if (TimedOut(result)) {
        return UnavailableError("sending the request to " + url_.origin + " did not finish " +
                                TimeoutText());
      }
      return UnavailableError("sending the request to " + url_.origin +
                              " failed: " + result.message());
    }

    beast::flat_buffer buffer;
    for (;;) {
      bhttp::response_parser<bhttp::string_body> parser;
      parser.header_limit(kMaxHeaderBytes);
      parser.body_limit(static_cast<std::uint64_t>(options_.max_response_bytes));
      result = asio::error::would_block;
      bhttp::async_read_header(stream, buffer, parser,
                               [&](error_code ec, std::size_t) { result = ec; });
      Wait(lowest);
      if (result) return ReadError(result);
      const unsigned status = parser.get().result_int();
      // Interim answers (100 Continue, 103 Early Hints) have no body and precede the real one.
      if (status >= 100 && status < 200 && status != 101) continue;
      const ScopeExit closer([&lowest] {
        error_code ignored;
        lowest.socket().close(ignored);  // One-shot: no TLS goodbye, nothing more to read.
      });
      if (status >= 300 && status < 400) {
        return UnavailableError(url_.origin + " answered HTTP " + std::to_string(status) +
                                ", a redirect, which is not followed");
      }
      if (status != 200) {
        return UnavailableError(url_.origin + " answered HTTP " + std::to_string(status));
      }
      // Boost 1.74's parser does not always apply body_limit to a declared length when it reads
      // eagerly (as async_read does), so the length and the final size are checked here too.
      const auto length = parser.content_length();  // A boost::optional.
      if (length && *length > options_.max_response_bytes) return TooLarge();
      result = asio::error::would_block;
      bhttp::async_read(stream, buffer, parser, [&](error_code ec, std::size_t) { result = ec; });
      Wait(lowest);
      if (result) return ReadError(result);
      if (parser.get().body().size() > options_.max_response_bytes) return TooLarge();
      return std::move(parser.get().body());
    }
  }

  Status TooLarge() const {
    return UnavailableError("the answer from " + url_.origin + " is larger than " +
                            std::to_string(options_.max_response_bytes) + " bytes");
  }

  Status ReadError(const error_code& ec) const {
    if (ec == bhttp::error::body_limit) return TooLarge();
    if (ec == bhttp::error::header_limit) {
      return UnavailableError("the answer's header from " + url_.origin + " is too large");
    }
    if (TimedOut(ec)) {
      return UnavailableError("no answer from " + url_.origin + " " + TimeoutText());
    }
    if (ec == bhttp::error::end_of_stream) {
      return UnavailableError(url_.origin + " closed the connection without answering");
    }
    return UnavailableError("the answer from " + url_.origin +
                            " is incomplete or malformed: " + ec.message());
  }

  const ParsedUrl& url_;
  const UrlPostOptions& options_;
  const Clock::time_point deadline_;
  asio::io_context ioc_;
};

Result<std::string> Post(const std::string& url_text, std::string_view content_type,
                         std::string_view accept, std::string_view body,
                         const UrlPostOptions& options) {
  const Clock::time_point deadline = Clock::now() + options.timeout;
  HK_ASSIGN_OR_RETURN(const ParsedUrl url, ParseUrl(url_text));
  if (!IsHeaderValue(content_type) || !IsHeaderValue(accept) ||
      !IsHeaderValue(options.user_agent)) {
    return InvalidArgumentError("a header value contains control characters");
  }
  bhttp::request<bhttp::string_body> request(bhttp::verb::post, url.target, 11);
  request.set(bhttp::field::host, url.host_header);
  if (!options.user_agent.empty()) request.set(bhttp::field::user_agent, options.user_agent);
  if (!content_type.empty()) request.set(bhttp::field::content_type, content_type);
  if (!accept.empty()) request.set(bhttp::field::accept, accept);
  if (!url.credentials.empty()) {
    request.set(bhttp::field::authorization, "Basic " + Base64Encode(AsBytes(url.credentials)));
  }
  request.keep_alive(false);
  request.body().assign(body.data(), body.size());
  request.prepare_payload();  // Content-Length.

  HK_ASSIGN_OR_RETURN(const std::vector<tcp::endpoint> endpoints, Resolve(url, deadline, options));
  Exchange exchange(url, options, deadline);
  return exchange.Run(endpoints, request);
}

}  // namespace

Result<std::string> PostUrl(const std::string& url, std::string_view content_type,
                            std::string_view accept, std::string_view body,
                            const UrlPostOptions& options) {
  // Asio and Beast throw on resource exhaustion (no thread, no memory, no TLS context): that
  // is transient for the caller, and no exception leaves this module.
  try {
    return Post(url, content_type, accept, body, options);
  } catch (const std::exception& e) {
    return UnavailableError(std::string("the HTTP POST could not be made: ") + e.what());
  }
}

}  // namespace hokan
