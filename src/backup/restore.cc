#include "backup/restore.h"

#include <set>

#include "base/encoding.h"
#include "base/parallel.h"
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

Result<Bytes> FetchSealed(BackupTarget& target, const ManifestEntry& e) {
  Result<Bytes> sealed = target.GetObject(e.object);
  if (!sealed) {
    if (sealed.error().code() == StatusCode::kNotFound) {
      return DataLossError("object " + e.object + " (" + e.path + ") is missing from " +
                           target.Describe());
    }
    return sealed.error().WithContext("read object " + e.object);
  }
  return sealed;
}

// The stored bytes against the manifest, then decrypted and checked again. Thread-safe.
Result<Bytes> OpenChecked(const BackupKey& key, const ManifestEntry& e, ByteView sealed) {
  if (sealed.size() != e.sealed_size || HexEncode(Sha256(sealed)) != e.sealed_sha256) {
    return DataLossError("object " + e.object + " (" + e.path + ") is damaged: its bytes changed");
  }
  Result<Bytes> plain = key.Open(e.object, sealed);
  if (!plain) {
    return DataLossError("object " + e.object + " (" + e.path + ") does not decrypt");
  }
  if (plain->size() != e.size || HexEncode(Sha256(*plain)) != e.sha256) {
    return DataLossError("object " + e.object + " (" + e.path +
                         ") decrypts to other content than the manifest names");
  }
  return plain;
}

Result<Bytes> FetchChecked(BackupTarget& target, const BackupKey& key, const ManifestEntry& e) {
  HK_ASSIGN_OR_RETURN(const Bytes sealed, FetchSealed(target, e));
  return OpenChecked(key, e, sealed);
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
  // In batches: this thread reads the stored objects (the target is not thread-safe) and
  // makes directories; every core checks, decrypts and writes files (100k blobs are 100k
  // file creations); database pieces are appended here, in order.
  struct Job {
    const ManifestEntry* entry = nullptr;
    Bytes sealed;
    Bytes plain;  // Database pieces only.
    Status status;
  };
  std::vector<Job> batch;
  std::uint64_t batch_bytes = 0;
  auto run_batch = [&]() -> Status {
    ParallelFor(batch.size(), [&](std::size_t i) {
      Job& j = batch[i];
      const ManifestEntry& e = *j.entry;
      Result<Bytes> plain = OpenChecked(key, e, j.sealed);
      if (!plain) {
        j.status = plain.error();
        return;
      }
      if (e.kind == "db") {
        j.plain = std::move(*plain);
        return;
      }
      // Not synced one by one: one SyncAll below makes every file and name durable.
      j.status = [&]() -> Status {
        HK_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(JoinPath(dir, e.path)));
        HK_RETURN_IF_ERROR(file->Append(*plain));
        return file->Close();
      }()
                              .WithContext("restore " + e.path);
    });
    for (Job& j : batch) {
      HK_RETURN_IF_ERROR(j.status);
      const ManifestEntry& e = *j.entry;
      if (e.kind == "db") {
        if (db == nullptr) {
          HK_ASSIGN_OR_RETURN(db, fs.NewWritableFile(JoinPath(dir, "metadata.db")));
          ++out.files;
        }
        HK_RETURN_IF_ERROR(db->Append(j.plain));
      } else {
        ++out.files;
      }
      out.bytes += e.size;
      ++pr.done_files;
      pr.done_bytes += e.size;
      if (progress) progress(pr);
    }
    batch.clear();
    batch_bytes = 0;
    return OkStatus();
  };
  constexpr std::uint64_t kBatchBytes = 16 << 20;
  constexpr std::size_t kBatchJobs = 512;
  for (const ManifestEntry& e : m.entries) {
    if (e.path == "hokan.toml") {
      config = &e;
      continue;
    }
    HK_ASSIGN_OR_RETURN(Bytes sealed, FetchSealed(target, e));
    if (e.kind != "db") HK_RETURN_IF_ERROR(EnsureDirs(fs, dir, e.path, made));
    batch_bytes += sealed.size();
    batch.push_back(Job{.entry = &e, .sealed = std::move(sealed)});
    if (batch_bytes >= kBatchBytes || batch.size() >= kBatchJobs) HK_RETURN_IF_ERROR(run_batch());
  }
  HK_RETURN_IF_ERROR(run_batch());
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
