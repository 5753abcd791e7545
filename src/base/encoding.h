// Text encodings of bytes: lower-case hex and RFC 4648 base64 (standard alphabet, padded).
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace hokan {

std::string HexEncode(ByteView bytes);
// Accepts upper or lower case; rejects odd length and non-hex characters.
Result<Bytes> HexDecode(std::string_view text);

std::string Base64Encode(ByteView bytes);
// Strict: padding required, no whitespace, no URL-safe characters.
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace hokan
