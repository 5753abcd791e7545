// A small PKI made on the fly, for the test suites, the demo, the benchmarks and the built-in
// development TSA: CAs, end-entity certificates with the HPKI signing profile (hcRole in
// subjectDirectoryAttributes, nonRepudiation, a policy under 1.2.392.100495.1.5.1.1),
// authentication and TSA certificates, and CRLs. Keys are unencrypted PEM: nothing made here
// is a production trust anchor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"
#include "crypto/x509.h"  // CertificateAndKey

namespace hokan {

// HPKI object identifiers (JP-STANDARDS.md §1.6).
inline constexpr char kHpkiSigningPolicyArc[] = "1.2.392.100495.1.5.1.1";
inline constexpr char kHpkiAuthenticationPolicyArc[] = "1.2.392.100495.1.5.1.2";
inline constexpr char kHcRoleAttributeOid[] = "1.0.17090.0.1";
inline constexpr char kHcRoleCodingSchemeOid[] = "1.2.392.100495.1.6.1.1";

enum class DevKeyType { kRsa2048, kEcP256 };

struct DevCertificateSpec {
  std::string common_name;          // Required.
  std::string organization;         // O=, optional.
  std::string organizational_unit;  // OU=, optional.
  std::string serial_number;        // The subject's serialNumber attribute, optional.
  std::string country = "JP";       // C=, optional ("" for none).
  DevKeyType key_type = DevKeyType::kRsa2048;
  // Validity: not_before is required; a default (epoch) not_after means valid_days later.
  TimePoint not_before{};
  TimePoint not_after{};
  int valid_days = 5 * 365;

  bool is_ca = false;            // basicConstraints CA:TRUE, keyCertSign + cRLSign.
  int path_length = -1;          // CA path length constraint (-1: none).
  bool non_repudiation = false;  // keyUsage nonRepudiation (critical), HPKI signing profile.
  bool digital_signature = false;
  bool time_stamping = false;            // Critical extendedKeyUsage id-kp-timeStamping (a TSA).
  bool client_auth = false;              // extendedKeyUsage clientAuth.
  std::vector<std::string> policy_oids;  // certificatePolicies, critical when non-empty.
  std::vector<std::string> hc_roles;     // hcRole values ("Medical Doctor", "Pharmacist", ...).
  std::string crl_url;                   // cRLDistributionPoints URI, optional.
  std::uint64_t serial = 0;              // 0: 16 random bytes.
  std::string key_pem;  // Use this private key (matching key_type) instead of a new one.
};

// Self-signed when `issuer` is null, else issued by `issuer` (its certificate and key).
Result<CertificateAndKey> MakeDevCertificate(const DevCertificateSpec& spec,
                                             const CertificateAndKey* issuer = nullptr);

struct DevRevocation {
  std::string cert_pem;  // The revoked certificate.
  TimePoint revoked_at;
  int reason = 1;  // CRLReason: 1 keyCompromise.
};

// A v2 CRL (PEM) signed by `issuer`, with a CRL number and an authority key identifier.
Result<std::string> MakeDevCrl(const CertificateAndKey& issuer,
                               const std::vector<DevRevocation>& revoked, TimePoint this_update,
                               TimePoint next_update, std::uint64_t crl_number = 1);

// DER of a subjectDirectoryAttributes value with one hcRole attribute holding `roles` under
// the Japanese coding scheme (JP-STANDARDS.md §1.4).
Result<Bytes> EncodeHcRoleAttributes(const std::vector<std::string>& roles);

// A whole test PKI in the shape of the real one: root → signing CA → end entities.
struct DevHpki {
  CertificateAndKey root;        // "Dev HPKI Root CA" (RSA-2048, 20 years).
  CertificateAndKey signing_ca;  // Issues signing certs; policy ...1.5.1.1.3.1.
  CertificateAndKey tsa_ca;      // Issues the TSA certificate.
  CertificateAndKey doctor;      // hcRole "Medical Doctor", nonRepudiation, policy ...1.1.0.1.
  CertificateAndKey pharmacist;  // hcRole "Pharmacist".
  CertificateAndKey no_role;     // HPKI signing profile without hcRole.
  CertificateAndKey auth_only;   // Authentication profile: digitalSignature, ...1.5.1.2.0.1.
  CertificateAndKey expired;     // "Medical Doctor", expired a year ago.
  CertificateAndKey revoked;     // "Medical Doctor", revoked `revoked_at`.
  CertificateAndKey tsa;         // Critical EKU timeStamping.
  TimePoint revoked_at;          // An hour ago.
  std::string signing_ca_crl;    // Lists `revoked`; this update now, next update +7 days.
  std::string root_crl;          // The root's (empty) authority revocation list.
  std::string tsa_ca_crl;
};
// Everything is generated fresh: ten RSA-2048 keys take seconds. `rsa_keys` (PEM), when it
// holds at least ten, supplies the keys instead (certificates and CRLs are still new).
inline constexpr std::size_t kDevHpkiKeys = 10;
Result<DevHpki> MakeDevHpki(TimePoint now, const std::vector<std::string>& rsa_keys = {});

// For test suites, where every test is its own process: MakeDevHpki with keys generated once
// and kept in a file (mode 0600) under $HK_TEST_TMPDIR (else $TMPDIR, else /tmp), so each
// process pays milliseconds instead of seconds. Development keys only.
Result<DevHpki> MakeCachedDevHpki(TimePoint now);

}  // namespace hokan
