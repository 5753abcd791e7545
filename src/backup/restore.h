// Writing a snapshot's files into a new directory. Every object is checked against the
// manifest (sealed bytes, decryption, plaintext hash) before its bytes are written; the
// manifest's MAC must verify under the key first, so a forged manifest writes nothing.
// hokan.toml is written last: a directory without it is not a store (Archive::Open says so).
// Whether the restored store is usable is the service layer's call (it opens and verifies it).
#pragma once

#include <string>

#include "backup/backup_key.h"
#include "backup/manifest.h"
#include "backup/snapshot.h"
#include "backup/target.h"
#include "base/env.h"
#include "base/status.h"

namespace hokan::backup {

struct RestoreResult {
  Manifest manifest;
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// `dir` must be missing or empty; it is created. kDataLoss naming the first object that does
// not check out (nothing after it is written; the directory is left for inspection).
Result<RestoreResult> RestoreSnapshot(BackupTarget& target, const std::string& snapshot_id,
                                      const BackupKey& key, FileSystem& fs, const std::string& dir,
                                      const ProgressFn& progress = {});

}  // namespace hokan::backup
