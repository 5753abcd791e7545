// Path validation at a reference time and the HPKI profile (JP-STANDARDS.md §1.4, §1.7).
#include "signature/cert_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "base/encoding.h"
#include "signature/dev_pki.h"
#include "signature/hpki.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using std::chrono::hours;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    now_ = std::chrono::system_clock::now();
    auto pki = MakeCachedDevHpki(now_);
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = new DevHpki(std::move(*pki));
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  static PathValidationOptions Options(TimePoint at) {
    PathValidationOptions o;
    o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.intermediates = {ToBytes(pki_->signing_ca.cert_pem), ToBytes(pki_->tsa_ca.cert_pem)};
    o.crls = {ToBytes(pki_->signing_ca_crl), ToBytes(pki_->root_crl), ToBytes(pki_->tsa_ca_crl)};
    o.at = at;
    return o;
  }
  static PathValidation Validate(const std::string& pem, const PathValidationOptions& o) {
    auto r = ValidateCertificatePath(ToBytes(pem), o);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? *r : PathValidation{};
  }
  static TimePoint now_;
  static DevHpki* pki_;
};
TimePoint PkiTest::now_;
DevHpki* PkiTest::pki_ = nullptr;

// The unit-test vector of JP-STANDARDS.md §1.4: the extnValue of a real MEDIS doctor
// certificate's subjectDirectoryAttributes.
constexpr char kDoctorSdaHex[] =
    "3034"
    "3032"
    "0606288185420001"
    "3128"
    "3126"
    "3024"
    "a022"
    "3120"
    "a00c"
    "060a2a830886910f01060101"
    "a210"
    "0c0e"
    "4d65646963616c20446f63746f72";

TEST(HcRoleTest, DecodesTheRealMedisDoctorVector) {
  auto der = HexDecode(kDoctorSdaHex);
  ASSERT_TRUE(der.has_value());
  auto roles = DecodeHcRoles(*der);
  ASSERT_TRUE(roles.has_value()) << roles.error().ToString();
  EXPECT_THAT(*roles, ElementsAre("Medical Doctor"));
}

TEST(HcRoleTest, EncodesExactlyWhatARealCertificateCarries) {
  auto der = EncodeHcRoleAttributes({"Medical Doctor"});
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(HexEncode(*der), kDoctorSdaHex);
}

TEST(HcRoleTest, SeveralActorsAndForeignSchemes) {
  auto der = EncodeHcRoleAttributes({"Medical Doctor", "Director of Hospital"});
  ASSERT_TRUE(der.has_value());
  auto roles = DecodeHcRoles(*der);
  ASSERT_TRUE(roles.has_value());
  EXPECT_THAT(*roles, ::testing::UnorderedElementsAre("Medical Doctor", "Director of Hospital"));
  // The same structure under another coding scheme names no Japanese qualification.
  std::string other = HexEncode(*der);
  const std::string scheme = "2a830886910f01060101";
  for (auto pos = other.find(scheme); pos != std::string::npos; pos = other.find(scheme)) {
    other.replace(pos, scheme.size(), "2a830886910f01060102");
  }
  auto foreign = DecodeHcRoles(*HexDecode(other));
  ASSERT_TRUE(foreign.has_value());
  EXPECT_TRUE(foreign->empty());
}

TEST(HcRoleTest, HostileInputIsAClearErrorNeverACrash) {
  auto der = *HexDecode(kDoctorSdaHex);
  for (std::size_t cut = 0; cut < der.size(); ++cut) {
    Bytes truncated(der.begin(), der.begin() + static_cast<long>(cut));
    EXPECT_FALSE(DecodeHcRoles(truncated).has_value()) << cut;
  }
  Bytes lying = der;
  lying[1] = 0x7f;  // Outer length beyond the end.
  EXPECT_THAT(DecodeHcRoles(lying), StatusIs(StatusCode::kInvalidArgument));
  Bytes indefinite = der;
  indefinite[1] = 0x80;
  EXPECT_FALSE(DecodeHcRoles(indefinite).has_value());
}

TEST_F(PkiTest, HpkiProfilesOfTheDevCertificates) {
  auto doctor = ReadHpkiProfile(ToBytes(pki_->doctor.cert_pem));
  ASSERT_TRUE(doctor.has_value()) << doctor.error().ToString();
  EXPECT_THAT(doctor->hc_roles, ElementsAre("Medical Doctor"));
  EXPECT_TRUE(doctor->non_repudiation);
  EXPECT_TRUE(doctor->signing_policy);
  EXPECT_EQ(doctor->signing_problem, "");
  EXPECT_THAT(doctor->policies, ElementsAre("1.2.392.100495.1.5.1.1.0.1"));

  auto pharmacist = ReadHpkiProfile(ToBytes(pki_->pharmacist.cert_pem));
  ASSERT_TRUE(pharmacist.has_value());
  EXPECT_THAT(pharmacist->hc_roles, ElementsAre("Pharmacist"));

  auto none = ReadHpkiProfile(ToBytes(pki_->no_role.cert_pem));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->hc_roles.empty());
  EXPECT_EQ(none->signing_problem, "");

  auto auth = ReadHpkiProfile(ToBytes(pki_->auth_only.cert_pem));
  ASSERT_TRUE(auth.has_value());
  EXPECT_TRUE(auth->authentication_policy);
  EXPECT_FALSE(auth->non_repudiation);
  EXPECT_THAT(auth->signing_problem, HasSubstr("authentication certificate"));
}

TEST_F(PkiTest, ValidChainWithRevocationChecked) {
  PathValidation v = Validate(pki_->doctor.cert_pem, Options(now_));
  EXPECT_TRUE(v.valid) << v.reason;
  ASSERT_EQ(v.chain.size(), 3U);
  EXPECT_THAT(v.chain[0].certificate.subject, HasSubstr("CN=Taro Iryo"));
  EXPECT_EQ(v.chain[0].revocation, RevocationState::kGood);
  EXPECT_EQ(v.chain[1].revocation, RevocationState::kGood);  // From the root's ARL.
  EXPECT_EQ(v.chain[2].revocation, RevocationState::kNotChecked);
  EXPECT_THAT(v.chain[2].certificate.subject, HasSubstr("Dev HPKI Root CA"));
}

TEST_F(PkiTest, RevokedBeforeTheReferenceTimeFails) {
  PathValidation v = Validate(pki_->revoked.cert_pem, Options(now_));
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, HasSubstr("was revoked at"));
  EXPECT_EQ(v.chain[0].revocation, RevocationState::kRevoked);
}

TEST_F(PkiTest, RevokedAfterTheReferenceTimeIsGoodAtThatTime) {
  PathValidation v = Validate(pki_->revoked.cert_pem, Options(pki_->revoked_at - hours(1)));
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.chain[0].revocation, RevocationState::kRevokedLater);
  EXPECT_FALSE(v.chain[0].revoked_at.empty());
}

TEST_F(PkiTest, ExpiredNowButValidAtAnEarlierReferenceTime) {
  PathValidation now = Validate(pki_->expired.cert_pem, Options(now_));
  EXPECT_FALSE(now.valid);
  EXPECT_THAT(now.reason, HasSubstr("certificate has expired"));
  // Two years ago it was inside its validity (3 to 1 years ago), and so were the CAs.
  PathValidation then = Validate(pki_->expired.cert_pem, Options(now_ - hours(24 * 730)));
  EXPECT_TRUE(then.valid) << then.reason;
}

TEST_F(PkiTest, UnknownAnchorAndPinMismatch) {
  PathValidationOptions o = Options(now_);
  o.trust_anchors = {ToBytes(pki_->tsa_ca.cert_pem)};  // Not in the doctor's path.
  PathValidation v = Validate(pki_->doctor.cert_pem, o);
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, HasSubstr("unable to get"));

  o = Options(now_);
  o.anchor_sha256_pins = {std::string(64, '0')};
  v = Validate(pki_->doctor.cert_pem, o);
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, HasSubstr("pinned"));
}

TEST_F(PkiTest, MissingCrlMeansUnknownRevocation) {
  PathValidationOptions o = Options(now_);
  o.crls = {ToBytes(pki_->root_crl)};
  PathValidation v = Validate(pki_->doctor.cert_pem, o);
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.reason, HasSubstr("revocation status"));
  EXPECT_EQ(v.chain[0].revocation, RevocationState::kUnknown);
  o.require_revocation = false;
  EXPECT_TRUE(Validate(pki_->doctor.cert_pem, o).valid);
}

TEST_F(PkiTest, ACrlSignedByAnotherKeyIsIgnored) {
  // A CRL that claims to be the signing CA's but is signed by the TSA CA: not usable.
  auto forged = MakeDevCrl(pki_->tsa_ca, {}, now_, now_ + hours(24));
  ASSERT_TRUE(forged.has_value());
  PathValidationOptions o = Options(now_);
  o.crls = {ToBytes(*forged), ToBytes(pki_->root_crl)};
  PathValidation v = Validate(pki_->revoked.cert_pem, o);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.chain[0].revocation, RevocationState::kUnknown);
}

// Roots often say notAfter 9999-12-31: beyond what TimePoint holds, handled without overflow
// (found by timestamp_fuzz as a genTime in the year 2426).
TEST_F(PkiTest, FarFutureValidityDoesNotOverflow) {
  testing::TempDir dir;
  const std::string cmd = "cd '" + dir.path() +
                          "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                          "-nodes -days 2900000 -subj /CN=far-root -keyout k.pem -out c.pem "
                          ">/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir.path() + "/c.pem");
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PathValidationOptions o;
  o.trust_anchors = {ToBytes(pem)};
  // A minute on: openssl's notBefore is the second it ran, which may be after now_.
  o.at = std::chrono::system_clock::now() + std::chrono::minutes(1);
  PathValidation v = Validate(pem, o);
  EXPECT_TRUE(v.valid) << v.reason;
  ASSERT_FALSE(v.chain.empty());
  EXPECT_GT(v.chain[0].certificate.not_after, std::string("2200"));
}

TEST_F(PkiTest, GarbageInputsAreInvalidArgument) {
  EXPECT_THAT(ValidateCertificatePath(ToBytes("not a cert"), Options(now_)),
              StatusIs(StatusCode::kInvalidArgument));
  PathValidationOptions o = Options(now_);
  o.crls = {ToBytes("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")};
  EXPECT_THAT(ValidateCertificatePath(ToBytes(pki_->doctor.cert_pem), o),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hokan
