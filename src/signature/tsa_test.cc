// The development TSA, interoperability with the openssl CLI in both directions, and the
// TSA client's retries and fail-over (G-6.12; JP-STANDARDS.md §2.4).
#include "signature/tsa.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ts.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/dev_pki.h"
#include "signature/internal/ossl.h"
#include "signature/timestamp.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::hokan::testing::TempDir;
using signature_internal::Ptr;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

Bytes Digest(ByteView data) {
  const Sha256Digest d = Sha256(data);
  return Bytes(d.begin(), d.end());
}

void WriteFile(const std::string& path, ByteView contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(contents.data()),
            static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << path;
}

Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

// Runs `command` with /bin/sh; the commands below quote every path.
CommandResult RunShell(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class TsaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Real time: the openssl CLI validates certificates at the current time.
    now_ = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    Result<DevHpki> pki = MakeCachedDevHpki(now_);
    ASSERT_TRUE(pki.has_value()) << pki.error();
    pki_ = new DevHpki(std::move(*pki));
    Result<std::unique_ptr<DevTsa>> tsa =
        DevTsa::Create(pki_->tsa, pki_->tsa_ca.cert_pem + pki_->root.cert_pem);
    ASSERT_TRUE(tsa.has_value()) << tsa.error();
    tsa_ = tsa->release();
  }
  static void TearDownTestSuite() {
    delete tsa_;
    delete pki_;
    tsa_ = nullptr;
    pki_ = nullptr;
  }

  static TimestampVerifyOptions Trusting() {
    TimestampVerifyOptions o;
    o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.crls = {ToBytes(pki_->tsa_ca_crl), ToBytes(pki_->root_crl)};
    o.now = now_;
    return o;
  }

  static TsaClientOptions ClientOptions(std::vector<std::string> urls) {
    TsaClientOptions o;
    o.urls = std::move(urls);
    o.retry_delay = std::chrono::milliseconds(0);
    o.verify = Trusting();
    return o;
  }

  static std::function<TimePoint()> Clock() {
    return [] { return now_; };
  }

  static inline const Bytes kData = ToBytes("referral letter, version 1 (test bytes)");
  static TimePoint now_;
  static DevHpki* pki_;
  static DevTsa* tsa_;
};
TimePoint TsaTest::now_;
DevHpki* TsaTest::pki_ = nullptr;
DevTsa* TsaTest::tsa_ = nullptr;

// ---------------------------------------------------------------------------------------------
// The development TSA.

TEST_F(TsaTest, G612_SelfSignedDevTsaIsLabelledNotAccredited) {
  const TimePoint at = TimePoint(std::chrono::milliseconds(1777638896789));  // ...56.789Z
  Result<std::unique_ptr<DevTsa>> tsa = DevTsa::CreateSelfSigned(at);
  ASSERT_OK(tsa);
  EXPECT_THAT((*tsa)->certificate_pem(), HasSubstr("BEGIN CERTIFICATE"));

  Result<TimestampRequest> req = MakeTimestampRequest(Digest(kData));
  ASSERT_OK(req);
  Result<Bytes> resp = (*tsa)->Respond(req->der, at);
  ASSERT_OK(resp);
  TimestampVerifyOptions options;
  options.trust_anchors = {ToBytes((*tsa)->certificate_pem())};
  options.expected_nonce = req->nonce;
  options.now = at;
  Result<TimestampVerification> v = VerifyTimestamp(*resp, kData, options);
  ASSERT_OK(v);
  EXPECT_TRUE(v->valid) << v->reason;
  EXPECT_TRUE(v->development_tsa);
  EXPECT_EQ(v->policy, kDevTsaPolicyOid);
  EXPECT_THAT(v->tsa_name, HasSubstr("CN=hokan development TSA - NOT ACCREDITED"));
  EXPECT_EQ(v->gen_time, FormatRfc3339(at));
  EXPECT_EQ(v->gen_time, "2026-05-01T12:34:56.789Z");
}

TEST_F(TsaTest, DevTsaStatesOneSecondAccuracyAndMillisecondGenTime) {
  const TimePoint at =
      std::chrono::floor<std::chrono::seconds>(now_) + std::chrono::milliseconds(7);
  Result<TimestampRequest> req = MakeTimestampRequest(Digest(kData));
  ASSERT_OK(req);
  Result<Bytes> resp = tsa_->Respond(req->der, at);
  ASSERT_OK(resp);
  const unsigned char* p = resp->data();
  Ptr<TS_RESP> parsed(d2i_TS_RESP(nullptr, &p, static_cast<long>(resp->size())));
  ASSERT_TRUE(parsed);
  TS_TST_INFO* info = TS_RESP_get_tst_info(parsed.get());
  ASSERT_NE(info, nullptr);
  TS_ACCURACY* accuracy = TS_TST_INFO_get_accuracy(info);
  ASSERT_NE(accuracy, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(TS_ACCURACY_get_seconds(accuracy)), 1);
  const ASN1_GENERALIZEDTIME* gen_time = TS_TST_INFO_get_time(info);
  const std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gen_time)),
                         static_cast<std::size_t>(ASN1_STRING_length(gen_time)));
  EXPECT_EQ(text.substr(14), ".007Z") << text;
}

TEST_F(TsaTest, DevTsaRejectsMalformedRequestsWithBadDataFormat) {
  for (const Bytes& request : {ToBytes("not a request"), Bytes(), Bytes(100000, 0x30)}) {
    Result<Bytes> resp = tsa_->Respond(request, now_);
    ASSERT_OK(resp);
    Result<Bytes> token = TokenFromResponse(*resp);
    EXPECT_THAT(token, StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_THAT(token.error().message(), HasSubstr("status rejection, failInfo badDataFormat"));
  }
}

TEST_F(TsaTest, DevTsaNeedsATimeStampingCertificate) {
  EXPECT_THAT(DevTsa::Create(pki_->doctor, ""), StatusIs(StatusCode::kInvalidArgument));
  CertificateAndKey mismatched = pki_->tsa;
  mismatched.key_pem = pki_->doctor.key_pem;
  EXPECT_THAT(DevTsa::Create(mismatched, ""), StatusIs(StatusCode::kInvalidArgument));
}

// ---------------------------------------------------------------------------------------------
// Interoperability with the openssl CLI.

TEST_F(TsaTest, G612_OpensslTsVerifyAcceptsDevTsaResponses) {
  TempDir dir;
  const std::string data = dir.path() + "/data.bin";
  const std::string query = dir.path() + "/req.tsq";
  const std::string reply = dir.path() + "/resp.tsr";
  const std::string token = dir.path() + "/token.der";
  const std::string cas = dir.path() + "/root+ca.pem";
  const std::string tsa_pem = dir.path() + "/tsa.pem";
  WriteFile(data, kData);
  WriteFile(cas, AsBytes(pki_->root.cert_pem + pki_->tsa_ca.cert_pem));
  WriteFile(tsa_pem, AsBytes(pki_->tsa.cert_pem));
  Result<TimestampRequest> req = MakeTimestampRequest(Digest(kData));
  ASSERT_OK(req);
  WriteFile(query, req->der);
  Result<Bytes> resp = tsa_->Respond(req->der, now_);
  ASSERT_OK(resp);
  WriteFile(reply, *resp);
  Result<Bytes> bare = TokenFromResponse(*resp);
  ASSERT_OK(bare);
  WriteFile(token, *bare);

  const std::string trust = " -CAfile " + Quote(cas) + " -untrusted " + Quote(tsa_pem);
  CommandResult r =
      RunShell("openssl ts -verify -data " + Quote(data) + " -in " + Quote(reply) + trust);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Verification: OK"));
  // With the request: openssl also checks the imprint, the nonce and the policy.
  r = RunShell("openssl ts -verify -queryfile " + Quote(query) + " -in " + Quote(reply) + trust);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunShell("openssl ts -verify -data " + Quote(data) + " -in " + Quote(token) + " -token_in" +
               trust);
  EXPECT_EQ(r.exit_code, 0) << r.output;

  // The same command refuses other data, so the checks above mean something.
  WriteFile(data, ToBytes("other bytes"));
  r = RunShell("openssl ts -verify -data " + Quote(data) + " -in " + Quote(reply) + trust);
  EXPECT_NE(r.exit_code, 0) << r.output;
}

TEST_F(TsaTest, G612_OurVerifierAcceptsOpensslTsReply) {
  TempDir dir;
  const std::string& d = dir.path();
  WriteFile(d + "/data.bin", kData);
  WriteFile(d + "/tsa.pem", AsBytes(pki_->tsa.cert_pem));
  WriteFile(d + "/tsa.key", AsBytes(pki_->tsa.key_pem));
  WriteFile(d + "/chain.pem", AsBytes(pki_->tsa_ca.cert_pem));
  WriteFile(d + "/serial", ToBytes("01\n"));
  const std::string config =
      "[ tsa ]\n"
      "default_tsa = tsa_config\n"
      "[ tsa_config ]\n"
      "dir = " +
      d +
      "\n"
      "serial = $dir/serial\n"
      "crypto_device = builtin\n"
      "signer_cert = $dir/tsa.pem\n"
      "certs = $dir/chain.pem\n"
      "signer_key = $dir/tsa.key\n"
      "signer_digest = sha256\n"
      "default_policy = 1.2.3.4.1\n"
      "digests = sha256, sha384, sha512\n"
      "accuracy = secs:1\n"
      "clock_precision_digits = 3\n"
      "ordering = no\n"
      "tsa_name = yes\n"
      "ess_cert_id_chain = no\n"
      "ess_cert_id_alg = sha256\n";
  WriteFile(d + "/tsa.cnf", AsBytes(config));
  const std::string cnf = Quote(d + "/tsa.cnf");

  CommandResult r = RunShell("openssl ts -query -data " + Quote(d + "/data.bin") +
                             " -sha256 -cert -out " + Quote(d + "/req.tsq"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunShell("openssl ts -reply -config " + cnf + " -queryfile " + Quote(d + "/req.tsq") +
               " -out " + Quote(d + "/resp.tsr"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunShell("openssl ts -reply -config " + cnf + " -queryfile " + Quote(d + "/req.tsq") +
               " -token_out -out " + Quote(d + "/token.der"));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  TimestampVerifyOptions options = Trusting();
  options.now = std::chrono::system_clock::now();
  for (const char* file : {"/resp.tsr", "/token.der"}) {
    SCOPED_TRACE(file);
    Result<TimestampVerification> v = VerifyTimestamp(ReadFile(d + file), kData, options);
    ASSERT_OK(v);
    EXPECT_TRUE(v->valid) << v->reason;
    EXPECT_EQ(v->policy, "1.2.3.4.1");
    EXPECT_FALSE(v->development_tsa);
    EXPECT_EQ(v->hash_algorithm, "sha256");
    EXPECT_EQ(v->tsa_chain.size(), 3u);
  }
  Result<TimestampVerification> changed =
      VerifyTimestamp(ReadFile(d + "/resp.tsr"), ToBytes("other bytes"), options);
  ASSERT_OK(changed);
  EXPECT_EQ(changed->reason, "the message imprint does not match the data");

  // SHA-512 imprints verify too (our requests are SHA-256; other clients' need not be).
  r = RunShell("openssl ts -query -data " + Quote(d + "/data.bin") + " -sha512 -cert -out " +
               Quote(d + "/req512.tsq"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunShell("openssl ts -reply -config " + cnf + " -queryfile " + Quote(d + "/req512.tsq") +
               " -out " + Quote(d + "/resp512.tsr"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Result<TimestampVerification> v512 =
      VerifyTimestamp(ReadFile(d + "/resp512.tsr"), kData, options);
  ASSERT_OK(v512);
  EXPECT_TRUE(v512->valid) << v512->reason;
  EXPECT_EQ(v512->hash_algorithm, "sha512");
  // And the development TSA answers a SHA-512 request from openssl.
  Result<Bytes> dev512 = tsa_->Respond(ReadFile(d + "/req512.tsq"), now_);
  ASSERT_OK(dev512);
  v512 = VerifyTimestamp(*dev512, kData, Trusting());
  ASSERT_OK(v512);
  EXPECT_TRUE(v512->valid) << v512->reason;
}

// ---------------------------------------------------------------------------------------------
// The client.

// Records the URLs asked and can fail the first `failures` posts or rewrite requests.
class RecordingTransport : public TimestampTransport {
 public:
  explicit RecordingTransport(TimestampTransport& next) : next_(next) {}
  Result<Bytes> Post(const std::string& url, ByteView request) override {
    asked.push_back(url);
    if (failures > 0) {
      --failures;
      return UnavailableError("HTTP 503 from the TSA");
    }
    if (rewrite) {
      const Bytes changed = rewrite(request);
      return next_.Post(url, changed);
    }
    return next_.Post(url, request);
  }

  std::vector<std::string> asked;
  int failures = 0;
  std::function<Bytes(ByteView)> rewrite;

 private:
  TimestampTransport& next_;
};

TEST_F(TsaTest, G612_TsaClientReturnsAVerifiedToken) {
  InProcessTsaTransport transport(*tsa_, Clock());
  TsaClient client(transport, ClientOptions({"https://tsa1.example/tsp"}));
  const Bytes digest = Digest(kData);
  Result<TimestampToken> token = client.Timestamp(digest, now_);
  ASSERT_OK(token);
  EXPECT_TRUE(token->verification.valid);
  EXPECT_TRUE(token->verification.tsa_certificate_in_token);
  EXPECT_EQ(token->verification.gen_time, FormatRfc3339(now_));
  Result<TimestampVerification> again = VerifyTimestamp(token->token, kData, Trusting());
  ASSERT_OK(again);
  EXPECT_TRUE(again->valid) << again->reason;
}

TEST_F(TsaTest, G612_TsaClientFailsOverWhenTheFirstTsaIsDown) {
  InProcessTsaTransport inner(*tsa_, Clock(), {"https://tsa1.example/tsp"});
  RecordingTransport transport(inner);
  TsaClient client(transport,
                   ClientOptions({"https://tsa1.example/tsp", "https://tsa2.example/tsp"}));
  Result<TimestampToken> token = client.Timestamp(Digest(kData), now_);
  ASSERT_OK(token);
  EXPECT_TRUE(token->verification.valid);
  EXPECT_THAT(transport.asked, ElementsAre("https://tsa1.example/tsp", "https://tsa1.example/tsp",
                                           "https://tsa2.example/tsp"));
}

TEST_F(TsaTest, G612_TsaClientListsEveryTsaWhenNoneAnswers) {
  InProcessTsaTransport transport(*tsa_, Clock(),
                                  {"https://tsa1.example/tsp", "http://tsa2.example:8080/"});
  TsaClient client(transport,
                   ClientOptions({"https://tsa1.example/tsp", "http://tsa2.example:8080/"}));
  Result<TimestampToken> token = client.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(token.error().message(),
            "no time-stamping authority answered: https://tsa1.example/tsp: connection refused; "
            "http://tsa2.example:8080/: connection refused");
}

TEST_F(TsaTest, TsaClientRetriesATransientFailure) {
  InProcessTsaTransport inner(*tsa_, Clock());
  RecordingTransport transport(inner);
  transport.failures = 1;
  TsaClient client(transport, ClientOptions({"https://tsa1.example/tsp"}));
  ASSERT_OK(client.Timestamp(Digest(kData), now_));
  EXPECT_EQ(transport.asked.size(), 2u);

  transport.failures = 1;
  TsaClientOptions once = ClientOptions({"https://tsa1.example/tsp"});
  once.attempts_per_url = 1;
  TsaClient impatient(transport, once);
  Result<TimestampToken> token = impatient.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(token.error().message(),
              HasSubstr("https://tsa1.example/tsp: HTTP 503 from the TSA"));
}

TEST_F(TsaTest, G612_TsaClientRejectsAReplayedAnswer) {
  // The "TSA" answers every request with a response to an earlier one.
  Result<TimestampRequest> earlier = MakeTimestampRequest(Digest(kData));
  ASSERT_OK(earlier);
  InProcessTsaTransport inner(*tsa_, Clock());
  RecordingTransport transport(inner);
  transport.rewrite = [earlier_der = earlier->der](ByteView) { return earlier_der; };
  TsaClient client(transport, ClientOptions({"https://tsa1.example/tsp"}));
  Result<TimestampToken> token = client.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(token.error().message(),
              HasSubstr("its token does not verify: the token's nonce does not match the "
                        "request's"));
  EXPECT_EQ(transport.asked.size(), 1u);  // A bad answer is not retried.
}

TEST_F(TsaTest, G612_TsaClientRequiresTheTsaCertificateInTheToken) {
  InProcessTsaTransport inner(*tsa_, Clock());
  RecordingTransport transport(inner);
  transport.rewrite = [](ByteView request) {
    const unsigned char* p = request.data();
    Ptr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(request.size())));
    TS_REQ_set_cert_req(req.get(), 0);
    Bytes der(static_cast<std::size_t>(i2d_TS_REQ(req.get(), nullptr)));
    unsigned char* out = der.data();
    i2d_TS_REQ(req.get(), &out);
    return der;
  };
  TsaClientOptions options = ClientOptions({"https://tsa1.example/tsp"});
  options.verify.intermediates = {ToBytes(pki_->tsa.cert_pem), ToBytes(pki_->tsa_ca.cert_pem)};
  TsaClient client(transport, options);
  Result<TimestampToken> token = client.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(token.error().message(),
              HasSubstr("leaves out the TSA certificate although the request asked for it"));
}

TEST_F(TsaTest, G612_TsaClientRejectsUntrustedAndUnlistedTsas) {
  InProcessTsaTransport transport(*tsa_, Clock());
  TsaClientOptions options = ClientOptions({"https://tsa1.example/tsp"});
  options.verify.trust_anchors.clear();
  TsaClient untrusted(transport, options);
  Result<TimestampToken> token = untrusted.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(token.error().message(), HasSubstr("the TSA certificate is not trusted"));

  options = ClientOptions({"https://tsa1.example/tsp"});
  options.verify.accepted_tsa_sha256 = {std::string(64, 'b')};
  TsaClient unlisted(transport, options);
  token = unlisted.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token.error().message(), HasSubstr("the TSA is not on the accepted list"));
}

TEST_F(TsaTest, TsaClientReportsARefusalWithoutRetrying) {
  InProcessTsaTransport inner(*tsa_, Clock());
  RecordingTransport transport(inner);
  TsaClientOptions options = ClientOptions({"https://tsa1.example/tsp"});
  options.request_policy = "1.2.3.4";  // The development TSA serves only its own policy.
  TsaClient client(transport, options);
  Result<TimestampToken> token = client.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(token.error().message(), HasSubstr("status rejection, failInfo unacceptedPolicy"));
  EXPECT_EQ(transport.asked.size(), 1u);
}

TEST_F(TsaTest, TsaClientKeepsCredentialsInUrlsOutOfMessages) {
  const std::string url = "https://user:s3cret@tsa.example/tsp?apikey=k3y#frag";
  InProcessTsaTransport transport(*tsa_, Clock(), {url});
  TsaClient client(transport, ClientOptions({url}));
  Result<TimestampToken> token = client.Timestamp(Digest(kData), now_);
  EXPECT_THAT(token, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(token.error().message(), HasSubstr("https://tsa.example/tsp: connection refused"));
  EXPECT_THAT(token.error().message(), Not(HasSubstr("s3cret")));
  EXPECT_THAT(token.error().message(), Not(HasSubstr("k3y")));
  EXPECT_THAT(token.error().message(), Not(HasSubstr("user")));
}

TEST_F(TsaTest, TsaClientNeedsAUrlAndASha256Digest) {
  InProcessTsaTransport transport(*tsa_, Clock());
  TsaClient none(transport, ClientOptions({}));
  EXPECT_THAT(none.Timestamp(Digest(kData), now_), StatusIs(StatusCode::kFailedPrecondition));
  TsaClient client(transport, ClientOptions({"https://tsa1.example/tsp"}));
  EXPECT_THAT(client.Timestamp(Bytes(48, 1), now_), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hokan
