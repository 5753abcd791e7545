// Decide(): the rules around the matrix. The exhaustive role x action walk is in
// policy_matrix_test.cc.
#include "policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/time.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::std::chrono::hours;
using ::std::chrono::minutes;
using ::std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const TimePoint kNow = *ParseRfc3339("2026-11-24T11:00:00Z");

Subject User(std::vector<std::string> roles, std::string user_id = "u-tanaka") {
  return Subject{
      .user_id = std::move(user_id), .roles = std::move(roles), .department = "internal-medicine"};
}

Subject Maintenance(std::optional<TimePoint> expires_at) {
  return Subject{.user_id = "vendor-1",
                 .roles = {"maintenance"},
                 .maintenance = true,
                 .expires_at = expires_at};
}

CareRelationship UserCare(std::string user, std::string patient, TimePoint from = kNow - hours(1),
                          std::optional<TimePoint> until = std::nullopt) {
  return CareRelationship{.user_id = std::move(user),
                          .patient_id = std::move(patient),
                          .valid_from = from,
                          .valid_until = until};
}

CareRelationship DepartmentCare(std::string department, std::string patient) {
  return CareRelationship{.department = std::move(department),
                          .patient_id = std::move(patient),
                          .valid_from = kNow - hours(24)};
}

BreakGlassGrant Grant(std::string user, std::string patient, std::string id = "bg-1",
                      TimePoint from = kNow - minutes(5), TimePoint until = kNow + minutes(55)) {
  return BreakGlassGrant{.user_id = std::move(user),
                         .patient_id = std::move(patient),
                         .granted_at = from,
                         .expires_at = until,
                         .reason = "cardiac arrest in the lobby",
                         .id = std::move(id)};
}

Resource Patient(std::string id = "p-1", std::vector<std::string> labels = {}) {
  return Resource{.patient_id = std::move(id), .labels = std::move(labels)};
}

Facts At(TimePoint now, std::vector<CareRelationship> rel = {},
         std::vector<BreakGlassGrant> grants = {}) {
  return Facts{.relationships = std::move(rel), .grants = std::move(grants), .now = now};
}

std::string Rule(const Subject& s, std::string_view action, const Resource& r = {},
                 const Facts& f = At(kNow)) {
  const Decision d = Decide(s, action, r, f);
  EXPECT_FALSE(d.rule.empty());
  EXPECT_FALSE(d.reason.empty());
  EXPECT_EQ(d.allowed, !d.rule.starts_with("deny:")) << d.rule;
  return d.rule;
}

TEST(Decide, YesCellNamesRoleAndAction) {
  EXPECT_EQ(Rule(User({"admin"}), "user.manage"), "matrix:admin:user.manage:yes");
  EXPECT_EQ(Rule(User({"auditor"}), "audit.read"), "matrix:auditor:audit.read:yes");
  EXPECT_EQ(Rule(User({"clerk"}), "patient.read", Patient()), "matrix:clerk:patient.read:yes");
}

// G-6.5-C6: the union of the subject's roles; a `yes` wins over a `care`, and the rule names
// the role that allowed it.
TEST(Decide, UnionOverRolesNamesTheRoleThatAllowed) {
  EXPECT_EQ(Rule(User({"nurse", "records_officer"}), "record.history", Patient()),
            "matrix:records_officer:record.history:yes");
  EXPECT_EQ(Rule(User({"clerk", "nurse"}), "record.read", Patient(),
                 At(kNow, {UserCare("u-tanaka", "p-1")})),
            "matrix:nurse:record.read:care+user-relationship");
  EXPECT_EQ(Rule(User({"nurse", "physician"}), "record.read", Patient(),
                 At(kNow, {UserCare("u-tanaka", "p-1")})),
            "matrix:physician:record.read:care+user-relationship");
  EXPECT_EQ(Rule(User({"bogus", "admin"}), "user.read"), "matrix:admin:user.read:yes");
}

// Separation of duties (issue 3; G-6.5-C6, G-6.5-C8): administrators never read records or the
// audit log, auditors never read records, even with a relationship or a break-glass grant.
TEST(Decide, SeparationOfDutiesHoldsEvenWithRelationships) {
  const Facts facts = At(kNow, {UserCare("u-tanaka", "p-1")}, {Grant("u-tanaka", "p-1")});
  for (const char* action : {"record.read", "record.history", "patient.read", "record.create"}) {
    EXPECT_EQ(Rule(User({"admin"}), action, Patient(), facts),
              "deny:matrix:" + std::string(action));
    EXPECT_EQ(Rule(User({"auditor"}), action, Patient(), facts),
              "deny:matrix:" + std::string(action));
    EXPECT_EQ(Rule(User({"security_officer"}), action, Patient(), facts),
              "deny:matrix:" + std::string(action));
  }
  EXPECT_EQ(Rule(User({"admin"}), "audit.read"), "deny:matrix:audit.read");
  EXPECT_EQ(Rule(User({"records_officer"}), "record.read", Patient(), facts),
            "deny:matrix:record.read");
  EXPECT_EQ(Rule(User({"clerk"}), "record.read", Patient(), facts), "deny:matrix:record.read");
}

// Nobody administers their own access: an admin cannot give themselves a role, a records
// officer cannot put themselves in a patient's care.
TEST(Decide, NoSelfAdministration) {
  Resource own{.target_user_id = "u-tanaka"};
  Resource other{.target_user_id = "u-sato"};
  EXPECT_EQ(Rule(User({"admin"}), "user.manage", own), "deny:self-administration");
  EXPECT_EQ(Rule(User({"admin"}), "user.reset_password", own), "deny:self-administration");
  EXPECT_EQ(Rule(User({"admin"}), "user.manage", other), "matrix:admin:user.manage:yes");
  Resource care_for_self = Patient();
  care_for_self.target_user_id = "u-tanaka";
  EXPECT_EQ(Rule(User({"records_officer", "physician"}), "care.manage", care_for_self),
            "deny:self-administration");
  Resource care_for_other = Patient();
  care_for_other.target_user_id = "u-sato";
  EXPECT_EQ(Rule(User({"records_officer"}), "care.manage", care_for_other),
            "matrix:records_officer:care.manage:yes");
  // One's own password is `self`, not user.reset_password.
  EXPECT_EQ(Rule(User({"admin"}), "self", own), "matrix:admin:self:yes");
  // An anonymous subject does not match an empty target.
  EXPECT_EQ(Rule(User({"admin"}, ""), "user.manage", Resource{}), "matrix:admin:user.manage:yes");
}

// G-6.8-C3/C4: maintenance accounts must have an expiry date, hold only the maintenance role,
// and are denied everything once expired.
TEST(Decide, MaintenanceAccountsExpireAndStayMaintenance) {
  EXPECT_EQ(Rule(Maintenance(kNow + hours(8)), "store.verify"),
            "matrix:maintenance:store.verify:yes");
  EXPECT_EQ(Rule(Maintenance(kNow + hours(8)), "audit.checkpoint"),
            "matrix:maintenance:audit.checkpoint:yes");
  EXPECT_EQ(Rule(Maintenance(kNow + hours(8)), "record.read", Patient()),
            "deny:matrix:record.read");
  EXPECT_EQ(Rule(Maintenance(kNow + hours(8)), "token.manage"), "deny:matrix:token.manage");
  EXPECT_EQ(Rule(Maintenance(std::nullopt), "store.verify"), "deny:maintenance-no-expiry");
  EXPECT_EQ(Rule(Maintenance(std::nullopt), "self"), "deny:maintenance-no-expiry");
  // Expiry is exclusive: at the instant itself the account is gone.
  EXPECT_EQ(Rule(Maintenance(kNow), "store.verify"), "deny:maintenance-expired");
  EXPECT_EQ(Rule(Maintenance(kNow - seconds(1)), "self"), "deny:maintenance-expired");
  EXPECT_EQ(Rule(Maintenance(kNow + seconds(1)), "self"), "matrix:maintenance:self:yes");

  // The role alone makes a maintenance account, flag or not.
  Subject by_role = Maintenance(std::nullopt);
  by_role.maintenance = false;
  EXPECT_EQ(Rule(by_role, "store.verify"), "deny:maintenance-no-expiry");
  // A maintenance account cannot carry a clinical (or any other) role.
  Subject mixed = Maintenance(kNow + hours(8));
  mixed.roles.push_back("physician");
  EXPECT_EQ(Rule(mixed, "store.verify"), "deny:maintenance-mixed-roles");
  EXPECT_EQ(Rule(mixed, "record.read", Patient(), At(kNow, {UserCare("vendor-1", "p-1")})),
            "deny:maintenance-mixed-roles");
  Subject flagged = User({"physician"});
  flagged.maintenance = true;
  flagged.expires_at = kNow + hours(1);
  EXPECT_EQ(Rule(flagged, "self"), "deny:maintenance-mixed-roles");
}

TEST(Decide, ExpiredAccountsAreDeniedEverything) {
  Subject s = User({"physician"});
  s.expires_at = kNow;
  EXPECT_EQ(Rule(s, "self"), "deny:account-expired");
  EXPECT_EQ(Rule(s, "record.read", Patient(), At(kNow, {UserCare("u-tanaka", "p-1")})),
            "deny:account-expired");
  s.expires_at = kNow + minutes(1);
  EXPECT_EQ(Rule(s, "self"), "matrix:physician:self:yes");
}

// G-6.5-C13: until the second factor (or a forced password change) is done, only `self`.
TEST(Decide, RestrictedSessionMayOnlyDoSelf) {
  Subject s = User({"physician", "admin"});
  s.restricted_session = true;
  EXPECT_EQ(Rule(s, "self"), "matrix:physician:self:yes");
  for (const std::string& action : AllActions()) {
    if (action == "self") continue;
    EXPECT_EQ(Rule(s, action, Patient(), At(kNow, {UserCare("u-tanaka", "p-1")})),
              "deny:restricted-session")
        << action;
  }
}

// G-6.5-B1: an API token acts within its scopes only; scopes never widen the roles.
TEST(Decide, TokensActWithinTheirScopes) {
  Subject s = User({"physician"});
  s.via_token = true;
  const Facts facts = At(kNow, {UserCare("u-tanaka", "p-1")});
  s.token_scopes = {"record.read"};
  EXPECT_EQ(Rule(s, "record.read", Patient(), facts),
            "matrix:physician:record.read:care+user-relationship");
  EXPECT_EQ(Rule(s, "record.create", Patient(), facts), "deny:token-scope");
  EXPECT_EQ(Rule(s, "self"), "deny:token-scope");
  s.token_scopes = {"record.*"};
  EXPECT_EQ(Rule(s, "record.create", Patient(), facts),
            "matrix:physician:record.create:care+user-relationship");
  EXPECT_EQ(Rule(s, "patient.read", Patient(), facts), "deny:token-scope");
  // Scopes never widen the roles.
  s.token_scopes = {"audit.*", "user.manage"};
  EXPECT_EQ(Rule(s, "audit.read"), "deny:matrix:audit.read");
  // No scope matches everything, and prefixes match whole words only.
  for (const char* scope : {"*", ".*", "*.*", "rec*", "record", "record.", "recor.*", "Record.*"}) {
    s.token_scopes = {scope};
    EXPECT_EQ(Rule(s, "record.read", Patient(), facts), "deny:token-scope") << scope;
  }
  s.token_scopes = {};
  EXPECT_EQ(Rule(s, "self"), "deny:token-scope");
  // A token never manages tokens, whatever its scopes.
  s.token_scopes = {"token.manage", "token.*"};
  EXPECT_EQ(Rule(s, "token.manage"), "deny:token-manage-via-token");
  // A token does not use break-glass.
  s.token_scopes = {"record.read"};
  EXPECT_EQ(Rule(s, "record.read", Patient("p-2"), At(kNow, {}, {Grant("u-tanaka", "p-2")})),
            "deny:no-care-relationship");
}

TEST(Decide, UnknownActionsRolesAndLabelsFailClosed) {
  const Facts facts = At(kNow, {UserCare("u-tanaka", "p-1")}, {Grant("u-tanaka", "p-1")});
  for (const char* action : {"", "record.delete", "RECORD.READ", "record.read ", "record.*", "*",
                             "record.read\n", "audit"}) {
    const Decision d = Decide(User({"physician", "admin", "auditor"}), action, Patient(), facts);
    EXPECT_FALSE(d.allowed) << action;
    EXPECT_EQ(d.rule, "deny:unknown-action") << action;
  }
  for (const char* role : {"Physician", "root", "", "physician ", "*", "admin\n"}) {
    const Decision d = Decide(User({role}), "self", Resource{}, facts);
    EXPECT_FALSE(d.allowed) << role;
    EXPECT_EQ(d.rule, "deny:matrix:self") << role;
  }
  EXPECT_EQ(Rule(User({}), "self"), "deny:matrix:self");
  // A label hokan does not know stops all care access, even break-glass (G-6.5-D1).
  for (const char* label : {"psychiatric", "", "Restricted", "VIP", "vip "}) {
    const Decision d = Decide(User({"physician"}), "record.read", Patient("p-1", {label}), facts);
    EXPECT_FALSE(d.allowed) << label;
    EXPECT_EQ(d.rule, "deny:label:unknown") << label;
  }
  // ... but not the administrative duty of fixing the label.
  EXPECT_EQ(Rule(User({"records_officer"}), "record.label", Patient("p-1", {"psychiatric"})),
            "matrix:records_officer:record.label:yes");
}

TEST(Decide, CareRelationshipsMustBeValidNowAndMatch) {
  const Subject s = User({"nurse"});
  const auto rule = [&](std::vector<CareRelationship> rel) {
    return Rule(s, "record.read", Patient("p-1"), At(kNow, std::move(rel)));
  };
  EXPECT_EQ(rule({UserCare("u-tanaka", "p-1")}), "matrix:nurse:record.read:care+user-relationship");
  EXPECT_EQ(rule({DepartmentCare("internal-medicine", "p-1")}),
            "matrix:nurse:record.read:care+department-relationship");
  // The validity period is [valid_from, valid_until).
  EXPECT_EQ(rule({UserCare("u-tanaka", "p-1", kNow)}),
            "matrix:nurse:record.read:care+user-relationship");
  EXPECT_EQ(rule({UserCare("u-tanaka", "p-1", kNow + seconds(1))}), "deny:no-care-relationship");
  EXPECT_EQ(rule({UserCare("u-tanaka", "p-1", kNow - hours(9), kNow)}),
            "deny:no-care-relationship");
  EXPECT_EQ(rule({UserCare("u-tanaka", "p-1", kNow - hours(9), kNow + seconds(1))}),
            "matrix:nurse:record.read:care+user-relationship");
  // Another user, patient or department does not count.
  EXPECT_EQ(rule({UserCare("u-sato", "p-1"), UserCare("u-tanaka", "p-2"),
                  DepartmentCare("surgery", "p-1"), DepartmentCare("internal-medicine", "p-2")}),
            "deny:no-care-relationship");
  // A relationship naming both a user and a department, or neither, is ignored.
  CareRelationship both = UserCare("u-tanaka", "p-1");
  both.department = "internal-medicine";
  CareRelationship neither = UserCare("", "p-1");
  EXPECT_EQ(rule({both, neither}), "deny:no-care-relationship");
  // A subject without a department does not match a department-less relationship, nor does an
  // empty user id match.
  Subject nobody = User({"nurse"}, "");
  nobody.department = "";
  EXPECT_EQ(Rule(nobody, "record.read", Patient("p-1"), At(kNow, {neither})),
            "deny:no-care-relationship");
  // A care cell needs a patient.
  EXPECT_EQ(Rule(s, "record.read", Resource{}, At(kNow, {UserCare("u-tanaka", "")})),
            "deny:no-patient");
  // The user relationship wins over the department one.
  EXPECT_EQ(rule({DepartmentCare("internal-medicine", "p-1"), UserCare("u-tanaka", "p-1")}),
            "matrix:nurse:record.read:care+user-relationship");
}

// G-6.10-C4a/C4b: break-glass gives the declaring user time-limited access, flagged and named.
TEST(Decide, BreakGlassGrantsAreTheUsersOwnUnexpiredAndFlagged) {
  const Subject s = User({"physician"});
  const auto decide = [&](std::vector<BreakGlassGrant> grants, const Resource& r = Patient("p-9")) {
    return Decide(s, "record.read", r, At(kNow, {}, std::move(grants)));
  };
  Decision d = decide({Grant("u-tanaka", "p-9", "bg-0042")});
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.break_glass);
  EXPECT_TRUE(d.review);
  EXPECT_EQ(d.rule, "allow:break-glass:bg-0042");

  EXPECT_EQ(decide({Grant("u-sato", "p-9")}).rule, "deny:no-care-relationship");
  EXPECT_EQ(decide({Grant("u-tanaka", "p-8")}).rule, "deny:no-care-relationship");
  EXPECT_EQ(decide({Grant("u-tanaka", "p-9", "bg-1", kNow - hours(1), kNow)}).rule,
            "deny:no-care-relationship");
  EXPECT_EQ(decide({Grant("u-tanaka", "p-9", "bg-1", kNow + seconds(1), kNow + hours(1))}).rule,
            "deny:no-care-relationship");
  EXPECT_EQ(decide({Grant("u-tanaka", "p-9", "bg-1", kNow, kNow + hours(1))}).rule,
            "allow:break-glass:bg-1");
  // Longer than 4 hours, or without a usable id: not a grant policy accepts.
  EXPECT_EQ(
      decide({Grant("u-tanaka", "p-9", "bg-1", kNow - hours(1), kNow + hours(3) + seconds(1))})
          .rule,
      "deny:no-care-relationship");
  for (const char* id : {"", "bg 1", "bg:1", "bg+label:vip", "bg\n"}) {
    EXPECT_EQ(decide({Grant("u-tanaka", "p-9", id)}).rule, "deny:no-care-relationship") << id;
  }
  // Grants are for roles that may declare break-glass: a clerk's `care` cell is not opened.
  const Decision clerk = Decide(User({"clerk"}), "record.create", Patient("p-9"),
                                At(kNow, {}, {Grant("u-tanaka", "p-9")}));
  EXPECT_EQ(clerk.rule, "deny:no-care-relationship");
  // A relationship, when there is one, is preferred to the grant.
  d = Decide(s, "record.read", Patient("p-9"),
             At(kNow, {UserCare("u-tanaka", "p-9")}, {Grant("u-tanaka", "p-9")}));
  EXPECT_EQ(d.rule, "matrix:physician:record.read:care+user-relationship");
  EXPECT_FALSE(d.break_glass);
  EXPECT_FALSE(d.review);
}

// G-6.5-D1: labels narrow `care` access; restricted needs a personal relationship, vip flags
// every access for review; both still allow break-glass.
TEST(Decide, LabelsNarrowCareAccess) {
  const Subject s = User({"physician"});
  const Facts department = At(kNow, {DepartmentCare("internal-medicine", "p-1")});
  const Facts personal = At(kNow, {UserCare("u-tanaka", "p-1")});
  const Facts department_and_grant =
      At(kNow, {DepartmentCare("internal-medicine", "p-1")}, {Grant("u-tanaka", "p-1", "g7")});

  Decision d = Decide(s, "record.read", Patient("p-1", {"restricted"}), department);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "deny:label:restricted");
  d = Decide(s, "record.read", Patient("p-1", {"restricted"}), personal);
  EXPECT_EQ(d.rule, "matrix:physician:record.read:care+user-relationship+label:restricted");
  EXPECT_FALSE(d.review);
  d = Decide(s, "record.read", Patient("p-1", {"restricted"}), department_and_grant);
  EXPECT_EQ(d.rule, "allow:break-glass:g7+label:restricted");
  EXPECT_TRUE(d.break_glass);
  EXPECT_TRUE(d.review);

  d = Decide(s, "record.read", Patient("p-1", {"vip"}), department);
  EXPECT_EQ(d.rule, "matrix:physician:record.read:care+department-relationship+label:vip");
  EXPECT_TRUE(d.review);
  EXPECT_FALSE(d.break_glass);
  d = Decide(s, "record.read", Patient("p-1", {"vip", "restricted", "vip"}), personal);
  EXPECT_EQ(d.rule,
            "matrix:physician:record.read:care+user-relationship+label:restricted+label:vip");
  EXPECT_TRUE(d.review);
  // Labels are named on `yes` cells of patient actions too, but do not block them.
  d = Decide(User({"clerk"}), "patient.read", Patient("p-1", {"vip"}), At(kNow));
  EXPECT_EQ(d.rule, "matrix:clerk:patient.read:yes+label:vip");
  EXPECT_TRUE(d.review);
  // Global actions ignore labels and relationships.
  d = Decide(User({"auditor"}), "audit.read", Patient("p-1", {"vip", "whatever"}), At(kNow));
  EXPECT_EQ(d.rule, "matrix:auditor:audit.read:yes");
  EXPECT_FALSE(d.review);
}

TEST(Decide, DefaultMatrixOverloadAgreesWithExplicitMatrix) {
  const Subject s = User({"nurse"});
  const Decision a = Decide(s, "record.read", Patient(), At(kNow, {UserCare("u-tanaka", "p-1")}));
  const Decision b =
      Decide(DefaultMatrix(), s, "record.read", Patient(), At(kNow, {UserCare("u-tanaka", "p-1")}));
  EXPECT_EQ(a.rule, b.rule);
  EXPECT_EQ(a.allowed, b.allowed);
}

}  // namespace
}  // namespace hokan
