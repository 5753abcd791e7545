// The issue-4 CLI contract, through the real binary: `hokan signature verify` and
// `hokan timestamp verify` print a JSON report and exit 0 (valid), 1 (invalid, the report says
// why) or 2 (bad usage or unreadable input). G-6.12.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/cades.h"
#include "signature/dev_pki.h"
#include "signature/tsa.h"
#include "signature/xades_test_fixture.h"
#include "subprocess.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::ProcessResult;
using ::hokan::testing::RunHokan;
using ::testing::HasSubstr;
using ::testing::Not;

class SignatureCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const TimePoint now = std::chrono::system_clock::now();
    auto pki = MakeCachedDevHpki(now);
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = new DevHpki(std::move(*pki));
    auto tsa = DevTsa::Create(pki_->tsa, pki_->tsa_ca.cert_pem);
    ASSERT_TRUE(tsa.has_value());
    CadesSignOptions o;
    o.signer_cert_pem = pki_->doctor.cert_pem;
    o.signer_key_pem = pki_->doctor.key_pem;
    o.chain_pem = {pki_->signing_ca.cert_pem};
    o.signing_time = now;
    auto sig = SignCades(AsBytes(kContent), o);
    ASSERT_TRUE(sig.has_value());
    auto value = SignatureValue(*sig);
    auto request = MakeTimestampRequest(Sha256(*value));
    auto response = (*tsa)->Respond(request->der, now);
    ASSERT_TRUE(response.has_value());
    auto token = TokenFromResponse(*response);
    ASSERT_TRUE(token.has_value());
    auto cades_t = AddSignatureTimestamp(*sig, *token);
    ASSERT_TRUE(cades_t.has_value());
    signature_ = new Bytes(*cades_t);
    // A response over the content itself, for `hokan timestamp verify`.
    auto content_request = MakeTimestampRequest(Sha256(AsBytes(kContent)));
    auto content_response = (*tsa)->Respond(content_request->der, now);
    ASSERT_TRUE(content_response.has_value());
    response_ = new Bytes(*content_response);
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete signature_;
    delete response_;
  }

  void SetUp() override {
    Write("content.txt", kContent);
    Write("changed.txt", kContent + "!");
    Write("sig.p7s", ToString(*signature_));
    Write("resp.tsr", ToString(*response_));
    Write("root.pem", pki_->root.cert_pem);
    Write("crl.pem", pki_->signing_ca_crl + pki_->root_crl);
    Write("ca.pem", pki_->signing_ca.cert_pem);
  }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(Path(name), std::ios::binary) << data;
  }

  static inline const std::string kContent = "紹介状 referral letter\n";
  static DevHpki* pki_;
  static Bytes* signature_;
  static Bytes* response_;
  testing::TempDir dir_;
};
DevHpki* SignatureCliTest::pki_ = nullptr;
Bytes* SignatureCliTest::signature_ = nullptr;
Bytes* SignatureCliTest::response_ = nullptr;

TEST_F(SignatureCliTest, G612_ValidSignatureExitsZeroWithAJsonReport) {
  ProcessResult r =
      RunHokan({"signature", "verify", "--signature", Path("sig.p7s"), "--content",
                Path("content.txt"), "--trust-anchor", Path("root.pem"), "--crl", Path("crl.pem")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["valid"].get<bool>());
  EXPECT_EQ(j["level"], "CAdES-T");
  EXPECT_EQ(j["qualification"][0], "Medical Doctor");
  EXPECT_EQ(j["reference_time_source"], "signature timestamp");
  EXPECT_TRUE(j["timestamp"]["valid"].get<bool>());
  EXPECT_TRUE(j["timestamp"]["development_tsa"].get<bool>());
}

TEST_F(SignatureCliTest, ChangedContentExitsOneAndSaysWhy) {
  ProcessResult r =
      RunHokan({"signature", "verify", "--signature", Path("sig.p7s"), "--content",
                Path("changed.txt"), "--trust-anchor", Path("root.pem"), "--crl", Path("crl.pem")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["valid"].get<bool>());
  EXPECT_FALSE(j["content_intact"].get<bool>());
  EXPECT_THAT(j["reason"].get<std::string>(), HasSubstr("content does not match"));
}

TEST_F(SignatureCliTest, RequiredQualificationAndNoTrustAnchor) {
  ProcessResult r = RunHokan({"signature", "verify", "--signature", Path("sig.p7s"), "--content",
                              Path("content.txt"), "--trust-anchor", Path("root.pem"), "--crl",
                              Path("crl.pem"), "--require-qualification", "Pharmacist"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Pharmacist"));
  r = RunHokan(
      {"signature", "verify", "--signature", Path("sig.p7s"), "--content", Path("content.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("no trust anchor"));
}

TEST_F(SignatureCliTest, BadUsageAndUnreadableInputExitTwo) {
  EXPECT_EQ(RunHokan({"signature", "verify"}).exit_code, 2);
  EXPECT_EQ(RunHokan({"signature", "check", "--signature", Path("sig.p7s")}).exit_code, 2);
  EXPECT_EQ(
      RunHokan({"signature", "verify", "--signature", Path("sig.p7s"), "--bogus", "x"}).exit_code,
      2);
  ProcessResult missing = RunHokan({"signature", "verify", "--signature", Path("nope.p7s")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.p7s"));
  ProcessResult garbage = RunHokan({"signature", "verify", "--signature", Path("content.txt"),
                                    "--content", Path("content.txt")});
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_THAT(garbage.err, HasSubstr("not a CMS signature"));
  ProcessResult detached = RunHokan({"signature", "verify", "--signature", Path("sig.p7s")});
  EXPECT_EQ(detached.exit_code, 2);
  EXPECT_THAT(detached.err, HasSubstr("detached"));
  EXPECT_EQ(RunHokan({"signature", "verify", "--signature", Path("sig.p7s"), "--at", "yesterday"})
                .exit_code,
            2);
  EXPECT_EQ(RunHokan({"signature", "--help"}).exit_code, 0);
}

TEST_F(SignatureCliTest, G612_TimestampVerify) {
  ProcessResult r = RunHokan({"timestamp", "verify", "--token", Path("resp.tsr"), "--data",
                              Path("content.txt"), "--trust-anchor", Path("root.pem")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["valid"].get<bool>());
  r = RunHokan({"timestamp", "verify", "--token", Path("resp.tsr"), "--data", Path("changed.txt"),
                "--trust-anchor", Path("root.pem")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("imprint"));
  EXPECT_EQ(RunHokan({"timestamp", "verify", "--token", Path("resp.tsr")}).exit_code, 2);
  EXPECT_EQ(RunHokan({"timestamp", "verify", "--token", Path("content.txt"), "--data",
                      Path("content.txt")})
                .exit_code,
            2);
}

// `hokan xades verify` on an e-prescription shaped document (JP-STANDARDS.md §2.3).
TEST_F(SignatureCliTest, G612_XadesVerify) {
  xades_fixture::TemplateOptions o;
  o.signer_cert_pem = pki_->doctor.cert_pem;
  auto xml = xades_fixture::SignWithXmlsec(xades_fixture::Template(o), pki_->doctor.key_pem);
  ASSERT_TRUE(xml.has_value()) << xml.error().ToString();
  Write("rx.xml", *xml);
  ProcessResult r =
      RunHokan({"xades", "verify", "--file", Path("rx.xml"), "--trust-anchor", Path("root.pem"),
                "--untrusted", Path("ca.pem"), "--crl", Path("crl.pem")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["valid"].get<bool>());
  EXPECT_EQ(j["signatures"][0]["level"], "BES");
  EXPECT_EQ(j["signatures"][0]["qualification"][0], "Medical Doctor");

  // The prescription's text changed: invalid, exit 1, the reference named.
  std::string changed = *xml;
  const std::string csv = Base64Encode(AsBytes(xades_fixture::kPrescriptionCsv));
  changed.replace(changed.find(csv), 4, "U0oy");
  Write("changed.xml", changed);
  r = RunHokan({"xades", "verify", "--file", Path("changed.xml"), "--trust-anchor",
                Path("root.pem"), "--untrusted", Path("ca.pem"), "--crl", Path("crl.pem")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("PrescriptionDocument"));

  // Hostile or unreadable input: exit 2 with one line.
  Write(
      "xxe.xml",
      "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><d>&x;</d>");
  r = RunHokan({"xades", "verify", "--file", Path("xxe.xml")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("root:")));
  EXPECT_EQ(RunHokan({"xades", "verify", "--file", Path("missing.xml")}).exit_code, 2);
  EXPECT_EQ(RunHokan({"xades", "verify"}).exit_code, 2);
}

}  // namespace
}  // namespace hokan
