// HPKI profile checks on an X.509 certificate (JP-STANDARDS.md §1.3-1.7): the hcRole
// qualifications in subjectDirectoryAttributes, the certificate policy family (signing vs
// authentication) and keyUsage nonRepudiation.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace hokan {

struct HpkiProfile {
  std::vector<std::string> hc_roles;   // codeDataFreeText values under the Japanese scheme.
  std::vector<std::string> policies;   // All certificatePolicies OIDs.
  bool signing_policy = false;         // A policy under 1.2.392.100495.1.5.1.1.
  bool authentication_policy = false;  // A policy under 1.2.392.100495.1.5.1.2.
  bool non_repudiation = false;        // keyUsage has nonRepudiation.
  bool digital_signature = false;
  // Empty when the certificate may sign under the HPKI signing profile; otherwise why not
  // ("the certificate is for authentication only", "keyUsage lacks nonRepudiation", ...).
  std::string signing_problem;
};

// Reads the profile of a certificate (PEM or DER). kInvalidArgument when it is not a
// certificate or its subjectDirectoryAttributes cannot be decoded.
Result<HpkiProfile> ReadHpkiProfile(ByteView certificate);

// hcRole values from the DER of a subjectDirectoryAttributes extension value. Only
// HCActors whose coding scheme is 1.2.392.100495.1.6.1.1 count; other attributes are ignored.
Result<std::vector<std::string>> DecodeHcRoles(ByteView subject_directory_attributes_der);

}  // namespace hokan
