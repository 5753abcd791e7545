#include "store/atomic_write.h"

namespace hokan {

Status WriteNewFileDurably(FileSystem& fs, const std::string& dir, const std::string& name,
                           ByteView contents) {
  HK_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(JoinPath(dir, name)));
  HK_RETURN_IF_ERROR(file->Append(contents));
  HK_RETURN_IF_ERROR(file->Sync());  // Bytes durable before the name is.
  HK_RETURN_IF_ERROR(file->Close());
  return fs.SyncDir(dir);  // The name durable before anyone refers to it.
}

Status WriteFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                           ByteView contents) {
  const std::string tmp = JoinPath(dir, name + ".tmp");
  Status removed = fs.Remove(tmp);  // A leftover from a crash; nothing refers to it.
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) return removed;
  HK_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(tmp));
  HK_RETURN_IF_ERROR(file->Append(contents));
  HK_RETURN_IF_ERROR(file->Sync());
  HK_RETURN_IF_ERROR(file->Close());
  HK_RETURN_IF_ERROR(fs.Rename(tmp, JoinPath(dir, name)));
  return fs.SyncDir(dir);
}

}  // namespace hokan
