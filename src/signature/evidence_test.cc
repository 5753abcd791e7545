// RFC 4998 evidence records (issue 4, long-term validity; G-6.12, G-9.1-C2): one TSA request
// covers a batch through a hash tree, each member's record verifies alone, and timestamp
// renewal extends a record before its TSA certificate expires.
#include "signature/evidence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/encoding.h"
#include "signature/dev_pki.h"
#include "signature/tsa.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using std::chrono::hours;
using ::testing::HasSubstr;

Sha256Digest H(const std::string& s) { return Sha256(AsBytes(s)); }

std::vector<std::vector<Sha256Digest>> Groups(int n) {
  std::vector<std::vector<Sha256Digest>> out;
  for (int i = 0; i < n; ++i) {
    const std::string k = std::to_string(i);
    out.push_back({H("content " + k), H("signature " + k), H("validation data " + k)});
  }
  return out;
}

TEST(HashTreeTest, EveryMemberLeadsToTheRootForManyBatchSizes) {
  for (int n : {1, 2, 3, 5, 8, 13, 100}) {
    auto groups = Groups(n);
    auto batch = BuildHashTree(groups);
    ASSERT_TRUE(batch.has_value());
    for (int i = 0; i < n; ++i) {
      auto root = HashtreeRoot(batch->reduced[static_cast<std::size_t>(i)],
                               groups[static_cast<std::size_t>(i)]);
      ASSERT_TRUE(root.has_value()) << n << "/" << i;
      EXPECT_EQ(*root, batch->root) << n << "/" << i;
      // About log2(n) siblings, not n.
      EXPECT_LE(batch->reduced[static_cast<std::size_t>(i)].size(), 9U);
    }
    // A changed member hash is not in the tree; another member's tree leads elsewhere.
    auto changed = groups[0];
    changed[1] = H("forged");
    EXPECT_FALSE(HashtreeRoot(batch->reduced[0], changed).has_value());
    if (n > 1) {
      EXPECT_FALSE(HashtreeRoot(batch->reduced[1], groups[0]).has_value());
    }
  }
  EXPECT_THAT(BuildHashTree({}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildHashTree({{}}), StatusIs(StatusCode::kInvalidArgument));
}

class EvidenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    now_ = std::chrono::system_clock::now();
    auto pki = MakeCachedDevHpki(now_);
    ASSERT_TRUE(pki.has_value());
    pki_ = new DevHpki(std::move(*pki));
    auto tsa = DevTsa::Create(pki_->tsa, pki_->tsa_ca.cert_pem);
    ASSERT_TRUE(tsa.has_value());
    tsa_ = tsa->release();
  }
  static void TearDownTestSuite() {
    delete tsa_;
    delete pki_;
  }
  static Bytes Token(DevTsa& tsa, const Sha256Digest& digest, TimePoint when) {
    auto request = MakeTimestampRequest(digest);
    EXPECT_TRUE(request.has_value());
    auto response = tsa.Respond(request->der, when);
    EXPECT_TRUE(response.has_value());
    auto token = TokenFromResponse(*response);
    EXPECT_TRUE(token.has_value());
    return token.has_value() ? *token : Bytes{};
  }
  static TimestampVerifyOptions Options() {
    TimestampVerifyOptions o;
    o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.now = now_;
    return o;
  }
  static TimePoint now_;
  static DevHpki* pki_;
  static DevTsa* tsa_;
};
TimePoint EvidenceTest::now_;
DevHpki* EvidenceTest::pki_ = nullptr;
DevTsa* EvidenceTest::tsa_ = nullptr;

// One TSA request for five documents; each document's record verifies on its own.
TEST_F(EvidenceTest, G612_OneTimestampCoversABatchEachRecordStandsAlone) {
  auto groups = Groups(5);
  auto batch = BuildHashTree(groups);
  ASSERT_TRUE(batch.has_value());
  const Bytes token = Token(*tsa_, batch->root, now_);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    auto er = MakeEvidenceRecord(batch->reduced[i], token);
    ASSERT_TRUE(er.has_value());
    auto v = VerifyEvidenceRecord(*er, groups[i], Options());
    ASSERT_TRUE(v.has_value()) << v.error().ToString();
    EXPECT_TRUE(v->valid) << v->reason;
    EXPECT_TRUE(v->hashes_match);
    EXPECT_EQ(v->chains, 1);
    ASSERT_EQ(v->archive_timestamps.size(), 1U);
    EXPECT_FALSE(v->first_time.empty());
    EXPECT_FALSE(v->latest_tsa_not_after.empty());
    // Another document's hashes do not verify with this record.
    auto other = VerifyEvidenceRecord(*er, groups[(i + 1) % groups.size()], Options());
    ASSERT_TRUE(other.has_value());
    EXPECT_FALSE(other->valid);
    EXPECT_FALSE(other->hashes_match);
    EXPECT_THAT(other->reason, HasSubstr("not in the evidence's hash tree"));
  }
  EXPECT_THAT(EvidenceVerificationJson(*VerifyEvidenceRecord(
                  *MakeEvidenceRecord(batch->reduced[0], token), groups[0], Options())),
              HasSubstr("\"kind\": \"evidence-record\""));
}

TEST_F(EvidenceTest, UntrustedTsaOrForeignTokenIsReported) {
  auto groups = Groups(2);
  auto batch = BuildHashTree(groups);
  ASSERT_TRUE(batch.has_value());
  auto er = MakeEvidenceRecord(batch->reduced[0], Token(*tsa_, batch->root, now_));
  TimestampVerifyOptions untrusted = Options();
  untrusted.trust_anchors = {ToBytes(pki_->signing_ca.cert_pem)};
  auto v = VerifyEvidenceRecord(*er, groups[0], untrusted);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->valid);
  EXPECT_TRUE(v->hashes_match);  // A trust problem, not changed data.
  EXPECT_THAT(v->reason, HasSubstr("archive timestamp 1 is not valid"));
  // A token over something else, wrapped with a correct tree: the imprint does not match.
  auto foreign = MakeEvidenceRecord(batch->reduced[0], Token(*tsa_, H("else"), now_));
  v = VerifyEvidenceRecord(*foreign, groups[0], Options());
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->valid);
  EXPECT_FALSE(v->hashes_match);
  EXPECT_THAT(v->reason, HasSubstr("imprint"));
}

// Timestamp renewal (RFC 4998 §5.2): before the first TSA certificate expires, a new archive
// timestamp over the previous one; in a batch through a hash tree too.
TEST_F(EvidenceTest, G612_RenewalBeforeExpiryExtendsTheRecord) {
  // A TSA whose certificate expires in a day.
  DevCertificateSpec spec;
  spec.common_name = "short-lived TSA";
  spec.time_stamping = true;
  spec.key_type = DevKeyType::kEcP256;
  spec.not_before = now_ - hours(1);
  spec.not_after = now_ + hours(24);
  auto short_cert = MakeDevCertificate(spec, &pki_->tsa_ca);
  ASSERT_TRUE(short_cert.has_value());
  auto short_tsa = DevTsa::Create(*short_cert, pki_->tsa_ca.cert_pem);
  ASSERT_TRUE(short_tsa.has_value());

  auto groups = Groups(3);
  auto batch = BuildHashTree(groups);
  auto er = MakeEvidenceRecord(batch->reduced[2], Token(**short_tsa, batch->root, now_));
  ASSERT_TRUE(er.has_value());

  // Renewed in time by the long-lived TSA, alone...
  auto digest = RenewalDigest(*er);
  ASSERT_TRUE(digest.has_value());
  auto renewed = RenewEvidenceRecord(*er, {}, Token(*tsa_, *digest, now_ + hours(12)));
  ASSERT_TRUE(renewed.has_value());
  TimestampVerifyOptions later = Options();
  later.now = now_ + hours(48);  // The first TSA certificate has expired by now.
  auto v = VerifyEvidenceRecord(*renewed, groups[2], later);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_TRUE(v->valid) << v->reason;
  ASSERT_EQ(v->archive_timestamps.size(), 2U);
  EXPECT_TRUE(v->archive_timestamps[0].timestamp.tsa_certificate_expired_now);

  // ...or in a batch with other records' renewals.
  auto other =
      RenewalDigest(*MakeEvidenceRecord(batch->reduced[0], Token(**short_tsa, batch->root, now_)));
  auto renewal_batch = BuildHashTree({{*digest}, {*other}});
  ASSERT_TRUE(renewal_batch.has_value());
  auto batched = RenewEvidenceRecord(*er, renewal_batch->reduced[0],
                                     Token(*tsa_, renewal_batch->root, now_ + hours(12)));
  ASSERT_TRUE(batched.has_value());
  v = VerifyEvidenceRecord(*batched, groups[2], later);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->valid) << v->reason;

  // Renewed too late: the chain is broken.
  auto late = RenewEvidenceRecord(*er, {}, Token(*tsa_, *digest, now_ + hours(30)));
  v = VerifyEvidenceRecord(*late, groups[2], later);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->valid);
  EXPECT_THAT(v->reason, HasSubstr("after the previous TSA certificate had expired"));

  // A renewal token over something else.
  auto wrong = RenewEvidenceRecord(*er, {}, Token(*tsa_, H("x"), now_ + hours(12)));
  v = VerifyEvidenceRecord(*wrong, groups[2], later);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->valid);
  EXPECT_THAT(v->reason, HasSubstr("archive timestamp 2"));
}

// The validation data kept with the evidence lets the signature be checked later from it
// alone (plus the trust anchors), e.g. when the CAs no longer publish those CRLs.
TEST_F(EvidenceTest, ValidationDataCarriesThePathsAndCrls) {
  const std::string content = "紹介状 v1";
  CadesSignOptions so;
  so.signer_cert_pem = pki_->doctor.cert_pem;
  so.signer_key_pem = pki_->doctor.key_pem;
  so.chain_pem = {pki_->signing_ca.cert_pem};
  so.signing_time = now_;
  auto bes = SignCades(AsBytes(content), so);
  ASSERT_TRUE(bes.has_value());
  auto value = SignatureValue(*bes);
  auto cades_t = AddSignatureTimestamp(*bes, Token(*tsa_, Sha256(*value), now_));
  ASSERT_TRUE(cades_t.has_value());

  SignatureVerifyOptions o;
  o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
  o.crls = {ToBytes(pki_->signing_ca_crl), ToBytes(pki_->root_crl), ToBytes(pki_->tsa_ca_crl)};
  o.now = now_;
  o.timestamp = Options();
  o.content_sha256 = HexEncode(Sha256(AsBytes(content)));
  auto data = CollectValidationData(*cades_t, o);
  ASSERT_TRUE(data.has_value()) << data.error().ToString();
  auto read = ReadValidationData(*data);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->certificates.size(), 5U);  // doctor, CA, root; TSA, TSA CA (root once).
  EXPECT_EQ(read->crls.size(), 3U);

  // Later: the configured CRLs are gone; the stored validation data suffices.
  SignatureVerifyOptions later = o;
  later.crls = read->crls;
  later.intermediates = read->certificates;
  auto r = VerifyCades(*cades_t, std::nullopt, later);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->valid) << r->reason;

  // A signature that does not validate gives no validation data.
  SignatureVerifyOptions no_crl = o;
  no_crl.crls.clear();
  EXPECT_THAT(CollectValidationData(*cades_t, no_crl), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(ReadValidationData(AsBytes("x")), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(EvidenceTest, HostileInputIsAClearErrorNeverACrash) {
  auto groups = Groups(4);
  auto batch = BuildHashTree(groups);
  auto er = MakeEvidenceRecord(batch->reduced[1], Token(*tsa_, batch->root, now_));
  ASSERT_TRUE(er.has_value());
  EXPECT_THAT(VerifyEvidenceRecord(AsBytes("garbage"), groups[1], Options()),
              StatusIs(StatusCode::kInvalidArgument));
  for (std::size_t cut = 0; cut < er->size(); cut += 7) {
    Bytes truncated(er->begin(), er->begin() + static_cast<long>(cut));
    EXPECT_FALSE(VerifyEvidenceRecord(truncated, groups[1], Options()).has_value()) << cut;
  }
  for (std::size_t i = 0; i < 200 && i < er->size(); ++i) {
    Bytes flipped = *er;
    flipped[i] ^= 0x5a;
    auto v = VerifyEvidenceRecord(flipped, groups[1], Options());
    if (v.has_value()) {
      EXPECT_FALSE(v->valid) << i;
    }
  }
  EXPECT_THAT(RenewalDigest(AsBytes("")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeEvidenceRecord({}, AsBytes("x")), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hokan
