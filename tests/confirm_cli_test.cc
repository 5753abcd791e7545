// Confirmation from the command line (issue 4): `hokan user signing-cert`, `hokan user
// signing-key` (passphrase on stdin), `hokan record confirm`, and `hokan verify` re-checking
// every stored signature against its version (G-6.12), through the real binary.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/posix_env.h"
#include "service/api_service.h"
#include "service/archive.h"
#include "signature/cades.h"
#include "signature/dev_pki.h"
#include "signature/keys.h"
#include "signature/tsa.h"
#include "subprocess.h"
#include "testing/manual_clock.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::ProcessResult;
using ::hokan::testing::RunHokan;
using ::hokan::testing::RunHokanWithInput;
using ::testing::HasSubstr;
using json = nlohmann::json;

const std::string kNote = "退院時サマリー: stable, discharged\n";

// A time-stamping authority over plain HTTP on loopback (RFC 3161 §3.4): the development TSA
// behind a minimal HTTP/1.1 server, so the real client in `hokan` is exercised.
class HttpTsa {
 public:
  explicit HttpTsa(DevTsa& tsa) : tsa_(tsa) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HttpTsa() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/tsa"; }
  int served() const { return served_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string in;
      char buf[4096];
      std::size_t want = std::string::npos;
      while (want == std::string::npos || in.size() < want) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        const std::size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos && want == std::string::npos) {
          const std::size_t cl = in.find("Content-Length: ");
          want = end + 4 + (cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16)));
        }
      }
      const std::size_t body_at = in.find("\r\n\r\n");
      if (body_at != std::string::npos && in.rfind("POST /tsa ", 0) == 0 &&
          in.find("application/timestamp-query") != std::string::npos) {
        auto response = tsa_.Respond(AsBytes(std::string_view(in).substr(body_at + 4)),
                                     std::chrono::system_clock::now());
        const std::string body = response.has_value() ? ToString(*response) : "";
        const std::string out =
            "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        (void)::write(c, out.data(), out.size());
        ++served_;
      }
      ::close(c);
    }
  }
  DevTsa& tsa_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

class ConfirmCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = MakeCachedDevHpki(std::chrono::system_clock::now());
    ASSERT_TRUE(pki.has_value());
    pki_ = std::move(*pki);
    dir_ = tmp_.path() + "/store";
    Write("root.pem", pki_.root.cert_pem);
    Write("crls.pem", pki_.signing_ca_crl + pki_.root_crl);
    Write("doctor.pem", pki_.doctor.cert_pem);
    Write("note.txt", kNote);
    ArchiveOptions init;
    const std::string root = Path("root.pem");
    const std::string crls = Path("crls.pem");
    init.configure = [&](Config& c) {
      c.signature.development_tsa = true;
      c.signature.trust_anchor_files = {root};
      c.signature.crl_files = {crls};
    };
    clock_.Set(std::chrono::system_clock::now());
    ASSERT_OK(Archive::Init(env_, dir_, local_, init));
    auto archive = Archive::Open(env_, dir_);
    ASSERT_OK(archive);
    auto api = ApiService::Open(**archive, env_);
    ASSERT_OK(api);
    for (const char* id : {"dr-a", "dr-b"}) {
      ASSERT_OK(
          (*api)->CreateLocalUser(local_, {.id = id, .display_name = id, .roles = {"physician"}}));
    }
  }

  std::string Path(const std::string& name) const { return tmp_.path() + "/" + name; }
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(Path(name), std::ios::binary) << data;
  }
  // note.p7s: the doctor's detached CAdES signature over note.txt.
  void WriteDoctorSignature() {
    CadesSignOptions o;
    o.signer_cert_pem = pki_.doctor.cert_pem;
    o.signer_key_pem = pki_.doctor.key_pem;
    o.chain_pem = {pki_.signing_ca.cert_pem};
    o.signing_time = std::chrono::system_clock::now();
    auto sig = SignCades(AsBytes(kNote), o);
    ASSERT_TRUE(sig.has_value()) << sig.error().ToString();
    Write("note.p7s", ToString(*sig));
  }
  std::string Put() {
    ProcessResult r = RunHokan({"record", "put", "--dir", dir_, "--patient", "P0001", "--type",
                                "discharge-summary", "--file", Path("note.txt")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["record_id"].get<std::string>();
  }

  testing::TempDir tmp_;
  PosixFileSystem fs_;
  testing::ManualClock clock_;
  Env env_{fs_, clock_};
  const Actor local_{"local:test", "cli"};
  std::string dir_;
  DevHpki pki_;
};

TEST_F(ConfirmCliTest, G612_ConfirmWithAClientSignatureThenVerifyTheStore) {
  const std::string record = Put();
  WriteDoctorSignature();

  // Not bound yet: refused, nothing stored.
  ProcessResult r = RunHokan({"record", "confirm", "--dir", dir_, "--record", record, "--user",
                              "dr-a", "--signature", Path("note.p7s")});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("not bound"));

  r = RunHokan(
      {"user", "signing-cert", "--dir", dir_, "--user", "dr-a", "--cert", Path("doctor.pem")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["user_id"], "dr-a");

  r = RunHokan({"record", "confirm", "--dir", dir_, "--record", record, "--user", "dr-a",
                "--signature", Path("note.p7s")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["confirmer"], "dr-a");
  EXPECT_EQ(j["level"], "CAdES-T");
  EXPECT_TRUE(j["report"]["valid"].get<bool>());
  // Once only (exit 4: already exists).
  EXPECT_EQ(RunHokan({"record", "confirm", "--dir", dir_, "--record", record, "--user", "dr-a",
                      "--signature", Path("note.p7s")})
                .exit_code,
            4);
  // Another user's name with dr-a's certificate: refused.
  const std::string other = Put();
  EXPECT_EQ(RunHokan({"record", "confirm", "--dir", dir_, "--record", other, "--user", "dr-b",
                      "--signature", Path("note.p7s")})
                .exit_code,
            5);

  r = RunHokan({"verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 confirmations"));

  // Long-term evidence: one batch, then nothing due, then a renewal when asked early.
  r = RunHokan({"evidence", "renew", "--dir", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json::parse(r.out)["created"], 1);
  r = RunHokan({"evidence", "renew", "--dir", dir_});
  EXPECT_EQ(json::parse(r.out)["not_due"], 1);
  r = RunHokan({"evidence", "renew", "--dir", dir_, "--within-days", "3650"});
  EXPECT_EQ(json::parse(r.out)["renewed"], 1) << r.out;
  r = RunHokan({"verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // A confirmation row changed behind hokan's back (the triggers dropped first) is damage.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/metadata.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TRIGGER confirmations_immutable; UPDATE confirmations SET "
                         "confirmer = 'dr-b';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  r = RunHokan({"verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("DAMAGED confirmation " + record + "/1"));
}

// The RFC 3161 client over HTTP (G-6.12): a TSA that is down is skipped, the next one answers.
TEST_F(ConfirmCliTest, G612_TimestampsFromATsaOverHttpWithFailover) {
  auto tsa = DevTsa::Create(pki_.tsa, pki_.tsa_ca.cert_pem);
  ASSERT_TRUE(tsa.has_value());
  HttpTsa server(**tsa);
  // Reconfigure the store: a dead TSA first, then this one; no development TSA.
  const std::string config_path = dir_ + "/hokan.toml";
  std::ifstream in(config_path);
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replace = [&](const std::string& from, const std::string& to) {
    const std::size_t at = config.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    config.replace(at, from.size(), to);
  };
  replace("tsa_urls = []", "tsa_urls = [\"http://127.0.0.1:9/down\", \"" + server.url() + "\"]");
  replace("development_tsa = true", "development_tsa = false");
  replace("tsa_trust_anchor_files = []", "tsa_trust_anchor_files = [\"" + Path("root.pem") + "\"]");
  std::ofstream(config_path, std::ios::trunc) << config;

  const std::string record = Put();
  WriteDoctorSignature();
  ASSERT_EQ(RunHokan({"user", "signing-cert", "--dir", dir_, "--user", "dr-a", "--cert",
                      Path("doctor.pem")})
                .exit_code,
            0);
  ProcessResult r = RunHokan({"record", "confirm", "--dir", dir_, "--record", record, "--user",
                              "dr-a", "--signature", Path("note.p7s")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json j = json::parse(r.out);
  EXPECT_THAT(j["tsa_subject"].get<std::string>(), HasSubstr("Dev TSA 1"));
  EXPECT_TRUE(j["report"]["timestamp"]["valid"].get<bool>());
  EXPECT_EQ(server.served(), 1);
  r = RunHokan({"evidence", "renew", "--dir", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(server.served(), 2);
}

TEST_F(ConfirmCliTest, ChangedEvidenceIsDamage) {
  const std::string record = Put();
  WriteDoctorSignature();
  ASSERT_EQ(RunHokan({"user", "signing-cert", "--dir", dir_, "--user", "dr-a", "--cert",
                      Path("doctor.pem")})
                .exit_code,
            0);
  ASSERT_EQ(RunHokan({"record", "confirm", "--dir", dir_, "--record", record, "--user", "dr-a",
                      "--signature", Path("note.p7s")})
                .exit_code,
            0);
  ASSERT_EQ(RunHokan({"evidence", "renew", "--dir", dir_}).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/metadata.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TRIGGER evidence_immutable; UPDATE evidence_records SET "
                         "created_at = '2020-01-01T00:00:00.000Z';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ProcessResult r = RunHokan({"verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("DAMAGED confirmation " + record + "/1"));
  EXPECT_THAT(r.out, HasSubstr("evidence record"));
}

TEST_F(ConfirmCliTest, ServerSideKeyInstalledAndUsedWithThePassphraseOnStdin) {
  auto p12 = MakePkcs12(pki_.doctor.cert_pem, pki_.doctor.key_pem, {pki_.signing_ca.cert_pem},
                        "a long passphrase", "dr-a");
  ASSERT_TRUE(p12.has_value());
  Write("dr-a.p12", ToString(*p12));
  ProcessResult r = RunHokanWithInput(
      {"user", "signing-key", "--dir", dir_, "--user", "dr-a", "--p12", Path("dr-a.p12")},
      "wrong passphrase\n");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  r = RunHokanWithInput({"user", "signing-key", "--dir", dir_, "--user", "dr-a"}, "x\n");
  EXPECT_EQ(r.exit_code, 2);
  r = RunHokanWithInput(
      {"user", "signing-key", "--dir", dir_, "--user", "dr-a", "--p12", Path("dr-a.p12")},
      "a long passphrase\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string record = Put();
  r = RunHokanWithInput(
      {"record", "confirm", "--dir", dir_, "--record", record, "--user", "dr-a", "--server-key"},
      "");
  EXPECT_EQ(r.exit_code, 2) << r.err;  // No passphrase given.
  r = RunHokanWithInput(
      {"record", "confirm", "--dir", dir_, "--record", record, "--user", "dr-a", "--server-key"},
      "a long passphrase\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json::parse(r.out)["method"], "server-key");
  EXPECT_THAT(r.out + r.err, ::testing::Not(HasSubstr("a long passphrase")));
  r = RunHokan({"verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace hokan
