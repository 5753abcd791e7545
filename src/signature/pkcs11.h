// Server-side CAdES signing with a private key that never leaves a PKCS#11 token: an HSM in
// production, SoftHSM2 in tests (issue 4, way (b); keys.h is the encrypted-key-file way).
//
// The token's PKCS#11 library is loaded once per path and stays loaded. Every call opens a
// session, logs in with the PIN it is given, signs, logs out and closes the session, so the PIN
// is checked on every signature and nothing stays logged in between calls. Only RSA keys.
//
// Thread-safe. Calls that use the same PKCS#11 library are serialised, because PKCS#11 keeps
// one login state per token for the whole process.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"

namespace hokan {

// Where a signing key lives.
struct Pkcs11KeyRef {
  std::string module_path;  // The token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so.
  std::string token_label;  // The token's label, as in pkcs11:token=...
  std::string key_label;    // The private key's CKA_LABEL, as in pkcs11:object=...
};

// A CAdES-BES signature over `content`, as SignCades makes it (cades.h), with the key in the
// token after logging in with `pin`. `cert_pem` is the signer's certificate and must belong to
// the token's key; `chain_pem` are CA certificates to carry in the signature.
//   kPermissionDenied   a wrong, locked or expired PIN, or none (the PIN never appears in a
//                       message)
//   kNotFound           no token with that label, or no private key with that label in it
//   kFailedPrecondition the library cannot be loaded or initialised; the label names several
//                       tokens or keys; the key is not an RSA key the token lets us use
//   kInvalidArgument    the certificate is unreadable or does not belong to the token's key;
//                       no signing time; empty labels
//   kUnavailable        the token was removed or failed (a retry may help)
Result<Bytes> SignCadesPkcs11(ByteView content, const Pkcs11KeyRef& key, std::string_view pin,
                              const std::string& cert_pem,
                              const std::vector<std::string>& chain_pem, TimePoint signing_time,
                              bool detached = true);

}  // namespace hokan
