// Checking signatures, timestamps and XAdES documents given as files (`hokan signature
// verify`, `hokan timestamp verify`, `hokan xades verify`): no store is needed, nothing is
// written. The outcome is the signature module's report as JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "base/time.h"

namespace hokan {

struct FileVerifyRequest {
  std::string input_path;    // The signature, timestamp token/response, or XML document.
  std::string content_path;  // Detached content / timestamped data ("" when none).
  std::vector<std::string> trust_anchor_paths;  // For signers and TSAs alike.
  std::vector<std::string> untrusted_paths;     // Extra intermediate certificates.
  std::vector<std::string> crl_paths;
  std::optional<TimePoint> at;  // Reference time override.
  std::vector<std::string> required_qualifications;
  bool require_timestamp = false;
};

struct VerificationOutcome {
  bool valid = false;
  std::string json;  // The report (docs/formats/verification-report.md).
};

// kNotFound / kInvalidArgument when a file cannot be read or is not what it should be;
// otherwise the outcome, valid or not.
Result<VerificationOutcome> VerifySignatureFile(Env& env, const FileVerifyRequest& request);
Result<VerificationOutcome> VerifyTimestampFile(Env& env, const FileVerifyRequest& request);
Result<VerificationOutcome> VerifyXadesFile(Env& env, const FileVerifyRequest& request);

}  // namespace hokan
