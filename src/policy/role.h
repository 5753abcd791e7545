// The ten roles of docs/access-control.md. A role name hokan does not know grants nothing.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hokan {

enum class Role {
  kPhysician,
  kDentist,
  kPharmacist,
  kNurse,
  kClerk,
  kRecordsOfficer,
  kSecurityOfficer,
  kAuditor,
  kAdmin,
  kMaintenance,
};

inline constexpr std::size_t kRoleCount = 10;

// Every role, in the order above (the matrix's column order in the document).
inline constexpr std::array<Role, kRoleCount> kAllRoles = {
    Role::kPhysician, Role::kDentist,        Role::kPharmacist,      Role::kNurse,
    Role::kClerk,     Role::kRecordsOfficer, Role::kSecurityOfficer, Role::kAuditor,
    Role::kAdmin,     Role::kMaintenance,
};

// The stable lower-case name ("records_officer"), as stored and as written in the matrix.
std::string_view RoleName(Role role);

// Exact, case-sensitive; kInvalidArgument for anything else.
Result<Role> ParseRole(std::string_view name);

// The names of kAllRoles, in the same order.
const std::vector<std::string>& AllRoles();

}  // namespace hokan
