#include "store/atomic_write.h"

#include "crypto/crypto.h"

namespace hokan {

Status WriteNewFileDurably(FileSystem& fs, const std::string& dir, const std::string& name,
                           ByteView contents) {
  HK_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(JoinPath(dir, name)));
  HK_RETURN_IF_ERROR(file->Append(contents));
  HK_RETURN_IF_ERROR(file->Sync());  // Bytes durable before the name is.
  HK_RETURN_IF_ERROR(file->Close());
  return fs.SyncDir(dir);  // The name durable before anyone refers to it.
}

Status WriteNewFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                              ByteView contents, bool sync_dir) {
  HK_ASSIGN_OR_RETURN(const std::string suffix, RandomHexId(8));
  const std::string tmp_name = "." + name + ".tmp-" + suffix;
  // Complete bytes before the final name exists (no directory sync: the rename follows).
  HK_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(JoinPath(dir, tmp_name)));
  HK_RETURN_IF_ERROR(file->Append(contents));
  HK_RETURN_IF_ERROR(file->Sync());
  HK_RETURN_IF_ERROR(file->Close());
  const std::string final_path = JoinPath(dir, name);
  if (fs.Stat(final_path)) {
    (void)fs.Remove(JoinPath(dir, tmp_name));
    return AlreadyExistsError(final_path + " already exists");
  }
  HK_RETURN_IF_ERROR(fs.Rename(JoinPath(dir, tmp_name), final_path));
  return sync_dir ? fs.SyncDir(dir) : OkStatus();
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
