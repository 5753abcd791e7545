#include "crypto/password_hash.h"

#include <sodium.h>

#include <cstring>
#include <string>

namespace hokan {
namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const PasswordHashParams& params) {
  if (!SodiumReady()) return InternalError("libsodium failed to initialise");
  if (params.ops_limit < crypto_pwhash_OPSLIMIT_MIN ||
      params.mem_limit < crypto_pwhash_MEMLIMIT_MIN) {
    return InvalidArgumentError("password hash parameters are below Argon2id's minimum");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit,
                            params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return UnavailableError("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  if (!SodiumReady()) return false;
  // libsodium wants a NUL-terminated string and must only see Argon2id hashes.
  if (encoded.size() >= crypto_pwhash_STRBYTES || encoded.find('\0') != std::string_view::npos ||
      encoded.substr(0, std::strlen(crypto_pwhash_argon2id_STRPREFIX)) !=
          crypto_pwhash_argon2id_STRPREFIX) {
    return false;
  }
  const std::string terminated(encoded);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view encoded, const PasswordHashParams& params) {
  if (!SodiumReady() || encoded.size() >= crypto_pwhash_STRBYTES) return true;
  const std::string terminated(encoded);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), params.ops_limit, params.mem_limit) !=
         0;
}

}  // namespace hokan
