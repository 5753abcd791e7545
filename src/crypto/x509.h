// X.509 certificates for TLS: the self-signed server certificate `hokan init` makes for first
// use, and (for tests and the demo) a small CA that issues client certificates for mTLS.
// Keys are ECDSA P-256 (CRYPTREC recommended).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace hokan {

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries.
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1").
  int valid_days = 397;
  bool is_ca = false;
  bool client_auth = false;  // Extended key usage clientAuth instead of serverAuth.
};

struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted: store it 0600.
};

// Self-signed when `issuer` is null; else signed by the issuer's key (a CA made here).
Result<CertificateAndKey> MakeCertificate(const CertificateRequest& request,
                                          const CertificateAndKey* issuer = nullptr);

// Lower-case hex SHA-256 of the DER certificate: the fingerprint that binds a client
// certificate to a user.
Result<std::string> CertificateFingerprint(std::string_view cert_pem);

}  // namespace hokan
