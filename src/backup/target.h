// Where snapshots go. A target holds sealed objects (named by their object id, written once)
// and snapshot manifests (written once, last, so a manifest's presence marks a complete
// snapshot). Nothing here decrypts: a target — a removable disk, another volume, or the
// append-only vault on another machine — never sees a key. Format: docs/formats/backup.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace hokan::backup {

// True for a snapshot id: "YYYYMMDDTHHMMSS.mmmZ-" + 8 lower-case hex (UTC; sorts by time).
bool IsSnapshotId(std::string_view id);
// True for an object id: 64 lower-case hex.
bool IsObjectId(std::string_view id);

class BackupTarget {
 public:
  virtual ~BackupTarget() = default;
  // What to print in messages ("directory /mnt/backup", "vault https://…").
  virtual std::string Describe() const = 0;

  virtual Result<bool> HasObject(const std::string& id) = 0;
  // Durable when this returns. An id that is already present is left alone (objects never
  // change; the manifest records each sealed object's SHA-256, so verify catches a swap).
  virtual Status PutObject(const std::string& id, ByteView sealed) = 0;
  // kNotFound when missing.
  virtual Result<Bytes> GetObject(const std::string& id) = 0;
  // Makes every object put so far durable (the directory target syncs shard directories
  // once per run instead of once per object). Called before a manifest is put.
  virtual Status Flush() = 0;

  // Snapshot ids, oldest first.
  virtual Result<std::vector<std::string>> ListSnapshots() = 0;
  // kAlreadyExists when the id is taken: manifests are never replaced.
  virtual Status PutSnapshot(const std::string& id, ByteView manifest) = 0;
  // kNotFound when missing.
  virtual Result<Bytes> GetSnapshot(const std::string& id) = 0;
};

// A directory (another volume, removable media):
//   T/HOKAN-BACKUP             marker: "hokan backup target v1\n"
//   T/objects/<xx>/<id>        sealed objects, xx = first two characters of the id
//   T/snapshots/<id>.manifest  manifests
// Open() creates the layout in a missing or empty directory; refuses a non-empty directory
// that is not a target (kFailedPrecondition), so a wrong path never mixes backups into data.
class DirectoryTarget final : public BackupTarget {
 public:
  static Result<std::unique_ptr<DirectoryTarget>> Open(FileSystem& fs, const std::string& dir,
                                                       bool create);
  std::string Describe() const override { return "directory " + dir_; }
  Result<bool> HasObject(const std::string& id) override;
  Status PutObject(const std::string& id, ByteView sealed) override;
  Result<Bytes> GetObject(const std::string& id) override;
  Status Flush() override;
  Result<std::vector<std::string>> ListSnapshots() override;
  Status PutSnapshot(const std::string& id, ByteView manifest) override;
  Result<Bytes> GetSnapshot(const std::string& id) override;

  const std::string& dir() const { return dir_; }
  std::string ObjectPath(const std::string& id) const;
  std::string SnapshotPath(const std::string& id) const;

 private:
  DirectoryTarget(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}
  Status EnsureShard(const std::string& shard);
  // Writes dir/name via a temporary name: the final name only ever holds complete, synced
  // bytes. Syncs `dir` only when `sync_dir`.
  Status WriteOnce(const std::string& dir, const std::string& name, ByteView bytes, bool sync_dir);

  FileSystem& fs_;
  const std::string dir_;
  std::vector<std::string> unsynced_shards_;
  std::vector<std::string> known_shards_;
};

}  // namespace hokan::backup
