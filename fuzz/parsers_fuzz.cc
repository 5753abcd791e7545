// Every parser of stored or user-supplied text, fed hostile bytes. The first byte picks the
// parser; the rest is the input. None may crash, hang or read out of bounds, and what parses
// must be consistent (an encoded value decodes back to itself).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/audit_event.h"
#include "audit/checkpoint.h"
#include "base/encoding.h"
#include "base/time.h"
#include "service/config.h"

namespace {

hokan::Bytes FixedKey() {
  hokan::Bytes key(32);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      hokan::Result<hokan::Bytes> b = hokan::Base64Decode(text);
      if (b && hokan::Base64Encode(*b) != text) __builtin_trap();
      break;
    }
    case 1: {
      hokan::Result<hokan::Bytes> b = hokan::HexDecode(text);
      if (b && hokan::HexEncode(*b).size() != text.size()) __builtin_trap();
      break;
    }
    case 2: {
      hokan::Result<hokan::TimePoint> t = hokan::ParseRfc3339(text);
      if (t && !hokan::ParseRfc3339(hokan::FormatRfc3339(*t))) __builtin_trap();
      break;
    }
    case 3: {
      hokan::Result<hokan::DecodedAuditEntry> e = hokan::DecodeAuditEntry(text);
      if (e) {
        const std::string again = hokan::EncodeAuditEntry(e->seq, e->time, e->event);
        if (!hokan::DecodeAuditEntry(again)) __builtin_trap();
      }
      break;
    }
    case 4: {
      static const hokan::Bytes key = FixedKey();
      (void)hokan::VerifyCheckpoint(text, "hokan/fuzz", key);
      break;
    }
    case 5: {
      hokan::Result<hokan::Config> c = hokan::ParseConfig(text, "hokan.toml");
      if (c && !hokan::ParseConfig(hokan::RenderConfig(*c), "hokan.toml")) __builtin_trap();
      break;
    }
  }
  return 0;
}
