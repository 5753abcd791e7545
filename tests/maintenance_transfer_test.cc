// G-6.8-C9: files sent to the facility during remote maintenance must carry the sender's signed
// sanitisation attestation, and still pass hokan's own sanitiser. Over the HTTPS API, and
// through the `hokan maintenance` commands.
#include <fstream>

#include "api_fixture.h"
#include "base/encoding.h"
#include "crypto/crypto.h"
#include "service/maintenance.h"
#include "signature/cades.h"
#include "signature/dev_pki.h"
#include "subprocess.h"

namespace hokan {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

class MaintenanceTransferTest : public ApiFixture {
 protected:
  static void SetUpTestSuite() {
    auto pki = MakeCachedDevHpki(std::chrono::system_clock::now());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = new DevHpki(std::move(*pki));
  }
  static void TearDownTestSuite() { delete pki_; }

  void Start(bool with_vendor_ca = true) {
    vendor_ca_ = tmp_.path() + "/vendor-ca.pem";
    crl_ = tmp_.path() + "/vendor.crl";
    std::ofstream(vendor_ca_) << pki_->root.cert_pem;
    std::ofstream(crl_) << pki_->signing_ca_crl << pki_->root_crl;
    StartServer(false, "", [&](Config& c) {
      if (with_vendor_ca) c.maintenance.trust_anchor_files = {vendor_ca_};
      c.maintenance.crl_files = {crl_};
    });
    for (auto [id, role] :
         {std::pair{"vendor-1", "maintenance"}, std::pair{"so-1", "security_officer"},
          std::pair{"dr-a", "physician"}}) {
      NewUser nu{.id = id, .display_name = id, .roles = {role}};
      if (std::string(role) == "maintenance") {  // G-6.8-C4: vendor accounts expire.
        nu.kind = UserKind::kMaintenance;
        nu.expires_at = clock_.Now() + std::chrono::hours(24 * 7);
      }
      auto u = api_->CreateLocalUser(local_, nu);
      ASSERT_OK(u);
      passwords_[id] = u->password;
    }
  }

  AttestOptions Vendor() {
    AttestOptions o;
    o.vendor = "Example Medical Systems";
    o.ticket = "CHG-2026-1124";
    o.cert_pem = pki_->doctor.cert_pem;  // Any certificate under the trusted vendor CA.
    o.key_pem = pki_->doctor.key_pem;
    o.chain_pem = {pki_->signing_ca.cert_pem};
    o.now = clock_.Now();
    return o;
  }

  static json Body(const Bytes& manifest, const Bytes& signature,
                   const std::vector<MaintenanceFile>& files) {
    json list = json::array();
    for (const MaintenanceFile& f : files) {
      list.push_back({{"name", f.name}, {"content", Base64Encode(f.content)}});
    }
    return {{"manifest", Base64Encode(manifest)},
            {"signature", Base64Encode(signature)},
            {"files", list}};
  }

  ClientResponse Transfer(const json& body, const std::string& user = "vendor-1") {
    HeaderList h = Login(user, passwords_[user]);
    h.emplace_back("Content-Type", "application/json");
    return Send("POST", "/api/v1/maintenance/transfers", h, body.dump());
  }

  std::vector<DecodedAuditEntry> Transfers() {
    std::vector<DecodedAuditEntry> out;
    EXPECT_OK(archive_->audit().ForEach(0, UINT64_MAX, [&](std::uint64_t, std::string_view t) {
      auto d = DecodeAuditEntry(t);
      if (d && d->event.action == "maintenance.transfer") out.push_back(*d);
      return OkStatus();
    }));
    return out;
  }

  const std::vector<MaintenanceFile> files_ = {
      {"printer-settings.txt", ToBytes("duplex=on\ntray=2\n")},
      {"codes.csv", ToBytes("code,name\nA01,cholera\n")}};
  static DevHpki* pki_;
  std::string vendor_ca_, crl_;
  std::map<std::string, std::string> passwords_;
};
DevHpki* MaintenanceTransferTest::pki_ = nullptr;

TEST_F(MaintenanceTransferTest, G_6_8_C9_AttestedSanitisedFilesAreAccepted) {
  Start();
  auto att = AttestMaintenanceFiles(files_, Vendor());
  ASSERT_OK(att);
  const json manifest = json::parse(ToString(att->manifest));
  EXPECT_EQ(manifest["format"], "hokan-maintenance-manifest/1");
  EXPECT_EQ(manifest["files"][0]["sha256"], HexEncode(Sha256(files_[0].content)));

  ClientResponse r = Transfer(Body(att->manifest, att->signature, files_));
  ASSERT_EQ(r.status, 201) << r.body;
  json receipt = json::parse(r.body);
  EXPECT_EQ(receipt["ticket"], "CHG-2026-1124");
  EXPECT_THAT(receipt["signer"].get<std::string>(), HasSubstr("CN="));
  ASSERT_EQ(receipt["files"].size(), 2u);

  auto entries = Transfers();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].event.outcome, "success");
  EXPECT_EQ(entries[0].event.actor, "user:vendor-1");
  EXPECT_TRUE(entries[0].event.maintenance);

  // The files wait, encrypted, for the security officer to hand on; they are no records.
  HeaderList so = Login("so-1", passwords_["so-1"]);
  const std::string id = receipt["files"][1]["quarantine_id"];
  ClientResponse item = Send("GET", "/api/v1/quarantine/" + id, so);
  ASSERT_EQ(item.status, 200);
  EXPECT_EQ(json::parse(item.body)["verdict"], "accepted");
  EXPECT_EQ(json::parse(item.body)["channel"], "maintenance");
  EXPECT_EQ(Send("GET", "/api/v1/quarantine/" + id + "/content", so).body,
            ToString(files_[1].content));
}

TEST_F(MaintenanceTransferTest, G_6_8_C9_TransferWithoutAValidAttestationIsRefused) {
  Start();
  auto att = AttestMaintenanceFiles(files_, Vendor());
  ASSERT_OK(att);
  // A manifest changed after signing.
  Bytes changed = att->manifest;
  changed[changed.size() / 2] ^= 0x01;
  ClientResponse tampered = Transfer(Body(changed, att->signature, files_));
  EXPECT_NE(tampered.status, 201);
  // A file that is not the one attested.
  std::vector<MaintenanceFile> swapped = files_;
  swapped[0].content = ToBytes("duplex=off\n");
  ClientResponse other = Transfer(Body(att->manifest, att->signature, swapped));
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_THAT(other.body, HasSubstr("not the file the attestation lists"));
  // A file the manifest does not list.
  std::vector<MaintenanceFile> extra = files_;
  extra.push_back({"extra.txt", ToBytes("x\n")});
  EXPECT_EQ(Transfer(Body(att->manifest, att->signature, extra)).status, 400);
  // An old attestation, replayed.
  clock_.Advance(std::chrono::hours(73));
  ClientResponse old = Transfer(Body(att->manifest, att->signature, files_));
  EXPECT_EQ(old.status, 403) << old.body;
  EXPECT_THAT(old.body, HasSubstr("max_attestation_age_hours"));
  // Only maintenance accounts send maintenance files.
  EXPECT_EQ(Transfer(Body(att->manifest, att->signature, files_), "dr-a").status, 403);

  for (const DecodedAuditEntry& e : Transfers()) {
    if (e.event.actor == "user:vendor-1") {
      EXPECT_EQ(e.event.outcome, "denied");
    }
  }
  EXPECT_GE(Transfers().size(), 4u);
}

TEST_F(MaintenanceTransferTest, G_6_8_C9_NoVendorCaMeansNoTransfer) {
  Start(false);
  auto att = AttestMaintenanceFiles(files_, Vendor());
  ASSERT_OK(att);
  ClientResponse r = Transfer(Body(att->manifest, att->signature, files_));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(r.body, HasSubstr("trust_anchor_files"));
}

// The sender's claim is checked, not believed: a file with active content is refused even with
// a valid signature over its hash, and kept as evidence.
TEST_F(MaintenanceTransferTest, G_6_8_C9_AttestedFileWithActiveContentIsStillRefused) {
  Start();
  const std::vector<MaintenanceFile> files = {
      {"lab-codes.csv", ToBytes("code,formula\nX1,=HYPERLINK(\"http://x.invalid\")\n")}};
  // The sender side refuses to attest it...
  auto refused = AttestMaintenanceFiles(files, Vendor());
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message(), HasSubstr("run `hokan sanitize`"));
  // ...so a careless sender signs a manifest by hand.
  MaintenanceManifest m{
      .vendor = "Example Medical Systems",
      .ticket = "CHG-1",
      .sanitizer = "other-cdr 2",
      .sanitized_at = FormatRfc3339(clock_.Now()),
      .files = {{files[0].name, HexEncode(Sha256(files[0].content)), files[0].content.size()}}};
  const std::string manifest = MaintenanceManifestJson(m);
  CadesSignOptions sign;
  sign.signer_cert_pem = pki_->doctor.cert_pem;
  sign.signer_key_pem = pki_->doctor.key_pem;
  sign.chain_pem = {pki_->signing_ca.cert_pem};
  sign.signing_time = clock_.Now();
  auto signature = SignCades(AsBytes(manifest), sign);
  ASSERT_OK(signature);
  ClientResponse r = Transfer(Body(ToBytes(manifest), *signature, files));
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_THAT(r.body, HasSubstr("lab-codes.csv"));
  auto entries = Transfers();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].event.outcome, "denied");

  HeaderList so = Login("so-1", passwords_["so-1"]);
  json items = json::parse(Send("GET", "/api/v1/quarantine", so).body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["verdict"], "blocked");
  EXPECT_EQ(items[0]["channel"], "maintenance");
  // Not a record: it cannot be "released" into one.
  EXPECT_EQ(
      Send(
          "POST", "/api/v1/quarantine/" + items[0]["id"].get<std::string>() + "/release-request",
          [&] {
            HeaderList h = so;
            h.emplace_back("Content-Type", "application/json");
            return h;
          }(),
          R"({"reason":"vendor insists"})")
          .status,
      409);
}

// The same through the command line: the vendor attests, the facility receives from media.
TEST_F(MaintenanceTransferTest, G_6_8_C9_CommandLineAttestAndReceive) {
  Start();
  server_->Shutdown();
  server_.reset();
  api_.reset();
  archive_.reset();
  const std::string d = tmp_.path();
  std::ofstream(d + "/vendor.crt") << pki_->doctor.cert_pem;
  std::ofstream(d + "/vendor.key") << pki_->doctor.key_pem;
  std::ofstream(d + "/ca.pem") << pki_->signing_ca.cert_pem;
  std::ofstream(d + "/settings.txt") << "duplex=on\n";
  using testing::RunHokan;
  auto attest = RunHokan({"maintenance", "attest", "--vendor", "Example", "--ticket", "CHG-9",
                          "--cert", d + "/vendor.crt", "--key", d + "/vendor.key", "--chain",
                          d + "/ca.pem", "--file", d + "/settings.txt", "--manifest-out",
                          d + "/m.json", "--signature-out", d + "/m.p7s"});
  ASSERT_EQ(attest.exit_code, 0) << attest.err;
  auto receive = RunHokan({"maintenance", "receive", "--dir", dir_, "--manifest", d + "/m.json",
                           "--signature", d + "/m.p7s", "--file", d + "/settings.txt"});
  ASSERT_EQ(receive.exit_code, 0) << receive.err;
  EXPECT_EQ(json::parse(receive.out)["files"][0]["name"], "settings.txt");
  auto list = RunHokan({"quarantine", "list", "--dir", dir_});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out)["items"][0]["verdict"], "accepted");

  std::ofstream(d + "/settings.txt", std::ios::app) << "tray=1\n";  // Changed after attesting.
  auto changed = RunHokan({"maintenance", "receive", "--dir", dir_, "--manifest", d + "/m.json",
                           "--signature", d + "/m.p7s", "--file", d + "/settings.txt"});
  EXPECT_NE(changed.exit_code, 0);
  EXPECT_THAT(changed.err, HasSubstr("not the file the attestation lists"));
}

}  // namespace
}  // namespace hokan
