// The vault over HTTPS (service/vault.h): the server side's handler, and the client side's
// backup target. Wire format (docs/formats/backup.md, "Vault protocol"), every request with
// a client certificate the vault issued:
//   GET  /vault/v1/objects/<id>          the sealed object (404 when missing)
//   GET  /vault/v1/objects/<id>/exists   {"exists": true|false}
//   PUT  /vault/v1/objects/<id>          store once (an existing id is left alone)
//   POST /vault/v1/flush                 make the objects put so far durable
//   GET  /vault/v1/snapshots             {"snapshots": [ids, oldest first]}
//   GET  /vault/v1/snapshots/<id>        the manifest
//   PUT  /vault/v1/snapshots/<id>        add a snapshot (409 when the id exists)
//   GET  /vault/v1/retention             the vault's retention policy
// Anything that would delete or replace (DELETE, PUT over a snapshot, a retention change)
// is refused with 403 and logged.
#pragma once

#include <memory>
#include <string>

#include "http/http.h"
#include "service/backup.h"
#include "service/vault.h"

namespace hokan {

// For Server::Start with the vault's TLS options (client certificates required).
std::function<HttpResponse(HttpRequest&)> MakeVaultHandler(Vault& vault);

struct VaultCredentials {
  std::string ca_file;    // The vault's CA (pinned: the vault's certificate must chain to it).
  std::string cert_file;  // The client certificate `hokan vault add-client` issued, and its key.
  std::string key_file;
};

// A backup target on a vault: `url` is https://HOST:PORT[/]. Connects on first use;
// kUnavailable when the vault cannot be reached.
Result<std::unique_ptr<backup::BackupTarget>> OpenVaultTarget(const std::string& url,
                                                              const VaultCredentials& credentials);

}  // namespace hokan
