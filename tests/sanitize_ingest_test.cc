// Every way into the server goes through the sanitiser (issue 5): over the HTTPS API a program
// is refused, a polyglot is disarmed, a held file waits for two people; the originals are kept
// encrypted in quarantine that only the security officer reads, and every step is audited.
#include <algorithm>
#include <fstream>
#include <iterator>

#include "api_fixture.h"
#include "base/encoding.h"
#include "crypto/crypto.h"
#include "sanitize_fixtures.h"

namespace hokan {
namespace {

using json = nlohmann::json;
using ::hokan::testing::DicomPolyglot;
using ::hokan::testing::MinimalPe;
using ::testing::HasSubstr;

class SanitizeIngestTest : public ApiFixture {
 protected:
  void Start(const std::function<void(Config&)>& configure = {}) {
    StartServer(false, "", configure);
    for (auto [id, role] : {std::pair{"dr-a", "physician"}, std::pair{"so-1", "security_officer"},
                            std::pair{"so-2", "security_officer"}}) {
      auto u = api_->CreateLocalUser(local_, {.id = id, .display_name = id, .roles = {role}});
      ASSERT_OK(u);
      passwords_[id] = u->password;
    }
    ASSERT_OK(api_->AddCareLocal(
        local_, {.user_id = "dr-a", .patient_id = "P0001", .valid_from = clock_.Now()}));
  }

  ClientResponse Upload(const std::string& content, const std::string& name,
                        const std::string& media_type = "application/octet-stream") {
    HeaderList h = Login("dr-a", passwords_["dr-a"]);
    h.emplace_back("Content-Type", media_type);
    h.emplace_back("X-Hokan-File-Name", name);
    return Send("POST", "/api/v1/records?patient=P0001&type=image-report", h, content);
  }

  ClientResponse As(const std::string& user, std::string_view method, const std::string& target,
                    const std::string& body = "") {
    HeaderList h = Login(user, passwords_[user]);
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    return Send(method, target, h, body);
  }

  std::vector<DecodedAuditEntry> Entries(const std::string& action) {
    std::vector<DecodedAuditEntry> out;
    EXPECT_OK(archive_->audit().ForEach(0, UINT64_MAX, [&](std::uint64_t, std::string_view t) {
      auto d = DecodeAuditEntry(t);
      if (d && d->event.action == action) out.push_back(*d);
      return OkStatus();
    }));
    return out;
  }

  static std::string Detail(const DecodedAuditEntry& e, const std::string& key) {
    for (const auto& [k, v] : e.event.detail) {
      if (k == key) return v;
    }
    return "";
  }

  std::map<std::string, std::string> passwords_;
};

// G-6.5-C12: a program renamed to .pdf is detected by content, refused, kept in quarantine and
// audited; nothing is stored in the patient's records, and it can never be released.
TEST_F(SanitizeIngestTest, G_6_5_C12_ProgramUploadIsRefusedQuarantinedAndAudited) {
  Start();
  ClientResponse r = Upload(MinimalPe(), "discharge-summary.pdf", "application/pdf");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("refused by the sanitiser"));
  EXPECT_THAT(r.body, HasSubstr("never let in"));

  auto entries = Entries("record.sanitize");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].event.outcome, "denied");
  EXPECT_EQ(entries[0].event.actor, "user:dr-a");
  EXPECT_EQ(entries[0].event.patient, "P0001");
  EXPECT_EQ(entries[0].event.rule, "sanitize:blocked");
  EXPECT_EQ(Detail(entries[0], "detected_type"), "pe");
  const std::string id = Detail(entries[0], "quarantine");
  ASSERT_EQ(id.size(), 32u);
  EXPECT_TRUE(Entries("record.create").empty());  // Nothing stored.

  // The security officer sees it, with its report; a physician does not.
  EXPECT_EQ(As("dr-a", "GET", "/api/v1/quarantine").status, 403);
  ClientResponse list = As("so-1", "GET", "/api/v1/quarantine");
  ASSERT_EQ(list.status, 200) << list.body;
  json items = json::parse(list.body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], id);
  EXPECT_EQ(items[0]["verdict"], "blocked");
  EXPECT_EQ(items[0]["state"], "quarantined");
  EXPECT_EQ(items[0]["executable"], true);
  EXPECT_EQ(items[0]["declared_name"], "discharge-summary.pdf");
  ClientResponse show = As("so-1", "GET", "/api/v1/quarantine/" + id);
  ASSERT_EQ(show.status, 200);
  EXPECT_EQ(json::parse(show.body)["report"]["detected"]["type"], "pe");

  // The original is kept, encrypted: not in plain text on disk, and read back exactly.
  std::ifstream sealed(dir_ + "/quarantine/" + id.substr(0, 2) + "/" + id, std::ios::binary);
  const std::string on_disk{std::istreambuf_iterator<char>(sealed), {}};
  ASSERT_FALSE(on_disk.empty());
  EXPECT_EQ(on_disk.find(MinimalPe().substr(0, 64)), std::string::npos);
  ClientResponse content = As("so-1", "GET", "/api/v1/quarantine/" + id + "/content");
  ASSERT_EQ(content.status, 200);
  EXPECT_EQ(content.body, MinimalPe());
  EXPECT_EQ(Entries("quarantine.read_content").size(), 1u);

  // Programs are never released.
  ClientResponse release = As("so-1", "POST", "/api/v1/quarantine/" + id + "/release-request",
                              R"({"reason":"vendor says it is a viewer"})");
  EXPECT_EQ(release.status, 409) << release.body;
  EXPECT_THAT(release.body, HasSubstr("never released"));
}

// G-6.5-C10: external information is checked for malicious software on the way in: the EICAR
// test file is refused, kept in quarantine, and the event is in the audit log.
TEST_F(SanitizeIngestTest, G_6_5_C10_EicarUploadIsRefusedQuarantinedAndLogged) {
  Start();
  ClientResponse r = Upload("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
                            "results.txt", "text/plain");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("EICAR"));
  auto entries = Entries("record.sanitize");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].event.outcome, "denied");
  EXPECT_THAT(entries[0].event.reason, HasSubstr("malware"));
  auto items = archive_->ListQuarantine(10);
  ASSERT_OK(items);
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].verdict, "blocked");
  EXPECT_TRUE((*items)[0].executable);
}

TEST_F(SanitizeIngestTest, DisarmedUploadStoresTheDisarmedCopyAndQuarantinesTheOriginal) {
  Start();
  const std::string original = DicomPolyglot();
  ClientResponse r = Upload(original, "ct.dcm", "application/dicom");
  ASSERT_EQ(r.status, 201) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["sanitize"]["verdict"], "disarmed");
  EXPECT_EQ(j["sanitize"]["report"]["findings"][0]["kind"], "dicom-preamble");
  const std::string id = j["sanitize"]["quarantine_id"];
  const std::string record = j["record_id"];

  auto stored = archive_->ReadRecord(local_, record, 1);
  ASSERT_OK(stored);
  ASSERT_EQ(stored->content.size(), original.size());
  EXPECT_TRUE(std::all_of(stored->content.begin(), stored->content.begin() + 128,
                          [](std::uint8_t b) { return b == 0; }));
  EXPECT_EQ(stored->version.sha256, j["sha256"]);

  auto created = Entries("record.create");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(Detail(created[0], "sanitize"), "disarmed");
  EXPECT_EQ(Detail(created[0], "quarantine"), id);
  EXPECT_EQ(Detail(created[0], "original_sha256"), HexEncode(Sha256(AsBytes(original))));

  ClientResponse show = As("so-1", "GET", "/api/v1/quarantine/" + id);
  ASSERT_EQ(show.status, 200);
  json item = json::parse(show.body);
  EXPECT_EQ(item["verdict"], "disarmed");
  EXPECT_EQ(item["record_id"], record);
  EXPECT_EQ(item["version"], 1);
  ClientResponse content = As("so-1", "GET", "/api/v1/quarantine/" + id + "/content");
  EXPECT_EQ(content.body, original);
}

// G-6.5-C12: a held file waits in quarantine until one security officer asks for its release
// and another approves; the requester cannot approve their own request.
TEST_F(SanitizeIngestTest, G_6_5_C12_HeldFileIsReleasedOnlyByASecondPerson) {
  Start([](Config& c) { c.sanitize.rules["api:dicom"] = "hold"; });
  const std::string original = DicomPolyglot();
  ClientResponse r = Upload(original, "ct.dcm", "application/dicom");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(r.body, HasSubstr("held for a second person"));
  auto held = Entries("record.sanitize");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].event.rule, "sanitize:held");
  const std::string id = Detail(held[0], "quarantine");
  const std::string base = "/api/v1/quarantine/" + id;

  EXPECT_EQ(As("so-1", "POST", base + "/approve").status, 409);  // Nothing requested yet.
  ASSERT_EQ(
      As("so-1", "POST", base + "/release-request", R"({"reason":"scanner vendor file"})").status,
      200);
  ClientResponse self = As("so-1", "POST", base + "/approve");
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_THAT(self.body, HasSubstr("someone other than who requested it"));
  EXPECT_EQ(As("dr-a", "POST", base + "/approve").status, 403);  // Not a security officer.

  ClientResponse ok = As("so-2", "POST", base + "/approve");
  ASSERT_EQ(ok.status, 201) << ok.body;
  const std::string record = json::parse(ok.body)["record_id"];
  auto stored = archive_->ReadRecord(local_, record, 1);
  ASSERT_OK(stored);
  EXPECT_EQ(ToString(stored->content), original);  // As sent: released, not disarmed.

  std::vector<DecodedAuditEntry> released, refused;
  for (const DecodedAuditEntry& e : Entries("quarantine.release")) {
    (e.event.outcome == "success" ? released : refused).push_back(e);
  }
  // The attempt before any request, the requester's own approval, and the physician's.
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(refused[1].event.actor, "user:so-1");
  EXPECT_EQ(refused[1].event.rule, "deny:same-person");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].event.actor, "user:so-2");
  EXPECT_EQ(Detail(released[0], "requested_by"), "user:so-1");
  EXPECT_EQ(Detail(released[0], "sender"), "user:dr-a");
  EXPECT_EQ(released[0].event.reason, "scanner vendor file");
  auto created = Entries("record.create");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(Detail(created[0], "released_from"), id);

  json item = json::parse(As("so-1", "GET", base).body);
  EXPECT_EQ(item["state"], "released");
  ASSERT_EQ(item["decisions"].size(), 2u);
  EXPECT_EQ(item["decisions"][1]["kind"], "released");
  EXPECT_EQ(As("so-2", "POST", base + "/approve").status, 409);  // Only once.
}

TEST_F(SanitizeIngestTest, RejectedReleaseCannotBeApproved) {
  Start([](Config& c) { c.sanitize.action = "hold"; });
  ASSERT_EQ(Upload(DicomPolyglot(), "ct.dcm").status, 409);
  const std::string id = Detail(Entries("record.sanitize").at(0), "quarantine");
  const std::string base = "/api/v1/quarantine/" + id;
  ASSERT_EQ(As("so-1", "POST", base + "/release-request", R"({"reason":"needed"})").status, 200);
  ASSERT_EQ(As("so-2", "POST", base + "/reject", R"({"reason":"no clinical need"})").status, 200);
  EXPECT_EQ(As("so-2", "POST", base + "/approve").status, 409);
  EXPECT_EQ(json::parse(As("so-1", "GET", base).body)["state"], "rejected");
  EXPECT_EQ(Entries("quarantine.reject").size(), 1u);
}

}  // namespace
}  // namespace hokan
