#include "identity/internal/codes.h"

#include <cctype>

#include "base/encoding.h"
#include "crypto/crypto.h"

namespace hokan::identity_internal {

Result<std::string> RandomCode(std::size_t n_chars) {
  Bytes random((n_chars * 5 + 7) / 8);
  HK_RETURN_IF_ERROR(RandomBytes(random));
  const std::string encoded = Base32Encode(random, /*padding=*/false);
  SecureZero(random);
  std::string out;
  for (std::size_t i = 0; i < n_chars; ++i) {
    if (i > 0 && i % 4 == 0) out.push_back('-');
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(encoded[i]))));
  }
  return out;
}

std::string NormalizeCode(std::string_view code) {
  std::string out;
  out.reserve(code.size());
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool ParseTotpCode(std::string_view text, std::string& digits) {
  digits.clear();
  for (char c : text) {
    if (c == ' ') continue;
    if (c < '0' || c > '9' || digits.size() == 6) return false;
    digits.push_back(c);
  }
  return digits.size() == 6;
}

Result<std::string> NormalizeFingerprint(std::string_view fingerprint) {
  std::string out;
  out.reserve(64);
  for (char c : fingerprint) {
    if (c == ':') continue;
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!((lower >= '0' && lower <= '9') || (lower >= 'a' && lower <= 'f')) || out.size() == 64) {
      return InvalidArgumentError(
          "client certificate fingerprint must be a SHA-256 digest in hex (64 digits)");
    }
    out.push_back(lower);
  }
  if (out.size() != 64) {
    return InvalidArgumentError(
        "client certificate fingerprint must be a SHA-256 digest in hex (64 digits)");
  }
  return out;
}

}  // namespace hokan::identity_internal
