// The guideline's password rules (G-6.5-C14d, G-6.5-C14e), checked before a password is set.
// Messages name the rule that was broken, never the password.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hokan {

struct PasswordContext {
  std::string user_id;       // The login id; a password containing it is refused.
  std::string display_name;  // Each part of the name (3+ characters) likewise.
  // Two-factor login on for this user: 8 characters suffice (G-6.5-C14d mode c); otherwise
  // 13 (mode a, no periodic change needed).
  bool two_factor = true;
  // Encoded Argon2id hashes of the user's last passwords (the newest 5 are checked).
  std::vector<std::string> previous_hashes;
};

inline constexpr std::size_t kMinPasswordWithTwoFactor = 8;
inline constexpr std::size_t kMinPasswordWithoutTwoFactor = 13;
inline constexpr std::size_t kPasswordHistory = 5;
inline constexpr std::size_t kMaxPassword = 256;

// OK, or kInvalidArgument saying which rule the password breaks:
//  - at least 8 (two-factor) or 13 characters, at most 256;
//  - letters, digits and symbols all present;
//  - not containing the user id or a part of the name (case-insensitive);
//  - not a common password, keyboard or number run, or one character repeated
//    (after undoing l33t substitutions: "P@ssw0rd!2024" counts as "password");
//  - not one of the last 5 passwords.
Status CheckPassword(std::string_view password, const PasswordContext& context);

}  // namespace hokan
