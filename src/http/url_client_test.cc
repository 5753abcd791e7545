// PostUrl on real sockets over loopback: plain HTTP against a raw socket server that records
// the request and answers canned bytes (or nothing), and HTTPS against hokan's own TLS server
// with certificates made here.
#include "http/url_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "base/bytes.h"
#include "base/check.h"
#include "base/encoding.h"
#include "http/http.h"
#include "http/server.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kQueryType = "application/timestamp-query";
constexpr const char* kReplyType = "application/timestamp-reply";

// ---------------------------------------------------------------------------------------------
// A raw HTTP server: one connection at a time, reads one request (header and Content-Length
// body), records it, then answers with canned bytes, stays silent, or closes.

enum class Behaviour { kAnswer, kSilent, kClose };

class RawServer {
 public:
  explicit RawServer(std::string answer, Behaviour behaviour = Behaviour::kAnswer,
                     int family = AF_INET)
      : answer_(std::move(answer)), behaviour_(behaviour) {
    fd_ = ::socket(family, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_addr = in6addr_loopback;
      bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      socklen_t len = sizeof addr;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin6_port);
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      socklen_t len = sizeof addr;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
    bound_ = bound_ && ::listen(fd_, 8) == 0;
    if (bound_) thread_ = std::thread([this] { Serve(); });
  }
  ~RawServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  bool bound() const { return bound_; }
  std::uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/tsa") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::string request() const {
    std::lock_guard lock(mu_);
    return request_;
  }

 private:
  // Waits for `fd` to become readable; false when stopping.
  bool WaitReadable(int fd) const {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void Serve() {
    while (WaitReadable(fd_)) {
      const int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      Handle(conn);
      ::close(conn);
    }
  }

  void Handle(int conn) {
    std::string got;
    std::size_t want = std::string::npos;  // Total bytes once the header is known.
    char chunk[4096];
    while (got.size() < want && WaitReadable(conn)) {
      const ssize_t n = ::recv(conn, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      got.append(chunk, static_cast<std::size_t>(n));
      const std::size_t end = got.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        std::size_t length = 0;
        const std::string header = AsciiLower(got.substr(0, end));
        if (const std::size_t cl = header.find("\r\ncontent-length:"); cl != std::string::npos) {
          length = std::stoul(header.substr(cl + 17));
        }
        want = end + 4 + length;
      }
    }
    {
      std::lock_guard lock(mu_);
      request_ = got;
    }
    switch (behaviour_) {
      case Behaviour::kAnswer:
        for (std::size_t sent = 0; sent < answer_.size();) {
          const ssize_t n =
              ::send(conn, answer_.data() + sent, answer_.size() - sent, MSG_NOSIGNAL);
          if (n <= 0) break;
          sent += static_cast<std::size_t>(n);
        }
        ::shutdown(conn, SHUT_WR);
        WaitReadable(conn);  // Until the client closes: no reset that could eat the answer.
        break;
      case Behaviour::kSilent:
        while (WaitReadable(conn)) {
          if (::recv(conn, chunk, sizeof chunk, 0) <= 0) break;
        }
        break;
      case Behaviour::kClose:
        break;
    }
  }

  const std::string answer_;
  const Behaviour behaviour_;
  int fd_ = -1;
  bool bound_ = false;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string request_;
  std::thread thread_;
};

std::string Answer(std::string_view status_line, std::string_view body,
                   std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::string(status_line) + "\r\nContent-Type: " + kReplyType +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "Connection: close\r\n\r\n" + std::string(body);
}

struct SeenRequest {
  std::string request_line;
  std::map<std::string, std::string> headers;  // Lower-case names.
  std::string body;
};

SeenRequest Parse(const std::string& raw) {
  SeenRequest r;
  const std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  r.body = raw.substr(end + 4);
  std::size_t pos = raw.find("\r\n");
  r.request_line = raw.substr(0, pos);
  while (pos < end) {
    const std::size_t next = raw.find("\r\n", pos + 2);
    const std::string line = raw.substr(pos + 2, next - pos - 2);
    const std::size_t colon = line.find(':');
    std::size_t value = colon + 1;
    while (value < line.size() && line[value] == ' ') ++value;
    r.headers[AsciiLower(line.substr(0, colon))] = line.substr(value);
    pos = next;
  }
  return r;
}

// A port on which nobody listens: bound once, then released.
std::uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  HK_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
           ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// DER-like bytes with NULs and high bytes: the body must travel untouched.
const std::string kQuery("\x30\x29\x02\x01\x01\x30\x00\xff\x0d\x0a", 10);
const std::string kReply("\x30\x82\x00\x03\x02\x01\x00\x00\xfe", 9);

// ---------------------------------------------------------------------------------------------
// Plain HTTP

TEST(PostUrlTest, PostsTheQueryAndReturnsTheBodyOf200) {
  RawServer server(Answer("200 OK", kReply));
  auto reply = PostUrl(server.url("/tsa?policy=1"), kQueryType, kReplyType, kQuery);
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);

  const SeenRequest seen = Parse(server.request());
  EXPECT_EQ(seen.request_line, "POST /tsa?policy=1 HTTP/1.1");
  EXPECT_EQ(seen.headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.headers.at("content-type"), kQueryType);
  EXPECT_EQ(seen.headers.at("accept"), kReplyType);
  EXPECT_EQ(seen.headers.at("content-length"), std::to_string(kQuery.size()));
  EXPECT_EQ(seen.headers.at("user-agent"), "hokan");
  EXPECT_EQ(seen.headers.at("connection"), "close");
  EXPECT_EQ(seen.headers.count("authorization"), 0U);
  EXPECT_EQ(seen.body, kQuery);
}

TEST(PostUrlTest, UserInfoIsSentAsBasicAuthentication) {
  RawServer server(Answer("200 OK", kReply));
  // Percent escapes are decoded; an unencoded '@' in the password is tolerated.
  const std::string url =
      "http://tsa%2Duser:p@ss%3Aw0rd@127.0.0.1:" + std::to_string(server.port()) + "/tsa";
  ASSERT_OK(PostUrl(url, kQueryType, "", kQuery));
  const SeenRequest seen = Parse(server.request());
  EXPECT_EQ(seen.headers.at("authorization"),
            "Basic " + Base64Encode(AsBytes("tsa-user:p@ss:w0rd")));
  EXPECT_EQ(seen.headers.count("accept"), 0U);
  EXPECT_EQ(seen.request_line, "POST /tsa HTTP/1.1");
}

TEST(PostUrlTest, EmptyPathBecomesSlashAndFragmentIsNotSent) {
  RawServer server(Answer("200 OK", kReply));
  ASSERT_OK(PostUrl("HTTP://127.0.0.1:" + std::to_string(server.port()) + "?a=b#frag", kQueryType,
                    kReplyType, kQuery));
  EXPECT_EQ(Parse(server.request()).request_line, "POST /?a=b HTTP/1.1");
}

TEST(PostUrlTest, HostNameIsResolved) {
  // "localhost" may resolve to ::1 first, where nobody listens: the next address is tried.
  RawServer server(Answer("200 OK", kReply));
  auto reply = PostUrl("http://localhost:" + std::to_string(server.port()) + "/tsa", kQueryType,
                       kReplyType, kQuery);
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);
  EXPECT_EQ(Parse(server.request()).headers.at("host"),
            "localhost:" + std::to_string(server.port()));
}

TEST(PostUrlTest, Ipv6Literal) {
  RawServer server(Answer("200 OK", kReply), Behaviour::kAnswer, AF_INET6);
  if (!server.bound()) GTEST_SKIP() << "no IPv6 loopback here";
  auto reply = PostUrl("http://[::1]:" + std::to_string(server.port()) + "/tsa", kQueryType,
                       kReplyType, kQuery);
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);
  EXPECT_EQ(Parse(server.request()).headers.at("host"), "[::1]:" + std::to_string(server.port()));
}

TEST(PostUrlTest, BodyDelimitedByCloseAndChunkedBodiesAreRead) {
  RawServer by_close("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + kReply);
  auto reply = PostUrl(by_close.url(), kQueryType, kReplyType, kQuery);
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);

  RawServer chunked("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n" +
                    kReply.substr(0, 4) + "\r\n5\r\n" + kReply.substr(4) + "\r\n0\r\n\r\n");
  reply = PostUrl(chunked.url(), kQueryType, kReplyType, kQuery);
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);
}

TEST(PostUrlTest, InterimAnswersAreSkipped) {
  RawServer server("HTTP/1.1 100 Continue\r\n\r\n" + Answer("200 OK", kReply));
  auto reply = PostUrl(server.url(), kQueryType, kReplyType, kQuery);
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);
}

TEST(PostUrlTest, StatusOtherThan200IsUnavailable) {
  RawServer server(Answer("503 Service Unavailable", "busy"));
  EXPECT_THAT(PostUrl(server.url(), kQueryType, kReplyType, kQuery),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(PostUrl(server.url(), kQueryType, kReplyType, kQuery).error().message(),
              HasSubstr("HTTP 503"));

  RawServer created(Answer("201 Created", kReply));
  EXPECT_THAT(PostUrl(created.url(), kQueryType, kReplyType, kQuery).error().message(),
              HasSubstr("HTTP 201"));
}

TEST(PostUrlTest, RedirectIsNotFollowed) {
  RawServer target(Answer("200 OK", kReply));
  RawServer server(Answer("302 Found", "", "Location: " + target.url() + "\r\n"));
  auto reply = PostUrl(server.url(), kQueryType, kReplyType, kQuery);
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), AllOf(HasSubstr("HTTP 302"), HasSubstr("redirect")));
  EXPECT_EQ(target.request(), "");
}

TEST(PostUrlTest, OversizeAnswerIsRefused) {
  const UrlPostOptions small{.max_response_bytes = 100};
  RawServer declared(Answer("200 OK", std::string(101, 'x')));
  auto reply = PostUrl(declared.url(), kQueryType, kReplyType, kQuery, small);
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("larger than 100 bytes"));

  // Without a Content-Length the limit holds as the bytes arrive.
  RawServer undeclared("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'x'));
  reply = PostUrl(undeclared.url(), kQueryType, kReplyType, kQuery, small);
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("larger than 100 bytes"));

  RawServer exact(Answer("200 OK", std::string(100, 'x')));
  EXPECT_OK(PostUrl(exact.url(), kQueryType, kReplyType, kQuery, small));
}

TEST(PostUrlTest, SilentServerTimesOut) {
  RawServer server("", Behaviour::kSilent);
  const auto start = std::chrono::steady_clock::now();
  auto reply = PostUrl(server.url(), kQueryType, kReplyType, kQuery,
                       {.timeout = std::chrono::milliseconds(300)});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("300 ms"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  EXPECT_EQ(Parse(server.request()).body, kQuery);  // The request went out; no answer came.
}

TEST(PostUrlTest, SilentServerTimesOutDuringTlsHandshake) {
  RawServer server("", Behaviour::kSilent);
  const auto start = std::chrono::steady_clock::now();
  auto reply = PostUrl("https://127.0.0.1:" + std::to_string(server.port()) + "/tsa", kQueryType,
                       kReplyType, kQuery, {.timeout = std::chrono::milliseconds(300)});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("300 ms"));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(PostUrlTest, ServerClosingWithoutAnswerIsUnavailable) {
  RawServer server("", Behaviour::kClose);
  auto reply = PostUrl(server.url(), kQueryType, kReplyType, kQuery);
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("without answering"));
}

TEST(PostUrlTest, GarbageAnswerIsUnavailable) {
  RawServer server("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  EXPECT_THAT(PostUrl(server.url(), kQueryType, kReplyType, kQuery),
              StatusIs(StatusCode::kUnavailable));
}

TEST(PostUrlTest, ConnectionRefusedIsUnavailable) {
  auto reply = PostUrl("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/tsa", kQueryType,
                       kReplyType, kQuery);
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("cannot connect to http://127.0.0.1:"));
}

TEST(PostUrlTest, UnresolvableHostIsUnavailable) {
  // RFC 6761: .invalid never resolves.
  EXPECT_THAT(PostUrl("http://tsa.hokan.invalid/tsa", kQueryType, kReplyType, kQuery,
                      {.timeout = std::chrono::seconds(2)}),
              StatusIs(StatusCode::kUnavailable));
}

TEST(PostUrlTest, MalformedUrlsAndOtherSchemesAreInvalidArguments) {
  for (const std::string url : {
           "",
           "127.0.0.1/tsa",
           "ftp://127.0.0.1/tsa",
           "file:///etc/passwd",
           "http//127.0.0.1/tsa",
           "http://",
           "http:///tsa",
           "http://:8080/tsa",
           "http://user@/tsa",
           "http://127.0.0.1:0/tsa",
           "http://127.0.0.1:65536/tsa",
           "http://127.0.0.1:123456/tsa",
           "http://127.0.0.1:8o/tsa",
           "http://127.0.0.1:-1/tsa",
           "http://[::1/tsa",
           "http://[::1]x/tsa",
           "http://[not-v6]/tsa",
           "http://[fe80::1%25eth0]/tsa",
           "http://tsa example.jp/tsa",
           "http://tsa.example.jp/a b",
           "http://tsa.example.jp/\r\nX-Injected: 1",
           "http://tsa!.example.jp/tsa",
           "http://t\xc3\xa4.example.jp/tsa",
           "http://us%zzer:pw@127.0.0.1/tsa",
           "http://user:pw%4@127.0.0.1/tsa",
       }) {
    SCOPED_TRACE(url);
    EXPECT_THAT(PostUrl(url, kQueryType, kReplyType, kQuery),
                StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST(PostUrlTest, HeaderValuesWithControlCharactersAreRefused) {
  RawServer server(Answer("200 OK", kReply));
  EXPECT_THAT(PostUrl(server.url(), "text/plain\r\nX-Injected: 1", kReplyType, kQuery),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(PostUrl(server.url(), kQueryType, "a\nb", kQuery),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(PostUrl(server.url(), kQueryType, kReplyType, kQuery, {.user_agent = "x\ry"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(server.request(), "");
}

TEST(PostUrlTest, MessagesNeverContainCredentialsQueryPathOrBody) {
  const std::string secret_body = "PATIENT-BODY-0123";
  const auto expect_clean = [&](const Result<std::string>& r) {
    ASSERT_FALSE(r.has_value());
    const std::string m = r.error().message();
    EXPECT_THAT(
        m, AllOf(Not(HasSubstr("alice")), Not(HasSubstr("s3cret")), Not(HasSubstr("TOPSECRET")),
                 Not(HasSubstr("apikey")), Not(HasSubstr("/tsa")), Not(HasSubstr(secret_body))))
        << m;
  };
  const auto url = [](std::uint16_t port, std::string_view scheme = "http") {
    return std::string(scheme) + "://alice:s3cret@127.0.0.1:" + std::to_string(port) +
           "/tsa/TOPSECRET?apikey=TOPSECRET";
  };
  {
    RawServer server(Answer("503 Service Unavailable", secret_body));
    expect_clean(PostUrl(url(server.port()), kQueryType, kReplyType, secret_body));
  }
  {
    RawServer server(Answer("301 Moved Permanently", "", "Location: /TOPSECRET\r\n"));
    expect_clean(PostUrl(url(server.port()), kQueryType, kReplyType, secret_body));
  }
  {
    RawServer server(Answer("200 OK", std::string(200, 'x')));
    expect_clean(PostUrl(url(server.port()), kQueryType, kReplyType, secret_body,
                         {.max_response_bytes = 10}));
  }
  {
    RawServer server("", Behaviour::kSilent);
    expect_clean(PostUrl(url(server.port()), kQueryType, kReplyType, secret_body,
                         {.timeout = std::chrono::milliseconds(200)}));
    expect_clean(PostUrl(url(server.port(), "https"), kQueryType, kReplyType, secret_body,
                         {.timeout = std::chrono::milliseconds(200)}));
  }
  {
    RawServer server("garbage TOPSECRET\r\n\r\n");
    expect_clean(PostUrl(url(server.port()), kQueryType, kReplyType, secret_body));
  }
  expect_clean(PostUrl(url(ClosedPort()), kQueryType, kReplyType, secret_body));
  expect_clean(PostUrl("http://alice:s3cret@127.0.0.1:99999/tsa?apikey=TOPSECRET", kQueryType,
                       kReplyType, secret_body));
  expect_clean(PostUrl("ftp://alice:s3cret@127.0.0.1/tsa?apikey=TOPSECRET", kQueryType, kReplyType,
                       secret_body));
  expect_clean(PostUrl("http://alice:s3cret@[::1/tsa?apikey=TOPSECRET", kQueryType, kReplyType,
                       secret_body));
}

// ---------------------------------------------------------------------------------------------
// HTTPS against hokan's own TLS server.

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed P-256 server certificate with these subjectAltName entries
// ("DNS:localhost,IP:127.0.0.1"). Made with OpenSSL directly: crypto/ is not a dependency of
// http/.
CertAndKey SelfSigned(const std::string& san) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  HK_CHECK(key && cert);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("hokan test TSA"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  for (const auto& [nid, value] :
       {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
        std::pair{NID_ext_key_usage, std::string("serverAuth")},
        std::pair{NID_subject_alt_name, san}}) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    HK_CHECK(ext != nullptr && X509_add_ext(cert.get(), ext, -1) == 1);
    X509_EXTENSION_free(ext);
  }
  HK_CHECK(X509_sign(cert.get(), key.get(), EVP_sha256()) != 0);
  std::unique_ptr<BIO, decltype(&BIO_free)> cbio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> kbio(BIO_new(BIO_s_mem()), BIO_free);
  HK_CHECK(PEM_write_bio_X509(cbio.get(), cert.get()) == 1);
  HK_CHECK(PEM_write_bio_PrivateKey(kbio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
           1);
  const auto text = [](BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  return {text(cbio.get()), text(kbio.get())};
}

class PostUrlHttpsTest : public ::testing::Test {
 protected:
  // Serves POST /tsa over TLS with a certificate for `san`; the certificate is also the CA
  // file the client trusts.
  void Start(const std::string& san, int status = 200) {
    const CertAndKey made = SelfSigned(san);
    ca_file_ = dir_.path() + "/tsa.crt";
    std::ofstream(ca_file_, std::ios::binary) << made.cert_pem;
    std::ofstream(dir_.path() + "/tsa.key", std::ios::binary) << made.key_pem;
    ServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.worker_threads = 2;
    options.tls.cert_file = ca_file_;
    options.tls.key_file = dir_.path() + "/tsa.key";
    auto server = Server::Start(options, [this, status](HttpRequest& req) {
      {
        std::lock_guard lock(mu_);
        seen_ = req;
      }
      HttpResponse r;
      if (req.method != "POST" || req.path != "/tsa") {
        r.status = 404;
        return r;
      }
      r.status = status;
      r.content_type = kReplyType;
      r.body = kReply;
      return r;
    });
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  std::string Url(std::string_view host) const {
    return "https://" + std::string(host) + ":" + std::to_string(server_->port()) + "/tsa";
  }
  HttpRequest Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  testing::TempDir dir_;
  std::string ca_file_;
  std::mutex mu_;
  HttpRequest seen_;
  std::unique_ptr<Server> server_;  // Last: stops before what its handler touches goes away.
};

TEST_F(PostUrlHttpsTest, VerifiedServerAnswers) {
  Start("DNS:localhost,IP:127.0.0.1");
  auto reply = PostUrl(Url("localhost"), kQueryType, kReplyType, kQuery, {.ca_file = ca_file_});
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);
  const HttpRequest seen = Seen();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.Header("content-type"), kQueryType);
  EXPECT_EQ(seen.Header("accept"), kReplyType);
  EXPECT_EQ(seen.body, kQuery);

  // By IP address: checked against the certificate's IP entry.
  reply = PostUrl(Url("127.0.0.1"), kQueryType, kReplyType, kQuery, {.ca_file = ca_file_});
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, kReply);
}

TEST_F(PostUrlHttpsTest, BasicAuthenticationGoesInsideTls) {
  Start("DNS:localhost");
  const std::string url =
      "https://tsa-user:pw@localhost:" + std::to_string(server_->port()) + "/tsa";
  ASSERT_OK(PostUrl(url, kQueryType, kReplyType, kQuery, {.ca_file = ca_file_}));
  EXPECT_EQ(Seen().Header("authorization"), "Basic " + Base64Encode(AsBytes("tsa-user:pw")));
}

TEST_F(PostUrlHttpsTest, UntrustedCertificateIsRefused) {
  Start("DNS:localhost,IP:127.0.0.1");
  // The system's trust store does not know this self-signed certificate.
  auto reply = PostUrl(Url("localhost"), kQueryType, kReplyType, kQuery);
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("certificate"));
  EXPECT_EQ(Seen().method, "");  // Nothing was sent.
}

TEST_F(PostUrlHttpsTest, CertificateForAnotherNameIsRefused) {
  Start("DNS:tsa.example.jp");
  auto reply = PostUrl(Url("localhost"), kQueryType, kReplyType, kQuery, {.ca_file = ca_file_});
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("hostname mismatch"));

  reply = PostUrl(Url("127.0.0.1"), kQueryType, kReplyType, kQuery, {.ca_file = ca_file_});
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("IP address mismatch"));
  EXPECT_EQ(Seen().method, "");
}

TEST_F(PostUrlHttpsTest, StatusOtherThan200IsUnavailable) {
  Start("DNS:localhost", 503);
  auto reply = PostUrl(Url("localhost"), kQueryType, kReplyType, kQuery, {.ca_file = ca_file_});
  EXPECT_THAT(reply, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(reply.error().message(), HasSubstr("HTTP 503"));
}

TEST_F(PostUrlHttpsTest, UnreadableCaFileIsInvalidArgument) {
  Start("DNS:localhost");
  EXPECT_THAT(PostUrl(Url("localhost"), kQueryType, kReplyType, kQuery,
                      {.ca_file = dir_.path() + "/missing.pem"}),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hokan
