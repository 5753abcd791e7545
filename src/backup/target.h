// Where snapshots go. A target holds sealed objects (named by their object id, written once)
// and snapshot manifests (written once, last, so a manifest's presence marks a complete
// snapshot). Nothing here decrypts: a target — a removable disk, another volume, or the
// append-only vault on another machine — never sees a key. Format: docs/formats/backup.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
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
  // Stores the object; durable after the next Flush(). An id that is already present is left
  // alone (objects never change; the manifest records each stored object's SHA-256, so
  // verify catches a swap).
  virtual Status PutObject(const std::string& id, ByteView sealed) = 0;
  // kNotFound when missing.
  virtual Result<Bytes> GetObject(const std::string& id) = 0;
  // Makes every object put so far durable. Called before a manifest is put.
  virtual Status Flush() = 0;

  // Snapshot ids, oldest first.
  virtual Result<std::vector<std::string>> ListSnapshots() = 0;
  // kAlreadyExists when the id is taken: manifests are never replaced.
  virtual Status PutSnapshot(const std::string& id, ByteView manifest) = 0;
  // kNotFound when missing.
  virtual Result<Bytes> GetSnapshot(const std::string& id) = 0;
};

// Where an object is stored on a directory target.
struct ObjectLocation {
  std::string pack_path;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// A directory (another volume, removable media). Objects are packed: many objects per file,
// so a run of 100,000 small objects costs tens of fsyncs, not 100,000.
//   T/HOKAN-BACKUP                   marker: "hokan backup target v1\n"
//   T/packs/<xx>/<pack id>.pack      sealed objects, back to back
//   T/packs/<xx>/<pack id>.index     "hokan-pack-index v1\n" then "<object id> <offset> <size>\n"
//                                    per object; written after the pack is durable, so an
//                                    index names only complete packs
//   T/snapshots/<id>.manifest        manifests
// Open() creates the layout in a missing or empty directory; refuses a non-empty directory
// that is not a target (kFailedPrecondition), so a wrong path never mixes backups into data.
// Not thread-safe.
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
  std::string SnapshotPath(const std::string& id) const;
  // nullopt when the object is not stored (objects not yet flushed are not located).
  Result<std::optional<ObjectLocation>> Locate(const std::string& id);
  // Removes the objects not in `needed` from packs older than `older_than` (uploads in
  // flight are younger): a pack with nothing needed is removed; a pack where what is not
  // needed is at least a tenth is rewritten with only what is, then removed. The vault's
  // prune; never over the network.
  struct PackRemoval {
    std::uint64_t packs = 0;    // Removed (after repacking what they still held).
    std::uint64_t objects = 0;  // Objects removed.
    std::uint64_t bytes = 0;
  };
  Result<PackRemoval> RemoveObjectsNotIn(const std::set<std::string>& needed,
                                         std::chrono::system_clock::time_point older_than);
  // Pack size at which a pack is written (tests make it small).
  void set_pack_bytes(std::size_t n) { pack_bytes_ = n; }

 private:
  DirectoryTarget(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}
  Status LoadIndex();
  Status ReloadIndex();
  Status WritePack();
  Status EnsureShard(const std::string& shard);
  Result<RandomAccessFile*> OpenPack(const std::string& path);

  FileSystem& fs_;
  const std::string dir_;
  std::size_t pack_bytes_ = 16 << 20;
  bool index_loaded_ = false;
  // Where each stored object is: its pack (an index into pack_paths_, so 100k objects do not
  // carry 100k copies of a path), offset and size.
  struct Slot {
    std::uint32_t pack = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };
  std::uint32_t AddPackPath(std::string path);
  std::vector<std::string> pack_paths_;
  std::unordered_map<std::string, Slot> index_;
  // The pack being filled: its bytes and the objects in it.
  Bytes pending_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>, std::less<>> pending_objects_;
  std::vector<std::string> unsynced_shards_;
  std::vector<std::string> known_shards_;
  // A few open packs (restore and verify read objects pack by pack).
  std::vector<std::pair<std::string, std::unique_ptr<RandomAccessFile>>> open_packs_;
};

}  // namespace hokan::backup
