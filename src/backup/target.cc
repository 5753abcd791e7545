#include "backup/target.h"

#include <algorithm>
#include <charconv>

#include "crypto/crypto.h"
#include "store/atomic_write.h"

namespace hokan::backup {
namespace {

constexpr std::string_view kMarker = "HOKAN-BACKUP";
constexpr std::string_view kMarkerText = "hokan backup target v1\n";
constexpr std::string_view kManifestSuffix = ".manifest";

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// What a first run killed before its marker was written leaves: the empty layout
// directories and perhaps the marker's hidden temporary. Such a directory is finished, not
// refused; anything else in it (a file of someone's, a snapshot) is not ours to take over.
Result<bool> IsInterruptedLayout(FileSystem& fs, const std::string& dir,
                                 const std::vector<std::string>& names) {
  const std::string marker_tmp = "." + std::string(kMarker) + ".tmp-";
  for (const std::string& name : names) {
    if (name.rfind(marker_tmp, 0) == 0) continue;
    if (name != "packs" && name != "snapshots") return false;
    HK_ASSIGN_OR_RETURN(const FileInfo info, fs.Stat(JoinPath(dir, name)));
    if (!info.is_directory) return false;
    HK_ASSIGN_OR_RETURN(const std::vector<std::string> inside, fs.ListDir(JoinPath(dir, name)));
    if (!inside.empty()) return false;
  }
  for (const std::string& name : names) {
    if (name.rfind(marker_tmp, 0) == 0) HK_RETURN_IF_ERROR(fs.Remove(JoinPath(dir, name)));
  }
  return true;
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
    HK_ASSIGN_OR_RETURN(const bool interrupted, IsInterruptedLayout(fs, dir, names));
    if (!names.empty() && !interrupted) {
      return FailedPreconditionError(dir +
                                     " is not empty and not a hokan backup target; give an "
                                     "empty directory or an existing target");
    }
  }
  for (const char* sub : {"packs", "snapshots"}) {
    Status st = fs.CreateDir(JoinPath(dir, sub));
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
  }
  HK_RETURN_IF_ERROR(fs.SyncDir(dir));
  // The marker last: a directory with it has the whole layout.
  HK_RETURN_IF_ERROR(
      WriteNewFileAtomically(fs, dir, std::string(kMarker), AsBytes(kMarkerText), true));
  return t;
}

std::string DirectoryTarget::SnapshotPath(const std::string& id) const {
  return JoinPath(JoinPath(dir_, "snapshots"), id + std::string(kManifestSuffix));
}

namespace {

constexpr std::string_view kIndexMagic = "hokan-pack-index v1\n";

std::string PackDir(const std::string& dir, const std::string& shard) {
  return JoinPath(JoinPath(dir, "packs"), shard);
}

}  // namespace

Status DirectoryTarget::LoadIndex() {
  if (index_loaded_) return OkStatus();
  const std::string packs = JoinPath(dir_, "packs");
  HK_ASSIGN_OR_RETURN(std::vector<std::string> shards, fs_.ListDir(packs));
  for (const std::string& shard : shards) {
    known_shards_.push_back(shard);
    HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(JoinPath(packs, shard)));
    for (const std::string& n : names) {
      if (n.size() != 32 + 6 || n.substr(32) != ".index") continue;
      const std::string pack_path = JoinPath(JoinPath(packs, shard), n.substr(0, 32) + ".pack");
      Result<Bytes> text = fs_.ReadFile(JoinPath(JoinPath(packs, shard), n));
      Result<FileInfo> pack = fs_.Stat(pack_path);
      // An index without its complete pack (a crash between the two) names nothing.
      if (!text || !pack) continue;
      std::string_view t = AsChars(*text);
      if (t.substr(0, kIndexMagic.size()) != kIndexMagic) continue;
      t.remove_prefix(kIndexMagic.size());
      std::vector<std::pair<std::string, Slot>> entries;
      bool complete = true;
      while (!t.empty() && complete) {
        const std::size_t nl = t.find('\n');
        if (nl == std::string_view::npos) {
          complete = false;
          break;
        }
        const std::string_view line = t.substr(0, nl);
        t.remove_prefix(nl + 1);
        const std::size_t sp1 = line.find(' ');
        const std::size_t sp2 = line.find(' ', sp1 + 1);
        if (sp1 != 64 || sp2 == std::string_view::npos) {
          complete = false;
          break;
        }
        Slot loc;
        // Decimal digits only, the whole field, no overflow; then inside the pack (checked
        // without adding, so huge numbers cannot wrap around into range).
        auto parse = [](std::string_view v, std::uint64_t& out) {
          const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
          return !v.empty() && ec == std::errc() && end == v.data() + v.size();
        };
        if (!IsObjectId(line.substr(0, 64)) ||
            !parse(line.substr(sp1 + 1, sp2 - sp1 - 1), loc.offset) ||
            !parse(line.substr(sp2 + 1), loc.size) || loc.offset > pack->size ||
            loc.size > pack->size - loc.offset) {
          complete = false;
          break;
        }
        entries.emplace_back(std::string(line.substr(0, 64)), loc);
      }
      if (!complete) continue;
      const std::uint32_t pack_index = AddPackPath(pack_path);
      for (auto& [id, loc] : entries) {
        loc.pack = pack_index;
        index_.emplace(std::move(id), loc);
      }
    }
  }
  index_loaded_ = true;
  return OkStatus();
}

std::uint32_t DirectoryTarget::AddPackPath(std::string path) {
  pack_paths_.push_back(std::move(path));
  return static_cast<std::uint32_t>(pack_paths_.size() - 1);
}

Result<bool> DirectoryTarget::HasObject(const std::string& id) {
  if (!IsObjectId(id)) return InvalidArgumentError("not a backup object id");
  HK_RETURN_IF_ERROR(LoadIndex());
  return index_.count(id) != 0 || pending_objects_.count(id) != 0;
}

Status DirectoryTarget::ReloadIndex() {
  index_.clear();
  pack_paths_.clear();
  known_shards_.clear();  // LoadIndex lists them again.
  open_packs_.clear();
  index_loaded_ = false;
  return LoadIndex();
}

Result<std::optional<ObjectLocation>> DirectoryTarget::Locate(const std::string& id) {
  HK_RETURN_IF_ERROR(LoadIndex());
  auto it = index_.find(id);
  if (it == index_.end()) {
    // Another process (a prune, a concurrent run) may have packed it since we looked.
    HK_RETURN_IF_ERROR(ReloadIndex());
    it = index_.find(id);
    if (it == index_.end()) return std::optional<ObjectLocation>();
  }
  return std::optional<ObjectLocation>(
      ObjectLocation{pack_paths_[it->second.pack], it->second.offset, it->second.size});
}

Status DirectoryTarget::EnsureShard(const std::string& shard) {
  if (std::find(known_shards_.begin(), known_shards_.end(), shard) != known_shards_.end()) {
    return OkStatus();
  }
  const std::string packs = JoinPath(dir_, "packs");
  Status st = fs_.CreateDir(JoinPath(packs, shard));
  if (st.ok()) {
    HK_RETURN_IF_ERROR(fs_.SyncDir(packs));
  } else if (st.code() != StatusCode::kAlreadyExists) {
    return st;
  }
  known_shards_.push_back(shard);
  return OkStatus();
}

Status DirectoryTarget::PutObject(const std::string& id, ByteView sealed) {
  HK_ASSIGN_OR_RETURN(const bool present, HasObject(id));
  if (present) return OkStatus();
  pending_objects_.emplace(id, std::make_pair(pending_.size(), sealed.size()));
  pending_.insert(pending_.end(), sealed.begin(), sealed.end());
  if (pending_.size() >= pack_bytes_) return WritePack();
  return OkStatus();
}

Status DirectoryTarget::WritePack() {
  if (pending_objects_.empty()) return OkStatus();
  HK_ASSIGN_OR_RETURN(const std::string pack_id, RandomHexId(16));
  const std::string shard = pack_id.substr(0, 2);
  HK_RETURN_IF_ERROR(EnsureShard(shard));
  const std::string dir = PackDir(dir_, shard);
  HK_RETURN_IF_ERROR(WriteNewFileAtomically(fs_, dir, pack_id + ".pack", pending_, false)
                         .WithContext("write backup pack"));
  std::string index(kIndexMagic);
  for (const auto& [id, where] : pending_objects_) {
    index += id;
    index += ' ';
    index += std::to_string(where.first);
    index += ' ';
    index += std::to_string(where.second);
    index += '\n';
  }
  HK_RETURN_IF_ERROR(WriteNewFileAtomically(fs_, dir, pack_id + ".index", AsBytes(index), false)
                         .WithContext("write backup pack index"));
  const std::uint32_t pack_index = AddPackPath(JoinPath(dir, pack_id + ".pack"));
  for (const auto& [id, where] : pending_objects_) {
    index_.emplace(id, Slot{pack_index, where.first, where.second});
  }
  if (std::find(unsynced_shards_.begin(), unsynced_shards_.end(), shard) ==
      unsynced_shards_.end()) {
    unsynced_shards_.push_back(shard);
  }
  pending_.clear();
  pending_.shrink_to_fit();
  pending_objects_.clear();
  return OkStatus();
}

Result<RandomAccessFile*> DirectoryTarget::OpenPack(const std::string& path) {
  for (auto& [p, f] : open_packs_) {
    if (p == path) return f.get();
  }
  HK_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs_.OpenRandomAccessFile(path, false));
  if (open_packs_.size() >= 8) open_packs_.erase(open_packs_.begin());
  open_packs_.emplace_back(path, std::move(f));
  return open_packs_.back().second.get();
}

Result<Bytes> DirectoryTarget::GetObject(const std::string& id) {
  if (!IsObjectId(id)) return InvalidArgumentError("not a backup object id");
  HK_RETURN_IF_ERROR(LoadIndex());
  if (auto p = pending_objects_.find(id); p != pending_objects_.end()) {
    const auto begin = pending_.begin() + static_cast<std::ptrdiff_t>(p->second.first);
    return Bytes(begin, begin + static_cast<std::ptrdiff_t>(p->second.second));
  }
  auto it = index_.find(id);
  Result<RandomAccessFile*> f = NotFoundError("");
  if (it != index_.end()) f = OpenPack(pack_paths_[it->second.pack]);
  if (!f && f.error().code() == StatusCode::kNotFound) {
    // A prune in another process may have repacked it: look again once.
    HK_RETURN_IF_ERROR(ReloadIndex());
    it = index_.find(id);
    if (it == index_.end()) {
      return NotFoundError("backup object " + id + " is missing from " + Describe());
    }
    f = OpenPack(pack_paths_[it->second.pack]);
  }
  const Slot& loc = it->second;
  if (!f) {
    if (f.error().code() == StatusCode::kNotFound) {
      return NotFoundError("backup object " + id + " is missing from " + Describe() +
                           " (its pack is gone)");
    }
    return f.error();
  }
  Bytes out(static_cast<std::size_t>(loc.size));
  HK_ASSIGN_OR_RETURN(const std::size_t n, (*f)->Read(loc.offset, out.size(), out.data()));
  out.resize(n);  // Short when the pack was cut: the hash check names it as damaged.
  return out;
}

Status DirectoryTarget::Flush() {
  HK_RETURN_IF_ERROR(WritePack());
  for (const std::string& shard : unsynced_shards_) {
    HK_RETURN_IF_ERROR(fs_.SyncDir(PackDir(dir_, shard)));
  }
  unsynced_shards_.clear();
  return OkStatus();
}

Result<DirectoryTarget::PackRemoval> DirectoryTarget::RemoveObjectsNotIn(
    const std::set<std::string>& needed, std::chrono::system_clock::time_point older_than) {
  HK_RETURN_IF_ERROR(Flush());
  HK_RETURN_IF_ERROR(LoadIndex());
  std::map<std::string, std::vector<std::string>> by_pack;
  for (const auto& [id, loc] : index_) by_pack[pack_paths_[loc.pack]].push_back(id);
  PackRemoval out;
  std::vector<std::string> doomed;  // Packs to remove once their kept objects are repacked.
  for (const auto& [pack, ids] : by_pack) {
    std::uint64_t unneeded_bytes = 0;
    std::uint64_t unneeded = 0;
    for (const std::string& id : ids) {
      if (needed.count(id) == 0) {
        unneeded_bytes += index_.at(id).size;
        ++unneeded;
      }
    }
    Result<FileInfo> info = fs_.Stat(pack);
    if (unneeded == 0 || !info || info->modified >= older_than) continue;
    // A pack mostly still needed stays as it is (repacking would cost more than it frees).
    if (unneeded < ids.size() && unneeded_bytes * 10 < info->size) continue;
    for (const std::string& id : ids) {
      if (needed.count(id) == 0) continue;
      HK_ASSIGN_OR_RETURN(Bytes sealed, GetObject(id));
      index_.erase(id);
      HK_RETURN_IF_ERROR(PutObject(id, sealed));
    }
    out.objects += unneeded;
    out.bytes += unneeded_bytes;
    doomed.push_back(pack);
  }
  // The kept objects are durable in their new packs before the old packs go.
  HK_RETURN_IF_ERROR(Flush());
  std::set<std::string> dirs;
  open_packs_.clear();
  for (const std::string& pack : doomed) {
    // The index first: a pack without an index is garbage nobody reads.
    HK_RETURN_IF_ERROR(fs_.Remove(pack.substr(0, pack.size() - 5) + ".index"));
    HK_RETURN_IF_ERROR(fs_.Remove(pack));
    dirs.insert(DirName(pack));
    ++out.packs;
  }
  for (auto it = index_.begin(); it != index_.end();) {
    it = std::find(doomed.begin(), doomed.end(), pack_paths_[it->second.pack]) != doomed.end()
             ? index_.erase(it)
             : std::next(it);
  }
  for (const std::string& d : dirs) HK_RETURN_IF_ERROR(fs_.SyncDir(d));
  return out;
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
  return WriteNewFileAtomically(fs_, JoinPath(dir_, "snapshots"), id + std::string(kManifestSuffix),
                                manifest, true)
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
