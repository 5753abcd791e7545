#include "store/blob_store.h"

namespace hokan {

bool IsBlobId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

FileBlobStore::FileBlobStore(FileSystem& fs, std::string dir, bool sync)
    : fs_(fs), dir_(std::move(dir)), sync_(sync) {}

std::string FileBlobStore::PathOf(const std::string& blob_id) const {
  return JoinPath(JoinPath(dir_, blob_id.substr(0, 2)), blob_id);
}

Status FileBlobStore::Put(const std::string& blob_id, ByteView sealed) {
  if (!IsBlobId(blob_id)) return InternalError("malformed blob id");
  const std::string shard = JoinPath(dir_, blob_id.substr(0, 2));
  Status made = fs_.CreateDir(shard);
  if (made.ok()) {
    if (sync_) HK_RETURN_IF_ERROR(fs_.SyncDir(dir_));
  } else if (made.code() != StatusCode::kAlreadyExists) {
    return made.WithContext("blob store");
  }
  const std::string path = JoinPath(shard, blob_id);
  HK_ASSIGN_OR_RETURN(auto file, fs_.NewWritableFile(path));
  Status st = file->Append(sealed);
  if (st.ok() && sync_) st = file->Sync();
  if (st.ok()) st = file->Close();
  // The name durable before a metadata row may refer to it.
  if (st.ok() && sync_) st = fs_.SyncDir(shard);
  if (!st.ok()) {
    // Leave no partial blob behind (disk full, I/O error). If even this fails, the file is an
    // orphan that verify reports and the sweep removes.
    (void)file->Close();
    (void)fs_.Remove(path);
    return st.WithContext("blob store");
  }
  return OkStatus();
}

Result<Bytes> FileBlobStore::Get(const std::string& blob_id) {
  if (!IsBlobId(blob_id)) return DataLossError("malformed blob id in metadata");
  return fs_.ReadFile(PathOf(blob_id));
}

Status FileBlobStore::Remove(const std::string& blob_id) {
  if (blob_id.size() < 2) return InvalidArgumentError("malformed blob name");
  HK_RETURN_IF_ERROR(fs_.Remove(PathOf(blob_id)));
  return fs_.SyncDir(JoinPath(dir_, blob_id.substr(0, 2)));
}

Result<std::vector<std::string>> FileBlobStore::ListShard(const std::string& shard) {
  Result<std::vector<std::string>> names = fs_.ListDir(JoinPath(dir_, shard));
  if (!names && names.error().code() == StatusCode::kNotFound) return std::vector<std::string>{};
  return names;
}

Result<FileInfo> FileBlobStore::Stat(const std::string& blob_id) {
  return fs_.Stat(PathOf(blob_id));
}

}  // namespace hokan
