// `hokan serve --read-only`: a restored copy served for emergency (非常時) viewing while the
// production store is down (G-6.10-C1 continuity of viewing, G-6.10-C4f restore and use of a
// backup). Over real TLS: clinicians sign in and read what was stored, auditors search the
// log, and every route that would change clinical or administrative data is refused with 409,
// nothing stored, each refusal audited as denied with rule "read_only"; /healthz and whoami say
// read_only so clients can show a banner.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "api_fixture.h"
#include "base/time.h"
#include "http/client.h"
#include "service/api_service.h"
#include "subprocess.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

class ReadOnlyServeTest : public ApiFixture {
 protected:
  // The last entry of the audit log.
  std::optional<DecodedAuditEntry> LastEntry() {
    std::optional<DecodedAuditEntry> last;
    EXPECT_OK(archive_->audit().ForEach(0, UINT64_MAX, [&](std::uint64_t, std::string_view text) {
      auto d = DecodeAuditEntry(text);
      if (d) last = *d;
      return OkStatus();
    }));
    return last;
  }

  static HeaderList With(HeaderList h, const std::string& content_type) {
    h.emplace_back("Content-Type", content_type);
    return h;
  }

  std::vector<std::string> UserIds(const HeaderList& admin) {
    ClientResponse r = Send("GET", "/api/v1/users", admin);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const json body = json::parse(r.body);
    for (const json& u : body["users"]) ids.push_back(u["id"]);
    return ids;
  }
};

// G-6.10-C4f / G-6.10-C1: the emergency copy shows what was stored and refuses every change.
TEST_F(ReadOnlyServeTest, EmergencyCopyServesReadsAndRefusesEveryChange_G_6_10_C4f) {
  StartServer(false);
  const TimePoint start = clock_.Now() - std::chrono::hours(1);
  // The production store before the outage: records, users, a care relationship.
  const std::string record = PutLocal("P-RO", "allergy: penicillin (anaphylaxis 2019)");
  const std::string other = PutLocal("P-RO", "discharge summary");
  auto dr = api_->CreateLocalUser(
      local_, {.id = "dr-ro", .display_name = "Doctor RO", .roles = {"physician"}});
  auto ro = api_->CreateLocalUser(
      local_, {.id = "rec-ro", .display_name = "Records RO", .roles = {"records_officer"}});
  auto so = api_->CreateLocalUser(
      local_, {.id = "so-ro", .display_name = "Security RO", .roles = {"security_officer"}});
  auto adm = api_->CreateLocalUser(
      local_, {.id = "adm-ro", .display_name = "Admin RO", .roles = {"admin"}});
  auto vendor =
      api_->CreateLocalUser(local_, {.id = "vendor-ro",
                                     .display_name = "Vendor RO",
                                     .kind = UserKind::kMaintenance,
                                     .roles = {"maintenance"},
                                     .expires_at = clock_.Now() + std::chrono::hours(24)});
  for (const auto* u : {&dr, &ro, &so, &adm, &vendor}) ASSERT_OK(*u);
  ASSERT_OK(
      api_->AddCareLocal(local_, {.user_id = "dr-ro", .patient_id = "P-RO", .valid_from = start}));
  {
    // A second version, made over the API as usual.
    const HeaderList s = Login("dr-ro", dr->password);
    ClientResponse v2 = Send("POST", "/api/v1/records/" + record + "/versions",
                             With(s, "text/plain"), "allergy: penicillin; also latex");
    ASSERT_EQ(v2.status, 201) << v2.body;
  }
  const std::string history_path = "/api/v1/records/" + record + "/history";
  const std::string before_history = [&] {
    const HeaderList s = Login("dr-ro", dr->password);
    ClientResponse h = Send("GET", history_path, s);
    EXPECT_EQ(h.status, 200) << h.body;
    return h.body;
  }();
  const auto records_before = archive_->records().RecordsOfPatient("P-RO");
  ASSERT_OK(records_before);
  const std::vector<std::string> users_before = UserIds(Login("adm-ro", adm->password));

  // The copy, served read-only.
  RestartServer({.password_hash = kCheapHash, .read_only = true});
  ASSERT_TRUE(api_->read_only());

  ClientResponse health = Send("GET", "/healthz");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body)["read_only"], true);

  // Signing in works (a session row and an audit entry are written into the copy).
  const HeaderList d = Login("dr-ro", dr->password);
  const HeaderList r = Login("rec-ro", ro->password);
  const HeaderList s = Login("so-ro", so->password);
  const HeaderList a = Login("adm-ro", adm->password);
  const HeaderList m = Login("vendor-ro", vendor->password);
  ClientResponse who = Send("GET", "/api/v1/whoami", d);
  ASSERT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(json::parse(who.body)["read_only"], true);
  EXPECT_EQ(json::parse(who.body)["user"]["id"], "dr-ro");

  // Reads: the content and history are what was stored, and each read is audited.
  ClientResponse v1 = Send("GET", "/api/v1/records/" + record + "/content?version=1", d);
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(v1.body, "allergy: penicillin (anaphylaxis 2019)");
  ClientResponse latest = Send("GET", "/api/v1/records/" + record + "/content", d);
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_EQ(latest.body, "allergy: penicillin; also latex");
  auto read_entry = EntryFor(latest);
  ASSERT_TRUE(read_entry);
  EXPECT_EQ(read_entry->event.action, "record.read");
  EXPECT_EQ(read_entry->event.outcome, "success");
  ClientResponse history = Send("GET", history_path, d);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(json::parse(history.body), json::parse(before_history));
  EXPECT_EQ(Send("GET", "/api/v1/records/" + other + "/content", d).body, "discharge summary");
  EXPECT_EQ(Send("GET", "/api/v1/patients/P-RO/records", d).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/records/" + record, d).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/users/dr-ro/tokens", d).status, 200);  // One's own, listed.
  ClientResponse care = Send("GET", "/api/v1/patients/P-RO/care", r);
  ASSERT_EQ(care.status, 200) << care.body;
  ASSERT_EQ(json::parse(care.body)["relationships"].size(), 1u);
  const std::string care_id = json::parse(care.body)["relationships"][0]["id"];
  EXPECT_EQ(Send("GET", "/api/v1/break-glass", s).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/quarantine", s).status, 200);
  EXPECT_EQ(UserIds(a), users_before);
  // Re-authentication and audit checkpoints concern the session and the copy's own log.
  EXPECT_EQ(Send("POST", "/api/v1/session/reauthenticate", With(d, "application/json"),
                 json{{"password", dr->password}}.dump())
                .status,
            200);
  EXPECT_EQ(Send("POST", "/api/v1/audit/checkpoints", m).status, 201);

  // Every route that changes data, with input good enough to reach the service.
  struct Change {
    const HeaderList* who;  // Null: no credentials (public routes).
    std::string method;
    std::string pattern;  // The route, as in the route table.
    std::string target;
    std::string content_type;
    std::string body;
    std::string action;  // Of the audit entry.
  };
  const HeaderList none;
  const std::string rec = "/api/v1/records/" + record;
  const std::string soon = FormatRfc3339(clock_.Now() + std::chrono::hours(24));
  const std::string fingerprint(64, 'a');
  const std::vector<Change> changes = {
      {&none, "POST", "/api/v1/setup", "/api/v1/setup", "application/json",
       json{{"setup_secret", "x"},
            {"user_id", "admin-x"},
            {"display_name", "X"},
            {"password", "Tall-Ginkgo-42-Tree"}}
           .dump(),
       "user.setup"},
      {&none, "POST", "/api/v1/password/with-code", "/api/v1/password/with-code",
       "application/json",
       json{{"user_id", "dr-ro"}, {"code", "x"}, {"new_password", "Tall-Ginkgo-42-Tree"}}.dump(),
       "user.password_set"},
      {&d, "POST", "/api/v1/password", "/api/v1/password", "application/json",
       json{{"current_password", dr->password}, {"new_password", "Tall-Ginkgo-42-Tree"}}.dump(),
       "self"},
      {&d, "POST", "/api/v1/totp", "/api/v1/totp", "", "", "self"},
      {&d, "POST", "/api/v1/totp/confirm", "/api/v1/totp/confirm", "application/json",
       json{{"code", "123456"}}.dump(), "self"},
      {&d, "POST", "/api/v1/records", "/api/v1/records?patient=P-RO&type=progress-note",
       "text/plain", "written during the outage", "record.create"},
      {&d, "POST", "/api/v1/records/{record_id}/versions", rec + "/versions", "text/plain",
       "amended during the outage", "record.create"},
      {&r, "POST", "/api/v1/records/{record_id}/entered-in-error", rec + "/entered-in-error",
       "application/json", json{{"reason", "wrong patient"}}.dump(), "record.mark_error"},
      {&d, "POST", "/api/v1/records/{record_id}/versions/{version}/confirm",
       rec + "/versions/1/confirm", "application/json", json{{"key_passphrase", "pw"}}.dump(),
       "record.confirm"},
      {&r, "PUT", "/api/v1/labels", "/api/v1/labels?target=patient:P-RO&label=vip", "", "",
       "record.label"},
      {&r, "DELETE", "/api/v1/labels", "/api/v1/labels?target=patient:P-RO&label=vip", "", "",
       "record.label"},
      {&r, "POST", "/api/v1/patients/{patient_id}/care", "/api/v1/patients/P-RO/care",
       "application/json", json{{"user_id", "dr-ro"}}.dump(), "care.manage"},
      {&r, "DELETE", "/api/v1/patients/{patient_id}/care/{care_id}",
       "/api/v1/patients/P-RO/care/" + care_id, "", "", "care.manage"},
      {&d, "POST", "/api/v1/patients/{patient_id}/break-glass", "/api/v1/patients/P-RO/break-glass",
       "application/json", json{{"reason", "unconscious on arrival, no relationship yet"}}.dump(),
       "breakglass.declare"},
      {&s, "POST", "/api/v1/break-glass/{grant_id}/review", "/api/v1/break-glass/bg-1/review",
       "application/json", json{{"note", "checked"}}.dump(), "breakglass.review"},
      {&m, "POST", "/api/v1/maintenance/transfers", "/api/v1/maintenance/transfers",
       "application/json",
       json{{"manifest", "AAAA"},
            {"signature", "AAAA"},
            {"files", {{{"name", "a.txt"}, {"content", "AAAA"}}}}}
           .dump(),
       "maintenance.transfer"},
      {&s, "POST", "/api/v1/quarantine/{quarantine_id}/release-request",
       "/api/v1/quarantine/q-1/release-request", "application/json",
       json{{"reason", "needed"}}.dump(), "quarantine.release"},
      {&s, "POST", "/api/v1/quarantine/{quarantine_id}/approve", "/api/v1/quarantine/q-1/approve",
       "", "", "quarantine.release"},
      {&s, "POST", "/api/v1/quarantine/{quarantine_id}/reject", "/api/v1/quarantine/q-1/reject",
       "application/json", json{{"reason", "no"}}.dump(), "quarantine.release"},
      {&a, "POST", "/api/v1/users", "/api/v1/users", "application/json",
       json{{"id", "dr-new"},
            {"display_name", "Doctor New"},
            {"roles", {"physician"}},
            {"verified_by", "adm-ro"},
            {"verification_method", "in person, staff ID card"}}
           .dump(),
       "user.manage"},
      {&a, "PUT", "/api/v1/users/{user_id}/roles", "/api/v1/users/dr-ro/roles", "application/json",
       json{{"roles", {"physician", "nurse"}},
            {"requested_by", "head of internal medicine"},
            {"approved_by", "medical director"}}
           .dump(),
       "user.manage"},
      {&a, "POST", "/api/v1/users/{user_id}/disable", "/api/v1/users/dr-ro/disable", "", "",
       "user.manage"},
      {&a, "POST", "/api/v1/users/{user_id}/enable", "/api/v1/users/dr-ro/enable", "", "",
       "user.manage"},
      {&a, "POST", "/api/v1/users/{user_id}/password-reset", "/api/v1/users/dr-ro/password-reset",
       "application/json", R"({"verified_by":"adm-ro","method":"phone call-back"})",
       "user.reset_password"},
      {&a, "POST", "/api/v1/users/{user_id}/client-certificates",
       "/api/v1/users/dr-ro/client-certificates", "application/json",
       json{{"fingerprint", fingerprint}}.dump(), "user.manage"},
      {&a, "POST", "/api/v1/users/{user_id}/signing-certificates",
       "/api/v1/users/dr-ro/signing-certificates", "application/x-pem-file", "not a certificate",
       "user.manage"},
      {&d, "POST", "/api/v1/users/{user_id}/tokens", "/api/v1/users/dr-ro/tokens",
       "application/json", json{{"scopes", {"record.read"}}, {"expires_at", soon}}.dump(),
       "token.manage"},
      {&d, "DELETE", "/api/v1/users/{user_id}/tokens/{token_id}", "/api/v1/users/dr-ro/tokens/t-1",
       "", "", "token.manage"},
  };
  std::set<std::string> refused_routes;
  for (const Change& c : changes) {
    SCOPED_TRACE(c.method + " " + c.target);
    HeaderList h = *c.who;
    if (!c.content_type.empty()) h.emplace_back("Content-Type", c.content_type);
    ClientResponse res = Send(c.method, c.target, h, c.body);
    EXPECT_EQ(res.status, 409) << res.body;
    const json err = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(err.is_object()) << res.body;
    EXPECT_EQ(err["error"]["code"], "failed_precondition");
    EXPECT_THAT(err["error"]["message"].get<std::string>(),
                HasSubstr("read-only emergency copy (hokan serve --read-only)"));
    EXPECT_EQ(err["request_id"], std::string(res.Header("x-request-id").value_or("?")));
    auto e = EntryFor(res);
    ASSERT_TRUE(e) << "not audited";
    EXPECT_EQ(e->event.outcome, "denied");
    EXPECT_EQ(e->event.rule, kReadOnlyRule);
    EXPECT_EQ(e->event.action, c.action);
    EXPECT_NE(e->event.actor, "anonymous");
    refused_routes.insert(c.method + " " + c.pattern);
  }

  // Every route of the API is either a read (GET), one of the few allowed changes above, or
  // refused in the list above: a new route cannot be added without deciding.
  const std::set<std::string> allowed = {"POST /api/v1/session", "DELETE /api/v1/session",
                                         "POST /api/v1/session/reauthenticate",
                                         "POST /api/v1/audit/checkpoints"};
  for (const Route& route : router_->routes()) {
    if (route.method == "GET") continue;
    const std::string key = route.method + " " + route.pattern;
    EXPECT_TRUE(allowed.count(key) || refused_routes.count(key))
        << key << " is neither allowed nor shown refused on a read-only copy";
  }

  // Nothing was stored: the same records, versions, users, relationships and no
  // confirmation; the physician's account is as it was (the disable was refused).
  const auto records_after = archive_->records().RecordsOfPatient("P-RO");
  ASSERT_OK(records_after);
  ASSERT_EQ(records_after->size(), records_before->size());
  for (std::size_t i = 0; i < records_after->size(); ++i) {
    EXPECT_EQ((*records_after)[i].versions.size(), (*records_before)[i].versions.size());
    EXPECT_EQ((*records_after)[i].status, (*records_before)[i].status);
  }
  EXPECT_EQ(json::parse(Send("GET", history_path, d).body), json::parse(before_history));
  EXPECT_EQ(UserIds(a), users_before);
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/patients/P-RO/care", r).body)["relationships"].size(),
            1u);
  EXPECT_EQ(Send("GET", rec + "/versions/1/confirmation", d).status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/whoami", Login("dr-ro", dr->password)).status, 200);

  // Auditors see the attempts.
  ClientResponse attempts = Send("GET", "/api/v1/audit?action=record.create&limit=1000", s);
  ASSERT_EQ(attempts.status, 200) << attempts.body;
  int read_only_refusals = 0;
  const json found = json::parse(attempts.body);
  for (const json& entry : found["entries"]) {
    if (entry.dump().find("read_only") != std::string::npos) ++read_only_refusals;
  }
  EXPECT_EQ(read_only_refusals, 2) << attempts.body;

  // The local commands are refused too, and audited with the OS user.
  auto local_user = api_->CreateLocalUser(
      local_, {.id = "dr-late", .display_name = "Doctor Late", .roles = {"physician"}});
  EXPECT_FALSE(local_user.has_value());
  EXPECT_EQ(local_user.error().code(), StatusCode::kFailedPrecondition);
  auto last = LastEntry();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->event.actor, local_.id);
  EXPECT_EQ(last->event.action, "user.create");
  EXPECT_EQ(last->event.rule, kReadOnlyRule);

  // Signing out still works.
  EXPECT_EQ(Send("DELETE", "/api/v1/session", d).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/whoami", d).status, 401);
}

// An ordinary server says read_only false, so a client's banner has a field to look at.
TEST_F(ReadOnlyServeTest, OrdinaryServerSaysItIsNotReadOnly) {
  StartServer(false);
  EXPECT_FALSE(api_->read_only());
  EXPECT_EQ(json::parse(Send("GET", "/healthz").body)["read_only"], false);
  auto dr = api_->CreateLocalUser(
      local_, {.id = "dr-rw", .display_name = "Doctor RW", .roles = {"physician"}});
  ASSERT_OK(dr);
  ClientResponse who = Send("GET", "/api/v1/whoami", Login("dr-rw", dr->password));
  ASSERT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(json::parse(who.body)["read_only"], false);
}

// `[server] read_only = true` in hokan.toml has the same effect, for the server and for the
// local commands on that data directory.
TEST_F(ReadOnlyServeTest, ConfigKeyMakesTheStoreReadOnly_G_6_10_C4f) {
  StartServer(false, "", [](Config& c) { c.server.read_only = true; });
  EXPECT_TRUE(api_->read_only());
  EXPECT_EQ(json::parse(Send("GET", "/healthz").body)["read_only"], true);
  auto refused = api_->CreateLocalUser(
      local_, {.id = "dr-cfg", .display_name = "Doctor Cfg", .roles = {"physician"}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.error().message(), HasSubstr("[server] read_only"));
  EXPECT_FALSE(api_->NewSetupSecret(local_).has_value());
  EXPECT_FALSE(api_->RenewEvidence(local_, std::chrono::hours(24)).has_value());
  auto last = LastEntry();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->event.action, "evidence.renew");
  EXPECT_EQ(last->event.outcome, "denied");
  EXPECT_EQ(last->event.rule, kReadOnlyRule);
  // The archive itself refuses too (`hokan record put` / `mark-error` go straight to it).
  const std::string note = "written on the copy\n";
  PutRequest req{.patient_id = "P-RO",
                 .record_type = "progress-note",
                 .media_type = "text/plain",
                 .content = AsBytes(note)};
  auto put = archive_->PutRecord(local_, req, IngestOptions{.channel = "cli"});
  ASSERT_FALSE(put.has_value());
  EXPECT_EQ(put.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(archive_->MarkEnteredInError(local_, "0123456789abcdef01234567", "x").has_value());
  auto refusal = LastEntry();
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->event.action, "record.mark_error");
  EXPECT_EQ(refusal->event.rule, kReadOnlyRule);
}

// The command line: `hokan serve --read-only` says so on stderr and in /healthz.
TEST(ReadOnlyServeCliTest, ServeReadOnlyFlag_G_6_10_C4f) {
  using ::hokan::testing::Child;
  using ::hokan::testing::Finish;
  using ::hokan::testing::ProcessResult;
  using ::hokan::testing::RunHokan;
  ::hokan::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/copy";
  ASSERT_EQ(RunHokan({"init", "--dir", dir}).exit_code, 0);
  const ProcessResult help = RunHokan({"serve", "--help"});
  EXPECT_THAT(help.out, HasSubstr("--read-only"));

  Child child = ::hokan::testing::Spawn(
      {HK_HOKAN_BINARY, "serve", "--dir", dir, "--port", "0", "--allow-root", "--read-only"});
  ASSERT_GT(child.pid, 0);
  std::string out;
  constexpr std::string_view kLine = "listening https://127.0.0.1:";
  const bool listening = ::hokan::testing::ReadUntil(
      child, out,
      [&](const std::string& t) {
        const std::size_t at = t.find(kLine);
        return at != std::string::npos && t.find('\n', at) != std::string::npos;
      },
      std::chrono::seconds(60));
  int health_status = 0;
  json health_body;
  if (listening) {
    ClientOptions o;
    o.port = static_cast<std::uint16_t>(std::stoi(out.substr(out.find(kLine) + kLine.size())));
    o.ca_file = dir + "/keys/tls.crt";
    auto c = HttpsClient::Connect(o);
    EXPECT_TRUE(c) << c.error().message();
    auto health = c ? (*c)->Send("GET", "/healthz") : Result<ClientResponse>(c.error());
    if (health) {
      health_status = health->status;
      health_body = json::parse(health->body, nullptr, false);
    }
  }
  ::kill(child.pid, SIGTERM);
  const ProcessResult done = Finish(child, out);
  ASSERT_TRUE(listening) << out << done.err;
  EXPECT_EQ(health_status, 200);
  EXPECT_EQ(health_body["read_only"], true);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_THAT(done.err, HasSubstr("READ-ONLY emergency copy"));
}

}  // namespace
}  // namespace hokan
