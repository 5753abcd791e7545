// The one CAdES-BES signing routine behind SignCades (a PEM key) and SignCadesPkcs11 (a key
// inside a PKCS#11 token): whatever holds the private key, the CMS structure is built here.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"

namespace hokan::signature_internal {

// A CAdES-BES signature over `content` by `key` for `cert` (both borrowed), carrying the CA
// certificates in `chain_pem`. kInvalidArgument when the signing time is missing, a chain
// certificate cannot be read, or `key` does not belong to `cert`.
Result<Bytes> SignCadesWithKey(ByteView content, X509* cert, EVP_PKEY* key,
                               const std::vector<std::string>& chain_pem, TimePoint signing_time,
                               bool detached);

}  // namespace hokan::signature_internal
