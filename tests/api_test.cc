// The REST API end to end, over real TLS on loopback against a real store: every route
// refuses the unauthenticated (G-6.5-C1), the generated authorisation matrix over HTTP
// (G-6.5-C6, G-6.5-D1, G-6.8-C4, G-6.10), every outcome audited with its rule (G-6.5-C7),
// login failures indistinguishable and locked out (G-6.5-D4), idle sessions locked, the
// first administrator from the setup secret with two-factor enrolment (G-6.5-C13, G-6.5-C14b),
// and bad input refused with nothing stored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "api_fixture.h"
#include "base/encoding.h"
#include "base/posix_env.h"
#include "base/time.h"
#include "crypto/x509.h"
#include "http/api_v1.h"
#include "http/client.h"
#include "http/server.h"
#include "identity/identity_store.h"
#include "policy/matrix.h"
#include "policy/role.h"
#include "service/api_service.h"
#include "testing/manual_clock.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

// Fills {record_id}, {patient_id}, ... in a route pattern.
std::string Fill(std::string pattern, const std::map<std::string, std::string>& values) {
  for (const auto& [k, v] : values) {
    const std::string key = "{" + k + "}";
    for (std::size_t at; (at = pattern.find(key)) != std::string::npos;) {
      pattern.replace(at, key.size(), v);
    }
  }
  return pattern;
}

TEST_F(ApiFixture, NoRouteAnswersDataWithoutAuthentication_G_6_5_C1) {
  StartServer(false);
  const std::string record = PutLocal("P0001", "secret clinical note");
  const std::map<std::string, std::string> values = {
      {"record_id", record}, {"patient_id", "P0001"}, {"user_id", "someone"},
      {"token_id", "t"},     {"care_id", "c"},        {"grant_id", "g"}};
  int checked = 0;
  for (const Route& route : router_->routes()) {
    if (route.public_route) continue;
    const std::uint64_t before = AuditSize();
    ClientResponse r = Send(route.method, Fill(route.pattern, values),
                            {{"Content-Type", "application/json"}}, "{}");
    EXPECT_EQ(r.status, 401) << route.method << " " << route.pattern << ": " << r.body;
    EXPECT_THAT(r.body, Not(HasSubstr("secret clinical note")));
    EXPECT_THAT(r.body, Not(HasSubstr("\"records\"")));
    EXPECT_GT(AuditSize(), before) << route.pattern;
    auto e = EntryFor(r);
    ASSERT_TRUE(e) << route.pattern;
    EXPECT_EQ(e->event.outcome, "unauthenticated") << route.pattern;
    EXPECT_EQ(e->event.source, "127.0.0.1");
    ++checked;
  }
  EXPECT_GT(checked, 25);
  // Unknown paths and methods too.
  ClientResponse nf = Send("GET", "/api/v1/nothing-here");
  EXPECT_EQ(nf.status, 404);
  ASSERT_TRUE(EntryFor(nf));
  EXPECT_EQ(EntryFor(nf)->event.outcome, "not_found");
  EXPECT_EQ(Send("PATCH", "/api/v1/whoami").status, 405);
}

// The generated authorisation matrix over HTTP: every role x patient-scoped routes x
// {user relationship, department relationship, none, restricted label, vip label} and the
// global routes, with the expectation read from the documented matrix (not from Decide).
TEST_F(ApiFixture, AuthorizationMatrixOverHttpEveryOutcomeAudited_G_6_5_C6_G_6_5_C7) {
  StartServer(false);
  const Matrix& matrix = DefaultMatrix();
  // Patients: P-USER (each user personally), P-DEPT (their department), P-NONE,
  // P-RESTR (department only, label restricted), P-VIP (department, label vip).
  struct PatientCase {
    std::string id;
    bool care_ok;  // Whether a `care` cell is satisfied.
  };
  const std::vector<PatientCase> patients = {
      {"P-USER", true}, {"P-DEPT", true}, {"P-NONE", false}, {"P-RESTR", false}, {"P-VIP", true}};
  std::map<std::string, std::string> records;
  for (const auto& p : patients) records[p.id] = PutLocal(p.id, "note of " + p.id);
  const TimePoint start = clock_.Now() - std::chrono::hours(1);
  for (const char* p : {"P-DEPT", "P-RESTR", "P-VIP"}) {
    ASSERT_OK(
        api_->AddCareLocal(local_, {.department = "dept-a", .patient_id = p, .valid_from = start}));
  }
  ASSERT_OK(api_->SetLabelLocal(local_, "patient:P-RESTR", "restricted"));
  ASSERT_OK(api_->SetLabelLocal(local_, "patient:P-VIP", "vip"));

  struct PatientRoute {
    std::string method;
    std::string path;  // With {record_id}/{patient_id}.
    std::string action;
  };
  const std::vector<PatientRoute> patient_routes = {
      {"GET", "/api/v1/records/{record_id}/content", "record.read"},
      {"GET", "/api/v1/records/{record_id}/history", "record.history"},
      {"GET", "/api/v1/patients/{patient_id}/records", "record.history"},
      {"POST", "/api/v1/records/{record_id}/versions", "record.create"},
      {"GET", "/api/v1/patients/{patient_id}/care", "care.manage"},
  };
  struct GlobalRoute {
    std::string method;
    std::string path;
    std::string action;
  };
  const std::vector<GlobalRoute> global_routes = {
      {"GET", "/api/v1/audit?limit=1", "audit.read"},
      {"GET", "/api/v1/audit/proofs/inclusion?index=0", "audit.proof"},
      {"POST", "/api/v1/audit/checkpoints", "audit.checkpoint"},
      {"GET", "/api/v1/users", "user.read"},
      {"GET", "/api/v1/break-glass", "breakglass.review"},
      {"GET", "/api/v1/whoami", "self"},
  };

  int requests = 0;
  for (const std::string& role_name : AllRoles()) {
    const Result<Role> role = ParseRole(role_name);
    ASSERT_OK(role);
    NewUser u{.id = "u-" + role_name,
              .display_name = "Test " + role_name,
              .roles = {role_name},
              .department = "dept-a"};
    for (char& ch : u.id) {
      if (ch == '_') ch = '-';
    }
    if (role_name == "maintenance") {
      u.kind = UserKind::kMaintenance;
      u.expires_at = clock_.Now() + std::chrono::hours(24);
    }
    auto made = api_->CreateLocalUser(local_, u);
    ASSERT_OK(made) << role_name;
    ASSERT_OK(
        api_->AddCareLocal(local_, {.user_id = u.id, .patient_id = "P-USER", .valid_from = start}));
    const HeaderList cookie = Login(u.id, made->password);

    auto check = [&](const std::string& method, const std::string& path, const std::string& action,
                     bool expected, bool vip = false) {
      HeaderList h = cookie;
      h.emplace_back("Content-Type", "text/plain");
      ClientResponse r = Send(method, path, h, method == "POST" ? "amended" : "");
      ++requests;
      const bool allowed = r.status != 403 && r.status != 401;
      EXPECT_EQ(allowed, expected)
          << role_name << " " << method << " " << path << " -> " << r.status << " " << r.body;
      if (allowed) {
        EXPECT_LT(r.status, 300) << role_name << " " << path << ": " << r.body;
      }
      auto e = EntryFor(r);
      ASSERT_TRUE(e) << "no audit entry for " << role_name << " " << path;
      EXPECT_EQ(e->event.actor, "user:" + u.id);
      EXPECT_EQ(e->event.outcome, expected ? "success" : "denied") << role_name << " " << path;
      EXPECT_FALSE(e->event.rule.empty()) << role_name << " " << path;
      // Allowed access to a vip patient is listed for review (G-6.5-C7).
      EXPECT_EQ(e->event.review, vip && expected) << role_name << " " << path;
      EXPECT_EQ(e->event.maintenance, role_name == "maintenance")
          << role_name << " " << path << " " << e->event.action;
      (void)action;
    };
    for (const PatientCase& p : patients) {
      for (const PatientRoute& pr : patient_routes) {
        const Permission cell = matrix.Get(*role, pr.action);
        const bool expected =
            cell == Permission::kAllow || (cell == Permission::kCare && p.care_ok);
        check(pr.method, Fill(pr.path, {{"record_id", records[p.id]}, {"patient_id", p.id}}),
              pr.action, expected, p.id == "P-VIP");
      }
    }
    for (const GlobalRoute& g : global_routes) {
      check(g.method, g.path, g.action, matrix.Get(*role, g.action) == Permission::kAllow);
    }
  }
  EXPECT_EQ(requests, 10 * (5 * 5 + 6));
}

TEST_F(ApiFixture, BreakGlassOpensOnePatientForOneUserFlaggedForReview_G_6_10) {
  StartServer(false);
  const std::string record = PutLocal("P-ER", "emergency note");
  auto doc = api_->CreateLocalUser(
      local_, {.id = "dr-er", .display_name = "Doctor ER", .roles = {"physician"}});
  auto officer = api_->CreateLocalUser(
      local_, {.id = "so-one", .display_name = "Security One", .roles = {"security_officer"}});
  ASSERT_OK(doc);
  ASSERT_OK(officer);
  const HeaderList dr = Login("dr-er", doc->password);
  const std::string content = "/api/v1/records/" + record + "/content";
  EXPECT_EQ(Send("GET", content, dr).status, 403);

  HeaderList json_dr = dr;
  json_dr.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(
      Send("POST", "/api/v1/patients/P-ER/break-glass", json_dr, R"({"reason":"short"})").status,
      400);  // A reason of a few letters is refused.
  ClientResponse g = Send("POST", "/api/v1/patients/P-ER/break-glass", json_dr,
                          R"({"reason":"unconscious on arrival, no relationship yet"})");
  ASSERT_EQ(g.status, 201) << g.body;
  ClientResponse read = Send("GET", content, dr);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, "emergency note");
  auto e = EntryFor(read);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->event.break_glass);
  EXPECT_THAT(e->event.rule, HasSubstr("allow:break-glass:"));
  // The read's entry is the one the response names, durable before the content left.
  EXPECT_EQ(std::to_string(e->seq), std::string(read.Header("x-hokan-audit-seq").value_or("")));

  // After the grant expires, access ends.
  clock_.Advance(std::chrono::minutes(61));
  const HeaderList dr2 = Login("dr-er", doc->password);
  EXPECT_EQ(Send("GET", content, dr2).status, 403);

  // Listed for the security officer's review.
  const HeaderList so = Login("so-one", officer->password);
  ClientResponse list = Send("GET", "/api/v1/break-glass?unreviewed=true", so);
  ASSERT_EQ(list.status, 200);
  const json grants = json::parse(list.body)["grants"];
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]["user_id"], "dr-er");
  HeaderList json_so = so;
  json_so.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(Send("POST", "/api/v1/break-glass/" + grants[0]["id"].get<std::string>() + "/review",
                 json_so, R"({"note":"checked with ER roster"})")
                .status,
            200);
  EXPECT_EQ(
      json::parse(Send("GET", "/api/v1/break-glass?unreviewed=true", so).body)["grants"].size(),
      0u);
}

TEST_F(ApiFixture, LoginFailuresAreIndistinguishableThenLockedOut_G_6_5_D4) {
  StartServer(false);
  auto u = api_->CreateLocalUser(local_,
                                 {.id = "nurse-a", .display_name = "Nurse A", .roles = {"nurse"}});
  ASSERT_OK(u);
  auto attempt = [&](const std::string& user, const std::string& password) {
    return Send("POST", "/api/v1/session", {{"Content-Type", "application/json"}},
                json{{"user_id", user}, {"password", password}}.dump());
  };
  auto strip = [](const ClientResponse& r) {
    json j = json::parse(r.body);
    j.erase("request_id");
    std::vector<std::string> names;
    for (const auto& [k, v] : r.headers) {
      if (k != "x-request-id" && k != "date") {
        std::string kv = k;
        kv += "=";
        kv += v;
        names.push_back(std::move(kv));
      }
    }
    return std::make_pair(j.dump(), names);
  };
  const ClientResponse wrong = attempt("nurse-a", "Wrong-password-1");
  const ClientResponse unknown = attempt("no-such-user", "Wrong-password-1");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(strip(wrong), strip(unknown));
  EXPECT_EQ(api_->identity().password_verifications() >= 2, true);

  // The unknown id counts for itself; nurse-a has 1 failure, 4 more make 5.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(attempt("nurse-a", "Wrong-password-1").status, 401);
  // Five failures: now a delay; an attempt inside it is refused unchecked, even the right one.
  ClientResponse locked = attempt("nurse-a", u->password);
  EXPECT_EQ(locked.status, 429);
  EXPECT_TRUE(locked.Header("retry-after"));
  auto e = EntryFor(locked);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event.outcome, "denied");
  EXPECT_EQ(e->event.rule, "deny:lockout");
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(attempt("nurse-a", u->password).status, 200);
}

TEST_F(ApiFixture, IdleSessionLocksAndLogoutEndsIt_G_6_5_C4) {
  StartServer(false);
  auto u = api_->CreateLocalUser(local_,
                                 {.id = "clerk-a", .display_name = "Clerk A", .roles = {"clerk"}});
  ASSERT_OK(u);
  const HeaderList s = Login("clerk-a", u->password);
  EXPECT_EQ(Send("GET", "/api/v1/whoami", s).status, 200);
  clock_.Advance(std::chrono::minutes(14));
  EXPECT_EQ(Send("GET", "/api/v1/whoami", s).status, 200);  // Use moves the idle deadline.
  clock_.Advance(std::chrono::minutes(16));
  ClientResponse idle = Send("GET", "/api/v1/whoami", s);
  EXPECT_EQ(idle.status, 401);
  const HeaderList s2 = Login("clerk-a", u->password);
  EXPECT_EQ(Send("DELETE", "/api/v1/session", s2).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/whoami", s2).status, 401);
}

TEST_F(ApiFixture, FirstAdministratorWithSetupSecretAndTwoFactor_G_6_5_C13_G_6_5_C14b) {
  StartServer(true);
  auto secret = api_->NewSetupSecret(local_);
  ASSERT_OK(secret);
  const HeaderList js = {{"Content-Type", "application/json"}};
  const json setup = {{"setup_secret", *secret},
                      {"user_id", "admin-a"},
                      {"display_name", "Admin A"},
                      {"password", "Correct-Horse-7-Battery"}};
  ClientResponse made = Send("POST", "/api/v1/setup", js, setup.dump());
  ASSERT_EQ(made.status, 201) << made.body;
  json again = setup;
  again["user_id"] = "admin-b";
  EXPECT_EQ(Send("POST", "/api/v1/setup", js, again.dump()).status, 403);  // Used up.

  // No second factor yet: a restricted session that may only enrol.
  HeaderList admin = Login("admin-a", "Correct-Horse-7-Battery");
  ClientResponse denied = Send("GET", "/api/v1/users", admin);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(EntryFor(denied)->event.rule, "deny:restricted-session");
  ClientResponse begin = Send("POST", "/api/v1/totp", admin);
  ASSERT_EQ(begin.status, 200) << begin.body;
  auto key = Base32Decode(json::parse(begin.body)["secret"].get<std::string>());
  ASSERT_OK(key);
  auto code = [&] {
    return TotpCode(
        *key,
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
  };
  HeaderList admin_json = admin;
  admin_json.emplace_back("Content-Type", "application/json");
  ClientResponse confirm =
      Send("POST", "/api/v1/totp/confirm", admin_json, json{{"code", code()}}.dump());
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  EXPECT_EQ(json::parse(confirm.body)["recovery_codes"].size(), 10u);

  // Password alone now asks for the second factor; with it, a full session.
  ClientResponse half =
      Send("POST", "/api/v1/session", js,
           json{{"user_id", "admin-a"}, {"password", "Correct-Horse-7-Battery"}}.dump());
  EXPECT_EQ(half.status, 401);
  EXPECT_THAT(half.body, HasSubstr("second_factor_required"));
  clock_.Advance(std::chrono::seconds(31));  // A TOTP step cannot be used twice.
  admin = Login("admin-a", "Correct-Horse-7-Battery", code());
  admin_json = admin;
  admin_json.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(Send("GET", "/api/v1/users", admin).status, 200);

  // The administrator creates a user; the user chooses the password with the one-time code.
  ClientResponse user = Send("POST", "/api/v1/users", admin_json,
                             json{{"id", "dr-new"},
                                  {"display_name", "Doctor New"},
                                  {"roles", {"physician"}},
                                  {"verified_by", "admin-a"},
                                  {"verification_method", "in person, staff ID card"}}
                                 .dump());
  ASSERT_EQ(user.status, 201) << user.body;
  const std::string enrol = json::parse(user.body)["enrolment_code"];
  auto entry = EntryFor(user);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->event.action, "user.create");
  EXPECT_FALSE(json::parse(user.body).contains("password"));
  EXPECT_FALSE(json::parse(user.body)["user"].contains("password"));
  EXPECT_EQ(Send("POST", "/api/v1/password/with-code", js,
                 json{{"user_id", "dr-new"}, {"code", enrol}, {"new_password", "password"}}.dump())
                .status,
            400);  // The rules apply (G-6.5-C14).
  EXPECT_EQ(
      Send("POST", "/api/v1/password/with-code", js,
           json{{"user_id", "dr-new"}, {"code", enrol}, {"new_password", "Tall-Ginkgo-42-Tree"}}
               .dump())
          .status,
      200);
  Login("dr-new", "Tall-Ginkgo-42-Tree");  // Restricted until enrolled, but signed in.

  // G-6.0-S14-4: a role change records who requested and who approved it.
  EXPECT_EQ(Send("PUT", "/api/v1/users/dr-new/roles", admin_json,
                 json{{"roles", {"physician", "nurse"}}}.dump())
                .status,
            400);
  ClientResponse roles = Send("PUT", "/api/v1/users/dr-new/roles", admin_json,
                              json{{"roles", {"physician", "nurse"}},
                                   {"requested_by", "head of internal medicine"},
                                   {"approved_by", "medical director"}}
                                  .dump());
  ASSERT_EQ(roles.status, 200) << roles.body;
  bool approved = false;
  const auto roles_entry = EntryFor(roles);
  ASSERT_TRUE(roles_entry);
  for (const auto& [k, v] : roles_entry->event.detail) {
    if (k == "approved_by" && v == "medical director") approved = true;
  }
  EXPECT_TRUE(approved);

  // Separation of duties: the administrator cannot read clinical content.
  const std::string record = PutLocal("P0001", "note");
  EXPECT_EQ(Send("GET", "/api/v1/records/" + record + "/content", admin).status, 403);
  // Sensitive actions need a recent password: after 6 minutes, re-authenticate.
  clock_.Advance(std::chrono::minutes(6));
  ClientResponse stale = Send("POST", "/api/v1/users/dr-new/password-reset", admin_json,
                              R"({"verified_by":"admin-a","method":"phone call-back"})");
  EXPECT_EQ(stale.status, 401);
  EXPECT_EQ(EntryFor(stale)->event.rule, "deny:reauthentication-required");
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_EQ(Send("POST", "/api/v1/session/reauthenticate", admin_json,
                 json{{"password", "Correct-Horse-7-Battery"}, {"second_factor", code()}}.dump())
                .status,
            200);
  ClientResponse reset = Send("POST", "/api/v1/users/dr-new/password-reset", admin_json,
                              R"({"verified_by":"admin-a","method":"phone call-back"})");
  ASSERT_EQ(reset.status, 200) << reset.body;
  auto reset_entry = EntryFor(reset);
  ASSERT_TRUE(reset_entry);
  bool has_method = false;
  for (const auto& [k, v] : reset_entry->event.detail) {
    if (k == "method" && v == "phone call-back") has_method = true;
  }
  EXPECT_TRUE(has_method);  // G-6.5-C14b: who verified and how, in the log.
}

TEST_F(ApiFixture, BadInputIsRefusedAndNothingIsStored) {
  StartServer(false);
  auto u = api_->CreateLocalUser(
      local_, {.id = "dr-b", .display_name = "Doctor B", .roles = {"physician"}});
  ASSERT_OK(u);
  ASSERT_OK(api_->AddCareLocal(local_, {.user_id = "dr-b",
                                        .patient_id = "P0001",
                                        .valid_from = clock_.Now() - std::chrono::hours(1)}));
  HeaderList s = Login("dr-b", u->password);
  HeaderList js = s;
  js.emplace_back("Content-Type", "application/json");
  const auto versions_before = archive_->records().RecordsOfPatient("P0001");
  ASSERT_OK(versions_before);
  for (const auto& [method, target, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/api/v1/records?patient=P0001", ""},  // No type.
           {"POST", "/api/v1/records?patient=../etc&type=note", "x"},
           {"POST", "/api/v1/records?patient=P0001&type=Bad%20Type", "x"},
           {"POST", "/api/v1/records/not-a-record/versions", "x"},
           {"POST", "/api/v1/patients/P0001/break-glass", "{not json"},
           {"POST", "/api/v1/patients/P0001/break-glass", "[1,2]"},
           {"GET", "/api/v1/records/abc/content?version=-1", ""},
           {"GET", "/api/v1/audit?limit=abc", ""}}) {
    ClientResponse r = Send(method, target, js, body);
    EXPECT_GE(r.status, 400) << target;
    EXPECT_LT(r.status, 500) << target << " " << r.body;
    EXPECT_THAT(r.body, HasSubstr("\"request_id\""));
    const auto entry = EntryFor(r);
    ASSERT_TRUE(entry) << "not audited: " << target;
    EXPECT_EQ(entry->event.actor, "user:dr-b") << target;  // Under the caller, not anonymous.
    EXPECT_NE(entry->event.outcome, "success") << target;
  }
  const auto versions_after = archive_->records().RecordsOfPatient("P0001");
  ASSERT_OK(versions_after);
  EXPECT_EQ(versions_after->size(), versions_before->size());
  // And the server keeps serving: a valid upload works.
  HeaderList up = s;
  up.emplace_back("Content-Type", "application/pdf");
  // A real (tiny) PDF: every upload is sanitised, and "%PDF-1.4 demo" alone is not a PDF.
  const std::string pdf =
      "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
      "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
      "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
      "trailer<</Root 1 0 R>>\n%%EOF\n";
  ClientResponse ok = Send("POST", "/api/v1/records?patient=P0001&type=referral-letter", up, pdf);
  ASSERT_EQ(ok.status, 201) << ok.body;
  const json v = json::parse(ok.body);
  EXPECT_EQ(v["media_type"], "application/pdf");
  EXPECT_EQ(v["version"], 1);
  ClientResponse back =
      Send("GET", "/api/v1/records/" + v["record_id"].get<std::string>() + "/content", s);
  // No xref table: qpdf repairs it, so the sanitiser stores the repaired file and says so.
  EXPECT_THAT(back.body, ::testing::StartsWith("%PDF-"));
  EXPECT_EQ(v["sanitize"]["report"]["detected"]["type"], "pdf");
  EXPECT_EQ(back.Header("content-type").value_or(""), "application/pdf");
}

// Systems: an administrator issues a scoped, expiring token to a system account; the token
// works only within its scopes, cannot mint tokens, and stops at revocation.
TEST_F(ApiFixture, ApiTokensAreScopedAndRevocable) {
  StartServer(false);
  auto admin = api_->CreateLocalUser(
      local_, {.id = "admin-t", .display_name = "Admin T", .roles = {"admin"}});
  ASSERT_OK(admin);
  ASSERT_OK(api_->CreateLocalUser(local_, {.id = "sys-lab",
                                           .display_name = "Lab system",
                                           .kind = UserKind::kSystem,
                                           .roles = {"physician"}}));
  ASSERT_OK(api_->AddCareLocal(local_, {.user_id = "sys-lab",
                                        .patient_id = "P-LAB",
                                        .valid_from = clock_.Now() - std::chrono::hours(1)}));
  const std::string record = PutLocal("P-LAB", "earlier result");
  HeaderList a = Login("admin-t", admin->password);
  a.emplace_back("Content-Type", "application/json");
  ClientResponse made =
      Send("POST", "/api/v1/users/sys-lab/tokens", a,
           json{{"scopes", {"record.create"}},
                {"expires_at", FormatRfc3339(clock_.Now() + std::chrono::hours(24 * 30))}}
               .dump());
  ASSERT_EQ(made.status, 201) << made.body;
  const json t = json::parse(made.body);
  const HeaderList bearer = {{"Authorization", "Bearer " + t["token"].get<std::string>()},
                             {"Content-Type", "application/fhir+json"}};
  ClientResponse up = Send("POST", "/api/v1/records?patient=P-LAB&type=lab-result", bearer, "{}");
  EXPECT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(EntryFor(up)->event.session, t["token_id"]);
  ClientResponse read = Send("GET", "/api/v1/records/" + record + "/content", bearer);
  EXPECT_EQ(read.status, 403);
  EXPECT_EQ(EntryFor(read)->event.rule, "deny:token-scope");
  EXPECT_EQ(Send("POST", "/api/v1/users/sys-lab/tokens", bearer,
                 json{{"scopes", {"record.*"}}, {"expires_at", FormatRfc3339(clock_.Now())}}.dump())
                .status,
            403);  // A token never mints tokens.
  ASSERT_EQ(
      Send("DELETE", "/api/v1/users/sys-lab/tokens/" + t["token_id"].get<std::string>(), a).status,
      200);
  EXPECT_EQ(Send("POST", "/api/v1/records?patient=P-LAB&type=lab-result", bearer, "{}").status,
            401);
}

// G-6.11-C2: a system presents a client certificate bound to its account and is identified
// by it; the same connection without a bound certificate is not.
TEST_F(ApiFixture, ClientCertificateIdentifiesASystem_G_6_11_C2) {
  auto ca = MakeCertificate({.common_name = "ward CA", .is_ca = true});
  ASSERT_OK(ca);
  auto cert = MakeCertificate({.common_name = "ward-gw", .client_auth = true}, &*ca);
  ASSERT_OK(cert);
  for (const auto& [name, text] :
       {std::pair{"/ca.pem", ca->cert_pem}, std::pair{"/gw.crt", cert->cert_pem},
        std::pair{"/gw.key", cert->key_pem}}) {
    std::ofstream(tmp_.path() + name) << text;
  }
  StartServer(false, tmp_.path() + "/ca.pem");
  auto admin = api_->CreateLocalUser(
      local_, {.id = "admin-c", .display_name = "Admin C", .roles = {"admin"}});
  ASSERT_OK(admin);
  ASSERT_OK(api_->CreateLocalUser(local_, {.id = "ward-gw",
                                           .display_name = "Ward gateway",
                                           .kind = UserKind::kSystem,
                                           .roles = {"nurse"}}));
  auto fp = CertificateFingerprint(cert->cert_pem);
  ASSERT_OK(fp);
  HeaderList a = Login("admin-c", admin->password);
  a.emplace_back("Content-Type", "application/json");
  ASSERT_EQ(Send("POST", "/api/v1/users/ward-gw/client-certificates", a,
                 json{{"fingerprint", *fp}}.dump())
                .status,
            201);
  auto c = Connect(tmp_.path() + "/gw.crt", tmp_.path() + "/gw.key");
  ASSERT_TRUE(c);
  auto who = c->Send("GET", "/api/v1/whoami");
  ASSERT_OK(who);
  EXPECT_EQ(who->status, 200) << who->body;
  EXPECT_EQ(json::parse(who->body)["user"]["id"], "ward-gw");
  EXPECT_EQ(Send("GET", "/api/v1/whoami").status, 401);  // No certificate, no identity.
}

TEST_F(ApiFixture, OpenApiDocumentListsEveryRoute) {
  StartServer(false);
  ClientResponse r = Send("GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  const json doc = json::parse(r.body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const Route& route : router_->routes()) {
    std::string m = route.method;
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(doc["paths"].contains(route.pattern)) << route.pattern;
    EXPECT_TRUE(doc["paths"][route.pattern].contains(m)) << route.method << route.pattern;
  }
  EXPECT_EQ(Send("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace hokan
