// RFC 3161 requests, responses and token verification (G-6.12; JP-STANDARDS.md §2.4), against
// the development TSA and a test PKI made by MakeDevHpki. Interoperability with the openssl CLI
// and the client's fail-over are in tsa_test.cc.
#include "signature/timestamp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/ts.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/dev_pki.h"
#include "signature/internal/ossl.h"
#include "signature/tsa.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using signature_internal::ParseCertificate;
using signature_internal::ParsePrivateKey;
using signature_internal::Ptr;
using std::chrono::hours;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Bytes Digest(ByteView data) {
  const Sha256Digest d = Sha256(data);
  return Bytes(d.begin(), d.end());
}

class TimestampTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
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

  // Trusts the test PKI's root, with the TSA CA's and the root's CRLs.
  static TimestampVerifyOptions Trusting() {
    TimestampVerifyOptions o;
    o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.crls = {ToBytes(pki_->tsa_ca_crl), ToBytes(pki_->root_crl)};
    o.now = now_;
    return o;
  }

  // A response from `tsa` for `data` at `at`.
  static Bytes Stamp(DevTsa& tsa, ByteView data, TimePoint at, const std::string& policy = "",
                     Bytes* nonce = nullptr) {
    Result<TimestampRequest> req = MakeTimestampRequest(Digest(data), policy);
    EXPECT_OK(req);
    if (!req) return {};
    if (nonce != nullptr) *nonce = req->nonce;
    Result<Bytes> resp = tsa.Respond(req->der, at);
    EXPECT_OK(resp);
    return resp ? *resp : Bytes();
  }

  static TimestampVerification Verified(ByteView resp, ByteView data,
                                        const TimestampVerifyOptions& options) {
    Result<TimestampVerification> v = VerifyTimestamp(resp, data, options);
    EXPECT_OK(v);
    return v ? *v : TimestampVerification{};
  }

  // A TSA certificate issued by the test PKI's TSA CA, valid from `from` to `until`.
  static std::unique_ptr<DevTsa> TsaValid(TimePoint from, TimePoint until) {
    DevCertificateSpec spec;
    spec.common_name = "Dev TSA short-lived - NOT ACCREDITED";
    spec.key_type = DevKeyType::kEcP256;
    spec.time_stamping = true;
    spec.not_before = from;
    spec.not_after = until;
    Result<CertificateAndKey> cert = MakeDevCertificate(spec, &pki_->tsa_ca);
    EXPECT_OK(cert);
    if (!cert) return nullptr;
    Result<std::unique_ptr<DevTsa>> tsa = DevTsa::Create(*cert, pki_->tsa_ca.cert_pem);
    EXPECT_OK(tsa);
    return tsa ? std::move(*tsa) : nullptr;
  }

  static inline const Bytes kData = ToBytes("discharge summary, version 3 (test bytes)");
  static TimePoint now_;
  static DevHpki* pki_;
  static DevTsa* tsa_;
};
TimePoint TimestampTest::now_;
DevHpki* TimestampTest::pki_ = nullptr;
DevTsa* TimestampTest::tsa_ = nullptr;

// ---------------------------------------------------------------------------------------------
// Requests and responses.

TEST_F(TimestampTest, RequestAsksForSha256ImprintWithNonceAndCertificate) {
  const Bytes digest = Digest(kData);
  Result<TimestampRequest> req = MakeTimestampRequest(digest, "1.2.3.4.5");
  ASSERT_OK(req);
  ASSERT_EQ(req->nonce.size(), 8u);

  const unsigned char* p = req->der.data();
  Ptr<TS_REQ> parsed(d2i_TS_REQ(nullptr, &p, static_cast<long>(req->der.size())));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(TS_REQ_get_version(parsed.get()), 1);
  EXPECT_EQ(TS_REQ_get_cert_req(parsed.get()), 1);
  TS_MSG_IMPRINT* imprint = TS_REQ_get_msg_imprint(parsed.get());
  const ASN1_OBJECT* alg = nullptr;
  X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  EXPECT_EQ(OBJ_obj2nid(alg), NID_sha256);
  const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(imprint);
  EXPECT_EQ(Bytes(ASN1_STRING_get0_data(msg), ASN1_STRING_get0_data(msg) + ASN1_STRING_length(msg)),
            digest);
  Ptr<BIGNUM> sent(ASN1_INTEGER_to_BN(TS_REQ_get_nonce(parsed.get()), nullptr));
  Ptr<BIGNUM> nonce(BN_bin2bn(req->nonce.data(), 8, nullptr));
  EXPECT_EQ(BN_cmp(sent.get(), nonce.get()), 0);
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, TS_REQ_get_policy_id(parsed.get()), 1);
  EXPECT_STREQ(oid, "1.2.3.4.5");

  Result<TimestampRequest> again = MakeTimestampRequest(digest);
  ASSERT_OK(again);
  EXPECT_NE(again->nonce, req->nonce);
}

TEST_F(TimestampTest, RequestRejectsBadDigestAndPolicy) {
  EXPECT_THAT(MakeTimestampRequest(Bytes(20, 1)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeTimestampRequest(Digest(kData), "not an oid"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(TimestampTest, TokenFromResponseReturnsTheSignedData) {
  const Bytes resp = Stamp(*tsa_, kData, now_);
  Result<Bytes> token = TokenFromResponse(resp);
  ASSERT_OK(token);
  const unsigned char* p = token->data();
  Ptr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token->size())));
  ASSERT_TRUE(cms);
  EXPECT_EQ(OBJ_obj2nid(CMS_get0_eContentType(cms.get())), NID_id_smime_ct_TSTInfo);
}

TEST_F(TimestampTest, G612_RejectionResponseIsAnErrorNamingStatusAndFailInfo) {
  Result<Bytes> resp = tsa_->Respond(ToBytes("not a request"), now_);
  ASSERT_OK(resp);
  Result<Bytes> token = TokenFromResponse(*resp);
  EXPECT_THAT(token, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(token.error().message(), HasSubstr("status rejection"));
  EXPECT_THAT(token.error().message(), HasSubstr("failInfo badDataFormat"));

  // Verifying the same response reports the refusal instead of a token's facts.
  TimestampVerification v = Verified(*resp, kData, Trusting());
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, StartsWith("the response carries no token: the TSA refused the request: "
                                   "status rejection, failInfo badDataFormat"));
}

TEST_F(TimestampTest, G612_UnsupportedPolicyIsRefusedWithUnacceptedPolicy) {
  const Bytes resp = Stamp(*tsa_, kData, now_, "1.2.3.4");
  Result<Bytes> token = TokenFromResponse(resp);
  EXPECT_THAT(token, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(token.error().message(), HasSubstr("failInfo unacceptedPolicy"));
}

TEST_F(TimestampTest, NonResponsesAreInvalidArguments) {
  EXPECT_THAT(TokenFromResponse(ToBytes("garbage")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(TokenFromResponse(Bytes()), StatusIs(StatusCode::kInvalidArgument));
  Result<Bytes> token = TokenFromResponse(Stamp(*tsa_, kData, now_));
  ASSERT_OK(token);
  EXPECT_THAT(TokenFromResponse(*token), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_THAT(VerifyTimestamp(ToBytes("garbage"), kData, Trusting()),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyTimestampDigest(Bytes(), Digest(kData), Trusting()),
              StatusIs(StatusCode::kInvalidArgument));
  // A certificate is DER too, but not a response or a token.
  Result<Ptr<X509>> cert = ParseCertificate(ToBytes(pki_->tsa.cert_pem));
  ASSERT_OK(cert);
  EXPECT_THAT(VerifyTimestamp(signature_internal::CertificateDer(cert->get()), kData, Trusting()),
              StatusIs(StatusCode::kInvalidArgument));
  // Trailing bytes after a valid token are not ignored.
  Bytes padded = *token;
  padded.push_back(0);
  EXPECT_THAT(VerifyTimestamp(padded, kData, Trusting()), StatusIs(StatusCode::kInvalidArgument));
}

// ---------------------------------------------------------------------------------------------
// Verification: what a valid token reports.

TEST_F(TimestampTest, G612_DevTsaTokenVerifiesAndReportsItsFacts) {
  const TimePoint at = now_ - std::chrono::minutes(5) + std::chrono::milliseconds(123);
  Bytes nonce;
  const Bytes resp = Stamp(*tsa_, kData, at, "", &nonce);
  TimestampVerifyOptions options = Trusting();
  options.expected_nonce = nonce;
  TimestampVerification v = Verified(resp, kData, options);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.reason, "");
  EXPECT_EQ(v.gen_time, FormatRfc3339(at));
  EXPECT_EQ(v.gen_time_point, at);
  EXPECT_EQ(v.policy, kDevTsaPolicyOid);
  EXPECT_TRUE(v.development_tsa);
  EXPECT_EQ(v.hash_algorithm, "sha256");
  EXPECT_EQ(v.message_imprint, HexEncode(Digest(kData)));
  EXPECT_EQ(v.serial.size(), 32u);
  EXPECT_THAT(v.tsa_name, HasSubstr("CN=Dev TSA 1 - NOT ACCREDITED"));
  EXPECT_TRUE(v.tsa_certificate_in_token);
  EXPECT_FALSE(v.tsa_listed);
  EXPECT_FALSE(v.tsa_certificate_expired_now);
  ASSERT_EQ(v.tsa_chain.size(), 3u);
  EXPECT_THAT(v.tsa_chain[0].certificate.subject, HasSubstr("Dev TSA 1"));
  EXPECT_THAT(v.tsa_chain[1].certificate.subject, HasSubstr("Dev TSA CA"));
  EXPECT_THAT(v.tsa_chain[2].certificate.subject, HasSubstr("Dev HPKI Root CA"));
  EXPECT_EQ(v.tsa_chain[0].revocation, RevocationState::kGood);

  // Each token has its own serial.
  TimestampVerification other = Verified(Stamp(*tsa_, kData, at), kData, Trusting());
  EXPECT_NE(other.serial, v.serial);
}

TEST_F(TimestampTest, G612_BareTokenAndDigestVerifyLikeTheResponse) {
  const Bytes resp = Stamp(*tsa_, kData, now_);
  Result<Bytes> token = TokenFromResponse(resp);
  ASSERT_OK(token);
  EXPECT_TRUE(Verified(*token, kData, Trusting()).valid);

  Result<TimestampVerification> by_digest =
      VerifyTimestampDigest(*token, Digest(kData), Trusting());
  ASSERT_OK(by_digest);
  EXPECT_TRUE(by_digest->valid) << by_digest->reason;

  // A digest of another length cannot be the token's SHA-256 imprint.
  Result<TimestampVerification> short_digest =
      VerifyTimestampDigest(*token, Bytes(20, 7), Trusting());
  ASSERT_OK(short_digest);
  EXPECT_FALSE(short_digest->valid);
  EXPECT_EQ(short_digest->reason, "the digest is 20 bytes, but the token's sha256 imprint is 32");
}

TEST_F(TimestampTest, G612_TsaCertificateCanComeFromIntermediatesWhenLeftOut) {
  // A request without certReq: the token carries no certificates.
  Result<TimestampRequest> req = MakeTimestampRequest(Digest(kData));
  ASSERT_OK(req);
  const unsigned char* p = req->der.data();
  Ptr<TS_REQ> parsed(d2i_TS_REQ(nullptr, &p, static_cast<long>(req->der.size())));
  ASSERT_TRUE(parsed);
  TS_REQ_set_cert_req(parsed.get(), 0);
  Bytes der(static_cast<std::size_t>(i2d_TS_REQ(parsed.get(), nullptr)));
  unsigned char* out = der.data();
  i2d_TS_REQ(parsed.get(), &out);
  Result<Bytes> resp = tsa_->Respond(der, now_);
  ASSERT_OK(resp);

  TimestampVerification v = Verified(*resp, kData, Trusting());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason,
            "the TSA certificate is neither in the token nor among the given intermediates");

  TimestampVerifyOptions options = Trusting();
  options.intermediates = {ToBytes(pki_->tsa.cert_pem), ToBytes(pki_->tsa_ca.cert_pem)};
  v = Verified(*resp, kData, options);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_FALSE(v.tsa_certificate_in_token);
}

TEST_F(TimestampTest, G612_ListedTsaAndAcceptedPolicyVerify) {
  TimestampVerifyOptions options = Trusting();
  Result<std::string> fingerprint = CertificateFingerprint(pki_->tsa.cert_pem);
  ASSERT_OK(fingerprint);
  options.accepted_tsa_sha256 = {"00", *fingerprint};
  options.accepted_policies = {"1.2.3", kDevTsaPolicyOid};
  TimestampVerification v = Verified(Stamp(*tsa_, kData, now_), kData, options);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_TRUE(v.tsa_listed);
}

TEST_F(TimestampTest, G612_TsaCertificateExpiredSinceGenTimeIsStillValid) {
  std::unique_ptr<DevTsa> tsa = TsaValid(now_ - hours(24), now_ + hours(1));
  ASSERT_TRUE(tsa);
  TimestampVerifyOptions options = Trusting();
  options.now = now_ + hours(2);
  TimestampVerification v = Verified(Stamp(*tsa, kData, now_), kData, options);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_TRUE(v.tsa_certificate_expired_now);
}

TEST_F(TimestampTest, G612_VerificationJsonHasTheReportFields) {
  TimestampVerification v = Verified(Stamp(*tsa_, kData, now_), kData, Trusting());
  ASSERT_TRUE(v.valid) << v.reason;
  const nlohmann::json j = nlohmann::json::parse(TimestampVerificationJson(v));
  EXPECT_EQ(j.at("valid"), true);
  EXPECT_EQ(j.at("reason"), "");
  EXPECT_EQ(j.at("gen_time"), v.gen_time);
  EXPECT_EQ(j.at("policy"), kDevTsaPolicyOid);
  EXPECT_EQ(j.at("serial"), v.serial);
  EXPECT_EQ(j.at("hash_algorithm"), "sha256");
  EXPECT_EQ(j.at("message_imprint"), v.message_imprint);
  EXPECT_EQ(j.at("tsa_name"), v.tsa_name);
  EXPECT_EQ(j.at("development_tsa"), true);
  EXPECT_EQ(j.at("tsa_listed"), false);
  EXPECT_EQ(j.at("tsa_certificate_expired_now"), false);
  EXPECT_EQ(j.at("tsa_certificate_in_token"), true);
  ASSERT_EQ(j.at("tsa_chain").size(), 3u);
  const nlohmann::json& leaf = j.at("tsa_chain")[0];
  EXPECT_EQ(leaf.at("subject"), v.tsa_chain[0].certificate.subject);
  EXPECT_EQ(leaf.at("issuer"), v.tsa_chain[0].certificate.issuer);
  EXPECT_EQ(leaf.at("serial"), v.tsa_chain[0].certificate.serial);
  EXPECT_EQ(leaf.at("sha256"), v.tsa_chain[0].certificate.sha256);
  EXPECT_EQ(leaf.at("not_before"), v.tsa_chain[0].certificate.not_before);
  EXPECT_EQ(leaf.at("not_after"), v.tsa_chain[0].certificate.not_after);
  EXPECT_EQ(leaf.at("revocation"), "good");
  EXPECT_EQ(leaf.at("revoked_at"), "");

  // Names from certificates are outside input: invalid UTF-8 must not break the report.
  v.tsa_name = std::string("CN=\xff\xfe");
  const std::string replaced = TimestampVerificationJson(v);
  EXPECT_TRUE(nlohmann::json::accept(replaced)) << replaced;
}

// ---------------------------------------------------------------------------------------------
// Verification: each failure is reported precisely.

TEST_F(TimestampTest, G612_ChangedDataIsReported) {
  const Bytes resp = Stamp(*tsa_, kData, now_);
  Bytes changed = kData;
  changed[0] ^= 1;
  TimestampVerification v = Verified(resp, changed, Trusting());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, "the message imprint does not match the data");
  // The facts of the token are still reported.
  EXPECT_EQ(v.message_imprint, HexEncode(Digest(kData)));
  EXPECT_FALSE(v.gen_time.empty());
}

TEST_F(TimestampTest, G612_TamperedSignatureIsReported) {
  Result<Bytes> token = TokenFromResponse(Stamp(*tsa_, kData, now_));
  ASSERT_OK(token);
  Bytes tampered = *token;
  tampered.back() ^= 0x01;  // The last byte of the SignerInfo's signature value.
  TimestampVerification v = Verified(tampered, kData, Trusting());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, "the token's signature does not verify");
}

TEST_F(TimestampTest, G612_TamperedTstInfoIsReported) {
  Result<Bytes> token = TokenFromResponse(Stamp(*tsa_, kData, now_));
  ASSERT_OK(token);
  // Rewrite the imprint inside the TSTInfo to that of other data: the token still parses,
  // but the signed message digest no longer matches.
  const Bytes digest = Digest(kData);
  auto at = std::search(token->begin(), token->end(), digest.begin(), digest.end());
  ASSERT_NE(at, token->end());
  const Bytes forged = Digest(ToBytes("other content"));
  std::copy(forged.begin(), forged.end(), at);
  TimestampVerification v = Verified(*token, ToBytes("other content"), Trusting());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, "the token's signature does not verify");
}

TEST_F(TimestampTest, G612_WrongNonceIsReported) {
  Bytes nonce;
  const Bytes resp = Stamp(*tsa_, kData, now_, "", &nonce);
  TimestampVerifyOptions options = Trusting();
  nonce[7] ^= 1;
  options.expected_nonce = nonce;
  TimestampVerification v = Verified(resp, kData, options);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, "the token's nonce does not match the request's");
}

TEST_F(TimestampTest, G612_UnknownTsaIsNotTrusted) {
  DevCertificateSpec other;
  other.common_name = "Some Other Root";
  other.key_type = DevKeyType::kEcP256;
  other.is_ca = true;
  other.not_before = now_ - hours(1);
  Result<CertificateAndKey> root = MakeDevCertificate(other);
  ASSERT_OK(root);
  TimestampVerifyOptions options = Trusting();
  options.trust_anchors = {ToBytes(root->cert_pem)};
  TimestampVerification v = Verified(Stamp(*tsa_, kData, now_), kData, options);
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, StartsWith("the TSA certificate is not trusted: "));

  options.trust_anchors.clear();
  v = Verified(Stamp(*tsa_, kData, now_), kData, options);
  EXPECT_EQ(v.reason, "the TSA certificate is not trusted: no trust anchor is configured");

  // A pinned anchor that is not the configured root.
  options = Trusting();
  options.anchor_sha256_pins = {std::string(64, '0')};
  v = Verified(Stamp(*tsa_, kData, now_), kData, options);
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, StartsWith("the TSA certificate is not trusted: "));
}

TEST_F(TimestampTest, G612_TsaCertificateExpiredAtGenTimeIsReported) {
  std::unique_ptr<DevTsa> tsa = TsaValid(now_ - hours(24 * 400), now_ - hours(24));
  ASSERT_TRUE(tsa);
  TimestampVerification v = Verified(Stamp(*tsa, kData, now_), kData, Trusting());
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, StartsWith("the TSA certificate had expired at genTime " +
                                   FormatRfc3339(now_) + " (it was valid until "));
  EXPECT_TRUE(v.tsa_certificate_expired_now);
}

TEST_F(TimestampTest, G612_TsaCertificateRevokedBeforeGenTimeIsNotTrusted) {
  std::unique_ptr<DevTsa> tsa = TsaValid(now_ - hours(24), now_ + hours(24));
  ASSERT_TRUE(tsa);
  Result<std::string> crl = MakeDevCrl(pki_->tsa_ca, {{tsa->certificate_pem(), now_ - hours(1), 1}},
                                       now_ - hours(1), now_ + hours(24));
  ASSERT_OK(crl);
  TimestampVerifyOptions options = Trusting();
  options.crls = {ToBytes(*crl), ToBytes(pki_->root_crl)};
  TimestampVerification v = Verified(Stamp(*tsa, kData, now_), kData, options);
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, StartsWith("the TSA certificate is not trusted: "));
  EXPECT_THAT(v.reason, HasSubstr("revoked"));
  ASSERT_FALSE(v.tsa_chain.empty());
  EXPECT_EQ(v.tsa_chain[0].revocation, RevocationState::kRevoked);
}

TEST_F(TimestampTest, G612_TsaNotOnTheAcceptedListIsReported) {
  TimestampVerifyOptions options = Trusting();
  options.accepted_tsa_sha256 = {std::string(64, 'a')};
  TimestampVerification v = Verified(Stamp(*tsa_, kData, now_), kData, options);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, "the TSA is not on the accepted list");
  EXPECT_FALSE(v.tsa_listed);
}

TEST_F(TimestampTest, G612_PolicyNotAcceptedIsReported) {
  TimestampVerifyOptions options = Trusting();
  options.accepted_policies = {"0.2.440.200185.1.1.1.1"};
  TimestampVerification v = Verified(Stamp(*tsa_, kData, now_), kData, options);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, std::string("the token's policy ") + kDevTsaPolicyOid + " is not accepted");
}

TEST_F(TimestampTest, G612_TokenSignedByANonTsaCertificateIsReported) {
  // Re-sign a genuine TSTInfo with the doctor's key (a valid chain, but not a TSA), with the
  // ESS signing-certificate-v2 attribute a CAdES signer adds.
  Result<Bytes> token = TokenFromResponse(Stamp(*tsa_, kData, now_));
  ASSERT_OK(token);
  const unsigned char* p = token->data();
  Ptr<CMS_ContentInfo> genuine(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token->size())));
  ASSERT_TRUE(genuine);
  ASN1_OCTET_STRING* tst_info = *CMS_get0_content(genuine.get());
  Ptr<BIO> content(BIO_new_mem_buf(ASN1_STRING_get0_data(tst_info), ASN1_STRING_length(tst_info)));
  Result<Ptr<X509>> cert = ParseCertificate(ToBytes(pki_->doctor.cert_pem));
  Result<Ptr<EVP_PKEY>> key = ParsePrivateKey(ToBytes(pki_->doctor.key_pem));
  ASSERT_OK(cert);
  ASSERT_OK(key);
  constexpr unsigned kFlags = CMS_BINARY | CMS_PARTIAL | CMS_CADES | CMS_NOSMIMECAP;
  Ptr<CMS_ContentInfo> forged(CMS_sign(cert->get(), key->get(), nullptr, nullptr, kFlags));
  ASSERT_TRUE(forged);
  ASSERT_EQ(CMS_set1_eContentType(forged.get(), OBJ_nid2obj(NID_id_smime_ct_TSTInfo)), 1);
  ASSERT_EQ(CMS_final(forged.get(), content.get(), nullptr, kFlags), 1);
  Bytes der(static_cast<std::size_t>(i2d_CMS_ContentInfo(forged.get(), nullptr)));
  unsigned char* out = der.data();
  i2d_CMS_ContentInfo(forged.get(), &out);

  TimestampVerifyOptions options = Trusting();
  options.intermediates = {ToBytes(pki_->signing_ca.cert_pem)};
  options.crls.push_back(ToBytes(pki_->signing_ca_crl));
  TimestampVerification v = Verified(der, kData, options);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.reason, "the TSA certificate has no extendedKeyUsage");
}

}  // namespace
}  // namespace hokan
