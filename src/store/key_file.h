// The key-encryption key (KEK) file: 32 random bytes that wrap every version's data key.
// Format (docs/formats/data-directory.md):
//   # comment lines
//   hokan-kek-v1 <base64 of 32 bytes>
// Created 0600; refused when group or others may read it, as ssh does for private keys.
#pragma once

#include <string>

#include "base/env.h"
#include "base/status.h"
#include "crypto/crypto.h"

namespace hokan {

// A fresh random key written to `path` (which must not exist).
Result<SecretBytes> CreateKeyFile(FileSystem& fs, const std::string& path);
// kNotFound: missing; kPermissionDenied: readable by others; kInvalidArgument: malformed.
Result<SecretBytes> ReadKeyFile(FileSystem& fs, const std::string& path);
// A public fingerprint of a key ("kek-" + 16 hex), stored in the database so a wrong key
// file is reported as such instead of as corruption.
std::string KeyId(ByteView key);

// Refuses a secret file whose permissions let group or others read it.
Status CheckPrivateFile(FileSystem& fs, const std::string& path);

}  // namespace hokan
