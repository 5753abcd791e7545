// Text encodings of bytes: lower-case hex, RFC 4648 base64 (standard alphabet, padded) and
// RFC 4648 base32 (standard alphabet; TOTP secrets in otpauth URIs).
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

// Upper-case A-Z2-7; `padding` appends '=' to a multiple of 8 characters (otpauth URIs and
// authenticator apps want it off).
std::string Base32Encode(ByteView bytes, bool padding = true);
// Accepts upper or lower case, with or without correct padding; rejects other characters
// (whitespace included), impossible lengths and non-canonical trailing bits.
Result<Bytes> Base32Decode(std::string_view text);

}  // namespace hokan
