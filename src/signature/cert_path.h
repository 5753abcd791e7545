// Certificate path validation at a reference time (JP-STANDARDS.md §1.7): build the path from a
// certificate to a configured trust anchor (pinned by SHA-256), check validity periods, CA
// constraints and signatures at that time, and revocation from CRLs as of that time. RFC 5280
// explicit policy is NOT required (the HPKI chains would fail it); profile checks (keyUsage,
// policy OIDs, hcRole) are the caller's (hpki.h).
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"

namespace hokan {

struct CertificateSummary {
  std::string subject;  // RFC 2253 ("CN=...,O=...,C=JP").
  std::string issuer;
  std::string serial;      // Lower-case hex.
  std::string sha256;      // Lower-case hex of the DER.
  std::string not_before;  // RFC 3339.
  std::string not_after;
};

enum class RevocationState {
  kGood,          // A CRL from the issuer covers the reference time and does not list it.
  kRevoked,       // Listed with a revocation date at or before the reference time.
  kRevokedLater,  // Listed, but revoked after the reference time: good at that time.
  kUnknown,       // No usable CRL from the issuer.
  kNotChecked,    // Trust anchors are not checked.
};
const char* RevocationStateName(RevocationState s);  // "good", "revoked", ...

struct CertificateStatus {
  CertificateSummary certificate;
  RevocationState revocation = RevocationState::kNotChecked;
  std::string revoked_at;  // RFC 3339 when listed.
  std::string crl_issued;  // thisUpdate of the CRL used, RFC 3339.
};

struct PathValidationOptions {
  // Trusted certificates (PEM or DER, several per buffer allowed).
  std::vector<Bytes> trust_anchors;
  // When non-empty, an anchor is used only if the SHA-256 of its DER (hex) is listed here.
  std::vector<std::string> anchor_sha256_pins;
  // Untrusted certificates that may complete the path (e.g. those carried in a signature).
  std::vector<Bytes> intermediates;
  // CRLs (PEM or DER). A CRL counts when its signature verifies with the issuer's key and
  // its thisUpdate is at or after... see cert_path.cc: it must cover the reference time
  // (thisUpdate <= at <= nextUpdate) or have been issued after it.
  std::vector<Bytes> crls;
  TimePoint at;  // The reference time (e.g. a timestamp's genTime), required.
  // When true, a certificate below the anchor whose revocation is unknown fails the path.
  bool require_revocation = true;
};

struct PathValidation {
  bool valid = false;
  std::string reason;                    // One sentence when !valid.
  std::vector<CertificateStatus> chain;  // Leaf first, trust anchor last (may be partial).
};

// Validates `leaf` (PEM or DER). kInvalidArgument when the inputs cannot be parsed; otherwise
// the outcome, valid or not, with the reason.
Result<PathValidation> ValidateCertificatePath(ByteView leaf, const PathValidationOptions& options);

}  // namespace hokan
