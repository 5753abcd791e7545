// Internal helpers between cades.cc and evidence.cc.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "signature/evidence.h"

namespace hokan::signature_internal {

// The certificates inside a CMS signature and inside its signature-timestamp token (DER).
Result<std::vector<Bytes>> EmbeddedCertificates(ByteView cms);

// From `pool` (PEM or DER buffers), the certificates whose SHA-256 is in `wanted` (in that
// order, each once), and from `crl_pool` the CRLs issued by one of them (DER).
Result<ValidationData> SelectValidationData(const std::vector<Bytes>& pool,
                                            const std::vector<std::string>& wanted,
                                            const std::vector<Bytes>& crl_pool);

}  // namespace hokan::signature_internal
