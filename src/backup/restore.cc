#include "backup/restore.h"

#include <set>

#include "base/encoding.h"
#include "store/atomic_write.h"

namespace hokan::backup {
namespace {

Status EnsureDirs(FileSystem& fs, const std::string& root, const std::string& rel,
                  std::set<std::string>& made) {
  std::string cur;
  std::size_t pos = 0;
  while ((pos = rel.find('/', pos)) != std::string::npos) {
    cur = rel.substr(0, pos);
    ++pos;
    if (made.count(cur) != 0) continue;
    const std::string path = JoinPath(root, cur);
    Status st = fs.CreateDir(path);
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
    HK_RETURN_IF_ERROR(fs.SyncDir(DirName(path)));
    made.insert(cur);
  }
  return OkStatus();
}

Result<Bytes> FetchChecked(BackupTarget& target, const BackupKey& key, const ManifestEntry& e) {
  Result<Bytes> sealed = target.GetObject(e.object);
  if (!sealed) {
    if (sealed.error().code() == StatusCode::kNotFound) {
      return DataLossError("object " + e.object + " (" + e.path + ") is missing from " +
                           target.Describe());
    }
    return sealed.error().WithContext("read object " + e.object);
  }
  if (sealed->size() != e.sealed_size || HexEncode(Sha256(*sealed)) != e.sealed_sha256) {
    return DataLossError("object " + e.object + " (" + e.path + ") is damaged: its bytes changed");
  }
  Result<Bytes> plain = key.Open(e.object, *sealed);
  if (!plain) {
    return DataLossError("object " + e.object + " (" + e.path + ") does not decrypt");
  }
  if (plain->size() != e.size || HexEncode(Sha256(*plain)) != e.sha256) {
    return DataLossError("object " + e.object + " (" + e.path +
                         ") decrypts to other content than the manifest names");
  }
  return plain;
}

}  // namespace

Result<RestoreResult> RestoreSnapshot(BackupTarget& target, const std::string& snapshot_id,
                                      const BackupKey& key, FileSystem& fs, const std::string& dir,
                                      const ProgressFn& progress) {
  HK_ASSIGN_OR_RETURN(Bytes bytes, target.GetSnapshot(snapshot_id));
  Result<ParsedManifest> parsed = ParseManifest(bytes);
  if (!parsed) return parsed.error().WithContext("snapshot " + snapshot_id);
  ParsedManifest& p = *parsed;
  if (p.manifest.key_id != key.Id()) {
    return PermissionDeniedError("snapshot " + snapshot_id + " was made with backup key " +
                                 p.manifest.key_id + ", not the given key " + key.Id());
  }
  if (!CheckMac(p, key) || !p.signature_ok || p.manifest.snapshot_id != snapshot_id) {
    return DataLossError("the manifest of snapshot " + snapshot_id +
                         " does not verify (forged or changed); nothing was restored");
  }
  const Manifest& m = p.manifest;

  Result<FileInfo> info = fs.Stat(dir);
  if (info) {
    if (!info->is_directory) return InvalidArgumentError(dir + " is not a directory");
    HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
    if (!names.empty()) {
      return FailedPreconditionError(dir + " is not empty; restore into a new directory");
    }
  } else if (info.error().code() == StatusCode::kNotFound) {
    HK_RETURN_IF_ERROR(fs.CreateDir(dir).WithContext("create " + dir));
    HK_RETURN_IF_ERROR(fs.SyncDir(DirName(dir)));
  } else {
    return info.error();
  }

  RestoreResult out;
  Progress pr{.phase = "restore", .total_files = m.entries.size(), .total_bytes = m.TotalSize()};
  std::set<std::string> made;
  std::unique_ptr<WritableFile> db;
  const ManifestEntry* config = nullptr;
  for (const ManifestEntry& e : m.entries) {
    if (e.path == "hokan.toml") {
      config = &e;
      continue;
    }
    HK_ASSIGN_OR_RETURN(Bytes plain, FetchChecked(target, key, e));
    if (e.kind == "db") {
      if (db == nullptr) {
        HK_ASSIGN_OR_RETURN(db, fs.NewWritableFile(JoinPath(dir, "metadata.db")));
        ++out.files;
      }
      HK_RETURN_IF_ERROR(db->Append(plain));
    } else {
      HK_RETURN_IF_ERROR(EnsureDirs(fs, dir, e.path, made));
      // Not synced one by one: one SyncAll below makes every file and name durable.
      Status st = [&]() -> Status {
        HK_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(JoinPath(dir, e.path)));
        HK_RETURN_IF_ERROR(file->Append(plain));
        return file->Close();
      }();
      HK_RETURN_IF_ERROR(st.WithContext("restore " + e.path));
      ++out.files;
    }
    out.bytes += e.size;
    ++pr.done_files;
    pr.done_bytes += e.size;
    if (progress) progress(pr);
  }
  if (db == nullptr) return DataLossError("snapshot " + snapshot_id + " holds no database");
  HK_RETURN_IF_ERROR(db->Close());
  HK_RETURN_IF_ERROR(fs.SyncAll(dir));
  if (config == nullptr) return DataLossError("snapshot " + snapshot_id + " holds no hokan.toml");
  HK_ASSIGN_OR_RETURN(Bytes toml, FetchChecked(target, key, *config));
  HK_RETURN_IF_ERROR(WriteNewFileDurably(fs, dir, "hokan.toml", toml));
  ++out.files;
  out.bytes += config->size;
  ++pr.done_files;
  pr.done_bytes += config->size;
  if (progress) progress(pr);
  out.manifest = m;
  return out;
}

}  // namespace hokan::backup
