// Users' signing keys held for server-side signing: PKCS#12 files encrypted with a passphrase
// only the user knows (the "encrypted key file" way of issue 4; a PKCS#11 token is the other).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/crypto.h"

namespace hokan {

struct SigningIdentity {
  std::string cert_pem;
  std::vector<std::string> chain_pem;  // CA certificates in the file.
  SecretBytes key_pem;                 // Unencrypted PEM: wiped when this dies.
};

// Opens a PKCS#12 file. kPermissionDenied for a wrong passphrase (one sentence, the
// passphrase never appears); kInvalidArgument when it is not PKCS#12 or holds no key and
// certificate that belong together.
Result<SigningIdentity> ReadPkcs12(ByteView p12, std::string_view passphrase);

// A PKCS#12 file (AES-256-CBC + PBKDF2, SHA-256 MAC) with `key_pem`/`cert_pem` and `chain_pem`,
// encrypted under `passphrase` (at least 8 bytes).
Result<Bytes> MakePkcs12(const std::string& cert_pem, std::string_view key_pem,
                         const std::vector<std::string>& chain_pem, std::string_view passphrase,
                         const std::string& friendly_name);

}  // namespace hokan
