// The input of a row's HMAC: fields joined with their lengths, so no two field lists encode
// alike. Shared by the service's own tables (confirmations, evidence, quarantine).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"

namespace hokan::service_internal {

inline void AppendMacField(Bytes& out, std::string_view field) {
  const std::uint64_t n = field.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), field.begin(), field.end());
}

}  // namespace hokan::service_internal
