// Encrypted signing key files (PKCS#12) for server-side signing (issue 4).
#include "signature/keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "signature/cades.h"
#include "signature/dev_pki.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class KeysTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    now_ = std::chrono::system_clock::now();
    auto pki = MakeCachedDevHpki(now_);
    ASSERT_TRUE(pki.has_value());
    pki_ = new DevHpki(std::move(*pki));
  }
  static void TearDownTestSuite() { delete pki_; }
  static TimePoint now_;
  static DevHpki* pki_;
};
TimePoint KeysTest::now_;
DevHpki* KeysTest::pki_ = nullptr;

TEST_F(KeysTest, RoundTripAndSign) {
  auto p12 = MakePkcs12(pki_->doctor.cert_pem, pki_->doctor.key_pem, {pki_->signing_ca.cert_pem},
                        "correct horse battery", "doctor");
  ASSERT_TRUE(p12.has_value()) << p12.error().ToString();
  // The passphrase does not appear in the file.
  EXPECT_THAT(std::string(AsChars(*p12)), Not(HasSubstr("correct horse")));
  auto id = ReadPkcs12(*p12, "correct horse battery");
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(id->cert_pem, pki_->doctor.cert_pem);
  ASSERT_EQ(id->chain_pem.size(), 1U);

  CadesSignOptions o;
  o.signer_cert_pem = id->cert_pem;
  o.signer_key_pem = std::string(AsChars(id->key_pem.view()));
  o.chain_pem = id->chain_pem;
  o.signing_time = now_;
  auto sig = SignCades(AsBytes("content"), o);
  ASSERT_TRUE(sig.has_value());
  SignatureVerifyOptions v;
  v.trust_anchors = {ToBytes(pki_->root.cert_pem)};
  v.crls = {ToBytes(pki_->signing_ca_crl), ToBytes(pki_->root_crl)};
  v.now = now_;
  auto report = VerifyCades(*sig, ByteView(AsBytes("content")), v);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->valid) << report->reason;
}

TEST_F(KeysTest, WrongPassphraseAndGarbage) {
  auto p12 = MakePkcs12(pki_->doctor.cert_pem, pki_->doctor.key_pem, {}, "correct horse battery",
                        "doctor");
  ASSERT_TRUE(p12.has_value());
  auto wrong = ReadPkcs12(*p12, "wrong horse battery");
  EXPECT_THAT(wrong, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(wrong.error().message(), Not(HasSubstr("wrong horse")));
  EXPECT_THAT(ReadPkcs12(AsBytes("not a key file"), "x"), StatusIs(StatusCode::kInvalidArgument));
  Bytes truncated(p12->begin(), p12->begin() + static_cast<long>(p12->size() / 2));
  EXPECT_FALSE(ReadPkcs12(truncated, "correct horse battery").has_value());
  EXPECT_THAT(MakePkcs12(pki_->doctor.cert_pem, pki_->doctor.key_pem, {}, "short", "d"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(MakePkcs12(pki_->doctor.cert_pem, pki_->pharmacist.key_pem, {}, "long enough!", "d"),
              StatusIs(StatusCode::kInternal));
}

TEST_F(KeysTest, OpensslReadsOurFilesAndWeReadItsFiles) {
  testing::TempDir dir;
  auto p12 = MakePkcs12(pki_->doctor.cert_pem, pki_->doctor.key_pem, {}, "correct horse battery",
                        "doctor");
  ASSERT_TRUE(p12.has_value());
  std::ofstream(dir.path() + "/ours.p12", std::ios::binary) << AsChars(*p12);
  std::ofstream(dir.path() + "/doctor.pem") << pki_->doctor.cert_pem;
  std::ofstream(dir.path() + "/doctor.key") << pki_->doctor.key_pem;
  const std::string cd = "cd '" + dir.path() + "' && ";
  EXPECT_EQ(std::system((cd + "openssl pkcs12 -in ours.p12 -passin pass:'correct horse battery' "
                              "-nokeys -out /dev/null 2>/dev/null")
                            .c_str()),
            0);
  ASSERT_EQ(std::system((cd + "openssl pkcs12 -export -in doctor.pem -inkey doctor.key -out "
                              "theirs.p12 -passout pass:'another passphrase' 2>/dev/null")
                            .c_str()),
            0);
  std::ifstream in(dir.path() + "/theirs.p12", std::ios::binary);
  const std::string theirs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto id = ReadPkcs12(AsBytes(theirs), "another passphrase");
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(id->cert_pem, pki_->doctor.cert_pem);
}

}  // namespace
}  // namespace hokan
