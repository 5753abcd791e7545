// The backup vault (`hokan vault`): an append-only store of snapshots on another machine,
// reached over TLS with client certificates (G-6.10-C4f). A hospital server's credentials can
// add objects and snapshots and read them back, never delete, overwrite or shorten retention;
// only the vault's operator, on the vault machine, prunes, and only snapshots past the
// minimum retention and outside the generations policy (daily/weekly/monthly). The vault
// never holds a backup key: it checks what it can without one (manifest signature, every
// object present with the bytes the manifest names) before it accepts a snapshot.
//
// Layout (docs/formats/backup.md, "Vault"):
//   V/vault.toml                     configuration (listen address, retention)
//   V/keys/ca.crt, ca.key            the vault's CA: issues client and server certificates
//   V/keys/tls.crt, tls.key          the server certificate
//   V/clients/<name>.json            registered clients (certificate fingerprint)
//   V/data/<name>/                   each client's own backup target (backup/target.h)
//   V/vault.log                      append-only JSON lines: every request and prune
//
// Thread-safe (one mutex around each client's target).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backup/target.h"
#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"

namespace hokan {

struct VaultRetention {
  int keep_last = 7;      // The newest N snapshots.
  int keep_daily = 14;    // The newest snapshot of each of the last N days that have one.
  int keep_weekly = 8;    // … of each of the last N weeks.
  int keep_monthly = 24;  // … of each of the last N months.
  int min_days = 30;      // Nothing younger than this is ever removed (WORM period).
};

struct VaultConfig {
  std::string listen = "0.0.0.0:8730";
  VaultRetention retention;
  std::uint64_t max_object_bytes = 256ull << 20;
};

struct VaultClientCredentials {
  std::string name;
  std::string cert_pem;
  std::string key_pem;  // Secret.
  std::string ca_pem;   // The vault's CA: the client pins it.
  std::string fingerprint;
};

struct PruneReport {
  std::vector<std::string> removed;  // "<client>/<snapshot id>"
  std::vector<std::string> kept;
  std::uint64_t objects_removed = 0;
  std::uint64_t bytes_removed = 0;
};

class Vault {
 public:
  // Creates V (missing or empty): CA, server certificate for `hostnames` (plus localhost and
  // 127.0.0.1), configuration, layout.
  static Status Init(Env& env, const std::string& dir, const std::vector<std::string>& hostnames);
  static Result<std::unique_ptr<Vault>> Open(Env& env, const std::string& dir);

  // Issues a client certificate and registers it. kAlreadyExists when the name is taken.
  Result<VaultClientCredentials> AddClient(const std::string& name);
  // The client a verified certificate belongs to; kPermissionDenied when none.
  Result<std::string> ClientFor(const std::string& cert_sha256);

  // What a client may do (each call is logged).
  Result<bool> HasObject(const std::string& client, const std::string& id);
  Status PutObject(const std::string& client, const std::string& id, ByteView sealed);
  Result<Bytes> GetObject(const std::string& client, const std::string& id);
  Status Flush(const std::string& client);
  Result<std::vector<std::string>> ListSnapshots(const std::string& client);
  // Refused unless the manifest's signature verifies under the audit key of the client's
  // earlier snapshots and every object it names is present with the named bytes.
  Status PutSnapshot(const std::string& client, const std::string& id, ByteView manifest);
  Result<Bytes> GetSnapshot(const std::string& client, const std::string& id);
  // Logs a refused request (a delete, an overwrite) and returns the error to send.
  Status Refuse(const std::string& client, const std::string& what);

  // The operator's prune, run on the vault machine (never over the network).
  Result<PruneReport> Prune(bool dry_run);

  const VaultConfig& config() const { return config_; }
  std::string tls_cert_file() const;
  std::string tls_key_file() const;
  std::string ca_file() const;
  const std::string& dir() const { return dir_; }

 private:
  Vault(Env& env, std::string dir, VaultConfig config);
  Result<backup::DirectoryTarget*> TargetFor(const std::string& client) HK_REQUIRES(mu_);
  void Log(const std::string& client, std::string_view action, const std::string& object,
           const Status& outcome);

  Env& env_;
  const std::string dir_;
  const VaultConfig config_;
  Mutex mu_;
  std::map<std::string, std::unique_ptr<backup::DirectoryTarget>> targets_ HK_GUARDED_BY(mu_);
  std::map<std::string, std::string> clients_ HK_GUARDED_BY(mu_);  // fingerprint -> name
  Mutex log_mu_;
};

// Writes DIR/ca.crt, DIR/client.crt and DIR/client.key (0600; DIR must not exist): what the
// hospital server needs in D/keys/vault/. kAlreadyExists when DIR exists.
Status WriteVaultCredentials(FileSystem& fs, const VaultClientCredentials& c,
                             const std::string& dir);

// Parses vault.toml. kInvalidArgument naming the key.
Result<VaultConfig> ParseVaultConfig(std::string_view text, const std::string& path);

}  // namespace hokan
