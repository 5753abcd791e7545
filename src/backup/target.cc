#include "backup/target.h"

#include <algorithm>

#include "crypto/crypto.h"

namespace hokan::backup {
namespace {

constexpr std::string_view kMarker = "HOKAN-BACKUP";
constexpr std::string_view kMarkerText = "hokan backup target v1\n";
constexpr std::string_view kManifestSuffix = ".manifest";

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool IsSnapshotId(std::string_view id) {
  // 20261124T233000.123Z-0a1b2c3d
  if (id.size() != 29 || id[8] != 'T' || id[15] != '.' || id[19] != 'Z' || id[20] != '-') {
    return false;
  }
  for (std::size_t i = 0; i < 19; ++i) {
    if (i == 8 || i == 15) continue;
    if (id[i] < '0' || id[i] > '9') return false;
  }
  return IsLowerHex(id.substr(21));
}

bool IsObjectId(std::string_view id) { return id.size() == 64 && IsLowerHex(id); }

Result<std::unique_ptr<DirectoryTarget>> DirectoryTarget::Open(FileSystem& fs,
                                                               const std::string& dir,
                                                               bool create) {
  if (dir.empty()) return InvalidArgumentError("the backup target directory is empty");
  std::unique_ptr<DirectoryTarget> t(new DirectoryTarget(fs, dir));
  Result<Bytes> marker = fs.ReadFile(JoinPath(dir, std::string(kMarker)));
  if (marker) {
    if (AsChars(*marker) != kMarkerText) {
      return FailedPreconditionError(dir + "/" + std::string(kMarker) +
                                     " is not a hokan backup target marker of a known version");
    }
    return t;
  }
  if (marker.error().code() != StatusCode::kNotFound) return marker.error();
  if (!create) {
    return NotFoundError(dir + " is not a hokan backup target (no " + std::string(kMarker) + ")");
  }
  Result<FileInfo> info = fs.Stat(dir);
  if (!info) {
    if (info.error().code() != StatusCode::kNotFound) return info.error();
    HK_RETURN_IF_ERROR(fs.CreateDir(dir).WithContext("create backup target " + dir));
    HK_RETURN_IF_ERROR(fs.SyncDir(DirName(dir)));
  } else {
    if (!info->is_directory) return InvalidArgumentError(dir + " is not a directory");
    HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
    // lost+found: a freshly formatted removable disk.
    names.erase(std::remove(names.begin(), names.end(), "lost+found"), names.end());
    if (!names.empty()) {
      return FailedPreconditionError(dir +
                                     " is not empty and not a hokan backup target; give an "
                                     "empty directory or an existing target");
    }
  }
  for (const char* sub : {"objects", "snapshots"}) {
    Status st = fs.CreateDir(JoinPath(dir, sub));
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
  }
  HK_RETURN_IF_ERROR(fs.SyncDir(dir));
  // The marker last: a directory with it has the whole layout.
  HK_RETURN_IF_ERROR(t->WriteOnce(dir, std::string(kMarker), AsBytes(kMarkerText), true));
  return t;
}

std::string DirectoryTarget::ObjectPath(const std::string& id) const {
  return JoinPath(JoinPath(JoinPath(dir_, "objects"), id.substr(0, 2)), id);
}

std::string DirectoryTarget::SnapshotPath(const std::string& id) const {
  return JoinPath(JoinPath(dir_, "snapshots"), id + std::string(kManifestSuffix));
}

Result<bool> DirectoryTarget::HasObject(const std::string& id) {
  if (!IsObjectId(id)) return InvalidArgumentError("not a backup object id");
  Result<FileInfo> info = fs_.Stat(ObjectPath(id));
  if (info) return true;
  if (info.error().code() == StatusCode::kNotFound) return false;
  return info.error();
}

Status DirectoryTarget::EnsureShard(const std::string& shard) {
  if (std::find(known_shards_.begin(), known_shards_.end(), shard) != known_shards_.end()) {
    return OkStatus();
  }
  const std::string objects = JoinPath(dir_, "objects");
  Status st = fs_.CreateDir(JoinPath(objects, shard));
  if (st.ok()) {
    HK_RETURN_IF_ERROR(fs_.SyncDir(objects));
  } else if (st.code() != StatusCode::kAlreadyExists) {
    return st;
  }
  known_shards_.push_back(shard);
  return OkStatus();
}

Status DirectoryTarget::WriteOnce(const std::string& dir, const std::string& name, ByteView bytes,
                                  bool sync_dir) {
  HK_ASSIGN_OR_RETURN(const std::string suffix, RandomHexId(8));
  const std::string tmp = JoinPath(dir, "." + name + ".tmp-" + suffix);
  {
    HK_ASSIGN_OR_RETURN(auto file, fs_.NewWritableFile(tmp));
    HK_RETURN_IF_ERROR(file->Append(bytes));
    HK_RETURN_IF_ERROR(file->Sync());  // Complete bytes before the final name exists.
    HK_RETURN_IF_ERROR(file->Close());
  }
  const std::string final_path = JoinPath(dir, name);
  if (fs_.Stat(final_path)) {
    (void)fs_.Remove(tmp);
    return AlreadyExistsError(final_path + " already exists");
  }
  HK_RETURN_IF_ERROR(fs_.Rename(tmp, final_path));
  if (sync_dir) return fs_.SyncDir(dir);
  return OkStatus();
}

Status DirectoryTarget::PutObject(const std::string& id, ByteView sealed) {
  if (!IsObjectId(id)) return InvalidArgumentError("not a backup object id");
  const std::string shard = id.substr(0, 2);
  HK_RETURN_IF_ERROR(EnsureShard(shard));
  Status st = WriteOnce(JoinPath(JoinPath(dir_, "objects"), shard), id, sealed, false);
  if (st.code() == StatusCode::kAlreadyExists) return OkStatus();
  HK_RETURN_IF_ERROR(st.WithContext("write backup object " + id));
  if (std::find(unsynced_shards_.begin(), unsynced_shards_.end(), shard) ==
      unsynced_shards_.end()) {
    unsynced_shards_.push_back(shard);
  }
  return OkStatus();
}

Result<Bytes> DirectoryTarget::GetObject(const std::string& id) {
  if (!IsObjectId(id)) return InvalidArgumentError("not a backup object id");
  Result<Bytes> b = fs_.ReadFile(ObjectPath(id));
  if (!b && b.error().code() == StatusCode::kNotFound) {
    return NotFoundError("backup object " + id + " is missing from " + Describe());
  }
  return b;
}

Status DirectoryTarget::Flush() {
  const std::string objects = JoinPath(dir_, "objects");
  for (const std::string& shard : unsynced_shards_) {
    HK_RETURN_IF_ERROR(fs_.SyncDir(JoinPath(objects, shard)));
  }
  unsynced_shards_.clear();
  return OkStatus();
}

Result<std::vector<std::string>> DirectoryTarget::ListSnapshots() {
  HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(JoinPath(dir_, "snapshots")));
  std::vector<std::string> ids;
  for (const std::string& n : names) {
    if (n.size() <= kManifestSuffix.size() ||
        n.substr(n.size() - kManifestSuffix.size()) != kManifestSuffix) {
      continue;  // Temporary files of an interrupted run; never a snapshot.
    }
    const std::string id = n.substr(0, n.size() - kManifestSuffix.size());
    if (IsSnapshotId(id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status DirectoryTarget::PutSnapshot(const std::string& id, ByteView manifest) {
  if (!IsSnapshotId(id)) return InvalidArgumentError("not a snapshot id");
  HK_RETURN_IF_ERROR(Flush());
  return WriteOnce(JoinPath(dir_, "snapshots"), id + std::string(kManifestSuffix), manifest, true)
      .WithContext("write snapshot manifest " + id);
}

Result<Bytes> DirectoryTarget::GetSnapshot(const std::string& id) {
  if (!IsSnapshotId(id)) {
    return InvalidArgumentError("'" + id +
                                "' is not a snapshot id (YYYYMMDDTHHMMSS.mmmZ-xxxxxxxx; see "
                                "`hokan backup list`)");
  }
  Result<Bytes> b = fs_.ReadFile(SnapshotPath(id));
  if (!b && b.error().code() == StatusCode::kNotFound) {
    return NotFoundError("snapshot " + id + " is not in " + Describe());
  }
  return b;
}

}  // namespace hokan::backup
