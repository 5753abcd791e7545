// XAdES verification of e-prescription shaped documents (JP-STANDARDS.md §2.2-2.3; G-6.12,
// G-7 authenticity). The fixtures are made here: a document like the national e-prescription,
// signed by xmlsec's own signing API from a template (exclusive C14N SignedInfo, rsa-sha256,
// a reference to #PrescriptionDocument without Transforms, the signed KeyInfo and the
// SignedProperties), then upgraded to XAdES-T with a token from the development TSA and to
// XAdES-XL with the validation data.
#include "signature/xades.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/dev_pki.h"
#include "signature/tsa.h"
#include "signature/xades_test_fixture.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using std::chrono::hours;
using std::chrono::minutes;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace xades_fixture;  // NOLINT(google-build-using-namespace): test fixtures.

// ---------------------------------------------------------------------------------------------
// Fixture builders.

void Replace(std::string& s, std::string_view from, std::string_view to) {
  const std::size_t pos = s.find(from);
  ASSERT_NE(pos, std::string::npos) << "fixture text not found: " << from;
  s.replace(pos, from.size(), to);
}

// Canonical form of the subtree under the first element matching `element` (an XPath name
// test, "ds:" bound), computed independently of the verifier: XPath node set + libxml2 C14N.
std::string C14nOf(const std::string& xml, const std::string& element, xmlC14NMode mode) {
  DocPtr doc = ParseForTest(xml);
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc.get());
  xmlXPathRegisterNs(ctx, BAD_CAST "ds", BAD_CAST kDsig);
  const std::string expr = "(//. | //@* | //namespace::*)[ancestor-or-self::" + element + "]";
  xmlXPathObjectPtr set = xmlXPathEvalExpression(BAD_CAST expr.c_str(), ctx);
  xmlChar* out = nullptr;
  const int n = xmlC14NDocDumpMemory(doc.get(), set->nodesetval, mode, nullptr, 0, &out);
  EXPECT_GT(n, 0);
  std::string c14n(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  xmlFree(out);
  xmlXPathFreeObject(set);
  xmlXPathFreeContext(ctx);
  return c14n;
}

// The DigestValue of the Reference whose URI is `uri`.
std::string DigestValueOf(const std::string& xml, const std::string& uri) {
  const std::size_t ref = xml.find("URI=\"" + uri + "\"");
  const std::size_t open = xml.find("<ds:DigestValue>", ref);
  const std::size_t close = xml.find("</ds:DigestValue>", open);
  if (ref == std::string::npos || open == std::string::npos || close == std::string::npos) {
    return {};
  }
  const std::size_t start = open + std::string_view("<ds:DigestValue>").size();
  std::string v = xml.substr(start, close - start);
  std::erase_if(v, [](char c) { return c == '\n' || c == '\r' || c == ' '; });
  return v;
}

std::string Encapsulated(const char* element, const std::vector<std::string>& pems) {
  std::string out;
  for (const std::string& pem : pems) {
    out += std::string("<xades:") + element + ">" + PemBody(pem) + "</xades:" + element + ">";
  }
  return out;
}

void AddUnsignedProperties(std::string& xml, const std::string& properties) {
  Replace(xml, "</xades:QualifyingProperties>",
          "<xades:UnsignedProperties><xades:UnsignedSignatureProperties>" + properties +
              "</xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
              "</xades:QualifyingProperties>");
}

// ---------------------------------------------------------------------------------------------

class XadesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    now_ = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    Result<DevHpki> pki = MakeCachedDevHpki(now_);
    ASSERT_TRUE(pki.has_value()) << pki.error();
    pki_ = new DevHpki(std::move(*pki));
    Result<std::unique_ptr<DevTsa>> tsa = DevTsa::Create(pki_->tsa, pki_->tsa_ca.cert_pem);
    ASSERT_TRUE(tsa.has_value()) << tsa.error();
    tsa_ = tsa->release();
    bes_ = new std::string(Sign(pki_->doctor));
  }
  static void TearDownTestSuite() {
    delete bes_;
    delete tsa_;
    delete pki_;
  }

  static std::string Sign(const CertificateAndKey& signer, TemplateOptions o = {}) {
    o.signer_cert_pem = signer.cert_pem;
    auto xml = SignWithXmlsec(Template(o), signer.key_pem);
    EXPECT_OK(xml);
    return xml ? *xml : std::string();
  }

  // A SignatureTimeStamp over the SignatureValue of `xml`: exclusive C14N named in the
  // property (the e-prescription samples), or inclusive C14N 1.0 with no
  // CanonicalizationMethod (the XAdES default).
  static std::string TimestampProperty(const std::string& xml, TimePoint when,
                                       bool exclusive = true) {
    const std::string input =
        C14nOf(xml, "ds:SignatureValue", exclusive ? XML_C14N_EXCLUSIVE_1_0 : XML_C14N_1_0);
    const Sha256Digest digest = Sha256(AsBytes(input));
    Result<TimestampRequest> request = MakeTimestampRequest(digest);
    EXPECT_OK(request);
    Result<Bytes> response = tsa_->Respond(request->der, when);
    EXPECT_OK(response);
    Result<Bytes> token = TokenFromResponse(*response);
    EXPECT_OK(token);
    return std::string("<xades:SignatureTimeStamp Id=\"PrescriptionSign-SignatureTimeStamp\">") +
           (exclusive ? std::string("<ds:CanonicalizationMethod Algorithm=\"") + kExcC14n + "\"/>"
                      : std::string()) +
           "<xades:EncapsulatedTimeStamp>" + Base64Encode(*token) +
           "</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>";
  }

  static std::string ValidationData() {
    return "<xades141:TimeStampValidationData URI=\"#PrescriptionSign-SignatureTimeStamp\">"
           "<xades:CertificateValues>" +
           Encapsulated("EncapsulatedX509Certificate", {pki_->tsa_ca.cert_pem}) +
           "</xades:CertificateValues><xades:RevocationValues><xades:CRLValues>" +
           Encapsulated("EncapsulatedCRLValue", {pki_->tsa_ca_crl}) +
           "</xades:CRLValues></xades:RevocationValues></xades141:TimeStampValidationData>"
           "<xades:CertificateValues>" +
           Encapsulated("EncapsulatedX509Certificate",
                        {pki_->signing_ca.cert_pem, pki_->root.cert_pem}) +
           "</xades:CertificateValues><xades:RevocationValues><xades:CRLValues>" +
           Encapsulated("EncapsulatedCRLValue", {pki_->signing_ca_crl, pki_->root_crl}) +
           "</xades:CRLValues></xades:RevocationValues>";
  }

  static std::string WithTimestamp(const std::string& bes, TimePoint when) {
    std::string xml = bes;
    AddUnsignedProperties(xml, TimestampProperty(bes, when));
    return xml;
  }

  static std::string WithValidationData(const std::string& bes, TimePoint when) {
    std::string xml = bes;
    AddUnsignedProperties(xml, TimestampProperty(bes, when) + ValidationData());
    return xml;
  }

  // The relying party's configuration for a BES signature: the root as trust anchor, the
  // signing CA and the CRLs supplied from outside the document.
  static XadesVerifyOptions Options() {
    XadesVerifyOptions o;
    o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.intermediates = {ToBytes(pki_->signing_ca.cert_pem)};
    o.crls = {ToBytes(pki_->signing_ca_crl), ToBytes(pki_->root_crl)};
    o.now = now_;
    return o;
  }

  static XadesVerification Verify(const std::string& xml,
                                  const XadesVerifyOptions& options = Options()) {
    Result<XadesVerification> v = VerifyXades(AsBytes(xml), options);
    EXPECT_OK(v);
    if (!v) return {};
    EXPECT_EQ(v->signatures.size(), 1U);
    return *v;
  }

  static XadesSignatureReport Only(const XadesVerification& v) {
    return v.signatures.empty() ? XadesSignatureReport{} : v.signatures.front();
  }

  static TimePoint now_;
  static DevHpki* pki_;
  static DevTsa* tsa_;
  static std::string* bes_;
};
TimePoint XadesTest::now_;
DevHpki* XadesTest::pki_ = nullptr;
DevTsa* XadesTest::tsa_ = nullptr;
std::string* XadesTest::bes_ = nullptr;

// ---------------------------------------------------------------------------------------------
// Valid signatures at each level.

TEST_F(XadesTest, ValidBesReportsTheDoctorAndEveryReference) {
  // xmlsec signed with the key alone and left the template's KeyInfo as it was.
  std::size_t certs = 0;
  for (std::size_t p = bes_->find("<ds:X509Certificate>"); p != std::string::npos;
       p = bes_->find("<ds:X509Certificate>", p + 1)) {
    ++certs;
  }
  EXPECT_EQ(certs, 1U);

  const XadesVerification v = Verify(*bes_);
  const XadesSignatureReport& s = Only(v);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_TRUE(s.valid) << s.reason;
  EXPECT_EQ(s.id, "PrescriptionSign");
  EXPECT_EQ(s.level, "BES");
  EXPECT_EQ(s.canonicalization_method, kExcC14n);
  EXPECT_EQ(s.signature_method, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
  EXPECT_TRUE(s.signature_value_checked);
  EXPECT_TRUE(s.signature_value_ok);
  ASSERT_EQ(s.references.size(), 3U);
  EXPECT_EQ(s.references[0].uri, "#PrescriptionDocument");
  EXPECT_EQ(s.references[0].target, "PrescriptionDocument");
  EXPECT_THAT(s.references[0].transforms, IsEmpty());
  EXPECT_EQ(s.references[1].target, "KeyInfo");
  EXPECT_EQ(s.references[2].target, "SignedProperties");
  EXPECT_EQ(s.references[2].type, "http://uri.etsi.org/01903#SignedProperties");
  for (const XadesReference& r : s.references) {
    EXPECT_TRUE(r.digest_ok) << r.uri << ": " << r.problem;
  }
  EXPECT_TRUE(s.signed_properties_referenced);
  EXPECT_TRUE(s.key_info_referenced);
  EXPECT_TRUE(s.signing_certificate_match) << s.signing_certificate_problem;
  EXPECT_EQ(s.signing_time, "2026-04-01T09:30:00.000Z");
  EXPECT_THAT(s.signer.subject, HasSubstr("CN=Taro Iryo"));
  EXPECT_THAT(s.hpki.hc_roles, Contains("Medical Doctor"));
  EXPECT_EQ(s.hpki.signing_problem, "");
  EXPECT_FALSE(s.timestamp.has_value());
  EXPECT_EQ(s.reference_time_source, "current time");
  EXPECT_EQ(s.reference_time, FormatRfc3339(now_));
  EXPECT_TRUE(s.path_valid) << s.path_problem;
  ASSERT_EQ(s.chain.size(), 3U);
  EXPECT_EQ(s.chain[0].revocation, RevocationState::kGood);
}

TEST_F(XadesTest, TimestampMakesLevelTAndTheReferenceTimeItsGenTime) {
  const TimePoint stamped = now_ - minutes(5);
  const XadesVerification v = Verify(WithTimestamp(*bes_, stamped));
  const XadesSignatureReport& s = Only(v);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(s.level, "T");
  ASSERT_TRUE(s.timestamp.has_value());
  EXPECT_TRUE(s.timestamp->valid) << s.timestamp->reason;
  EXPECT_TRUE(s.timestamp->development_tsa);
  EXPECT_EQ(s.timestamp_canonicalization, kExcC14n);
  EXPECT_EQ(s.reference_time_source, "signature timestamp");
  EXPECT_EQ(s.reference_time, FormatRfc3339(stamped));
}

TEST_F(XadesTest, TimestampWithoutCanonicalizationMethodUsesInclusiveC14n) {
  // XAdES: a time-stamp container without ds:CanonicalizationMethod means inclusive C14N 1.0.
  // The inclusive form of SignatureValue carries the root's xmlns:xsi, the exclusive one not.
  ASSERT_NE(C14nOf(*bes_, "ds:SignatureValue", XML_C14N_1_0),
            C14nOf(*bes_, "ds:SignatureValue", XML_C14N_EXCLUSIVE_1_0));
  std::string xml = *bes_;
  AddUnsignedProperties(xml, TimestampProperty(*bes_, now_, /*exclusive=*/false));
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_TRUE(s.valid) << s.reason;
  EXPECT_EQ(s.timestamp_canonicalization, "http://www.w3.org/TR/2001/REC-xml-c14n-20010315");
}

TEST_F(XadesTest, ValidationDataMakesLevelXlAndSufficesWithOnlyTheRoot) {
  const std::string xml = WithValidationData(*bes_, now_);
  XadesVerifyOptions o;  // Only the root: the CA, the CRLs and the TSA chain are in the document.
  o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
  o.now = now_;
  const XadesVerification v = Verify(xml, o);
  const XadesSignatureReport& s = Only(v);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(s.level, "XL");
  ASSERT_TRUE(s.timestamp.has_value());
  EXPECT_TRUE(s.timestamp->valid) << s.timestamp->reason;
  EXPECT_TRUE(s.path_valid) << s.path_problem;
  ASSERT_EQ(s.chain.size(), 3U);
  EXPECT_EQ(s.chain[0].revocation, RevocationState::kGood);
  EXPECT_EQ(s.chain[1].revocation, RevocationState::kGood);
  EXPECT_THAT(s.hpki.hc_roles, Contains("Medical Doctor"));
}

TEST_F(XadesTest, ArchiveTimestampIsDetectedAsLevelA) {
  std::string xml = *bes_;
  AddUnsignedProperties(xml, TimestampProperty(*bes_, now_) + ValidationData() +
                                 "<xades141:ArchiveTimeStamp><xades:EncapsulatedTimeStamp>"
                                 "AAAA</xades:EncapsulatedTimeStamp></xades141:ArchiveTimeStamp>");
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_EQ(s.level, "A");
  EXPECT_EQ(s.archive_timestamps, 1);
}

TEST_F(XadesTest, JsonReportUsesSnakeCaseAndCarriesTheFacts) {
  const XadesVerification v = Verify(WithValidationData(*bes_, now_));
  const nlohmann::json j = nlohmann::json::parse(XadesVerificationJson(v));
  EXPECT_EQ(j["kind"], "xades");
  EXPECT_EQ(j["valid"], true);
  ASSERT_EQ(j["signatures"].size(), 1U);
  const nlohmann::json& s = j["signatures"][0];
  EXPECT_EQ(s["id"], "PrescriptionSign");
  EXPECT_EQ(s["level"], "XL");
  EXPECT_EQ(s["qualification"][0], "Medical Doctor");
  EXPECT_EQ(s["hpki"]["hc_roles"][0], "Medical Doctor");
  EXPECT_EQ(s["references"][0]["uri"], "#PrescriptionDocument");
  EXPECT_EQ(s["references"][0]["digest_ok"], true);
  EXPECT_EQ(s["signing_certificate_match"], true);
  EXPECT_EQ(s["reference_time_source"], "signature timestamp");
  EXPECT_TRUE(s["timestamp"].is_object());
  EXPECT_EQ(s["chain"][0]["revocation"], "good");
  EXPECT_TRUE(s["signer"]["subject"].is_string());
  EXPECT_TRUE(s["hpki"].contains("signing_problem"));
}

// ---------------------------------------------------------------------------------------------
// The inclusive C14N default of a reference without Transforms (JP-STANDARDS.md §2.3).

TEST_F(XadesTest, ReferenceWithoutTransformsIsDigestedWithInclusiveC14n) {
  // Independently of xmlsec: the signed DigestValue is SHA-256 of the inclusive form of
  // PrescriptionDocument, which carries the root's otherwise unused xmlns:xsi; the exclusive
  // form would give another digest.
  const std::string inclusive = C14nOf(*bes_, "PrescriptionDocument", XML_C14N_1_0);
  const std::string exclusive = C14nOf(*bes_, "PrescriptionDocument", XML_C14N_EXCLUSIVE_1_0);
  EXPECT_THAT(inclusive, HasSubstr("xmlns:xsi"));
  EXPECT_THAT(exclusive, Not(HasSubstr("xmlns:xsi")));
  EXPECT_EQ(DigestValueOf(*bes_, "#PrescriptionDocument"), Sha256Base64(AsBytes(inclusive)));
  EXPECT_NE(DigestValueOf(*bes_, "#PrescriptionDocument"), Sha256Base64(AsBytes(exclusive)));
}

TEST_F(XadesTest, RemovingTheRootsUnusedNamespaceBreaksOnlyTheInclusiveReference) {
  // Inclusive C14N sees the namespace declarations in scope, so dropping the root's unused
  // xmlns:xsi changes #PrescriptionDocument's digest; the exclusively canonicalized KeyInfo and
  // SignedProperties references do not notice.
  std::string xml = *bes_;
  Replace(xml, kXsiDecl, "");
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_FALSE(s.valid);
  ASSERT_EQ(s.references.size(), 3U);
  EXPECT_FALSE(s.references[0].digest_ok);
  EXPECT_TRUE(s.references[1].digest_ok) << s.references[1].problem;
  EXPECT_TRUE(s.references[2].digest_ok) << s.references[2].problem;
  EXPECT_THAT(s.reason, HasSubstr("#PrescriptionDocument"));

  // The twin signed with an explicit exclusive C14N transform survives the same change.
  TemplateOptions exc;
  exc.document_exc_c14n = true;
  std::string twin = Sign(pki_->doctor, exc);
  Replace(twin, kXsiDecl, "");
  const XadesSignatureReport& t = Only(Verify(twin));
  EXPECT_TRUE(t.valid) << t.reason;
  EXPECT_THAT(t.references[0].transforms, Contains(kExcC14n));
}

// ---------------------------------------------------------------------------------------------
// Tampering and wrong signers.

TEST_F(XadesTest, ChangedPrescriptionTextFailsItsReference) {
  std::string xml = *bes_;
  Replace(xml, Base64Encode(AsBytes(kPrescriptionCsv)),
          Base64Encode(AsBytes("SJ1,1,EPS1.0\r\nRP,9,Amlodipine 5mg\r\n")));
  const XadesVerification v = Verify(xml);
  const XadesSignatureReport& s = Only(v);
  EXPECT_FALSE(v.valid);
  EXPECT_FALSE(s.valid);
  EXPECT_FALSE(s.references[0].digest_ok);
  EXPECT_THAT(s.references[0].problem, HasSubstr("does not match"));
  EXPECT_THAT(s.reason, HasSubstr("#PrescriptionDocument"));
  EXPECT_FALSE(s.signature_value_checked);
  EXPECT_THAT(v.reason, HasSubstr("PrescriptionSign"));
}

TEST_F(XadesTest, ChangedSigningTimeFailsTheSignedPropertiesReference) {
  std::string xml = *bes_;
  Replace(xml, "2026-04-01T09:30:00Z", "2026-03-01T09:30:00Z");
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_FALSE(s.valid);
  EXPECT_TRUE(s.references[0].digest_ok);
  EXPECT_FALSE(s.references[2].digest_ok);
}

TEST_F(XadesTest, ChangedSignatureValueFails) {
  std::string xml = *bes_;
  const std::size_t pos =
      xml.find("<ds:SignatureValue>") + std::string_view("<ds:SignatureValue>").size();
  xml[pos] = xml[pos] == 'A' ? 'B' : 'A';
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_FALSE(s.valid);
  EXPECT_TRUE(s.signature_value_checked);
  EXPECT_FALSE(s.signature_value_ok);
  EXPECT_THAT(s.reason, HasSubstr("signature value does not verify"));
}

TEST_F(XadesTest, WrongSigningCertificateDigestIsReported) {
  TemplateOptions o;
  o.signing_certificate_digest = Sha256Base64(PemDer(pki_->pharmacist.cert_pem));
  const XadesSignatureReport& s = Only(Verify(Sign(pki_->doctor, o)));
  EXPECT_FALSE(s.valid);
  EXPECT_TRUE(s.signature_value_ok);  // The XML-DSig core holds; the XAdES binding does not.
  EXPECT_FALSE(s.signing_certificate_match);
  EXPECT_THAT(s.signing_certificate_problem, HasSubstr("does not match"));
  EXPECT_THAT(s.reason, HasSubstr("signing certificate"));
}

TEST_F(XadesTest, SignerNotTrustedIsReported) {
  DevCertificateSpec other;
  other.common_name = "Some Other Root";
  other.is_ca = true;
  other.not_before = now_ - hours(1);
  other.not_after = now_ + hours(24 * 365);
  Result<CertificateAndKey> other_root = MakeDevCertificate(other);
  ASSERT_OK(other_root);
  XadesVerifyOptions o = Options();
  o.trust_anchors = {ToBytes(other_root->cert_pem)};
  const XadesSignatureReport& s = Only(Verify(*bes_, o));
  EXPECT_FALSE(s.valid);
  EXPECT_TRUE(s.signature_value_ok);
  EXPECT_FALSE(s.path_valid);
  EXPECT_THAT(s.reason, HasSubstr("certificate path"));
}

TEST_F(XadesTest, AuthenticationOnlyCertificateIsAnHpkiProblem) {
  const std::string xml = Sign(pki_->auth_only);
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_FALSE(s.valid);
  EXPECT_TRUE(s.signature_value_ok);
  EXPECT_TRUE(s.path_valid) << s.path_problem;
  EXPECT_NE(s.hpki.signing_problem, "");
  EXPECT_TRUE(s.hpki.authentication_policy);
  EXPECT_THAT(s.reason, HasSubstr("HPKI signing certificate"));

  // Reported, not enforced, when the relying party does not require the HPKI profile.
  XadesVerifyOptions lax = Options();
  lax.require_hpki_signing = false;
  const XadesSignatureReport& l = Only(Verify(xml, lax));
  EXPECT_TRUE(l.valid) << l.reason;
  EXPECT_NE(l.hpki.signing_problem, "");
}

TEST_F(XadesTest, RequiredQualificationIsEnforced) {
  XadesVerifyOptions o = Options();
  o.required_qualifications = {"Medical Doctor", "Dentist"};
  EXPECT_TRUE(Only(Verify(*bes_, o)).valid);
  const XadesSignatureReport& s = Only(Verify(Sign(pki_->pharmacist), o));
  EXPECT_FALSE(s.valid);
  EXPECT_THAT(s.reason, HasSubstr("\"Pharmacist\""));
}

TEST_F(XadesTest, RevokedSignerIsInvalidAtTheCurrentTime) {
  const XadesSignatureReport& s = Only(Verify(Sign(pki_->revoked)));
  EXPECT_FALSE(s.valid);
  EXPECT_FALSE(s.path_valid);
  ASSERT_FALSE(s.chain.empty());
  EXPECT_EQ(s.chain[0].revocation, RevocationState::kRevoked);
  EXPECT_THAT(s.reason, HasSubstr("revoked"));
}

TEST_F(XadesTest, SignerRevokedAfterTheTimestampStaysValid) {
  // Timestamped two hours ago; the certificate was revoked one hour ago.
  const std::string xml = WithTimestamp(Sign(pki_->revoked), now_ - hours(2));
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_TRUE(s.valid) << s.reason;
  EXPECT_EQ(s.reference_time_source, "signature timestamp");
  ASSERT_FALSE(s.chain.empty());
  EXPECT_EQ(s.chain[0].revocation, RevocationState::kRevokedLater);
}

TEST_F(XadesTest, TimestampOverOtherDataInvalidatesTheSignature) {
  std::string other = *bes_;
  Replace(other, "<ds:SignatureValue>", "<ds:SignatureValue>AAAA");
  std::string xml = *bes_;
  AddUnsignedProperties(xml, TimestampProperty(other, now_));
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_FALSE(s.valid);
  ASSERT_TRUE(s.timestamp.has_value());
  EXPECT_FALSE(s.timestamp->valid);
  EXPECT_EQ(s.reference_time_source, "current time");
  EXPECT_THAT(s.reason, HasSubstr("timestamp"));
}

TEST_F(XadesTest, MissingTimestampFailsWhenRequired) {
  XadesVerifyOptions o = Options();
  o.require_timestamp = true;
  const XadesSignatureReport& s = Only(Verify(*bes_, o));
  EXPECT_FALSE(s.valid);
  EXPECT_THAT(s.reason, HasSubstr("SignatureTimeStamp"));
}

TEST_F(XadesTest, GivenReferenceTimeOverridesTheTimestamp) {
  XadesVerifyOptions o = Options();
  o.at = now_ - hours(24 * 365 * 6);  // Before the doctor's certificate was issued.
  const XadesSignatureReport& s = Only(Verify(WithTimestamp(*bes_, now_), o));
  EXPECT_EQ(s.reference_time_source, "given");
  EXPECT_FALSE(s.valid);
  EXPECT_FALSE(s.path_valid);
}

TEST_F(XadesTest, DispensingRecordVerifiesTheEmbeddedPrescriptionToo) {
  // ED.xsd style: the pharmacist signs #Dispensing, which embeds the doctor's whole signed
  // prescription. Under a root with the same namespace declarations the prescription's
  // inclusive-C14N reference still verifies, so both signatures do.
  const std::size_t from = bes_->find("<Prescription>");
  const std::size_t to = bes_->find("</Prescription>") + std::string_view("</Prescription>").size();
  TemplateOptions o;
  o.signer_cert_pem = pki_->pharmacist.cert_pem;
  const std::string tmpl =
      std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document") + kXsiDecl +
      ">\n  <Dispensing id=\"Dispensing\">\n    <ReferencePrescription>" +
      bes_->substr(from, to - from) +
      "</ReferencePrescription>\n    <DispensingDocument id=\"DispensingDocument\">" +
      Base64Encode(AsBytes("CJ1,1,EPD1.0\r\n")) +
      "</DispensingDocument>\n  </Dispensing>\n  <DispensingSign>" +
      SignatureTemplate("DispensingSign", "#Dispensing", o) + "</DispensingSign>\n</Document>\n";
  auto signed_xml = SignWithXmlsec(tmpl, pki_->pharmacist.key_pem, "DispensingSign");
  ASSERT_OK(signed_xml);
  const std::string xml = *signed_xml;

  Result<XadesVerification> v = VerifyXades(AsBytes(xml), Options());
  ASSERT_OK(v);
  EXPECT_TRUE(v->valid) << v->reason;
  ASSERT_EQ(v->signatures.size(), 2U);
  EXPECT_EQ(v->signatures[0].id, "PrescriptionSign");
  EXPECT_THAT(v->signatures[0].hpki.hc_roles, Contains("Medical Doctor"));
  EXPECT_EQ(v->signatures[1].id, "DispensingSign");
  EXPECT_THAT(v->signatures[1].hpki.hc_roles, Contains("Pharmacist"));

  // Changing the prescription inside breaks both: the doctor's reference and the
  // pharmacist's #Dispensing.
  std::string tampered = xml;
  Replace(tampered, Base64Encode(AsBytes(kPrescriptionCsv)),
          Base64Encode(AsBytes("SJ1,1,EPS1.0\r\nRP,3,Amlodipine 5mg\r\n")));
  Result<XadesVerification> t = VerifyXades(AsBytes(tampered), Options());
  ASSERT_OK(t);
  ASSERT_EQ(t->signatures.size(), 2U);
  EXPECT_FALSE(t->valid);
  EXPECT_FALSE(t->signatures[0].valid);
  EXPECT_FALSE(t->signatures[1].valid);
  EXPECT_THAT(t->reason, HasSubstr("PrescriptionSign"));
}

TEST_F(XadesTest, ConcurrentVerificationsAgree) {
  const std::string t = WithTimestamp(*bes_, now_);
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> valid{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        Result<XadesVerification> v = VerifyXades(AsBytes(j % 2 == 0 ? *bes_ : t), Options());
        if (v && v->valid) ++valid;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(valid.load(), 20);
}

// ---------------------------------------------------------------------------------------------
// Hostile input.

TEST_F(XadesTest, ExternalReferenceIsRefusedNotFetched) {
  for (const char* uri : {"http://127.0.0.1:9/prescription.xml", "file:///etc/hostname",
                          "other.xml#PrescriptionDocument", "#xpointer(//PrescriptionDocument)"}) {
    SCOPED_TRACE(uri);
    std::string xml = *bes_;
    Replace(xml, "</ds:SignedInfo>",
            std::string("<ds:Reference URI=\"") + uri +
                "\"><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
                "<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>");
    const XadesSignatureReport& s = Only(Verify(xml));
    EXPECT_FALSE(s.valid);
    ASSERT_EQ(s.references.size(), 4U);
    EXPECT_FALSE(s.references[3].digest_ok);
    EXPECT_THAT(s.references[3].problem, HasSubstr("refused and not fetched"));
    EXPECT_THAT(s.reason, HasSubstr("refused"));
    EXPECT_FALSE(s.signature_value_checked);
  }
}

TEST_F(XadesTest, DangerousTransformsAreRefused) {
  for (const char* algorithm : {"http://www.w3.org/TR/1999/REC-xslt-19991116",
                                "http://www.w3.org/TR/1999/REC-xpath-19991116"}) {
    SCOPED_TRACE(algorithm);
    std::string xml = *bes_;
    Replace(xml, "<ds:Reference URI=\"#PrescriptionDocument\">",
            std::string("<ds:Reference URI=\"#PrescriptionDocument\"><ds:Transforms>"
                        "<ds:Transform Algorithm=\"") +
                algorithm + "\"/></ds:Transforms>");
    const XadesSignatureReport& s = Only(Verify(xml));
    EXPECT_FALSE(s.valid);
    EXPECT_THAT(s.references[0].problem, HasSubstr("is not allowed"));
  }
}

TEST_F(XadesTest, ExternalEntityIsRefused) {
  const std::string xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
      "<Document><PrescriptionDocument id=\"p\">&x;</PrescriptionDocument></Document>";
  Result<XadesVerification> v = VerifyXades(AsBytes(xxe), Options());
  EXPECT_THAT(v, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(v.error().message(), HasSubstr("DTD"));

  const std::string external_dtd =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE Document SYSTEM \"http://127.0.0.1:9/ep.dtd\">\n"
      "<Document/>";
  EXPECT_THAT(VerifyXades(AsBytes(external_dtd), Options()),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(XadesTest, BillionLaughsIsRefusedWithoutExpansion) {
  std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    bomb += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) {
      bomb += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    }
    bomb += "\">\n";
  }
  bomb += "]>\n<lolz>&lol9;</lolz>";
  const auto start = std::chrono::steady_clock::now();
  Result<XadesVerification> v = VerifyXades(AsBytes(bomb), Options());
  EXPECT_THAT(v, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(v.error().message(), HasSubstr("no entity is expanded"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(XadesTest, MalformedInputIsInvalidArgument) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("not xml at all"),
        std::string_view("<Document><a></Document>"), std::string_view("\x00\xff\xfe<", 4)}) {
    EXPECT_THAT(VerifyXades(AsBytes(bad), Options()), StatusIs(StatusCode::kInvalidArgument))
        << bad;
  }
  XadesVerifyOptions small = Options();
  small.max_document_bytes = 1024;
  Result<XadesVerification> v = VerifyXades(AsBytes(*bes_), small);
  EXPECT_THAT(v, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(v.error().message(), HasSubstr("limit"));
}

TEST_F(XadesTest, EveryTruncationIsHandled) {
  const std::string xml = WithValidationData(*bes_, now_);
  for (std::size_t n = 0; n < xml.size(); n += 53) {
    Result<XadesVerification> v =
        VerifyXades(AsBytes(std::string_view(xml).substr(0, n)), Options());
    if (v) {
      EXPECT_FALSE(v->valid);
    }
  }
}

TEST_F(XadesTest, DuplicateIdsAreRefused) {
  // Signature wrapping: a second element with the referenced ID.
  std::string xml = *bes_;
  Replace(xml, "</Prescription>",
          "<Decoy id=\"PrescriptionDocument\">forged</Decoy></Prescription>");
  Result<XadesVerification> v = VerifyXades(AsBytes(xml), Options());
  EXPECT_THAT(v, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(v.error().message(), HasSubstr("PrescriptionDocument"));
}

TEST_F(XadesTest, DocumentWithoutSignatureIsNotValid) {
  Result<XadesVerification> v =
      VerifyXades(AsBytes("<Document><Prescription/></Document>"), Options());
  ASSERT_OK(v);
  EXPECT_FALSE(v->valid);
  EXPECT_THAT(v->reason, HasSubstr("no ds:Signature"));
}

TEST_F(XadesTest, PlainXmlDsigWithoutXadesPropertiesIsNotValid) {
  std::string xml = *bes_;
  const std::size_t from = xml.find("<ds:Object>");
  const std::size_t to = xml.find("</ds:Object>") + std::string_view("</ds:Object>").size();
  xml.erase(from, to - from);
  const XadesSignatureReport& s = Only(Verify(xml));
  EXPECT_FALSE(s.valid);
  EXPECT_FALSE(s.references[2].digest_ok);  // Its SignedProperties are gone.
  EXPECT_THAT(s.references[2].problem, HasSubstr("no element has the XML ID"));
}

// ---------------------------------------------------------------------------------------------
// Interoperability: the xmlsec1 command line accepts the BES fixture.

TEST_F(XadesTest, Xmlsec1CommandLineAcceptsTheBesFixture) {
  if (std::system("command -v xmlsec1 >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "xmlsec1 is not installed";
  }
  testing::TempDir dir;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() + "/" + name, std::ios::binary) << text;
    return dir.path() + "/" + name;
  };
  const std::string doc = write("prescription.xml", *bes_);
  const std::string cert = write("doctor.pem", pki_->doctor.cert_pem);
  // --id-attr registers the lower-case id of PrescriptionDocument (the ds:Signature's own Id
  // attributes xmlsec registers itself).
  const std::string command = "xmlsec1 --verify --pubkey-cert-pem " + cert +
                              " --id-attr:id PrescriptionDocument " + doc + " >" + dir.path() +
                              "/out.txt 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream out(dir.path() + "/out.txt");
  const std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << text;

  // And rejects the tampered twin, so the check above means something.
  std::string tampered = *bes_;
  Replace(tampered, kXsiDecl, "");
  write("prescription.xml", tampered);
  EXPECT_NE(std::system(command.c_str()), 0);
}

}  // namespace
}  // namespace hokan
