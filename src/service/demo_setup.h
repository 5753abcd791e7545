// What `hokan demo` adds for e-signatures (issue 4): a development PKI in HPKI's shape whose
// root and CRLs the demo store trusts, the development TSA, and a server-side signing key for
// a demo physician, so confirming (確定) can be tried at once. Demo stores only.
#pragma once

#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "service/api_service.h"
#include "service/config.h"

namespace hokan {

struct DemoHpki;  // The development PKI's certificates and keys (in memory).

// The [signature] settings of a demo store: development TSA, trust in keys/demo-hpki/.
void ConfigureDemoSigning(Config& config);
// Makes the PKI and writes its root and CRLs where ConfigureDemoSigning points (before the
// ApiService is opened: it reads them).
Result<std::shared_ptr<DemoHpki>> WriteDemoHpki(Env& env, const std::string& dir);
// Gives `user_id` the PKI's "Medical Doctor" signing certificate, bound to them, and an
// encrypted key file for server-side signing; returns its one-time passphrase.
Result<std::string> InstallDemoSigner(ApiService& api, const Actor& local, const DemoHpki& pki,
                                      const std::string& user_id);

}  // namespace hokan
