// The generated authorisation matrix at the policy level (issue 3; G-6.5-C6, G-6.5-D1,
// G-6.10-C4b): every role x every action x {no relationship, user relationship, department
// relationship, expired relationship, not-yet-valid relationship, break-glass, expired
// break-glass} x {no label, restricted, vip, both, unknown}, for single roles and for every
// pair of roles. The expected outcome comes from an independent reading of
// docs/access-control.md (a few lines of string splitting here, not ParseMatrix) and the label
// rules as the document states them.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "base/time.h"
#include "policy/policy.h"

namespace hokan {
namespace {

using ::std::chrono::hours;
using ::std::chrono::minutes;

const TimePoint kNow = *ParseRfc3339("2026-11-24T11:00:00Z");
const std::string kUser = "u-walk";
const std::string kDepartment = "emergency";
const std::string kPatient = "p-walk";
const std::string kGrantId = "bg-walk";

// The document's table, read naively: action -> {"scope", role -> cell}.
struct DocRow {
  std::string scope;
  std::map<std::string, std::string> cells;
};
using DocMatrix = std::map<std::string, DocRow>;

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line.substr(1));  // Past the leading '|'.
  std::string cell;
  while (std::getline(in, cell, '|')) {
    const std::size_t a = cell.find_first_not_of(" `");
    const std::size_t b = cell.find_last_not_of(" `");
    cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
  }
  return cells;
}

DocMatrix ReadDocMatrix() {
  std::ifstream in(HK_ACCESS_CONTROL_DOC);
  DocMatrix matrix;
  std::vector<std::string> header;
  bool inside = false;
  std::string line;
  while (std::getline(in, line)) {
    if (line == "<!-- matrix:begin -->") inside = true;
    if (line == "<!-- matrix:end -->") inside = false;
    if (!inside || line.empty() || line[0] != '|' || line.starts_with("|---")) continue;
    const std::vector<std::string> cells = Cells(line);
    if (header.empty()) {
      header = cells;
      continue;
    }
    DocRow& row = matrix[cells.at(0)];
    row.scope = cells.at(1);
    for (std::size_t i = 2; i < cells.size(); ++i) row.cells[header.at(i)] = cells[i];
  }
  return matrix;
}

const DocMatrix& Doc() {
  static const DocMatrix* const kDoc = new DocMatrix(ReadDocMatrix());
  return *kDoc;
}

enum class Situation {
  kNone,
  kUserRelationship,
  kDepartmentRelationship,
  kExpiredRelationship,
  kFutureRelationship,
  kBreakGlass,
  kExpiredBreakGlass,
};
constexpr Situation kSituations[] = {
    Situation::kNone,
    Situation::kUserRelationship,
    Situation::kDepartmentRelationship,
    Situation::kExpiredRelationship,
    Situation::kFutureRelationship,
    Situation::kBreakGlass,
    Situation::kExpiredBreakGlass,
};
const char* Name(Situation s) {
  switch (s) {
    case Situation::kNone:
      return "no relationship";
    case Situation::kUserRelationship:
      return "user relationship";
    case Situation::kDepartmentRelationship:
      return "department relationship";
    case Situation::kExpiredRelationship:
      return "expired relationship";
    case Situation::kFutureRelationship:
      return "relationship not yet valid";
    case Situation::kBreakGlass:
      return "break-glass";
    case Situation::kExpiredBreakGlass:
      return "expired break-glass";
  }
  return "?";
}

const std::vector<std::vector<std::string>> kLabelSets = {
    {}, {"restricted"}, {"vip"}, {"vip", "restricted"}, {"psychiatric"}};

// Relationships and grants of other users, departments and patients are always present: they
// must never count.
Facts MakeFacts(Situation situation) {
  Facts f{.now = kNow};
  f.relationships = {
      {.user_id = "u-other", .patient_id = kPatient, .valid_from = kNow - hours(1)},
      {.department = "other-dept", .patient_id = kPatient, .valid_from = kNow - hours(1)},
      {.user_id = kUser, .patient_id = "p-other", .valid_from = kNow - hours(1)},
      {.department = kDepartment, .patient_id = "p-other", .valid_from = kNow - hours(1)},
  };
  f.grants = {
      {.user_id = "u-other",
       .patient_id = kPatient,
       .granted_at = kNow - minutes(1),
       .expires_at = kNow + hours(1),
       .reason = "other user's emergency",
       .id = "bg-other"},
      {.user_id = kUser,
       .patient_id = "p-other",
       .granted_at = kNow - minutes(1),
       .expires_at = kNow + hours(1),
       .reason = "other patient's emergency",
       .id = "bg-other2"},
  };
  switch (situation) {
    case Situation::kNone:
      break;
    case Situation::kUserRelationship:
      f.relationships.push_back(
          {.user_id = kUser, .patient_id = kPatient, .valid_from = kNow - hours(2)});
      break;
    case Situation::kDepartmentRelationship:
      f.relationships.push_back(
          {.department = kDepartment, .patient_id = kPatient, .valid_from = kNow - hours(2)});
      break;
    case Situation::kExpiredRelationship:
      f.relationships.push_back({.user_id = kUser,
                                 .patient_id = kPatient,
                                 .valid_from = kNow - hours(48),
                                 .valid_until = kNow});
      f.relationships.push_back({.department = kDepartment,
                                 .patient_id = kPatient,
                                 .valid_from = kNow - hours(48),
                                 .valid_until = kNow - hours(1)});
      break;
    case Situation::kFutureRelationship:
      f.relationships.push_back(
          {.user_id = kUser, .patient_id = kPatient, .valid_from = kNow + minutes(1)});
      break;
    case Situation::kBreakGlass:
      f.grants.push_back({.user_id = kUser,
                          .patient_id = kPatient,
                          .granted_at = kNow - minutes(10),
                          .expires_at = kNow + minutes(50),
                          .reason = "unconscious patient in the ER",
                          .id = kGrantId});
      break;
    case Situation::kExpiredBreakGlass:
      f.grants.push_back({.user_id = kUser,
                          .patient_id = kPatient,
                          .granted_at = kNow - hours(2),
                          .expires_at = kNow - hours(1),
                          .reason = "unconscious patient in the ER",
                          .id = kGrantId});
      break;
  }
  return f;
}

struct Expected {
  bool allowed = false;
  std::string rule;
  bool break_glass = false;
  bool review = false;
};

bool Has(const std::vector<std::string>& labels, const std::string& label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

// The document's rules, stated once more, independently of policy.cc.
Expected Expect(const std::vector<std::string>& roles, const std::string& action,
                Situation situation, const std::vector<std::string>& labels) {
  const DocRow& row = Doc().at(action);
  const bool patient = row.scope == "patient";
  const bool restricted = patient && Has(labels, "restricted");
  const bool vip = patient && Has(labels, "vip");
  bool unknown = false;
  for (const std::string& l : labels) unknown |= l != "restricted" && l != "vip";
  const std::string suffix =
      std::string(restricted ? "+label:restricted" : "") + (vip ? "+label:vip" : "");

  // Roles in the order of the document's role list (= the header order after `scope`).
  std::string yes_role;
  std::string care_role;
  bool may_declare = false;
  for (const std::string& role : AllRoles()) {
    if (!Has(roles, role)) continue;
    const std::string& cell = row.cells.at(role);
    if (cell == "yes" && yes_role.empty()) yes_role = role;
    if (cell == "care" && care_role.empty()) care_role = role;
    may_declare |= Doc().at("breakglass.declare").cells.at(role) == "yes";
  }
  if (!yes_role.empty()) {
    return {true, "matrix:" + yes_role + ":" + action + ":yes" + suffix, false, vip};
  }
  if (care_role.empty()) return {false, "deny:matrix:" + action};
  if (unknown) return {false, "deny:label:unknown"};
  const std::string prefix = "matrix:" + care_role + ":" + action;
  switch (situation) {
    case Situation::kUserRelationship:
      return {true, prefix + ":care+user-relationship" + suffix, false, vip};
    case Situation::kDepartmentRelationship:
      if (restricted) return {false, "deny:label:restricted"};
      return {true, prefix + ":care+department-relationship" + suffix, false, vip};
    case Situation::kBreakGlass:
      if (may_declare) return {true, "allow:break-glass:" + kGrantId + suffix, true, true};
      return {false, "deny:no-care-relationship"};
    case Situation::kNone:
    case Situation::kExpiredRelationship:
    case Situation::kFutureRelationship:
    case Situation::kExpiredBreakGlass:
      return {false, "deny:no-care-relationship"};
  }
  return {};
}

Subject MakeSubject(const std::vector<std::string>& roles) {
  const bool maintenance = Has(roles, "maintenance");
  return Subject{.user_id = kUser,
                 .roles = roles,
                 .department = kDepartment,
                 .maintenance = maintenance,
                 .expires_at = kNow + hours(24 * 30)};
}

// Returns the number of decisions checked.
int Walk(const std::vector<std::string>& roles) {
  int checked = 0;
  const Subject subject = MakeSubject(roles);
  for (const std::string& action : AllActions()) {
    for (const Situation situation : kSituations) {
      const Facts facts = MakeFacts(situation);
      for (const std::vector<std::string>& labels : kLabelSets) {
        const Resource resource{.patient_id = kPatient, .labels = labels};
        const Decision got = Decide(subject, action, resource, facts);
        const Expected want = Expect(roles, action, situation, labels);
        std::string where;
        for (const std::string& r : roles) where += r + " ";
        where += action + ", " + Name(situation) + ", labels:";
        for (const std::string& l : labels) where += " " + l;
        EXPECT_EQ(got.allowed, want.allowed) << where;
        EXPECT_EQ(got.rule, want.rule) << where;
        EXPECT_EQ(got.break_glass, want.break_glass) << where;
        EXPECT_EQ(got.review, want.review) << where;
        EXPECT_FALSE(got.reason.empty()) << where;
        ++checked;
      }
    }
  }
  return checked;
}

TEST(AuthorisationMatrix, DocumentTableIsComplete) {
  ASSERT_EQ(Doc().size(), AllActions().size());
  for (const std::string& action : AllActions()) {
    ASSERT_EQ(Doc().count(action), 1u) << action;
    EXPECT_EQ(Doc().at(action).cells.size(), AllRoles().size()) << action;
    for (const Role role : kAllRoles) {
      const std::string& cell = Doc().at(action).cells.at(std::string(RoleName(role)));
      EXPECT_EQ(cell, PermissionName(DefaultMatrix().Get(role, action)))
          << RoleName(role) << " " << action;
    }
  }
}

TEST(AuthorisationMatrix, EveryRoleEveryActionEverySituationEveryLabel) {
  int checked = 0;
  for (const std::string& role : AllRoles()) checked += Walk({role});
  EXPECT_EQ(checked, 10 * 24 * 7 * 5);
}

// The union over roles: every pair of non-maintenance roles (a maintenance account may hold no
// other role; that is checked in policy_test.cc).
TEST(AuthorisationMatrix, EveryPairOfRoles) {
  const std::vector<std::string>& roles = AllRoles();
  int checked = 0;
  for (std::size_t i = 0; i < roles.size(); ++i) {
    for (std::size_t j = i + 1; j < roles.size(); ++j) {
      if (roles[i] == "maintenance" || roles[j] == "maintenance") continue;
      // Both orders: the rule must not depend on the order the roles are stored in.
      checked += Walk({roles[i], roles[j]});
      checked += Walk({roles[j], roles[i]});
    }
  }
  EXPECT_EQ(checked, 2 * 36 * 24 * 7 * 5);
}

}  // namespace
}  // namespace hokan
