#include "policy/role.h"

#include <algorithm>
#include <string>
#include <vector>

namespace hokan {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPhysician:
      return "physician";
    case Role::kDentist:
      return "dentist";
    case Role::kPharmacist:
      return "pharmacist";
    case Role::kNurse:
      return "nurse";
    case Role::kClerk:
      return "clerk";
    case Role::kRecordsOfficer:
      return "records_officer";
    case Role::kSecurityOfficer:
      return "security_officer";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
    case Role::kMaintenance:
      return "maintenance";
  }
  CheckFailed("invalid Role value", __FILE__, __LINE__);
}

Result<Role> ParseRole(std::string_view name) {
  for (const Role role : kAllRoles) {
    if (RoleName(role) == name) return role;
  }
  // Echo the name only when it looks like one: it may come from anywhere.
  const bool printable =
      !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
  if (printable) return InvalidArgumentError("unknown role '" + std::string(name) + "'");
  return InvalidArgumentError("unknown role");
}

const std::vector<std::string>& AllRoles() {
  static const std::vector<std::string>* const kNames = [] {
    auto* names = new std::vector<std::string>;
    for (const Role role : kAllRoles) names->emplace_back(RoleName(role));
    return names;
  }();
  return *kNames;
}

}  // namespace hokan
