// Taking a snapshot of a data directory onto a target, and reading snapshots back (verify,
// restore). The service layer supplies what needs the open store: a consistent copy of the
// metadata database, the audit checkpoint and its consistency proofs.
//
// Crash safety: objects are written first (each complete and synced under a temporary name
// before it gets its final one), then the target is flushed, then the manifest is written
// the same way. A snapshot is listed only when its manifest exists, and a manifest names only
// objects that were durable before it: an interrupted run leaves unreferenced objects (the
// next run reuses them after checking them) and never a snapshot that looks complete but is
// not.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "backup/backup_key.h"
#include "backup/manifest.h"
#include "backup/target.h"
#include "base/env.h"
#include "base/status.h"
#include "crypto/crypto.h"

namespace hokan::backup {

struct Progress {
  std::string phase;  // "scan", "upload", "verify", "restore".
  std::uint64_t done_files = 0;
  std::uint64_t total_files = 0;
  std::uint64_t done_bytes = 0;
  std::uint64_t total_bytes = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

struct SnapshotSource {
  std::string data_dir;      // Absolute.
  std::string db_copy_path;  // A consistent copy of metadata.db (Database::CopyTo).
  std::string store_id;
  std::string host;
  std::uint64_t versions = 0;
  std::uint64_t audit_entries = 0;
};

struct AuditBinding {
  std::string origin;
  Bytes public_key;
  std::string checkpoint;  // Signed note of the checkpoint written for this snapshot.
  std::uint64_t tree_size = 0;
  merkle::Hash root{};
  // PROOF(old_size, D[tree_size]) from the live log.
  std::function<Result<std::vector<merkle::Hash>>(std::uint64_t old_size)> prove_consistency;
};

struct WriteOptions {
  // Small pieces: new rows touch index pages all over the database, and a 1 MiB piece with
  // one changed page is sent again whole (measured: 1 % new versions changed every 1 MiB piece
  // of a 128 MB database, and only about a tenth of its 16 KiB pieces).
  std::size_t db_piece_size = 16 << 10;
  ProgressFn progress;
};

struct WriteResult {
  Manifest manifest;
  std::uint64_t objects_written = 0;
  std::uint64_t bytes_written = 0;  // Sealed bytes sent to the target.
  std::uint64_t objects_reused = 0;
  std::uint64_t bytes_reused = 0;  // Plaintext bytes already on the target.
  // Why an earlier snapshot could not serve as the base ("" when it could or there is none).
  std::string base_warning;
};

// `fs` holds the data directory (and the copy). `signer` is the store's audit key.
Result<WriteResult> WriteSnapshot(FileSystem& fs, Clock& clock, const SnapshotSource& source,
                                  const AuditBinding& audit, const BackupKey& key,
                                  const SigningKey& signer, BackupTarget& target,
                                  const WriteOptions& options = {});

// The newest snapshot of `store_id` on the target whose manifest verifies under `key` (nullopt
// when there is none). Snapshots that do not verify are skipped and named in `skipped`.
Result<std::optional<ParsedManifest>> LatestSnapshot(BackupTarget& target,
                                                     const std::string& store_id,
                                                     const BackupKey& key,
                                                     std::vector<std::string>* skipped);

}  // namespace hokan::backup
