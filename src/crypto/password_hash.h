// Password hashing with Argon2id (libsodium), for the identity module (G-6.5-C14a: passwords
// are stored only in an irreversibly transformed, salted, slow form).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hokan {

struct PasswordHashParams {
  // Argon2id passes over memory. Default: 3 (libsodium's "moderate" is 3 as well).
  std::uint64_t ops_limit = 3;
  // Memory per hash, bytes. Default 64 MiB: each guess costs an attacker that much memory.
  std::size_t mem_limit = std::size_t{64} * 1024 * 1024;
};

// The encoded hash ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"), with a fresh random salt, so
// two hashes of the same password differ. kInvalidArgument for parameters below Argon2id's
// minimums; kUnavailable when the memory cannot be had.
Result<std::string> HashPassword(std::string_view password, const PasswordHashParams& params = {});

// True when `password` matches `encoded` (constant time in the password). False for any
// malformed or non-Argon2id `encoded`.
bool VerifyPassword(std::string_view password, std::string_view encoded);

// True when `encoded` was made with weaker parameters than `params` (rehash at next login).
bool PasswordNeedsRehash(std::string_view encoded, const PasswordHashParams& params = {});

}  // namespace hokan
