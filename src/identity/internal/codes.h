// One-time codes and secrets as people type them: random base32 text in groups of four, and
// the normalisation that makes "ABCD-efgh 2345" and "abcdefgh2345" the same code.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hokan::identity_internal {

// `n_chars` random characters of lower-case base32 (a-z, 2-7: no 0/1/8/9 to confuse with
// letters), 5 bits each, grouped by four with '-': RandomCode(12) -> "k7qa-m2xd-pe4r".
Result<std::string> RandomCode(std::size_t n_chars);

// Lower case, without '-' and spaces. Codes are compared (as keyed hashes) in this form.
std::string NormalizeCode(std::string_view code);

// True for exactly six ASCII digits once spaces are dropped (a TOTP code); `digits` gets them.
bool ParseTotpCode(std::string_view text, std::string& digits);

// A SHA-256 fingerprint as 64 lower-case hex digits; accepts upper case and ':' separators.
// kInvalidArgument otherwise.
Result<std::string> NormalizeFingerprint(std::string_view fingerprint);

}  // namespace hokan::identity_internal
