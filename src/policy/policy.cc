#include "policy/policy.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace hokan {
namespace {

Decision Deny(std::string rule, std::string reason) {
  return Decision{.allowed = false, .rule = std::move(rule), .reason = std::move(reason)};
}

bool HasKnownRole(const Subject& subject, Role role) {
  return std::any_of(subject.roles.begin(), subject.roles.end(), [role](const std::string& r) {
    const Result<Role> parsed = ParseRole(r);
    return parsed && *parsed == role;
  });
}

bool IsMaintenanceAccount(const Subject& subject) {
  return subject.maintenance || HasKnownRole(subject, Role::kMaintenance);
}

// "record.read" is covered by "record.read" and by "record.*"; nothing covers everything.
bool TokenAllows(const Subject& subject, std::string_view action) {
  return std::any_of(subject.token_scopes.begin(), subject.token_scopes.end(),
                     [action](std::string_view scope) {
                       if (scope == action) return true;
                       if (scope.size() < 3 || !scope.ends_with(".*")) return false;
                       scope.remove_suffix(1);  // Keep the dot: "record." .
                       return action.starts_with(scope);
                     });
}

bool IsSafeGrantId(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

bool IsValidAt(const CareRelationship& r, TimePoint now) {
  return r.valid_from <= now && (!r.valid_until || now < *r.valid_until);
}

enum class Relationship { kNone, kDepartment, kUser };

// The strongest valid relationship between the subject (or their department) and the patient.
Relationship FindRelationship(const Subject& subject, const std::string& patient_id,
                              const Facts& facts) {
  Relationship best = Relationship::kNone;
  for (const CareRelationship& r : facts.relationships) {
    if (r.patient_id != patient_id || !IsValidAt(r, facts.now)) continue;
    const bool has_user = !r.user_id.empty();
    const bool has_department = !r.department.empty();
    if (has_user == has_department) continue;  // Both or neither: malformed, ignored.
    if (has_user && !subject.user_id.empty() && r.user_id == subject.user_id) {
      return Relationship::kUser;
    }
    if (has_department && !subject.department.empty() && r.department == subject.department) {
      best = Relationship::kDepartment;
    }
  }
  return best;
}

const BreakGlassGrant* FindGrant(const Subject& subject, const std::string& patient_id,
                                 const Facts& facts) {
  if (subject.user_id.empty()) return nullptr;
  for (const BreakGlassGrant& g : facts.grants) {
    if (g.user_id != subject.user_id || g.patient_id != patient_id) continue;
    if (!IsSafeGrantId(g.id)) continue;
    if (!(g.granted_at <= facts.now && facts.now < g.expires_at)) continue;
    if (g.expires_at - g.granted_at > kMaxBreakGlassDuration) continue;
    return &g;
  }
  return nullptr;
}

struct Labels {
  bool restricted = false;
  bool vip = false;
  bool unknown = false;
  std::string Suffix() const {
    std::string s;
    if (restricted) s += "+label:restricted";
    if (vip) s += "+label:vip";
    return s;
  }
};

Labels ReadLabels(const Resource& resource) {
  Labels labels;
  for (const std::string& label : resource.labels) {
    if (label == kLabelRestricted) {
      labels.restricted = true;
    } else if (label == kLabelVip) {
      labels.vip = true;
    } else {
      labels.unknown = true;
    }
  }
  return labels;
}

// Gives an allowed decision on a patient action its label suffix and review flag.
Decision Allow(std::string rule, std::string reason, const Labels& labels, bool break_glass) {
  return Decision{.allowed = true,
                  .rule = std::move(rule) + labels.Suffix(),
                  .reason = std::move(reason),
                  .break_glass = break_glass,
                  .review = break_glass || labels.vip};
}

// "matrix:<role>:<action>".
std::string MatrixRule(Role role, std::string_view action) {
  std::string rule = "matrix:";
  rule.append(RoleName(role)).append(":").append(action);
  return rule;
}

Decision AllowYes(Role role, std::string_view action, const Labels& labels) {
  std::string reason = "role ";
  reason.append(RoleName(role)).append(" may do ").append(action);
  return Allow(MatrixRule(role, action) + ":yes", std::move(reason), labels, false);
}

bool IsSelfAdministration(const Subject& subject, std::string_view action,
                          const Resource& resource) {
  if (action != kActionUserManage && action != kActionUserResetPassword &&
      action != kActionCareManage) {
    return false;
  }
  return !subject.user_id.empty() && resource.target_user_id == subject.user_id;
}

}  // namespace

Decision Decide(const Subject& subject, std::string_view action, const Resource& resource,
                const Facts& facts) {
  return Decide(DefaultMatrix(), subject, action, resource, facts);
}

Decision Decide(const Matrix& matrix, const Subject& subject, std::string_view action,
                const Resource& resource, const Facts& facts) {
  // The account itself (G-6.8-C3, G-6.8-C4).
  if (IsMaintenanceAccount(subject)) {
    if (!subject.expires_at) {
      return Deny("deny:maintenance-no-expiry", "a maintenance account must have an expiry date");
    }
    const bool only_maintenance =
        std::all_of(subject.roles.begin(), subject.roles.end(),
                    [](const std::string& r) { return r == RoleName(Role::kMaintenance); });
    if (!only_maintenance) {
      return Deny("deny:maintenance-mixed-roles",
                  "a maintenance account may hold no role but maintenance");
    }
    if (facts.now >= *subject.expires_at) {
      return Deny("deny:maintenance-expired", "the maintenance account has expired");
    }
  }
  if (subject.expires_at && facts.now >= *subject.expires_at) {
    return Deny("deny:account-expired", "the account has expired");
  }

  // The request.
  if (!matrix.HasAction(action)) {
    return Deny("deny:unknown-action", "the action is not in the permission matrix");
  }
  if (subject.restricted_session && action != kActionSelf) {
    return Deny("deny:restricted-session",
                "finish logging in (second factor or password change) first");
  }
  if (subject.via_token && !TokenAllows(subject, action)) {
    return Deny("deny:token-scope", "the API token's scopes do not cover the action");
  }
  if (subject.via_token && action == kActionTokenManage) {
    return Deny("deny:token-manage-via-token", "an API token cannot manage API tokens");
  }
  if (IsSelfAdministration(subject, action, resource)) {
    return Deny("deny:self-administration", "nobody may administer their own access");
  }

  // The matrix, over all roles: a `yes` wins; otherwise the first `care` role is used.
  const std::string action_name(action);
  const bool patient_scope = matrix.Scope(action) == ActionScope::kPatient;
  const Labels labels = patient_scope ? ReadLabels(resource) : Labels{};
  std::optional<Role> care_role;
  bool may_declare_break_glass = false;
  for (const Role role : kAllRoles) {
    if (!HasKnownRole(subject, role)) continue;
    if (matrix.Get(role, kActionBreakGlassDeclare) == Permission::kAllow) {
      may_declare_break_glass = true;
    }
    const Permission p = matrix.Get(role, action);
    if (p == Permission::kAllow) return AllowYes(role, action, labels);
    if (p == Permission::kCare && !care_role) care_role = role;
  }
  if (!care_role) {
    return Deny("deny:matrix:" + action_name, "no role of the user allows " + action_name);
  }

  // A `care` cell: relationships, labels, break-glass (G-6.5-C6, G-6.5-D1, G-6.10-C4).
  if (resource.patient_id.empty()) {
    return Deny("deny:no-patient", action_name + " needs a patient");
  }
  if (labels.unknown) {
    return Deny("deny:label:unknown",
                "the resource has a sensitivity label this server does not know");
  }
  const std::string prefix = MatrixRule(*care_role, action);
  const Relationship relationship = FindRelationship(subject, resource.patient_id, facts);
  if (relationship == Relationship::kUser) {
    return Allow(prefix + ":care+user-relationship",
                 "the user has a care relationship with the patient", labels, false);
  }
  if (relationship == Relationship::kDepartment && !labels.restricted) {
    return Allow(prefix + ":care+department-relationship",
                 "the user's department has a care relationship with the patient", labels, false);
  }
  if (may_declare_break_glass && !subject.via_token) {
    if (const BreakGlassGrant* grant = FindGrant(subject, resource.patient_id, facts)) {
      return Allow("allow:break-glass:" + grant->id, "emergency access (break-glass)", labels,
                   true);
    }
  }
  if (relationship == Relationship::kDepartment) {
    return Deny("deny:label:restricted",
                "restricted records need a personal care relationship, not a department one");
  }
  return Deny("deny:no-care-relationship",
              action_name + " needs a care relationship with the patient, or break-glass");
}

}  // namespace hokan
