// Checking what a target holds, with or without the backup key.
//
// Without the key (anyone, the vault's operator included): every manifest parses and its
// signature verifies under the audit key the target's first snapshot of that store names;
// every object is present and its sealed bytes hash to what the manifest says; each
// snapshot's audit checkpoint verifies and its consistency proof leads from the previous
// snapshot's tree to its own. With the key, also: every manifest's MAC, and every object
// decrypts and its plaintext hashes to what the manifest says ("full"), or a random sample
// of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backup/backup_key.h"
#include "backup/snapshot.h"
#include "backup/target.h"
#include "base/status.h"

namespace hokan::backup {

struct VerifyOptions {
  const BackupKey* key = nullptr;  // Null: only what needs no key.
  // Share of objects decrypted and hashed (1 = all, "full"); the rest are checked for
  // presence and size only. Each object is read at most once per run.
  double sample = 1.0;
  std::optional<std::string> only_snapshot;
  ProgressFn progress;
};

struct SnapshotCheck {
  std::string snapshot_id;
  std::string store_id;
  std::string created_at;
  std::uint64_t objects = 0;
  std::uint64_t bytes = 0;  // Plaintext.
  std::uint64_t versions = 0;
  std::uint64_t audit_entries = 0;
  std::uint64_t decrypted = 0;  // Objects decrypted and hashed.
  bool mac_checked = false;
  // "first", "consistent with <id>", "previous snapshot <id> no longer on the target", or a
  // problem (also in `problems`).
  std::string audit;
  std::vector<std::string> problems;  // Each names the object or check that failed.
  bool ok() const { return problems.empty(); }
};

struct TargetCheck {
  std::vector<SnapshotCheck> snapshots;
  std::uint64_t objects_checked = 0;
  bool ok() const;
};

Result<TargetCheck> VerifyTarget(BackupTarget& target, const VerifyOptions& options);

}  // namespace hokan::backup
