// The backup key: 32 random bytes, separate from the store's KEK, that encrypt and
// authenticate everything a snapshot holds (docs/formats/backup.md). The store keeps it in
// keys/backup.key so backups run unattended; the same key, written as a recovery key, is
// shown once for offline escrow, because after a ransomware attack the data directory (and
// the key file in it) may be gone.
//
// Recovery key text (also the key file's one non-comment line):
//   hkb1-<8 hex>-<8 hex>-<8 hex>-<8 hex>-<8 hex>-<8 hex>-<8 hex>-<8 hex>-<4 hex checksum>
// checksum = hex(SHA-256("hokan backup key v1" || key)[0:2]): a mistyped key is named as such.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"
#include "crypto/crypto.h"

namespace hokan::backup {

class BackupKey {
 public:
  static Result<BackupKey> Generate();
  // kInvalidArgument naming what is wrong (format, checksum) — never echoing the text.
  static Result<BackupKey> FromRecoveryKey(std::string_view text);

  // The recovery key text (secret).
  std::string RecoveryKey() const;
  // Public fingerprint: "bk-" + 16 hex. Manifests carry it so a wrong key is named as such.
  std::string Id() const;

  // Object ids: hex(HMAC(id key, identity)).
  std::string ObjectId(std::string_view identity) const;
  // AES-256-GCM under the object key, bound to the object id.
  Result<Bytes> Seal(std::string_view object_id, ByteView plaintext) const;
  // kDataLoss when the object was changed or sealed under another key.
  Result<Bytes> Open(std::string_view object_id, ByteView sealed) const;
  // HMAC over a manifest body.
  Sha256Digest ManifestMac(ByteView body) const;
  bool VerifyManifestMac(ByteView body, ByteView mac) const;

 private:
  explicit BackupKey(SecretBytes key);
  SecretBytes key_;
  SecretBytes object_key_;
  std::shared_ptr<HmacSha256> id_mac_;
  std::shared_ptr<HmacSha256> manifest_mac_;
};

// keys/backup.key: comment lines, then the recovery key line. Created 0600.
Result<BackupKey> CreateBackupKeyFile(FileSystem& fs, const std::string& path);
// kNotFound when missing; kPermissionDenied when others may read it; kInvalidArgument when
// malformed.
Result<BackupKey> ReadBackupKeyFile(FileSystem& fs, const std::string& path);

}  // namespace hokan::backup
