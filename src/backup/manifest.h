// A snapshot's manifest: what the snapshot holds (every object, with the SHA-256 of its
// plaintext and of its sealed bytes), the audit checkpoint it is bound to, and the proof that
// the audit log at that checkpoint extends the previous snapshot's. Authenticated twice: an
// HMAC under the backup key (only the key holder can forge it) and an Ed25519 signature by the
// store's audit key (anyone can check it, the vault included). Format: docs/formats/backup.md.
//
//   hokan-backup-manifest v1\n
//   <body: one line of JSON>\n
//   mac <hex HMAC-SHA256(manifest key, body)>\n
//   signature <base64 Ed25519(audit key, body)>\n
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "backup/backup_key.h"
#include "base/status.h"
#include "crypto/crypto.h"

namespace hokan::backup {

struct ManifestEntry {
  // "db": a piece of metadata.db (pieces in order); "file": any other file, named by its
  // content; "blob" / "quarantine": immutable files under blobs/ and quarantine/, named by
  // their path (their names are random ids that are never reused).
  std::string kind;
  std::string path;  // Relative to the data directory ("blobs/ab/ab12…", "metadata.db").
  std::string object;
  std::uint64_t size = 0;
  std::string sha256;  // Hex, of the plaintext.
  std::uint64_t sealed_size = 0;
  std::string sealed_sha256;  // Hex, of the object as stored on the target.
};

struct Manifest {
  std::string snapshot_id;
  std::string store_id;
  std::string created_at;  // RFC 3339: the recovery point.
  std::string source_dir;  // The data directory it was taken from (absolute).
  std::string source_host;
  std::string key_id;  // BackupKey::Id().
  // The audit checkpoint written for this snapshot; the database copy was taken after it.
  std::string audit_origin;
  Bytes audit_public_key;  // Raw Ed25519.
  std::string checkpoint;  // The signed note.
  std::uint64_t tree_size = 0;
  merkle::Hash root{};
  // The previous snapshot of the same store on this target, and RFC 9162 consistency proof
  // from its tree to this one. "first", "consistent", or "inconsistent: <why>" — a snapshot
  // taken after the audit log was tampered with is still written (its data may be all there
  // is) but flagged here, and verify reports it.
  std::string previous_snapshot;
  std::uint64_t previous_tree_size = 0;
  merkle::Hash previous_root{};
  std::vector<merkle::Hash> consistency_proof;
  std::string audit_consistency = "first";
  // What the store held (for the report): versions and audit entries in the database copy.
  std::uint64_t versions = 0;
  std::uint64_t audit_entries = 0;
  std::vector<ManifestEntry> entries;

  std::uint64_t TotalSize() const;
};

// A relative path without "." / ".." components, control characters or backslashes: what a
// manifest may name (restore writes under the target directory only).
bool IsSafeRelativePath(std::string_view path);

// Serialises, MACs and signs.
Result<Bytes> EncodeManifest(const Manifest& m, const BackupKey& key, const SigningKey& signer);

struct ParsedManifest {
  Manifest manifest;
  std::string body;
  Bytes mac;
  Bytes signature;
  bool signature_ok = false;  // Against manifest.audit_public_key.
  // Set by CheckMac(): nullopt when no key was given.
  std::optional<bool> mac_ok;
};

// kDataLoss naming what is malformed. Checks the signature against the public key the body
// names (signature_ok); pinning that key is the caller's business.
Result<ParsedManifest> ParseManifest(ByteView bytes);
// True when the manifest was made with `key` and not changed since.
bool CheckMac(ParsedManifest& p, const BackupKey& key);

}  // namespace hokan::backup
