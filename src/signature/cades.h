// CAdES signatures (CMS SignedData, RFC 5652 + ETSI CAdES; JAHIS HPKI 電子署名規格): signing with
// the signed attributes content-type, message-digest, signing-certificate-v2 and signing-time
// (CAdES-BES), adding a signature timestamp (RFC 3161 token as the unsigned attribute
// id-aa-signatureTimeStampToken: CAdES-T), and verification into a report that says exactly
// what holds and what does not.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"
#include "signature/cert_path.h"
#include "signature/hpki.h"
#include "signature/timestamp.h"

namespace hokan {

struct CadesSignOptions {
  std::string signer_cert_pem;
  std::string signer_key_pem;          // Unencrypted PEM (the caller decrypts key files).
  std::vector<std::string> chain_pem;  // CA certificates to carry in the signature.
  TimePoint signing_time;              // The signing-time attribute (required).
  bool detached = true;                // Detached: the content is not inside.
};

// A CAdES-BES signature over `content` (DER). kInvalidArgument when the key does not match
// the certificate or cannot be read.
Result<Bytes> SignCades(ByteView content, const CadesSignOptions& options);

// The bytes a signature timestamp covers: the SignerInfo's signature value (one signer).
Result<Bytes> SignatureValue(ByteView cms_der);

// Whether the signature already carries a signature timestamp (CAdES-T).
Result<bool> HasSignatureTimestamp(ByteView cms_der);

// `cms_der` with `token_der` (a TimeStampToken over SignatureValue) added as the unsigned
// attribute id-aa-signatureTimeStampToken: CAdES-T. kInvalidArgument when the token is not a
// timestamp over this signature's value.
Result<Bytes> AddSignatureTimestamp(ByteView cms_der, ByteView token_der);

struct SignatureVerifyOptions {
  std::vector<Bytes> trust_anchors;  // For the signer's path.
  std::vector<std::string> anchor_sha256_pins;
  std::vector<Bytes> intermediates;
  std::vector<Bytes> crls;
  bool require_revocation = true;
  // Verify at this time instead of the signature timestamp's genTime (or now).
  std::optional<TimePoint> at;
  TimePoint now;
  // The signature timestamp's TSA (trust anchors, accepted TSAs, policies).
  TimestampVerifyOptions timestamp;
  bool require_timestamp = false;
  // When the content is not given (a stored version checked without decrypting it), a
  // detached signature's message digest must equal this SHA-256 (hex) instead.
  std::string content_sha256;
  // The signer's certificate must have the HPKI signing profile (default: yes).
  bool require_hpki_signing = true;
  // When non-empty, the signer's hcRole must include one of these (e.g. prescriptions:
  // "Medical Doctor", "Dentist").
  std::vector<std::string> required_qualifications;
};

struct SignatureReport {
  bool valid = false;
  std::string reason;  // One sentence when !valid.
  std::string level;   // "CAdES-BES", "CAdES-T".
  bool detached = false;
  bool content_intact = false;             // The message digest matches the content.
  bool signature_intact = false;           // The signature over the signed attributes verifies.
  bool signing_certificate_match = false;  // signing-certificate(-v2) names the signer.
  std::string content_sha256;              // Of the content that was checked, hex.
  std::string signing_time;                // The signed attribute, RFC 3339 ("" if absent).
  std::string reference_time;              // Time at which the path and revocation were checked.
  std::string reference_time_source;       // "signature timestamp", "given", "current time".
  CertificateSummary signer;
  HpkiProfile hpki;
  std::vector<CertificateStatus> chain;  // Signer first.
  std::optional<TimestampVerification> timestamp;
};

// Verifies a CMS/CAdES signature, PEM or DER, attached or detached (then `content` or
// options.content_sha256 is required). kInvalidArgument when the input is not a CMS signature or a
// detached signature comes without content; otherwise the report, valid or not.
Result<SignatureReport> VerifyCades(ByteView signature, std::optional<ByteView> content,
                                    const SignatureVerifyOptions& options);

// The report as JSON (docs/formats/verification-report.md) and as text for people.
std::string SignatureReportJson(const SignatureReport& report);
std::string SignatureReportText(const SignatureReport& report);

}  // namespace hokan
