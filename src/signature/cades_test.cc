// CAdES signing and verification (issue 4): G-6.12 e-signature + timestamp, JP-STANDARDS §1.7
// HPKI qualification checks, interoperability with `openssl cms` both ways.
#include "signature/cades.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/dev_pki.h"
#include "signature/tsa.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using std::chrono::hours;
using std::chrono::minutes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kContent = "退院時サマリー: discharge summary, version 1\n";

class CadesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    now_ = std::chrono::system_clock::now();
    auto pki = MakeCachedDevHpki(now_);
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = new DevHpki(std::move(*pki));
    auto tsa = DevTsa::Create(pki_->tsa, pki_->tsa_ca.cert_pem);
    ASSERT_TRUE(tsa.has_value()) << tsa.error().ToString();
    tsa_ = tsa->release();
  }
  static void TearDownTestSuite() {
    delete tsa_;
    delete pki_;
  }

  static Bytes Sign(const CertificateAndKey& who, bool detached = true,
                    const std::string& content = kContent) {
    CadesSignOptions o;
    o.signer_cert_pem = who.cert_pem;
    o.signer_key_pem = who.key_pem;
    o.chain_pem = {pki_->signing_ca.cert_pem};
    o.signing_time = now_ - minutes(5);
    o.detached = detached;
    auto sig = SignCades(ToBytes(content), o);
    EXPECT_TRUE(sig.has_value()) << sig.error().ToString();
    return sig.has_value() ? *sig : Bytes{};
  }

  // CAdES-T: a token from the development TSA at `when` over the signature value.
  static Bytes Timestamped(const Bytes& sig, TimePoint when) {
    auto value = SignatureValue(sig);
    EXPECT_TRUE(value.has_value());
    auto request = MakeTimestampRequest(Sha256(*value));
    EXPECT_TRUE(request.has_value());
    auto response = tsa_->Respond(request->der, when);
    EXPECT_TRUE(response.has_value());
    auto token = TokenFromResponse(*response);
    EXPECT_TRUE(token.has_value()) << token.error().ToString();
    auto out = AddSignatureTimestamp(sig, *token);
    EXPECT_TRUE(out.has_value()) << out.error().ToString();
    return out.has_value() ? *out : Bytes{};
  }

  static SignatureVerifyOptions Options() {
    SignatureVerifyOptions o;
    o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.crls = {ToBytes(pki_->signing_ca_crl), ToBytes(pki_->root_crl)};
    o.now = now_;
    o.timestamp.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.timestamp.now = now_;
    return o;
  }

  static SignatureReport Verify(const Bytes& sig, const SignatureVerifyOptions& o,
                                const std::string& content = kContent) {
    auto r = VerifyCades(sig, ByteView(AsBytes(content)), o);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? *r : SignatureReport{};
  }

  static TimePoint now_;
  static DevHpki* pki_;
  static DevTsa* tsa_;
};
TimePoint CadesTest::now_;
DevHpki* CadesTest::pki_ = nullptr;
DevTsa* CadesTest::tsa_ = nullptr;

// G-6.12: a doctor's signature verifies with its qualification reported.
TEST_F(CadesTest, G612_DoctorSignatureVerifiesWithQualification) {
  const SignatureReport r = Verify(Sign(pki_->doctor), Options());
  EXPECT_TRUE(r.valid) << r.reason;
  EXPECT_EQ(r.level, "CAdES-BES");
  EXPECT_TRUE(r.detached);
  EXPECT_TRUE(r.content_intact);
  EXPECT_TRUE(r.signature_intact);
  EXPECT_TRUE(r.signing_certificate_match);
  EXPECT_THAT(r.hpki.hc_roles, ElementsAre("Medical Doctor"));
  EXPECT_THAT(r.signer.subject, HasSubstr("CN=Taro Iryo"));
  EXPECT_EQ(r.reference_time_source, "current time");
  EXPECT_FALSE(r.signing_time.empty());
  EXPECT_EQ(r.content_sha256, HexEncode(Sha256(AsBytes(kContent))));
  ASSERT_EQ(r.chain.size(), 3U);
  EXPECT_EQ(r.chain[0].revocation, RevocationState::kGood);

  const std::string json = SignatureReportJson(r);
  EXPECT_THAT(json, HasSubstr("\"valid\": true"));
  EXPECT_THAT(json, HasSubstr("Medical Doctor"));
  EXPECT_THAT(SignatureReportText(r), HasSubstr("VALID"));
}

TEST_F(CadesTest, AttachedSignatureCarriesItsContent) {
  const Bytes sig = Sign(pki_->doctor, /*detached=*/false);
  auto r = VerifyCades(sig, std::nullopt, Options());
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->valid) << r->reason;
  EXPECT_FALSE(r->detached);
  // Given content that differs from the embedded one is reported.
  const SignatureReport other = Verify(sig, Options(), "something else");
  EXPECT_FALSE(other.valid);
  EXPECT_FALSE(other.content_intact);
}

TEST_F(CadesTest, ChangedContentIsReported) {
  const SignatureReport r = Verify(Sign(pki_->doctor), Options(), kContent + " ");
  EXPECT_FALSE(r.valid);
  EXPECT_FALSE(r.content_intact);
  EXPECT_TRUE(r.signature_intact);
  EXPECT_THAT(r.reason, HasSubstr("content does not match"));
}

// `hokan verify` checks stored confirmations against the version's hash, without decrypting.
TEST_F(CadesTest, VerifiesAgainstAStoredHashWithoutTheContent) {
  const Bytes sig = Timestamped(Sign(pki_->doctor), now_);
  SignatureVerifyOptions o = Options();
  o.content_sha256 = HexEncode(Sha256(AsBytes(kContent)));
  auto r = VerifyCades(sig, std::nullopt, o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->valid) << r->reason;
  o.content_sha256 = HexEncode(Sha256(AsBytes(kContent + "x")));
  r = VerifyCades(sig, std::nullopt, o);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->valid);
  EXPECT_FALSE(r->content_intact);
  EXPECT_TRUE(*HasSignatureTimestamp(sig));
  EXPECT_FALSE(*HasSignatureTimestamp(Sign(pki_->doctor)));
}

TEST_F(CadesTest, ChangedSignatureValueIsReported) {
  Bytes sig = Sign(pki_->doctor);
  auto value = SignatureValue(sig);
  ASSERT_TRUE(value.has_value());
  auto at = std::search(sig.begin(), sig.end(), value->begin(), value->end());
  ASSERT_NE(at, sig.end());
  at[10] ^= 0x01;
  const SignatureReport r = Verify(sig, Options());
  EXPECT_FALSE(r.valid);
  EXPECT_FALSE(r.signature_intact);
  EXPECT_THAT(r.reason, HasSubstr("signature value does not verify"));
}

TEST_F(CadesTest, KeyOfAnotherSignerIsRefusedWhenSigning) {
  CadesSignOptions o;
  o.signer_cert_pem = pki_->doctor.cert_pem;
  o.signer_key_pem = pki_->pharmacist.key_pem;
  o.signing_time = now_;
  EXPECT_THAT(SignCades(AsBytes(kContent), o), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(CadesTest, SignerNotTrusted) {
  SignatureVerifyOptions o = Options();
  o.trust_anchors = {ToBytes(pki_->tsa_ca.cert_pem)};
  const SignatureReport r = Verify(Sign(pki_->doctor), o);
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("not valid"));
}

TEST_F(CadesTest, AuthenticationCertificateMayNotSign) {
  const SignatureReport r = Verify(Sign(pki_->auth_only), Options());
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("authentication certificate"));
}

// JP-STANDARDS §1.7 / issue 4: a document type that requires "Medical Doctor" or "Dentist".
TEST_F(CadesTest, MissingQualificationForTheDocumentType) {
  SignatureVerifyOptions o = Options();
  o.required_qualifications = {"Medical Doctor", "Dentist"};
  EXPECT_TRUE(Verify(Sign(pki_->doctor), o).valid);
  const SignatureReport pharmacist = Verify(Sign(pki_->pharmacist), o);
  EXPECT_FALSE(pharmacist.valid);
  EXPECT_THAT(pharmacist.reason, HasSubstr("hcRole Pharmacist"));
  const SignatureReport none = Verify(Sign(pki_->no_role), o);
  EXPECT_FALSE(none.valid);
  EXPECT_THAT(none.reason, HasSubstr("no hcRole"));
}

TEST_F(CadesTest, RevokedSignerWithoutTimestampIsInvalid) {
  const SignatureReport r = Verify(Sign(pki_->revoked), Options());
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("revoked"));
}

// G-6.12: the timestamp fixes the reference time; a later revocation does not void it.
TEST_F(CadesTest, G612_RevokedAfterTheTimestampStaysValid) {
  const Bytes sig = Timestamped(Sign(pki_->revoked), pki_->revoked_at - minutes(30));
  const SignatureReport r = Verify(sig, Options());
  EXPECT_TRUE(r.valid) << r.reason;
  EXPECT_EQ(r.level, "CAdES-T");
  EXPECT_EQ(r.reference_time_source, "signature timestamp");
  EXPECT_EQ(r.chain[0].revocation, RevocationState::kRevokedLater);
  ASSERT_TRUE(r.timestamp.has_value());
  EXPECT_TRUE(r.timestamp->development_tsa);
}

TEST_F(CadesTest, RevokedBeforeTheTimestampIsInvalid) {
  const Bytes sig = Timestamped(Sign(pki_->revoked), pki_->revoked_at + minutes(30));
  const SignatureReport r = Verify(sig, Options());
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("was revoked at"));
}

TEST_F(CadesTest, G612_ExpiredSignerVerifiesAtItsTimestamp) {
  CadesSignOptions o;
  o.signer_cert_pem = pki_->expired.cert_pem;
  o.signer_key_pem = pki_->expired.key_pem;
  o.chain_pem = {pki_->signing_ca.cert_pem};
  o.signing_time = now_ - hours(24 * 730);
  auto sig = SignCades(AsBytes(kContent), o);
  ASSERT_TRUE(sig.has_value());
  EXPECT_FALSE(Verify(*sig, Options()).valid);  // Expired now, no timestamp.
  const SignatureReport r = Verify(Timestamped(*sig, now_ - hours(24 * 730)), Options());
  EXPECT_TRUE(r.valid) << r.reason;
  // --at overrides the reference time.
  SignatureVerifyOptions at_now = Options();
  at_now.at = now_;
  EXPECT_FALSE(Verify(Timestamped(*sig, now_ - hours(24 * 730)), at_now).valid);
}

TEST_F(CadesTest, TamperedOrUntrustedTimestamp) {
  Bytes sig = Timestamped(Sign(pki_->doctor), now_ - minutes(1));
  SignatureVerifyOptions untrusted = Options();
  untrusted.timestamp.trust_anchors = {ToBytes(pki_->signing_ca.cert_pem)};
  SignatureReport r = Verify(sig, untrusted);
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("signature timestamp is not valid"));

  // The token is the last thing in the signature and ends with the TSA's RSA signature:
  // flipping a byte there leaves everything parseable but the token no longer verifies.
  sig[sig.size() - 20] ^= 0x01;
  r = Verify(sig, Options());
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("signature timestamp is not valid"));
  EXPECT_TRUE(r.content_intact);
  EXPECT_TRUE(r.signature_intact);
}

TEST_F(CadesTest, RequiredTimestampMissing) {
  SignatureVerifyOptions o = Options();
  o.require_timestamp = true;
  const SignatureReport r = Verify(Sign(pki_->doctor), o);
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("no signature timestamp"));
}

TEST_F(CadesTest, BadInputIsInvalidArgument) {
  EXPECT_THAT(VerifyCades(AsBytes("garbage"), std::nullopt, Options()),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyCades(Sign(pki_->doctor), std::nullopt, Options()),
              StatusIs(StatusCode::kInvalidArgument));
  const Bytes sig = Sign(pki_->doctor);
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, sig.size() / 2, sig.size() - 1}) {
    Bytes truncated(sig.begin(), sig.begin() + static_cast<long>(cut));
    EXPECT_FALSE(VerifyCades(truncated, ByteView(AsBytes(kContent)), Options()).has_value());
  }
}

// --- Interoperability with the openssl command line ---------------------------------------

class CadesInteropTest : public CadesTest {
 protected:
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(dir_.path() + "/" + name, std::ios::binary) << data;
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_.path() + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  int Run(const std::string& command) {
    return std::system(("cd '" + dir_.path() + "' && " + command + " >out.txt 2>&1").c_str());
  }
  void SetUp() override {
    Write("content.txt", kContent);
    Write("root.pem", pki_->root.cert_pem);
    Write("ca.pem", pki_->signing_ca.cert_pem);
    Write("doctor.pem", pki_->doctor.cert_pem);
    Write("doctor.key", pki_->doctor.key_pem);
  }
  testing::TempDir dir_;
};

TEST_F(CadesInteropTest, OpensslCmsVerifiesOurSignatures) {
  Write("sig.der", ToString(Sign(pki_->doctor)));
  EXPECT_EQ(Run("openssl cms -verify -cades -binary -inform DER -in sig.der -content "
                "content.txt -CAfile root.pem -out /dev/null"),
            0)
      << Read("out.txt");
  Write("sig-t.der", ToString(Timestamped(Sign(pki_->doctor), now_)));
  EXPECT_EQ(Run("openssl cms -verify -cades -binary -inform DER -in sig-t.der -content "
                "content.txt -CAfile root.pem -out /dev/null"),
            0)
      << Read("out.txt");
  // And it notices a changed content.
  Write("changed.txt", kContent + "x");
  EXPECT_NE(Run("openssl cms -verify -binary -inform DER -in sig.der -content changed.txt "
                "-CAfile root.pem -out /dev/null"),
            0);
}

TEST_F(CadesInteropTest, WeVerifySignaturesMadeByOpensslCms) {
  ASSERT_EQ(Run("openssl cms -sign -cades -binary -md sha256 -in content.txt -signer doctor.pem "
                "-inkey doctor.key -certfile ca.pem -outform DER -out cades.der"),
            0)
      << Read("out.txt");
  SignatureReport r = Verify(ToBytes(Read("cades.der")), Options());
  EXPECT_TRUE(r.valid) << r.reason;
  EXPECT_THAT(r.hpki.hc_roles, ElementsAre("Medical Doctor"));

  // PEM, attached.
  ASSERT_EQ(Run("openssl cms -sign -cades -binary -nodetach -in content.txt -signer doctor.pem "
                "-inkey doctor.key -certfile ca.pem -outform PEM -out attached.pem"),
            0);
  auto attached = VerifyCades(ToBytes(Read("attached.pem")), std::nullopt, Options());
  ASSERT_TRUE(attached.has_value()) << attached.error().ToString();
  EXPECT_TRUE(attached->valid) << attached->reason;

  // Without -cades there is no signing-certificate-v2: not CAdES-BES, and we say so.
  ASSERT_EQ(Run("openssl cms -sign -binary -in content.txt -signer doctor.pem -inkey doctor.key "
                "-certfile ca.pem -outform DER -out plain.der"),
            0);
  r = Verify(ToBytes(Read("plain.der")), Options());
  EXPECT_FALSE(r.valid);
  EXPECT_THAT(r.reason, HasSubstr("signing-certificate-v2"));
}

}  // namespace
}  // namespace hokan
