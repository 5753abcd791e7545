// HTTPS API throughput and read latency, hokan against a peer measured with the same client.
//
// hokan: a fresh store is served by a child process (this same program, --mode serve) with
// the settings `hokan serve` uses: TLS 1.3, durable commits and blob fsyncs (sync on),
// production Argon2id cost, a physician with a care relationship to every patient used,
// authorisation and the audit log on (every request audited; a read's entry durable before
// the content is sent). Two-factor login is turned off in this store, as `hokan demo` does,
// so a password login gives a full session. Each client thread connects once, signs in
// once and reuses its session cookie over one keep-alive connection. --sync 0 turns the
// server's fsyncs off: a NON-DURABLE reference figure only.
//
// The client (the same for both peers) is a blocking HTTP/1.1 client over OpenSSL with
// TCP_NODELAY, one connection per thread; it runs in this process, the server in another,
// so the server's CPU time and memory are its own.
//
// Orthanc (--mode orthanc): the server is started by bench/run_https_benchmarks.sh; this
// program is only its client. It uploads encapsulated-PDF DICOM files made by dcmtk's
// pdf2dcm from the same PDF to POST /instances, each with its own SOP Instance UID (the
// template's placeholder UID is overwritten in place, same length), and reads them back
// with GET /instances/{id}/file.
//
// Phases (--phases, default "ingest,read"):
//   ingest   C client threads each POST the document until --seconds pass or --docs are
//            stored: docs/s, MB/s, latency percentiles (closed loop: each thread sends its
//            next request when the previous one is answered).
//   read     GET the content of stored documents at a fixed rate R (open loop, like wrk2:
//            request i is scheduled at t0 + i/R; any free client thread takes the next
//            slot; latency is measured from the scheduled time, so a slow server cannot
//            hide its queueing: no coordinated omission). Prints p50/p90/p99/max and the
//            achieved rate.
//   readmax  Closed-loop reads as fast as the C threads can: the read capacity.
// For each phase it also prints the server process's CPU time per request and its peak
// resident memory (VmHWM of the server process from /proc/<pid>/status, reset with
// /proc/<pid>/clear_refs before each phase), so both peers' memory is the server's own.
//
//   https_bench --mode make-pdf --out doc.pdf [--size 100000]
//   https_bench [--mode hokan] --dir /work/bench-scratch [--pdf doc.pdf] [--clients 16]
//               [--seconds 20] [--docs 0] [--rate 400] [--read-seconds 20]
//               [--phases ingest,read] [--patients 16] [--sync 1]
//   HK_BENCH_ORTHANC_PASSWORD=P https_bench --mode orthanc --url http://127.0.0.1:8042
//               --dicom-dir D --user U [--ca cert.pem] [--server-pid PID] [--storage-dir S] ...
//
// Prints a table per phase and one "RESULT key=value ..." line per phase for scripts.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/encoding.h"
#include "base/env.h"
#include "base/posix_env.h"
#include "bench_util.h"
#include "http/api_v1.h"
#include "http/server.h"
#include "service/api_service.h"
#include "service/archive.h"

namespace hokan::bench {
namespace {

// The placeholder SOP Instance UID the Orthanc templates are made with (pdf2dcm -k); each
// upload overwrites its last 22 digits. Even length, so no padding byte follows it.
constexpr std::string_view kUidPlaceholder = "2.25.98888888888888888888888";
constexpr std::size_t kUidFixedPrefix = 6;  // "2.25.9"

// --- the document --------------------------------------------------------------------------

// A valid one-page PDF of exactly `size` bytes: the page shows one 8-bit grey image (a
// "scan") whose samples are random, so the file does not compress. Deterministic.
std::string MakePdf(std::size_t size) {
  std::size_t samples = size > 1000 ? size - 1000 : 1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
    std::vector<std::size_t> offsets;
    auto object = [&](const std::string& text) {
      offsets.push_back(pdf.size());
      pdf += std::to_string(offsets.size()) + " 0 obj\n" + text + "\nendobj\n";
    };
    object("<< /Type /Catalog /Pages 2 0 R >>");
    object("<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /XObject << /Im1 5 0 R >> >> >>");
    const std::string draw = "q 595 0 0 842 0 0 cm /Im1 Do Q";
    object("<< /Length " + std::to_string(draw.size()) + " >>\nstream\n" + draw + "\nendstream");
    std::vector<std::uint8_t> pixels(samples);
    FastRandom(42).Fill(pixels);
    object("<< /Type /XObject /Subtype /Image /Width " + std::to_string(samples) +
           " /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length " +
           std::to_string(samples) + " >>\nstream\n" + std::string(pixels.begin(), pixels.end()) +
           "\nendstream");
    const std::size_t xref = pdf.size();
    pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
    for (std::size_t off : offsets) {
      char line[32];
      std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
      pdf += line;
    }
    pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) +
           " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    if (pdf.size() == size) return pdf;
    samples = samples + size - pdf.size();  // Converges once the digit counts settle.
  }
  Flags::Die("cannot make a PDF of exactly " + std::to_string(size) + " bytes");
}

// "P0001", "P0002", ...: patient `n` (from 1).
std::string PatientId(std::uint64_t n) {
  char id[32];
  std::snprintf(id, sizeof id, "P%04llu", static_cast<unsigned long long>(n));
  return id;
}

// --- the server process ----------------------------------------------------------------------

struct ProcSample {
  double cpu_seconds = 0;  // utime + stime.
  std::uint64_t hwm_kib = 0;
  std::uint64_t rss_kib = 0;
};

ProcSample SampleProcess(pid_t pid) {
  ProcSample s;
  if (pid <= 0) return s;
  const std::string base = "/proc/" + std::to_string(pid);
  const std::string stat = ReadSmallFile(base + "/stat");
  const std::size_t paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::stringstream ss(stat.substr(paren + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // Fields after the name start at 3 (state); utime and stime are 14 and 15.
    for (int i = 3; i <= 15 && ss >> field; ++i) {
      if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
      if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    s.cpu_seconds =
        static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  std::ifstream in(base + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return s;
}

// Resets the process's peak RSS (VmHWM) to its current RSS.
void ResetPeak(pid_t pid) {
  if (pid <= 0) return;
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
}

std::uint64_t DiskBytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0)
      total += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

// `hokan serve` in a child: makes the store, the physician and the care relationships,
// starts the server, writes "port\nuser\npassword\n" to --ready-fd and closes it, then
// serves until SIGTERM.
int Serve(const Flags& flags) {
  const std::string store = flags.Str("store", "");
  const int ready_fd = static_cast<int>(flags.U64("ready-fd", 0));
  const std::uint64_t patients = flags.U64("patients", 16);
  if (store.empty() || ready_fd <= 2) Flags::Die("serve needs --store and --ready-fd");
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  const Actor local{"local:bench", "bench"};
  ArchiveOptions init;
  init.configure = [](Config& c) { c.identity.require_two_factor = false; };
  Take(Archive::Init(env, store, local, init), "init");
  // Durable unless --sync 0 (a reference figure only, like ingest_bench's NON-DURABLE row).
  const bool sync = flags.U64("sync", 1) != 0;
  std::unique_ptr<Archive> archive =
      Take(Archive::Open(env, store, ArchiveOptions{.sync = sync}), "open");
  std::unique_ptr<ApiService> api = Take(ApiService::Open(*archive, env), "api");
  ApiService::LocalUser user =
      Take(api->CreateLocalUser(local, NewUser{.id = "dr-bench",
                                               .display_name = "Bench Physician",
                                               .roles = {"physician"},
                                               .department = "internal-medicine"}),
           "create user");
  for (std::uint64_t p = 1; p <= patients; ++p) {
    const std::string id = PatientId(p);
    Take(api->AddCareLocal(local,
                           CareRelationship{.user_id = user.user.id,
                                            .patient_id = id,
                                            .valid_from = clock.Now() - std::chrono::minutes(1)}),
         "care");
  }
  // The options `hokan serve` derives from the store's configuration.
  const ServerConfig& c = archive->config().server;
  ServerOptions o = Take(ServerOptionsFor(env, *archive, "127.0.0.1", 0), "server options");
  o.io_threads = static_cast<unsigned>(flags.U64("io-threads", c.io_threads));
  o.worker_threads = static_cast<unsigned>(flags.U64("worker-threads", c.worker_threads));
  std::unique_ptr<Router> router = MakeApiRouter(*api);
  o.on_rejected = MakeRejectionAuditor(*api);
  std::unique_ptr<Server> server = Take(Server::Start(o, MakeApiHandler(*api, *router)), "serve");
  const std::string ready =
      std::to_string(server->port()) + "\n" + user.user.id + "\n" + user.password + "\n";
  if (::write(ready_fd, ready.data(), ready.size()) != static_cast<ssize_t>(ready.size())) {
    Flags::Die("cannot tell the parent the port");
  }
  ::close(ready_fd);
  server->WaitForSignalOrShutdown();
  const Server::Stats st = server->stats();
  Result<std::uint64_t> audit_size = archive->AuditSize();
  std::fprintf(stderr, "server: %llu connections, %llu requests, audit log %llu entries\n",
               static_cast<unsigned long long>(st.connections),
               static_cast<unsigned long long>(st.requests),
               static_cast<unsigned long long>(audit_size ? *audit_size : 0));
  return 0;
}

struct Child {
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::string user;
  std::string password;
};

Child SpawnServer(const std::string& store, std::uint64_t patients, const Flags& flags) {
  int fds[2];
  if (::pipe(fds) != 0) Flags::Die("pipe failed");
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) Flags::Die("cannot find this executable: " + ec.message());
  std::vector<std::string> args = {self,
                                   "--mode",
                                   "serve",
                                   "--store",
                                   store,
                                   "--ready-fd",
                                   std::to_string(fds[1]),
                                   "--patients",
                                   std::to_string(patients)};
  for (const char* f : {"io-threads", "worker-threads", "sync"}) {
    if (flags.Has(f)) {
      args.push_back(std::string("--") + f);
      args.push_back(flags.Str(f, ""));
    }
  }
  std::fflush(stdout);
  std::fflush(stderr);
  Child child;
  child.pid = ::fork();
  if (child.pid < 0) Flags::Die("fork failed");
  if (child.pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::close(fds[0]);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(self.c_str(), argv.data());
    std::_Exit(127);
  }
  ::close(fds[1]);
  std::string ready;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    ready.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  std::stringstream ss(ready);
  std::string port;
  if (!std::getline(ss, port) || !std::getline(ss, child.user) ||
      !std::getline(ss, child.password)) {
    Flags::Die("the server process did not start");
  }
  child.port = static_cast<std::uint16_t>(std::strtoul(port.c_str(), nullptr, 10));
  return child;
}

void StopServer(Child& child) {
  if (child.pid <= 0) return;
  ::kill(child.pid, SIGTERM);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  child.pid = -1;
}

// --- connections -----------------------------------------------------------------------------

struct Reply {
  int status = 0;
  std::string body;
  std::string set_cookie;
};

// The client side of TLS, shared by every connection: verifies the server against one CA
// file (the peer's self-signed certificate) and the name "localhost".
class TlsContext {
 public:
  explicit TlsContext(const std::string& ca_file) : ctx_(SSL_CTX_new(TLS_client_method())) {
    if (ctx_ == nullptr) Flags::Die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (!ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
        Flags::Die("cannot load the CA file " + ca_file);
      }
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
  }
  ~TlsContext() { SSL_CTX_free(ctx_); }
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

 private:
  SSL_CTX* ctx_;
};

// HTTP/1.1 over one kept-alive TCP connection with TCP_NODELAY (as a production client and
// Orthanc's server set it), plain or TLS. Blocking; one per client thread.
class Connection {
 public:
  // `tls` null: plain HTTP.
  Connection(std::string host, std::uint16_t port, const TlsContext* tls)
      : host_(std::move(host)), port_(port), tls_(tls) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects (and completes the TLS handshake).
  bool Connect(std::string& error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      error = "socket failed";
      return false;
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv {
      .tv_sec = 30, .tv_usec = 0
    };
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    if (::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1 ||
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      error =
          "cannot connect to " + host_ + ":" + std::to_string(port_) + ": " + std::strerror(errno);
      Close();
      return false;
    }
    if (tls_ != nullptr) {
      ssl_ = SSL_new(tls_->get());
      if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 ||
          SSL_set_tlsext_host_name(ssl_, "localhost") != 1 ||
          SSL_set1_host(ssl_, "localhost") != 1 || SSL_connect(ssl_) != 1) {
        error = "TLS handshake failed: " + TlsError();
        Close();
        return false;
      }
    }
    ++connects;
    return true;
  }

  // One request; reconnects once when a kept-alive connection turns out closed.
  bool Send(const char* method, const std::string& target, const HeaderList& headers,
            std::string_view body, Reply& reply, std::string& error) {
    std::string request = std::string(method) + " " + target + " HTTP/1.1\r\nHost: " + host_ + ":" +
                          std::to_string(port_) + "\r\n";
    for (const auto& [k, v] : headers) {
      request.append(k).append(": ").append(v).append("\r\n");
    }
    if (!body.empty() || std::strcmp(method, "POST") == 0) {
      request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n";
    request.append(body);  // One buffer: one write (one TLS record per 16 KB).
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = fd_ >= 0;
      if (fd_ < 0 && !Connect(error)) return false;
      bool got_any = false;
      if (WriteAll(request, error) && ReadReply(reply, got_any, error)) return true;
      Close();
      if (!reused || got_any) return false;
    }
    return false;
  }

  std::string Describe() const {
    if (ssl_ == nullptr) return "plain HTTP/1.1, TCP_NODELAY";
    return std::string(SSL_get_version(ssl_)) + " " +
           SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_)) + ", TCP_NODELAY";
  }

  std::uint64_t connects = 0;

 private:
  static std::string TlsError() {
    const unsigned long e = ERR_get_error();
    if (e == 0) return "no detail";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
  }

  void Close() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // No close_notify: the benchmark is done with it.
    ssl_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  bool WriteAll(std::string_view data, std::string& error) {
    while (!data.empty()) {
      ssize_t n;
      if (ssl_ != nullptr) {
        const int w = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
        if (w <= 0) {
          error = "TLS write failed: " + TlsError();
          return false;
        }
        n = w;
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          error = std::string("send failed: ") + std::strerror(errno);
          return false;
        }
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Appends what the connection has to buffer_; false at EOF or on an error.
  bool Fill(bool& got_any, std::string& error) {
    char buf[64 * 1024];
    for (;;) {
      ssize_t n;
      if (ssl_ != nullptr) {
        const int r = SSL_read(ssl_, buf, sizeof buf);
        if (r <= 0) {
          error = SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN
                      ? "the server closed the connection"
                      : "TLS read failed: " + TlsError();
          return false;
        }
        n = r;
      } else {
        n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          error = n == 0 ? "the server closed the connection"
                         : std::string("recv failed: ") + std::strerror(errno);
          return false;
        }
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
      got_any = true;
      return true;
    }
  }

  bool ReadReply(Reply& reply, bool& got_any, std::string& error) {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(got_any, error)) return false;
    }
    const std::string head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    reply = Reply{};
    if (head.size() < 12 || head.rfind("HTTP/1.", 0) != 0) {
      error = "not an HTTP/1 status line";
      return false;
    }
    reply.status = std::atoi(head.c_str() + 9);
    std::size_t length = 0;
    bool chunked = false;
    bool close = false;
    for (std::size_t at = head.find("\r\n") + 2; at < head.size();) {
      const std::size_t eol = head.find("\r\n", at);
      const std::string line = head.substr(at, eol - at);
      at = eol + 2;
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (name == "content-length") length = std::strtoull(value.c_str(), nullptr, 10);
      if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
      if (name == "connection" && value.find("close") != std::string::npos) close = true;
      if (name == "set-cookie") reply.set_cookie = value;
    }
    if (chunked) {
      for (;;) {
        std::size_t eol;
        while ((eol = buffer_.find("\r\n")) == std::string::npos) {
          if (!Fill(got_any, error)) return false;
        }
        const std::size_t chunk = std::strtoull(buffer_.c_str(), nullptr, 16);
        while (buffer_.size() < eol + 2 + chunk + 2) {
          if (!Fill(got_any, error)) return false;
        }
        reply.body.append(buffer_, eol + 2, chunk);
        buffer_.erase(0, eol + 2 + chunk + 2);
        if (chunk == 0) break;
      }
    } else {
      while (buffer_.size() < length) {
        if (!Fill(got_any, error)) return false;
      }
      reply.body.assign(buffer_, 0, length);
      buffer_.erase(0, length);
    }
    if (close) Close();
    return true;
  }

  std::string host_;
  std::uint16_t port_;
  const TlsContext* tls_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};
// A string value of `key` in a JSON object text ("key" : "value"), or "".
std::string JsonString(const std::string& text, const std::string& key) {
  std::size_t at = text.find("\"" + key + "\"");
  if (at == std::string::npos) return "";
  at = text.find(':', at + key.size() + 2);
  if (at == std::string::npos) return "";
  at = text.find('"', at);
  if (at == std::string::npos) return "";
  const std::size_t end = text.find('"', at + 1);
  return end == std::string::npos ? "" : text.substr(at + 1, end - at - 1);
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(ch));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// --- the two peers behind one interface -------------------------------------------------------

// What one client thread holds: its connection and what it uploads.
struct ClientState {
  std::unique_ptr<Connection> conn;
  HeaderList auth;     // Cookie or Authorization.
  std::string upload;  // The body (Orthanc: this thread's copy of the DICOM template).
  std::vector<std::size_t> uid_offsets;
  std::string patient;
};

class Peer {
 public:
  virtual ~Peer() = default;
  virtual std::string Name() const = 0;
  // Connects (and signs in) client `t`.
  virtual void Open(ClientState& c, std::size_t t) = 0;
  // Stores one document; returns its id ("" on failure, with `error`).
  virtual std::string Upload(ClientState& c, std::size_t t, std::uint64_t seq,
                             std::string& error) = 0;
  // Reads one document back; returns its size (0 on failure).
  virtual std::size_t Download(ClientState& c, const std::string& id, std::string& error) = 0;
};

class HokanPeer final : public Peer {
 public:
  HokanPeer(const Child& server, const std::string& ca, std::string document,
            std::uint64_t patients, bool sync)
      : server_(server),
        tls_(ca),
        document_(std::move(document)),
        patients_(patients),
        sync_(sync) {}
  std::string Name() const override { return sync_ ? "hokan" : "hokan-nosync"; }

  void Open(ClientState& c, std::size_t t) override {
    auto conn = std::make_unique<Connection>("127.0.0.1", server_.port, &tls_);
    std::string error;
    if (!conn->Connect(error)) Flags::Die("connect: " + error);
    Reply r;
    const std::string login = "{\"user_id\":" + JsonQuote(server_.user) +
                              ",\"password\":" + JsonQuote(server_.password) + "}";
    if (!conn->Send("POST", "/api/v1/session", {{"Content-Type", "application/json"}}, login, r,
                    error) ||
        r.status != 200) {
      Flags::Die("sign-in failed (" + std::to_string(r.status) + "): " + error + r.body);
    }
    c.auth = {{"Cookie", r.set_cookie.substr(0, r.set_cookie.find(';'))}};
    c.patient = PatientId(t % patients_ + 1);
    c.conn = std::move(conn);
  }

  std::string Upload(ClientState& c, std::size_t /*t*/, std::uint64_t /*seq*/,
                     std::string& error) override {
    HeaderList h = c.auth;
    h.emplace_back("Content-Type", "application/pdf");
    Reply r;
    if (!c.conn->Send("POST", "/api/v1/records?patient=" + c.patient + "&type=scanned-document", h,
                      document_, r, error)) {
      return "";
    }
    if (r.status != 201) {
      error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
      return "";
    }
    return JsonString(r.body, "record_id");
  }

  std::size_t Download(ClientState& c, const std::string& id, std::string& error) override {
    Reply r;
    if (!c.conn->Send("GET", "/api/v1/records/" + id + "/content", c.auth, {}, r, error)) return 0;
    if (r.status != 200) {
      error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
      return 0;
    }
    return r.body.size();
  }

 private:
  const Child& server_;
  TlsContext tls_;
  std::string document_;
  std::uint64_t patients_;
  bool sync_;
};

class OrthancPeer final : public Peer {
 public:
  OrthancPeer(const std::string& url, const std::string& ca, const std::string& user,
              const std::string& password, std::vector<std::string> templates)
      : templates_(std::move(templates)) {
    const bool tls = url.rfind("https://", 0) == 0;
    if (tls) tls_ = std::make_unique<TlsContext>(ca);
    const std::string rest = url.substr(tls ? 8 : 7);
    const std::size_t colon = rest.find(':');
    host_ = rest.substr(0, colon);
    port_ = static_cast<std::uint16_t>(colon == std::string::npos
                                           ? (tls ? 443 : 80)
                                           : std::strtoul(rest.c_str() + colon + 1, nullptr, 10));
    if (!user.empty()) {
      auth_ = {{"Authorization", "Basic " + Base64Encode(AsBytes(user + ":" + password))}};
    }
  }
  std::string Name() const override { return tls_ ? "orthanc-https" : "orthanc-http"; }

  void Open(ClientState& c, std::size_t t) override {
    c.conn =
        std::make_unique<Connection>(host_ == "localhost" ? "127.0.0.1" : host_, port_, tls_.get());
    std::string error;
    if (!c.conn->Connect(error)) Flags::Die("connect: " + error);
    c.auth = auth_;
    c.upload = templates_[t % templates_.size()];
    for (std::size_t at = 0; (at = c.upload.find(kUidPlaceholder, at)) != std::string::npos;
         at += kUidPlaceholder.size()) {
      c.uid_offsets.push_back(at);
    }
    if (c.uid_offsets.empty()) Flags::Die("the DICOM template lacks the placeholder UID");
  }

  std::string Upload(ClientState& c, std::size_t t, std::uint64_t seq,
                     std::string& error) override {
    // A new SOP Instance UID (and the same in the file meta header): a distinct instance.
    char digits[32];
    std::snprintf(digits, sizeof digits, "%022llu",
                  static_cast<unsigned long long>(t) * 10'000'000'000ULL + seq);
    for (std::size_t at : c.uid_offsets) c.upload.replace(at + kUidFixedPrefix, 22, digits, 22);
    HeaderList h = c.auth;
    h.emplace_back("Content-Type", "application/dicom");
    Reply r;
    if (!c.conn->Send("POST", "/instances", h, c.upload, r, error)) return "";
    if (r.status != 200 || JsonString(r.body, "Status") != "Success") {
      error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
      return "";
    }
    return JsonString(r.body, "ID");
  }

  std::size_t Download(ClientState& c, const std::string& id, std::string& error) override {
    Reply r;
    if (!c.conn->Send("GET", "/instances/" + id + "/file", c.auth, {}, r, error)) return 0;
    if (r.status != 200) {
      error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
      return 0;
    }
    return r.body.size();
  }

 private:
  std::unique_ptr<TlsContext> tls_;  // Null: plain HTTP.
  std::vector<std::string> templates_;
  std::string host_;
  std::uint16_t port_ = 0;
  HeaderList auth_;
};

// --- phases ------------------------------------------------------------------------------------

struct PhaseResult {
  std::uint64_t ok = 0;
  std::uint64_t failures = 0;
  double seconds = 0;
  std::vector<double> latency_ms;  // From the scheduled time (read) or the send (ingest).
  std::vector<double> service_ms;  // From the send (read only).
  ProcSample server_before, server_after;
  double client_cpu = 0;
};

void CollectServer(PhaseResult& r, pid_t pid, bool before) {
  (before ? r.server_before : r.server_after) = SampleProcess(pid);
}

class Bench {
 public:
  Bench(Peer& peer, std::size_t clients, pid_t server_pid, std::size_t body_bytes)
      : peer_(peer), clients_(clients), server_pid_(server_pid), body_bytes_(body_bytes) {}

  void OpenAll() {
    states_.resize(clients_);
    next_seq_.assign(clients_, 0);
    for (std::size_t t = 0; t < clients_; ++t) peer_.Open(states_[t], t);
  }
  std::string Describe() const { return states_.empty() ? "" : states_[0].conn->Describe(); }
  const std::vector<std::string>& ids() const { return ids_; }

  // Closed loop: every client uploads until `seconds` pass or `docs` are stored.
  PhaseResult Ingest(double seconds, std::uint64_t docs, bool keep_ids = true) {
    PhaseResult res;
    std::vector<std::vector<double>> lat(clients_);
    std::vector<std::vector<std::string>> got_ids(clients_);
    std::atomic<std::uint64_t> started{0};
    std::atomic<std::uint64_t> failures{0};
    std::mutex error_mu;
    std::string first_error;
    Begin(res);
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < clients_; ++t) {
      pool.emplace_back([&, t] {
        while (SecondsSince(t0) < seconds && (docs == 0 || started.fetch_add(1) < docs)) {
          const std::uint64_t seq = next_seq_[t]++;
          std::string error;
          const auto s = Clock::now();
          std::string id = peer_.Upload(states_[t], t, seq, error);
          const double ms = SecondsSince(s) * 1000.0;
          if (id.empty()) {
            failures.fetch_add(1);
            const std::lock_guard<std::mutex> lock(error_mu);
            if (first_error.empty()) first_error = error;
            continue;
          }
          lat[t].push_back(ms);
          got_ids[t].push_back(std::move(id));
        }
      });
    }
    for (std::thread& th : pool) th.join();
    res.seconds = SecondsSince(t0);
    End(res);
    res.failures = failures.load();
    for (std::size_t t = 0; t < clients_; ++t) {
      res.latency_ms.insert(res.latency_ms.end(), lat[t].begin(), lat[t].end());
      if (keep_ids) ids_.insert(ids_.end(), got_ids[t].begin(), got_ids[t].end());
    }
    res.ok = res.latency_ms.size();
    if (!first_error.empty()) std::fprintf(stderr, "first failure: %s\n", first_error.c_str());
    return res;
  }

  // Open loop at `rate` requests/s for `seconds` (rate 0: closed loop, as fast as possible).
  PhaseResult Read(double rate, double seconds) {
    PhaseResult res;
    if (ids_.empty()) Flags::Die("nothing stored to read");
    const std::uint64_t total = rate > 0 ? static_cast<std::uint64_t>(rate * seconds) : UINT64_MAX;
    std::vector<std::vector<double>> lat(clients_), service(clients_);
    std::atomic<std::uint64_t> next{0};
    std::atomic<std::uint64_t> failures{0};
    std::mutex error_mu;
    std::string first_error;
    std::vector<double> last_done(clients_, 0);
    Begin(res);
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < clients_; ++t) {
      pool.emplace_back([&, t] {
        FastRandom rng(t * 7919 + 5);
        for (;;) {
          const std::uint64_t i = next.fetch_add(1);
          if (i >= total) break;
          Clock::time_point scheduled;
          if (rate > 0) {
            scheduled = t0 + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i) / rate));
            std::this_thread::sleep_until(scheduled);
          } else {
            if (SecondsSince(t0) >= seconds) break;
            scheduled = Clock::now();
          }
          const auto sent = Clock::now();
          std::string error;
          const std::size_t n = peer_.Download(states_[t], ids_[rng.Next() % ids_.size()], error);
          const auto done = Clock::now();
          if (n < body_bytes_) {
            failures.fetch_add(1);
            const std::lock_guard<std::mutex> lock(error_mu);
            if (first_error.empty()) {
              first_error = error.empty() ? "short body: " + std::to_string(n) : error;
            }
            continue;
          }
          lat[t].push_back(std::chrono::duration<double, std::milli>(done - scheduled).count());
          service[t].push_back(std::chrono::duration<double, std::milli>(done - sent).count());
          last_done[t] = std::chrono::duration<double>(done - t0).count();
        }
      });
    }
    for (std::thread& th : pool) th.join();
    res.seconds =
        rate > 0 ? *std::max_element(last_done.begin(), last_done.end()) : SecondsSince(t0);
    End(res);
    res.failures = failures.load();
    for (std::size_t t = 0; t < clients_; ++t) {
      res.latency_ms.insert(res.latency_ms.end(), lat[t].begin(), lat[t].end());
      res.service_ms.insert(res.service_ms.end(), service[t].begin(), service[t].end());
    }
    res.ok = res.latency_ms.size();
    if (!first_error.empty()) std::fprintf(stderr, "first failure: %s\n", first_error.c_str());
    return res;
  }

 private:
  void Begin(PhaseResult& r) {
    ResetPeak(server_pid_);
    CollectServer(r, server_pid_, true);
    r.client_cpu = CpuSeconds();
  }
  void End(PhaseResult& r) {
    CollectServer(r, server_pid_, false);
    r.client_cpu = CpuSeconds() - r.client_cpu;
  }

  Peer& peer_;
  std::size_t clients_;
  pid_t server_pid_;
  std::size_t body_bytes_;
  std::vector<ClientState> states_;
  std::vector<std::string> ids_;
  std::vector<std::uint64_t> next_seq_;  // Per client: its uploads so far (unique UIDs).
};

double Mib(std::uint64_t kib) { return static_cast<double>(kib) / 1024.0; }

void Report(const std::string& peer, const std::string& phase, PhaseResult& r, std::size_t clients,
            std::size_t doc_bytes, double rate, pid_t server_pid) {
  const double per_s = r.seconds > 0 ? static_cast<double>(r.ok) / r.seconds : 0;
  const double server_cpu = r.server_after.cpu_seconds - r.server_before.cpu_seconds;
  const double p50 = Percentile(r.latency_ms, 0.50);
  const double p90 = Percentile(r.latency_ms, 0.90);
  const double p99 = Percentile(r.latency_ms, 0.99);
  const double p999 = Percentile(r.latency_ms, 0.999);
  const double max = r.latency_ms.empty() ? 0 : r.latency_ms.back();
  const double s50 = Percentile(r.service_ms, 0.50);
  const double s99 = Percentile(r.service_ms, 0.99);
  std::printf(
      "\n-- %s %s: %zu clients, %zu-byte documents%s --\n", peer.c_str(), phase.c_str(), clients,
      doc_bytes,
      rate > 0 ? (", fixed rate " + std::to_string(static_cast<long>(rate)) + "/s").c_str() : "");
  std::printf("requests ok   %llu in %.2f s = %.1f/s (%.1f MB/s)%s\n",
              static_cast<unsigned long long>(r.ok), r.seconds, per_s,
              per_s * static_cast<double>(doc_bytes) / 1e6,
              r.failures ? (", " + std::to_string(r.failures) + " FAILED").c_str() : "");
  std::printf("latency ms    p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%s\n", p50, p90, p99,
              p999, max, rate > 0 ? "  (from the scheduled send time)" : "");
  if (!r.service_ms.empty()) {
    std::printf("service ms    p50 %.2f  p99 %.2f  (from the actual send)\n", s50, s99);
  }
  if (server_pid > 0) {
    std::printf(
        "server        CPU %.1f s = %.2f ms per request (%.0f%% of 2 CPUs); peak RSS %.1f MiB "
        "(RSS at end %.1f MiB)\n",
        server_cpu, r.ok ? 1000.0 * server_cpu / static_cast<double>(r.ok) : 0,
        CpuPercent(server_cpu, r.seconds), Mib(r.server_after.hwm_kib),
        Mib(r.server_after.rss_kib));
  }
  std::printf("client        CPU %.1f s (%.0f%% of 2 CPUs)\n", r.client_cpu,
              CpuPercent(r.client_cpu, r.seconds));
  std::printf(
      "RESULT peer=%s phase=%s clients=%zu doc_bytes=%zu rate=%.0f ok=%llu failed=%llu "
      "seconds=%.2f per_s=%.1f mb_s=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      "server_cpu_ms=%.3f server_peak_mib=%.1f client_cpu_s=%.1f\n",
      peer.c_str(), phase.c_str(), clients, doc_bytes, rate, static_cast<unsigned long long>(r.ok),
      static_cast<unsigned long long>(r.failures), r.seconds, per_s,
      per_s * static_cast<double>(doc_bytes) / 1e6, p50, p90, p99, max,
      r.ok ? 1000.0 * server_cpu / static_cast<double>(r.ok) : 0, Mib(r.server_after.hwm_kib),
      r.client_cpu);
  std::fflush(stdout);
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int RunPhases(const Flags& flags, Peer& peer, pid_t server_pid, std::size_t clients,
              std::size_t doc_bytes, const std::string& data_dir) {
  const double seconds = flags.Double("seconds", 20);
  const std::uint64_t docs = flags.U64("docs", 0);
  const double rate = flags.Double("rate", 400);
  const double read_seconds = flags.Double("read-seconds", 20);
  const std::vector<std::string> phases = Split(flags.Str("phases", "ingest,read"));
  Bench bench(peer, clients, server_pid, doc_bytes);
  const auto open_start = Clock::now();
  bench.OpenAll();
  std::printf("\n%s: %zu connections open and signed in (%.1f s, not measured); %s\n",
              peer.Name().c_str(), clients, SecondsSince(open_start), bench.Describe().c_str());
  const ProcSample idle = SampleProcess(server_pid);
  if (server_pid > 0) {
    std::printf("server pid %d: RSS %.1f MiB, peak so far %.1f MiB (before the first phase)\n",
                static_cast<int>(server_pid), Mib(idle.rss_kib), Mib(idle.hwm_kib));
  }
  for (const std::string& phase : phases) {
    if (phase == "ingest") {
      PhaseResult r = bench.Ingest(seconds, docs);
      Report(peer.Name(), "ingest", r, clients, doc_bytes, 0, server_pid);
      if (!data_dir.empty()) {
        std::printf("on disk       %.1f MB in %s (%.1f KB per stored document so far)\n",
                    static_cast<double>(DiskBytes(data_dir)) / 1e6, data_dir.c_str(),
                    bench.ids().empty() ? 0
                                        : static_cast<double>(DiskBytes(data_dir)) / 1e3 /
                                              static_cast<double>(bench.ids().size()));
      }
    } else if (phase == "read" || phase == "readmax") {
      if (bench.ids().empty()) {
        const std::uint64_t preload = flags.U64("preload", 2000);
        const auto s = Clock::now();
        PhaseResult pre = bench.Ingest(3600, preload);
        std::printf("\npreloaded %llu documents in %.1f s (not measured)\n",
                    static_cast<unsigned long long>(pre.ok), SecondsSince(s));
      }
      const bool fixed = phase == "read";
      PhaseResult r = bench.Read(fixed ? rate : 0, read_seconds);
      Report(peer.Name(), phase, r, clients, doc_bytes, fixed ? rate : 0, server_pid);
    } else {
      Flags::Die("unknown phase " + phase + " (ingest, read, readmax)");
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const Flags flags(argc, argv);
  const std::string mode = flags.Str("mode", "hokan");
  if (mode == "serve") return Serve(flags);
  const std::size_t size = flags.U64("size", 100000);
  if (mode == "make-pdf") {
    const std::string out = flags.Str("out", "");
    if (out.empty()) Flags::Die("make-pdf needs --out FILE");
    std::ofstream f(out, std::ios::binary);
    const std::string pdf = MakePdf(size);
    f.write(pdf.data(), static_cast<std::streamsize>(pdf.size()));
    if (!f) Flags::Die("cannot write " + out);
    std::printf("wrote %s (%zu bytes)\n", out.c_str(), pdf.size());
    return 0;
  }
  const std::size_t clients = flags.U64("clients", 16);
  const auto started = Clock::now();

  if (mode == "orthanc") {
    const std::string dicom_dir = flags.Str("dicom-dir", "");
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dicom_dir, ec)) {
      if (e.path().extension() == ".dcm") files.push_back(e.path().string());
    }
    if (files.empty()) Flags::Die("--dicom-dir holds no .dcm templates");
    std::sort(files.begin(), files.end());
    std::vector<std::string> templates;
    templates.reserve(files.size());
    for (const std::string& f : files) templates.push_back(ReadSmallFile(f));
    const std::string storage = flags.Str("storage-dir", "");
    PrintHeader("https_bench (Orthanc peer)", argc, argv, storage.empty() ? "." : storage);
    std::printf("templates:  %zu DICOM files of %zu bytes (pdf2dcm of the %zu-byte PDF)\n",
                templates.size(), templates[0].size(), size);
    // The password comes from the environment so that it is not in the printed command line.
    const char* password = std::getenv("HK_BENCH_ORTHANC_PASSWORD");
    OrthancPeer peer(flags.Str("url", "http://127.0.0.1:8042"), flags.Str("ca", ""),
                     flags.Str("user", ""), password != nullptr ? password : "", templates);
    const pid_t pid = static_cast<pid_t>(flags.U64("server-pid", 0));
    RunPhases(flags, peer, pid, clients, templates[0].size(), storage);
    PrintFooter(started);
    return 0;
  }
  if (mode != "hokan") Flags::Die("unknown --mode " + mode);

  const std::string dir = flags.Str("dir", "/work/bench-scratch");
  const std::uint64_t patients = flags.U64("patients", clients);
  std::string document;
  if (flags.Has("pdf")) {
    document = ReadSmallFile(flags.Str("pdf", ""));
    if (document.rfind("%PDF-", 0) != 0) Flags::Die("--pdf is not a PDF");
  } else {
    document = MakePdf(size);
  }
  PrintHeader("https_bench (hokan)", argc, argv, dir);
  Scratch scratch(dir, "hokan-https");
  const std::string store = scratch.Sub("store");
  const auto spawn_start = Clock::now();
  Child child = SpawnServer(store, patients, flags);
  const bool sync = flags.U64("sync", 1) != 0;
  std::printf(
      "server:     child pid %d on 127.0.0.1:%u (store made, physician with %llu care "
      "relationships, %.1f s); %s, audit on, TLS 1.3\n",
      static_cast<int>(child.pid), static_cast<unsigned>(child.port),
      static_cast<unsigned long long>(patients), SecondsSince(spawn_start),
      sync ? "sync on (durable)" : "SYNC OFF (NON-DURABLE reference)");
  std::printf("document:   %zu-byte PDF (application/pdf)\n", document.size());
  {
    HokanPeer peer(child, store + "/keys/tls.crt", document, patients, sync);
    RunPhases(flags, peer, child.pid, clients, document.size(), store);
  }
  StopServer(child);
  PrintFooter(started);
  return 0;
}

}  // namespace
}  // namespace hokan::bench

int main(int argc, char** argv) { return hokan::bench::Main(argc, argv); }
