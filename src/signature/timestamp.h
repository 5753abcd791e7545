// RFC 3161 time-stamp protocol: requests, responses and tokens, their verification, and a
// client that asks configured TSAs in turn (G-6.12; JP-STANDARDS.md §2.4).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"
#include "signature/cert_path.h"

namespace hokan {

struct TimestampRequest {
  Bytes der;    // TimeStampReq, DER.
  Bytes nonce;  // 8 random bytes, as sent.
};
// A SHA-256 request for `sha256_digest` (32 bytes) with a fresh nonce, certReq true, and
// `policy_oid` as reqPolicy when non-empty.
Result<TimestampRequest> MakeTimestampRequest(ByteView sha256_digest,
                                              const std::string& policy_oid = "");

// The token (a CMS SignedData, DER) inside a TimeStampResp. kFailedPrecondition naming the
// PKIStatus and failInfo when the TSA refused; kInvalidArgument when it is not a response.
Result<Bytes> TokenFromResponse(ByteView response_der);

struct TimestampVerifyOptions {
  // The TSA's certificate path (validated at genTime) and revocation data.
  std::vector<Bytes> trust_anchors;
  std::vector<std::string> anchor_sha256_pins;
  std::vector<Bytes> intermediates;
  std::vector<Bytes> crls;
  bool require_revocation = false;  // TSA certificates often carry no CRL distribution point.
  // When non-empty, the token must carry one of these policies.
  std::vector<std::string> accepted_policies;
  // When non-empty, the TSA certificate's SHA-256 (hex) must be one of these (accredited TSAs).
  std::vector<std::string> accepted_tsa_sha256;
  std::optional<Bytes> expected_nonce;  // When set, the token's nonce must equal it.
  TimePoint now;                        // For "is the TSA certificate still valid today".
};

struct TimestampVerification {
  bool valid = false;
  std::string reason;    // One sentence when !valid.
  std::string gen_time;  // RFC 3339 with milliseconds when present.
  TimePoint gen_time_point{};
  std::string policy;                        // OID.
  std::string serial;                        // Lower-case hex.
  std::string hash_algorithm;                // "sha256", ...
  std::string message_imprint;               // Lower-case hex.
  std::string tsa_name;                      // The TSA certificate's subject.
  bool development_tsa = false;              // Made by hokan's built-in TSA: NOT accredited.
  bool tsa_listed = false;                   // Its certificate is in accepted_tsa_sha256.
  bool tsa_certificate_expired_now = false;  // Valid at genTime, expired at `now`.
  bool tsa_certificate_in_token = false;     // The token carries the TSA certificate (certReq).
  std::vector<CertificateStatus> tsa_chain;  // TSA certificate first.
};

// Verifies a TimeStampResp or a bare token over `data` (hashed here with the token's hash
// algorithm: sha256, sha384 or sha512). kInvalidArgument when the input is not a response or a
// token at all; otherwise the outcome (a response that refuses, e.g. status rejection, is
// `valid=false` with the status in `reason`). The TSA certificate must be in the token or in
// `options.intermediates`; its path is validated at genTime.
Result<TimestampVerification> VerifyTimestamp(ByteView response_or_token, ByteView data,
                                              const TimestampVerifyOptions& options);
// The same for a token over a precomputed digest (its algorithm must be the token's).
Result<TimestampVerification> VerifyTimestampDigest(ByteView response_or_token, ByteView digest,
                                                    const TimestampVerifyOptions& options);

// The verification as a JSON object (docs/formats/verification-report.md).
std::string TimestampVerificationJson(const TimestampVerification& v);

// How a request reaches a TSA: HTTP(S) POST in production (implemented above this module),
// a direct call to the development TSA in tests.
class TimestampTransport {
 public:
  virtual ~TimestampTransport() = default;
  // POSTs `request` with Content-Type application/timestamp-query; returns the body of a
  // 200 response. kUnavailable for network errors and non-200 answers (with the status).
  virtual Result<Bytes> Post(const std::string& url, ByteView request) = 0;
};

struct TsaClientOptions {
  std::vector<std::string> urls;  // Asked in this order.
  int attempts_per_url = 2;
  std::chrono::milliseconds retry_delay{200};
  std::string request_policy;     // reqPolicy, optional.
  TimestampVerifyOptions verify;  // Applied to every answer (nonce and imprint are added).
};

struct TimestampToken {
  Bytes token;  // The CMS SignedData, DER.
  TimestampVerification verification;
};

// Asks each URL in turn until one returns a token that verifies for `sha256_digest`: a fresh
// nonce per attempt, certReq set and the TSA certificate required in the token, and
// `options.verify` applied at `now`. Only transport failures (kUnavailable from Post) are
// retried, up to attempts_per_url times with retry_delay between; a refusal or a token that
// does not verify moves on to the next URL. kUnavailable "no time-stamping authority answered:
// <url>: <why>; ..." when none does (URLs without user information, query or fragment);
// kFailedPrecondition when no URL is configured; kInvalidArgument for a digest that is not
// 32 bytes or a request_policy that is not an OID. `transport` must outlive the client.
class TsaClient {
 public:
  TsaClient(TimestampTransport& transport, TsaClientOptions options);
  Result<TimestampToken> Timestamp(ByteView sha256_digest, TimePoint now);

 private:
  TimestampTransport& transport_;
  TsaClientOptions options_;
};

}  // namespace hokan
