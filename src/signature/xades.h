// XAdES verification (XML-DSig + ETSI XAdES 1.3.2/1.4.1) of documents shaped like the national
// e-prescription (JP-STANDARDS.md §2.2-2.3): each ds:Signature's references and SignatureValue
// are checked by xmlsec1 (so canonicalisation and reference processing, including the
// inclusive C14N 1.0 default for a reference without Transforms, come from the library), then
// the XAdES properties: SigningCertificate(V2) names the signer, the SignatureTimeStamp covers
// the SignatureValue, and the signer's path is valid at the reference time with the
// certificates and CRLs the signature carries (CertificateValues, RevocationValues).
//
// Hostile input is expected: the parser never touches the network or the file system, refuses
// DTDs (so no external entities and no entity expansion), and caps the size; a Reference to
// anything outside the document is refused, not fetched, and reported.
#pragma once

#include <cstddef>
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

struct XadesVerifyOptions {
  // The signer's path: trust anchors (PEM or DER), optional SHA-256 pins (hex), extra
  // untrusted certificates and CRLs beside those carried in the signature.
  std::vector<Bytes> trust_anchors;
  std::vector<std::string> anchor_sha256_pins;
  std::vector<Bytes> intermediates;
  std::vector<Bytes> crls;
  bool require_revocation = true;
  // Verify the path at this time instead of the signature timestamp's genTime (or `now`).
  std::optional<TimePoint> at;
  TimePoint now;  // Required: the reference time when there is no valid timestamp.
  // The signature timestamp's TSA. Its `now` is replaced by `now` above; when its
  // trust_anchors are empty, the signer's trust anchors and pins are used. The certificates
  // and CRLs in xades141:TimeStampValidationData and CertificateValues/RevocationValues are
  // added to its intermediates and CRLs.
  TimestampVerifyOptions timestamp;
  bool require_timestamp = false;  // A signature without SignatureTimeStamp is invalid.
  // The signer's certificate must have the HPKI signing profile (hpki.h). Default: yes.
  bool require_hpki_signing = true;
  // When non-empty, the signer's hcRole must include one of these.
  std::vector<std::string> required_qualifications;
  // Larger documents are kInvalidArgument before parsing.
  std::size_t max_document_bytes = std::size_t{16} * 1024 * 1024;
  // More ds:Signature elements, or more References in one, are kInvalidArgument.
  std::size_t max_signatures = 16;
  std::size_t max_references = 64;
};

struct XadesReference {
  std::string uri;     // As written ("#PrescriptionDocument", "" for the whole document).
  std::string type;    // The Type attribute, e.g. "http://uri.etsi.org/01903#SignedProperties".
  std::string target;  // Local name of the referenced element ("" when none was found).
  std::vector<std::string> transforms;  // Algorithm URIs; none: inclusive C14N 1.0 applies.
  std::string digest_method;            // Algorithm URI.
  bool digest_ok = false;
  std::string problem;  // One sentence when !digest_ok.
};

struct XadesSignatureReport {
  std::string id;      // The ds:Signature's Id attribute.
  std::string reason;  // One sentence when !valid.
  // "BES", then "T" with a SignatureTimeStamp, "XL" with CertificateValues or
  // RevocationValues as well, "A" with an ArchiveTimeStamp as well (by structure; validity is
  // reported separately).
  std::string level;
  std::string canonicalization_method;  // SignedInfo's, algorithm URI.
  std::string signature_method;
  std::vector<XadesReference> references;
  std::string signing_time;  // SigningTime, RFC 3339 ("" if absent).
  std::string signing_certificate_problem;
  CertificateSummary signer;
  HpkiProfile hpki;                                // hc_roles, signing_problem, ...
  std::optional<TimestampVerification> timestamp;  // The SignatureTimeStamp.
  std::string timestamp_canonicalization;          // The algorithm applied to SignatureValue.
  std::string reference_time;         // RFC 3339: when the path and revocation were checked.
  std::string reference_time_source;  // "signature timestamp", "given", "current time".
  std::string path_problem;
  std::vector<CertificateStatus> chain;  // Signer first.
  int archive_timestamps = 0;            // Counted; their tokens are not verified yet.

  bool valid = false;
  bool signature_value_checked = false;  // False when a reference failed first.
  bool signature_value_ok = false;
  bool signed_properties_referenced = false;  // A Reference covers this SignedProperties.
  bool key_info_referenced = false;           // A Reference covers the KeyInfo.
  // SigningCertificateV2 (or V1) has a CertDigest of the signer's certificate (or, without
  // one, the signed KeyInfo holds it).
  bool signing_certificate_match = false;
  bool path_valid = false;
};

struct XadesVerification {
  bool valid = false;                            // At least one signature, and every one valid.
  std::string reason;                            // One sentence when !valid.
  std::vector<XadesSignatureReport> signatures;  // Document order.
};

// Verifies every ds:Signature in `xml`. kInvalidArgument when the input is not well-formed
// XML, carries a DTD, is too large, has duplicate XML IDs or too many signatures or
// references; otherwise the verification, valid or not (a document without any signature is
// not valid).
Result<XadesVerification> VerifyXades(ByteView xml, const XadesVerifyOptions& options);

// The verification as JSON (snake_case keys, the fields above).
std::string XadesVerificationJson(const XadesVerification& verification);

// Initialises libxml2 and xmlsec1 with its OpenSSL back end, once per process (thread-safe).
// VerifyXades calls it; other code in the process that uses xmlsec directly (tests that sign
// fixtures) calls it first and never initialises xmlsec itself. kInternal when the installed
// library does not match the headers.
Status InitXmlSecurity();

}  // namespace hokan
