#include "policy/break_glass.h"

#include <cstdint>
#include <optional>
#include <string>

namespace hokan {
namespace {

std::string_view TrimWhiteSpace(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The number of code points of well-formed UTF-8 text without control characters (newline
// and tab allowed), or nothing.
std::optional<std::size_t> CountTextCharacters(std::string_view s) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1fU;
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0fU;
      len = 3;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07U;
      len = 4;
    } else {
      return std::nullopt;
    }
    if (i + len > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0U) != 0x80U) return std::nullopt;
      cp = (cp << 6U) | (b & 0x3fU);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return std::nullopt;
    }
    // C0 and C1 controls and DEL, except newline and tab.
    if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp <= 0x9f)) {
      return std::nullopt;
    }
    ++count;
    i += len;
  }
  return count;
}

}  // namespace

Result<BreakGlassGrant> NewBreakGlassGrant(const Subject& subject, std::string_view patient_id,
                                           std::string_view reason, TimePoint now,
                                           std::chrono::seconds duration) {
  if (patient_id.empty()) return InvalidArgumentError("break-glass needs a patient id");
  if (subject.via_token) {
    return PermissionDeniedError("break-glass cannot be declared with an API token");
  }
  const Decision may_declare =
      Decide(subject, kActionBreakGlassDeclare, Resource{.patient_id = std::string(patient_id)},
             Facts{.now = now});
  if (!may_declare.allowed) {
    return PermissionDeniedError("break-glass not allowed (" + may_declare.rule + ")");
  }
  const std::string_view trimmed = TrimWhiteSpace(reason);
  const std::optional<std::size_t> length = CountTextCharacters(trimmed);
  if (!length) {
    return InvalidArgumentError(
        "the break-glass reason must be UTF-8 text without control characters");
  }
  if (*length < kMinBreakGlassReason || *length > kMaxBreakGlassReason) {
    return InvalidArgumentError("the break-glass reason must be " +
                                std::to_string(kMinBreakGlassReason) + " to " +
                                std::to_string(kMaxBreakGlassReason) + " characters long");
  }
  if (duration <= std::chrono::seconds::zero() || duration > kMaxBreakGlassDuration) {
    return InvalidArgumentError("break-glass lasts more than 0 seconds and at most 4 hours");
  }
  return BreakGlassGrant{
      .user_id = subject.user_id,
      .patient_id = std::string(patient_id),
      .granted_at = now,
      .expires_at = now + duration,
      .reason = std::string(trimmed),
  };
}

}  // namespace hokan
