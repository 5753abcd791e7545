// Access decisions (docs/access-control.md; G-6.5-C6, G-6.5-D1, G-6.8-C3/C4, G-6.10-C4).
// Pure: the service gathers the facts (the user, their roles, care relationships, labels,
// break-glass grants, the time) and asks; nothing here reads storage or the clock. Every
// Decision names the rule that made it, for the audit entry.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "policy/action.h"
#include "policy/matrix.h"
#include "policy/role.h"

namespace hokan {

// The known sensitivity labels. Any other label stops all `care` access (fail closed).
inline constexpr std::string_view kLabelRestricted = "restricted";
inline constexpr std::string_view kLabelVip = "vip";

// Who is asking.
struct Subject {
  std::string user_id;
  std::vector<std::string> roles;  // Role names; unknown names grant nothing.
  std::string department;          // For department care relationships; may be empty.
  // A vendor maintenance account (G-6.8-C3). Having the maintenance role makes an account one
  // too. Must have expires_at and no other role.
  bool maintenance = false;
  std::optional<TimePoint> expires_at;  // The account's end; at and after it, all is denied.
  // Password-only while a second factor is due, or a password change is due: `self` only.
  bool restricted_session = false;
  bool via_token = false;                 // The request came with an API token ...
  std::vector<std::string> token_scopes;  // ... limited to these ("record.read", "record.*").
};

// A patient in the care of a user or of a whole department, for a period. Exactly one of
// user_id and department is set; otherwise the relationship is ignored.
struct CareRelationship {
  std::string user_id;
  std::string department;
  std::string patient_id;
  TimePoint valid_from;                  // Inclusive.
  std::optional<TimePoint> valid_until;  // Exclusive; none: open-ended.
};

inline constexpr std::chrono::seconds kDefaultBreakGlassDuration = std::chrono::hours(1);
inline constexpr std::chrono::seconds kMaxBreakGlassDuration = std::chrono::hours(4);

// Emergency access of one user to one patient for a short time (NewBreakGlassGrant). A grant
// longer than kMaxBreakGlassDuration is ignored by Decide.
struct BreakGlassGrant {
  std::string user_id;
  std::string patient_id;
  TimePoint granted_at;  // Valid from (inclusive) ...
  TimePoint expires_at;  // ... until (exclusive).
  std::string reason;
  // Assigned by the service when it stores the grant; named in the rule. A grant whose id is
  // empty or has characters other than [A-Za-z0-9._-] is ignored.
  std::string id;
};

// What the action is about.
struct Resource {
  std::string patient_id;           // Empty for global actions.
  std::vector<std::string> labels;  // Sensitivity labels of the record and of the patient.
  // For user.manage, user.reset_password: the account acted on; for care.manage: the user the
  // relationship names (empty for a department relationship).
  std::string target_user_id;
};

// What the service knows about the situation: the relationships and grants that may matter
// (it may pass more; the ones of other users and patients are ignored) and the time.
struct Facts {
  std::vector<CareRelationship> relationships;
  std::vector<BreakGlassGrant> grants;
  TimePoint now;
};

struct Decision {
  bool allowed = false;
  // Stable id of the rule that decided, for the audit entry: "matrix:<role>:<action>:yes",
  // "matrix:<role>:<action>:care+user-relationship", "...:care+department-relationship",
  // "allow:break-glass:<grant id>" (allowed patient actions add "+label:restricted",
  // "+label:vip"), or one of the "deny:..." rules listed in docs/access-control.md.
  std::string rule;
  std::string reason;        // One short sentence for people; no patient data.
  bool break_glass = false;  // Allowed by a break-glass grant.
  // List this access for review (G-6.10-C4b, G-6.5-C7): break-glass, or a vip resource.
  bool review = false;
};

// Decides with DefaultMatrix(). The checks, in order (the first that applies decides):
// maintenance account without expiry / with other roles / expired; account expired; unknown
// action; restricted session (only `self`); token scope; token.manage via token;
// self-administration; then the matrix over all the subject's roles (`yes` wins, then `care`
// with a relationship, then the subject's break-glass grant), narrowed by labels.
Decision Decide(const Subject& subject, std::string_view action, const Resource& resource,
                const Facts& facts);
Decision Decide(const Matrix& matrix, const Subject& subject, std::string_view action,
                const Resource& resource, const Facts& facts);

}  // namespace hokan
