// JSON pieces shared by the signature module's reports (docs/formats/verification-report.md).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "signature/cert_path.h"
#include "signature/hpki.h"

namespace hokan::signature_internal {

nlohmann::ordered_json CertificateJson(const CertificateSummary& c);
// Each entry: the certificate's fields plus revocation, revoked_at, crl_issued.
nlohmann::ordered_json ChainJson(const std::vector<CertificateStatus>& chain);
nlohmann::ordered_json HpkiJson(const HpkiProfile& p);
// Text for a report: names come from certificates, so invalid UTF-8 is replaced, never thrown.
std::string Dump(const nlohmann::ordered_json& j, int indent = 2);

}  // namespace hokan::signature_internal
