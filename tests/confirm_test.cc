// Confirming (確定) versions over the HTTPS API (issue 4, G-6.12): a client-made CAdES
// signature or server-side signing with the user's encrypted key, timestamped by a TSA,
// verified (HPKI qualification per document type, revocation), bound to the confirming
// user's own signing certificate, stored once, audited, and verifiable by others.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "api_fixture.h"
#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/cades.h"
#include "signature/dev_pki.h"
#include "signature/keys.h"

namespace hokan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ConfirmTest : public ApiFixture {
 protected:
  static void SetUpTestSuite() {
    auto pki = MakeCachedDevHpki(std::chrono::system_clock::now());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = new DevHpki(std::move(*pki));
  }
  static void TearDownTestSuite() { delete pki_; }

  void SetUp() override {
    const std::string root = tmp_.path() + "/hpki-root.pem";
    const std::string crl = tmp_.path() + "/hpki.crl";
    std::ofstream(root) << pki_->root.cert_pem;
    std::ofstream(crl) << pki_->signing_ca_crl << pki_->root_crl;
    StartServer(false, "", [&](Config& c) {
      c.signature.development_tsa = true;
      c.signature.trust_anchor_files = {root};
      c.signature.crl_files = {crl};
    });
    for (auto [id, role] : {std::pair{"dr-a", "physician"}, std::pair{"ph-b", "pharmacist"},
                            std::pair{"cl-c", "clerk"}, std::pair{"dr-z", "physician"}}) {
      auto u = api_->CreateLocalUser(local_, {.id = id, .display_name = id, .roles = {role}});
      ASSERT_OK(u);
      passwords_[id] = u->password;
      if (std::string(id) != "dr-z") {
        ASSERT_OK(api_->AddCareLocal(
            local_, {.user_id = id, .patient_id = "P0001", .valid_from = clock_.Now()}));
      }
    }
    ASSERT_OK(api_->BindSigningCertLocal(local_, "dr-a", pki_->doctor.cert_pem));
    ASSERT_OK(api_->BindSigningCertLocal(local_, "ph-b", pki_->pharmacist.cert_pem));
    ASSERT_OK(api_->BindSigningCertLocal(local_, "dr-z", pki_->no_role.cert_pem));
  }

  std::string Put(const std::string& type, const std::string& content) {
    auto r = archive_->PutRecord(local_, PutRequest{.patient_id = "P0001",
                                                    .record_type = type,
                                                    .media_type = "text/plain",
                                                    .content = AsBytes(content)});
    EXPECT_OK(r);
    return r ? r->version.record_id : "";
  }

  static std::string SignedBy(const CertificateAndKey& who, const std::string& content) {
    CadesSignOptions o;
    o.signer_cert_pem = who.cert_pem;
    o.signer_key_pem = who.key_pem;
    o.chain_pem = {pki_->signing_ca.cert_pem};
    o.signing_time = std::chrono::system_clock::now();
    auto sig = SignCades(AsBytes(content), o);
    EXPECT_TRUE(sig.has_value());
    return sig.has_value() ? ToString(*sig) : "";
  }

  ClientResponse Confirm(const std::string& user, const std::string& record,
                         const std::string& body, const std::string& type) {
    HeaderList h = Login(user, passwords_[user]);
    h.emplace_back("Content-Type", type);
    return Send("POST", "/api/v1/records/" + record + "/versions/1/confirm", h, body);
  }

  static DevHpki* pki_;
  std::map<std::string, std::string> passwords_;
  std::unique_ptr<testing::TempDir> tmp2_;
};
DevHpki* ConfirmTest::pki_ = nullptr;

const std::string kNote = "経過記録: 2026-11-24 patient stable\n";

TEST_F(ConfirmTest, G612_ClientSignatureIsTimestampedVerifiedStoredAndAudited) {
  const std::string record = Put("progress-note", kNote);
  ClientResponse r =
      Confirm("dr-a", record, SignedBy(pki_->doctor, kNote), "application/pkcs7-signature");
  ASSERT_EQ(r.status, 201) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["confirmer"], "dr-a");
  EXPECT_EQ(j["method"], "client-signature");
  EXPECT_EQ(j["level"], "CAdES-T");
  EXPECT_TRUE(j["valid"].get<bool>());
  EXPECT_EQ(j["report"]["qualification"][0], "Medical Doctor");
  EXPECT_EQ(j["report"]["reference_time_source"], "signature timestamp");
  EXPECT_TRUE(j["report"]["timestamp"]["development_tsa"].get<bool>());
  EXPECT_THAT(j["tsa_subject"].get<std::string>(), HasSubstr("NOT ACCREDITED"));

  // The stored signature verifies elsewhere, with the timestamp inside.
  auto der = Base64Decode(j["signature_base64"].get<std::string>());
  ASSERT_TRUE(der.has_value());
  SignatureVerifyOptions o;
  o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
  o.crls = {ToBytes(pki_->signing_ca_crl), ToBytes(pki_->root_crl)};
  o.now = std::chrono::system_clock::now();
  o.timestamp.trust_anchors = {ToBytes(ReadFileText(dir_ + "/keys/dev-tsa.pem"))};
  o.timestamp.now = o.now;
  o.require_timestamp = true;
  auto report = VerifyCades(*der, ByteView(AsBytes(kNote)), o);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->valid) << report->reason;

  // The audit entry names the signer; reading the confirmation back verifies it again.
  auto e = EntryFor(r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event.action, "record.confirm");
  EXPECT_EQ(e->event.outcome, "success");
  EXPECT_EQ(e->event.record, record);
  EXPECT_EQ(e->event.version, 1);
  HeaderList h = Login("dr-a", passwords_["dr-a"]);
  ClientResponse g = Send("GET", "/api/v1/records/" + record + "/versions/1/confirmation", h);
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_TRUE(json::parse(g.body)["report"]["valid"].get<bool>());
  EXPECT_TRUE(json::parse(g.body)["evidence"].is_null());
  // Long-term evidence in a batch; the confirmation then shows it verified.
  auto renewal = api_->RenewEvidence(local_, std::chrono::hours(24 * 90));
  ASSERT_OK(renewal);
  EXPECT_EQ(renewal->created, 1U);
  g = Send("GET", "/api/v1/records/" + record + "/versions/1/confirmation", h);
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_TRUE(json::parse(g.body)["evidence"]["valid"].get<bool>()) << g.body;
  EXPECT_TRUE(json::parse(g.body)["evidence"]["hashes_match"].get<bool>());

  // Once only.
  ClientResponse again =
      Confirm("dr-a", record, SignedBy(pki_->doctor, kNote), "application/pkcs7-signature");
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(ConfirmTest, OnlyTheConfirmersOwnCertificate) {
  const std::string record = Put("progress-note", kNote);
  // dr-a presents a signature made with the pharmacist's (bound to ph-b) certificate.
  ClientResponse r =
      Confirm("dr-a", record, SignedBy(pki_->pharmacist, kNote), "application/pkcs7-signature");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_THAT(r.body, HasSubstr("not bound to you"));
  auto e = EntryFor(r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event.outcome, "denied");
  HeaderList h = Login("dr-a", passwords_["dr-a"]);
  EXPECT_EQ(Send("GET", "/api/v1/records/" + record + "/versions/1/confirmation", h).status, 404);
}

TEST_F(ConfirmTest, QualificationRequiredByTheDocumentType) {
  const std::string record = Put("prescription", kNote);
  ClientResponse r =
      Confirm("ph-b", record, SignedBy(pki_->pharmacist, kNote), "application/pkcs7-signature");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_THAT(r.body, HasSubstr("qualification"));
  r = Confirm("dr-z", record, SignedBy(pki_->no_role, kNote), "application/pkcs7-signature");
  EXPECT_EQ(r.status, 403) << r.body;  // No care relationship for dr-z either.
  r = Confirm("dr-a", record, SignedBy(pki_->doctor, kNote), "application/pkcs7-signature");
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ConfirmTest, BadSignaturesAndRolesAreRefusedWithNothingStored) {
  const std::string record = Put("progress-note", kNote);
  EXPECT_EQ(Confirm("dr-a", record, SignedBy(pki_->doctor, kNote + "changed"),
                    "application/pkcs7-signature")
                .status,
            400);
  EXPECT_EQ(Confirm("dr-a", record, "not a signature", "application/pkcs7-signature").status, 400);
  EXPECT_EQ(Confirm("dr-a", record, "", "application/pkcs7-signature").status, 400);
  EXPECT_EQ(
      Confirm("cl-c", record, SignedBy(pki_->doctor, kNote), "application/pkcs7-signature").status,
      403);
  HeaderList h = Login("dr-a", passwords_["dr-a"]);
  h.emplace_back("Content-Type", "application/pkcs7-signature");
  EXPECT_EQ(Send("POST", "/api/v1/records/" + record + "/versions/0/confirm", h, "x").status, 400);
  EXPECT_EQ(Send("POST", "/api/v1/records/" + record + "/versions/9/confirm", h, "x").status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/records/" + record + "/versions/1/confirmation", h).status, 404);
}

TEST_F(ConfirmTest, ServerSideSigningWithTheUsersEncryptedKey) {
  auto p12 = MakePkcs12(pki_->doctor.cert_pem, pki_->doctor.key_pem, {pki_->signing_ca.cert_pem},
                        "my signing passphrase", "dr-a");
  ASSERT_TRUE(p12.has_value());
  ASSERT_OK(env_.fs.CreateDir(dir_ + "/keys/signing"));
  {
    auto f = env_.fs.NewWritableFile(dir_ + "/keys/signing/dr-a.p12");
    ASSERT_OK(f);
    ASSERT_OK((*f)->Append(*p12));
    ASSERT_OK((*f)->Close());
  }
  const std::string record = Put("progress-note", kNote);
  ClientResponse wrong = Confirm(
      "dr-a", record, json{{"key_passphrase", "not my passphrase"}}.dump(), "application/json");
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  EXPECT_THAT(wrong.body, Not(HasSubstr("not my passphrase")));
  ClientResponse none = Confirm("ph-b", record, json{{"key_passphrase", "whatever it is"}}.dump(),
                                "application/json");
  EXPECT_EQ(none.status, 404) << none.body;  // ph-b has no key file.
  ClientResponse r = Confirm(
      "dr-a", record, json{{"key_passphrase", "my signing passphrase"}}.dump(), "application/json");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["method"], "server-key");
}

// (b) with the key in a PKCS#11 token (SoftHSM2 standing in for an HSM): the PIN is asked on
// every confirmation and the key never leaves the token.
TEST_F(ConfirmTest, ServerSideSigningInAPkcs11Token) {
  std::string module;
  for (const char* p :
       {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"}) {
    if (std::ifstream(p).good()) module = p;
  }
  if (module.empty()) GTEST_SKIP() << "SoftHSM2 is not installed (Debian package softhsm2)";
  const std::string hsm = tmp_.path() + "/hsm";
  ASSERT_OK(env_.fs.CreateDir(hsm));
  ASSERT_OK(env_.fs.CreateDir(hsm + "/tokens"));
  std::ofstream(hsm + "/softhsm2.conf")
      << "directories.tokendir = " << hsm << "/tokens\nobjectstore.backend = file\n";
  std::ofstream(hsm + "/dr-a.key") << pki_->doctor.key_pem;
  ASSERT_EQ(setenv("SOFTHSM2_CONF", (hsm + "/softhsm2.conf").c_str(), 1), 0);
  const std::string cd = "cd '" + hsm + "' && ";
  ASSERT_EQ(std::system((cd + "softhsm2-util --init-token --free --label ward-hsm --pin 482913 "
                              "--so-pin 771155 >/dev/null 2>&1")
                            .c_str()),
            0);
  ASSERT_EQ(std::system((cd + "softhsm2-util --import dr-a.key --token ward-hsm --label dr-a "
                              "--id 01 --pin 482913 >/dev/null 2>&1")
                            .c_str()),
            0);
  // The store: the token in [signature], the certificate beside it.
  TearDown();
  server_.reset();
  api_.reset();
  archive_.reset();
  tmp2_ = std::make_unique<testing::TempDir>();
  const std::string root = tmp2_->path() + "/root.pem";
  const std::string crl = tmp2_->path() + "/crl.pem";
  std::ofstream(root) << pki_->root.cert_pem;
  std::ofstream(crl) << pki_->signing_ca_crl << pki_->root_crl;
  dir_ = tmp2_->path() + "/store";
  ArchiveOptions init;
  init.configure = [&](Config& c) {
    c.identity.require_two_factor = false;
    c.signature.development_tsa = true;
    c.signature.trust_anchor_files = {root};
    c.signature.crl_files = {crl};
    c.signature.pkcs11_module = module;
    c.signature.pkcs11_token_label = "ward-hsm";
  };
  ASSERT_OK(Archive::Init(env_, dir_, local_, init));
  auto archive = Archive::Open(env_, dir_);
  ASSERT_OK(archive);
  archive_ = std::move(*archive);
  auto api = ApiService::Open(*archive_, env_, {.password_hash = kCheapHash});
  ASSERT_OK(api);
  api_ = std::move(*api);
  ASSERT_OK(
      api_->CreateLocalUser(local_, {.id = "dr-a", .display_name = "A", .roles = {"physician"}}));
  ASSERT_OK(api_->BindSigningCertLocal(local_, "dr-a", pki_->doctor.cert_pem));
  ASSERT_OK(env_.fs.CreateDir(dir_ + "/keys/signing"));
  std::ofstream(dir_ + "/keys/signing/dr-a.crt")
      << pki_->doctor.cert_pem << pki_->signing_ca.cert_pem;
  const std::string record = Put("progress-note", kNote);

  ConfirmRequest wrong{.record_id = record, .version = 1, .key_passphrase = "000000"};
  auto refused = api_->ConfirmLocal(local_, "dr-a", wrong);
  EXPECT_THAT(refused, hokan::testing::StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(refused.error().message(), Not(HasSubstr("000000")));
  ConfirmRequest right{.record_id = record, .version = 1, .key_passphrase = "482913"};
  auto c = api_->ConfirmLocal(local_, "dr-a", right);
  ASSERT_OK(c);
  EXPECT_EQ(c->confirmation.method, "server-key");
  EXPECT_TRUE(c->valid);
}

TEST_F(ConfirmTest, AdministratorBindsSigningCertificates) {
  auto admin =
      api_->CreateLocalUser(local_, {.id = "adm", .display_name = "A", .roles = {"admin"}});
  ASSERT_OK(admin);
  HeaderList h = Login("adm", admin->password);
  h.emplace_back("Content-Type", "application/x-pem-file");
  ClientResponse r =
      Send("POST", "/api/v1/users/ph-b/signing-certificates", h, pki_->auth_only.cert_pem);
  EXPECT_EQ(r.status, 400) << r.body;  // An authentication certificate cannot sign.
  EXPECT_THAT(r.body, HasSubstr("authentication"));
  r = Send("POST", "/api/v1/users/ph-b/signing-certificates", h, pki_->doctor.cert_pem);
  EXPECT_EQ(r.status, 409) << r.body;  // Already bound to dr-a.
  r = Send("GET", "/api/v1/users/dr-a/signing-certificates", h);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["signing_certificates"].size(), 1U);
  // A clinician cannot bind certificates.
  HeaderList d = Login("dr-a", passwords_["dr-a"]);
  d.emplace_back("Content-Type", "application/x-pem-file");
  EXPECT_EQ(
      Send("POST", "/api/v1/users/dr-a/signing-certificates", d, pki_->pharmacist.cert_pem).status,
      403);
}

}  // namespace
}  // namespace hokan
