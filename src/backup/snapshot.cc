#include "backup/snapshot.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <unordered_map>

#include "base/encoding.h"
#include "base/parallel.h"
#include "base/time.h"

namespace hokan::backup {
namespace {

// Files of the data directory that are not copied as they are: the live database (its
// consistent copy is), SQLite's side files, temporary files of interrupted writes.
bool Skipped(const std::string& rel, const std::string& name) {
  if (rel == "metadata.db" || rel == "metadata.db-wal" || rel == "metadata.db-shm" ||
      rel == "metadata.db-journal") {
    return true;
  }
  if (name.empty() || name[0] == '.') return true;  // Our own temporaries, editors' files.
  return name.size() > 4 && name.substr(name.size() - 4) == ".tmp";
}

struct SourceFile {
  std::string rel;
  std::string kind;  // "blob", "quarantine", "file".
  std::uint64_t size = 0;
};

// Immutable files (blobs, quarantined originals) the base snapshot already holds, by path,
// with their size: they are not even stat()ed again (a 100k-version store is 100k files).
using KnownSize = std::function<std::optional<std::uint64_t>(std::string_view rel)>;

Status Walk(FileSystem& fs, const std::string& root, const std::string& rel,
            const std::string& skip_path, const KnownSize& known, std::vector<SourceFile>& out) {
  const std::string dir = rel.empty() ? root : JoinPath(root, rel);
  HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  for (const std::string& name : names) {
    std::string r = rel;
    if (!r.empty()) r += '/';
    r += name;
    const std::string top = r.substr(0, r.find('/'));
    const std::string kind = top == "blobs" && r.find('/') != std::string::npos ? "blob"
                             : top == "quarantine" && r.find('/') != std::string::npos
                                 ? "quarantine"
                                 : "file";
    if (std::optional<std::uint64_t> size = known(r)) {
      out.push_back(SourceFile{r, kind, *size});
      continue;
    }
    const std::string path = JoinPath(root, r);
    if (path == skip_path || Skipped(r, name)) continue;
    Result<FileInfo> info = fs.Stat(path);
    if (!info) {
      if (info.error().code() == StatusCode::kNotFound) continue;  // Swept meanwhile.
      return info.error();
    }
    if (info->is_directory) {
      HK_RETURN_IF_ERROR(Walk(fs, root, r, skip_path, known, out));
      continue;
    }
    out.push_back(SourceFile{r, kind, info->size});
  }
  return OkStatus();
}

std::string SnapshotIdAt(std::chrono::system_clock::time_point t, const std::string& suffix) {
  // "2026-11-24T23:30:00.123Z" -> "20261124T233000.123Z".
  const std::string r = FormatRfc3339(t);
  std::string id;
  for (char c : r.substr(0, 19)) {
    if (c != '-' && c != ':') id.push_back(c);
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ-", static_cast<int>(ms));
  return id + frac + suffix;
}

class Uploader {
 public:
  // `base` must outlive the uploader: its entries are looked up in place, not copied (a
  // 100k-version store has 100k of them).
  Uploader(const BackupKey& key, BackupTarget& target, const std::optional<ParsedManifest>& base,
           WriteResult& result)
      : key_(key), target_(target), result_(result) {
    if (!base) return;
    by_object_.reserve(base->manifest.entries.size());
    by_path_.reserve(base->manifest.entries.size());
    for (const ManifestEntry& e : base->manifest.entries) {
      by_object_.emplace(e.object, &e);
      if (e.kind == "blob" || e.kind == "quarantine") by_path_.emplace(e.path, &e);
    }
  }

  // An immutable file already in the base snapshot, by path: no need to read it again.
  const ManifestEntry* Known(std::string_view rel) const {
    auto it = by_path_.find(rel);
    return it == by_path_.end() ? nullptr : it->second;
  }

  // An immutable file already in the base snapshot: no need to read it again.
  Result<std::optional<ManifestEntry>> Reuse(const SourceFile& f) {
    const ManifestEntry* known = Known(f.rel);
    using Out = std::optional<ManifestEntry>;
    if (known == nullptr || known->size != f.size) return Out();
    HK_ASSIGN_OR_RETURN(const bool present, target_.HasObject(known->object));
    if (!present) return Out();
    ++result_.objects_reused;
    result_.bytes_reused += f.size;
    return Out(*known);
  }

  // The work on one piece that needs no shared state: hashing, the object id, and sealing
  // unless the base snapshot already holds the same content. Runs on worker threads.
  struct Prepared {
    Status status;
    bool vanished = false;  // A blob the sweep removed while we ran.
    ManifestEntry entry;
    Bytes sealed;  // Empty when the base has it (reuse candidate).
  };
  void Prepare(const std::string& identity, ByteView plaintext, Prepared& p) const {
    ManifestEntry& e = p.entry;
    e.size = plaintext.size();
    e.sha256 = HexEncode(Sha256(plaintext));
    e.object = key_.ObjectId(identity.empty() ? "content\n" + e.sha256 : identity);
    if (const ManifestEntry* b = Find(e.object); b != nullptr && b->sha256 == e.sha256) {
      return;  // Probably on the target already; Commit checks.
    }
    Result<Bytes> sealed = key_.Seal(e.object, plaintext);
    if (!sealed) {
      p.status = sealed.error();
      return;
    }
    p.sealed = std::move(*sealed);
    e.sealed_size = p.sealed.size();
    e.sealed_sha256 = HexEncode(Sha256(p.sealed));
  }

  // Stores a prepared piece, unless an object with the same id is already there. Main thread.
  Result<ManifestEntry> Commit(Prepared& p, ByteView plaintext_if_needed) {
    ManifestEntry& e = p.entry;
    if (const ManifestEntry* b = Find(e.object); b != nullptr && b->sha256 == e.sha256) {
      HK_ASSIGN_OR_RETURN(const bool present, target_.HasObject(e.object));
      if (present) {
        e.sealed_size = b->sealed_size;
        e.sealed_sha256 = b->sealed_sha256;
        ++result_.objects_reused;
        result_.bytes_reused += e.size;
        return e;
      }
    }
    // Present but in no snapshot we trust (an interrupted run): use it only after checking it.
    HK_ASSIGN_OR_RETURN(const bool present, target_.HasObject(e.object));
    if (present) {
      Result<Bytes> sealed = target_.GetObject(e.object);
      if (sealed) {
        Result<Bytes> opened = key_.Open(e.object, *sealed);
        if (opened && HexEncode(Sha256(*opened)) == e.sha256) {
          e.sealed_size = sealed->size();
          e.sealed_sha256 = HexEncode(Sha256(*sealed));
          ++result_.objects_reused;
          result_.bytes_reused += e.size;
          added_.emplace(e.object, e);
          return e;
        }
      }
      return DataLossError("backup object " + e.object + " on " + target_.Describe() +
                           " is damaged and objects are never overwritten; run `hokan backup "
                           "verify` and move the target's damaged object aside");
    }
    if (p.sealed.empty()) {  // The base named it but the target lost it: seal it now.
      HK_ASSIGN_OR_RETURN(p.sealed, key_.Seal(e.object, plaintext_if_needed));
      e.sealed_size = p.sealed.size();
      e.sealed_sha256 = HexEncode(Sha256(p.sealed));
    }
    HK_RETURN_IF_ERROR(target_.PutObject(e.object, p.sealed));
    ++result_.objects_written;
    result_.bytes_written += p.sealed.size();
    added_.emplace(e.object, e);
    return e;
  }

 private:
  // An object of the base snapshot or stored earlier in this run. Worker threads call it
  // while the main thread is not committing (between batches), so `added_` is not changing.
  const ManifestEntry* Find(std::string_view object) const {
    if (auto it = by_object_.find(object); it != by_object_.end()) return it->second;
    if (auto it = added_.find(object); it != added_.end()) return &it->second;
    return nullptr;
  }

  const BackupKey& key_;
  BackupTarget& target_;
  WriteResult& result_;
  std::unordered_map<std::string_view, const ManifestEntry*> by_object_;
  std::unordered_map<std::string_view, const ManifestEntry*> by_path_;
  std::map<std::string, ManifestEntry, std::less<>> added_;
};

}  // namespace

Result<std::optional<ParsedManifest>> LatestSnapshot(BackupTarget& target,
                                                     const std::string& store_id,
                                                     const BackupKey& key,
                                                     std::vector<std::string>* skipped) {
  HK_ASSIGN_OR_RETURN(std::vector<std::string> ids, target.ListSnapshots());
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    Result<Bytes> bytes = target.GetSnapshot(*it);
    if (!bytes) {
      if (skipped != nullptr) skipped->push_back(*it + ": " + bytes.error().message());
      continue;
    }
    Result<ParsedManifest> p = ParseManifest(*bytes);
    if (!p) {
      if (skipped != nullptr) skipped->push_back(*it + ": " + p.error().message());
      continue;
    }
    if (p->manifest.store_id != store_id || p->manifest.key_id != key.Id()) continue;
    if (!CheckMac(*p, key) || !p->signature_ok || p->manifest.snapshot_id != *it) {
      if (skipped != nullptr) {
        skipped->push_back(*it + ": the manifest's MAC or signature does not verify");
      }
      continue;
    }
    return std::optional<ParsedManifest>(std::move(*p));
  }
  return std::optional<ParsedManifest>();
}

Result<WriteResult> WriteSnapshot(FileSystem& fs, Clock& clock, const SnapshotSource& source,
                                  const AuditBinding& audit, const BackupKey& key,
                                  const SigningKey& signer, BackupTarget& target,
                                  const WriteOptions& options) {
  WriteResult result;
  std::vector<std::string> skipped;
  HK_ASSIGN_OR_RETURN(std::optional<ParsedManifest> base,
                      LatestSnapshot(target, source.store_id, key, &skipped));
  if (!skipped.empty()) {
    result.base_warning =
        "snapshots that do not verify were not used as a base: " + skipped[0] +
        (skipped.size() > 1 ? " (and " + std::to_string(skipped.size() - 1) + " more)" : "");
  }

  Progress progress{.phase = "scan"};
  if (options.progress) options.progress(progress);
  std::vector<SourceFile> files;
  Uploader up(key, target, base, result);
  const KnownSize known = [&up](std::string_view rel) -> std::optional<std::uint64_t> {
    const ManifestEntry* e = up.Known(rel);
    if (e == nullptr) return std::nullopt;
    return e->size;
  };
  HK_RETURN_IF_ERROR(Walk(fs, source.data_dir, "", source.db_copy_path, known, files)
                         .WithContext("read data directory " + source.data_dir));
  HK_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> db,
                      fs.OpenRandomAccessFile(source.db_copy_path, false));
  HK_ASSIGN_OR_RETURN(const std::uint64_t db_size, db->Size());
  const std::size_t piece = std::max<std::size_t>(options.db_piece_size, 4096);
  progress.phase = "upload";
  progress.total_files = files.size() + (db_size + piece - 1) / piece;
  progress.total_bytes = db_size;
  for (const SourceFile& f : files) progress.total_bytes += f.size;

  Manifest& m = result.manifest;
  auto tick = [&](std::uint64_t bytes) {
    ++progress.done_files;
    progress.done_bytes += bytes;
    if (options.progress) options.progress(progress);
  };
  // Pieces are prepared in batches on every core (hashing and sealing dominate a full
  // backup), then committed in order on this thread, which alone touches the target.
  struct Job {
    std::string kind;
    std::string rel;
    std::string identity;
    Bytes plain;
    bool read_file = false;
    Uploader::Prepared done;
  };
  std::vector<Job> batch;
  std::uint64_t batch_bytes = 0;
  auto run_batch = [&]() -> Status {
    ParallelFor(batch.size(), [&](std::size_t i) {
      Job& j = batch[i];
      if (j.read_file) {
        Result<Bytes> content = fs.ReadFile(JoinPath(source.data_dir, j.rel));
        if (!content) {
          if (content.error().code() == StatusCode::kNotFound && j.kind != "file") {
            j.done.vanished = true;  // An orphan the sweep removed; no row refers to it.
          } else {
            j.done.status = content.error().WithContext("read " + j.rel);
          }
          return;
        }
        j.plain = std::move(*content);
      }
      up.Prepare(j.identity, j.plain, j.done);
    });
    for (Job& j : batch) {
      if (j.done.vanished) continue;
      HK_RETURN_IF_ERROR(j.done.status);
      j.done.entry.kind = j.kind;
      j.done.entry.path = j.rel;
      HK_ASSIGN_OR_RETURN(ManifestEntry e, up.Commit(j.done, j.plain));
      m.entries.push_back(std::move(e));
      tick(j.plain.size());
    }
    batch.clear();
    batch_bytes = 0;
    return OkStatus();
  };
  constexpr std::uint64_t kBatchBytes = 16 << 20;
  constexpr std::size_t kBatchJobs = 512;
  for (std::uint64_t off = 0; off < db_size; off += piece) {
    Job j{.kind = "db", .rel = "metadata.db"};
    j.plain.resize(piece);
    HK_ASSIGN_OR_RETURN(const std::size_t n, db->Read(off, piece, j.plain.data()));
    if (n == 0) return DataLossError("the database copy ended early");
    j.plain.resize(n);
    batch_bytes += n;
    batch.push_back(std::move(j));
    if (batch_bytes >= kBatchBytes || batch.size() >= kBatchJobs) HK_RETURN_IF_ERROR(run_batch());
  }
  HK_RETURN_IF_ERROR(run_batch());
  for (const SourceFile& f : files) {
    HK_ASSIGN_OR_RETURN(std::optional<ManifestEntry> reused, up.Reuse(f));
    if (reused) {
      m.entries.push_back(std::move(*reused));
      tick(f.size);
      continue;
    }
    batch.push_back(Job{.kind = f.kind,
                        .rel = f.rel,
                        .identity = f.kind == "file" ? "" : f.kind + "\n" + f.rel,
                        .read_file = true});
    batch_bytes += f.size;
    if (batch_bytes >= kBatchBytes || batch.size() >= kBatchJobs) HK_RETURN_IF_ERROR(run_batch());
  }
  HK_RETURN_IF_ERROR(run_batch());

  // Bind to the audit log and to the previous snapshot's view of it.
  m.store_id = source.store_id;
  const auto now = clock.Now();
  m.created_at = FormatRfc3339(now);
  HK_ASSIGN_OR_RETURN(const std::string suffix, RandomHexId(4));
  m.snapshot_id = SnapshotIdAt(now, suffix);
  m.source_dir = source.data_dir;
  m.source_host = source.host;
  m.key_id = key.Id();
  m.audit_origin = audit.origin;
  m.audit_public_key = audit.public_key;
  m.checkpoint = audit.checkpoint;
  m.tree_size = audit.tree_size;
  m.root = audit.root;
  m.versions = source.versions;
  m.audit_entries = source.audit_entries;
  if (base) {
    const Manifest& b = base->manifest;
    m.previous_snapshot = b.snapshot_id;
    m.previous_tree_size = b.tree_size;
    m.previous_root = b.root;
    if (b.audit_public_key != audit.public_key) {
      m.audit_consistency =
          "inconsistent: the audit signing key changed since snapshot " + b.snapshot_id;
    } else if (b.tree_size > audit.tree_size) {
      m.audit_consistency = "inconsistent: the audit log is shorter than at snapshot " +
                            b.snapshot_id + " (" + std::to_string(audit.tree_size) + " < " +
                            std::to_string(b.tree_size) + " entries)";
    } else if (b.tree_size == 0) {
      m.audit_consistency = "consistent";
    } else {
      Result<std::vector<merkle::Hash>> proof = audit.prove_consistency(b.tree_size);
      Status ok = proof ? merkle::VerifyConsistency(b.tree_size, audit.tree_size, b.root,
                                                    audit.root, *proof)
                        : proof.error();
      if (ok.ok()) {
        m.consistency_proof = std::move(*proof);
        m.audit_consistency = "consistent";
      } else {
        m.audit_consistency = "inconsistent: the audit log does not extend the one of snapshot " +
                              b.snapshot_id + " (" + ok.message() + ")";
      }
    }
  }
  HK_ASSIGN_OR_RETURN(Bytes encoded, EncodeManifest(m, key, signer));
  HK_RETURN_IF_ERROR(target.PutSnapshot(m.snapshot_id, encoded));
  return result;
}

}  // namespace hokan::backup
