// Backups of an open store (issue 6; G-6.10-C4f, G-6.10-B1, G-CL-3.2): snapshot while the
// store keeps serving, verification, restore into a new directory that is verified before it
// is declared usable, and drills that measure recovery time and point. Every run is audited
// (backup.run, backup.verify, backup.restore, backup.drill). docs/backup.md.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "backup/backup_key.h"
#include "backup/restore.h"
#include "backup/snapshot.h"
#include "backup/target.h"
#include "backup/verify.h"
#include "service/archive.h"

namespace hokan {

// D/keys/backup.key (docs/formats/backup.md).
inline constexpr std::string_view kBackupKeyFile = "keys/backup.key";

struct BackupKeyInfo {
  backup::BackupKey key;
  // Set only when the key was created by this call: the recovery key to show once.
  std::string new_recovery_key;
};
// The store's backup key; created (0600) when missing and `create`.
Result<BackupKeyInfo> OpenBackupKey(Archive& archive, bool create);

struct BackupRunReport {
  backup::WriteResult write;
  std::string target;
  std::string new_recovery_key;  // Non-empty on the first run (key just created).
  std::vector<std::string> warnings;
  double seconds = 0;
};

Result<BackupRunReport> RunBackup(Archive& archive, const Actor& actor,
                                  backup::BackupTarget& target,
                                  const backup::ProgressFn& progress = {});

// Audited in `archive` when one is given (the store whose backups these are).
Result<backup::TargetCheck> VerifyBackups(Archive* archive, const Actor& actor,
                                          backup::BackupTarget& target,
                                          const backup::VerifyOptions& options);

struct RestoreReport {
  backup::RestoreResult restore;
  VerifySummary verify;
  std::string dir;
  bool usable = false;
  std::string problem;  // Why not usable.
  double seconds = 0;
};

// Restores into `staging` (a new directory), opens and verifies the restored store (every
// version, row, blob, the audit log, and that the log's tree at the snapshot's checkpoint has
// the manifest's root), records backup.restore in the restored store's own audit log, and
// only then renames it to `to`. On failure the staging directory is left for inspection and
// `usable` is false.
Result<RestoreReport> RestoreBackup(Env& env, const Actor& actor, backup::BackupTarget& target,
                                    const std::string& snapshot_id, const backup::BackupKey& key,
                                    const std::string& to, VerifySink& sink,
                                    const backup::ProgressFn& progress = {});

struct DrillReport {
  std::string snapshot_id;
  RestoreReport restore;
  // Recovery time: restore + verification. Recovery point: how old the snapshot's data is.
  double recovery_time_seconds = 0;
  double recovery_point_seconds = 0;
  std::string evidence_path;  // D/drills/<time>.json
};

// Restores the newest snapshot of `archive`'s store on the target into a scratch directory,
// verifies it, measures, removes the scratch copy and keeps the report as evidence.
Result<DrillReport> DrillBackup(Archive& archive, const Actor& actor, backup::BackupTarget& target,
                                const std::string& scratch_root, VerifySink& sink,
                                const backup::ProgressFn& progress = {});

// The last backup run per target and the last drill, as JSON (D/backup-status.json;
// docs/backup.md).
Result<std::string> BackupStatusJson(Archive& archive);

}  // namespace hokan
