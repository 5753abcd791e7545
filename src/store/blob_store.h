// Where encrypted version contents live. Interface so object storage can come later; the
// filesystem implementation is the default.
//
// Blobs are immutable and named by random ids (32 lower-case hex characters). Put() returns
// only when the blob and its name are durable, so a metadata row may then refer to it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace hokan {

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // kAlreadyExists if the id is taken (never overwrites).
  virtual Status Put(const std::string& blob_id, ByteView sealed) = 0;
  // kNotFound when missing.
  virtual Result<Bytes> Get(const std::string& blob_id) = 0;
  virtual Status Remove(const std::string& blob_id) = 0;
  // Shards are the first two hex characters of ids ("00".."ff"); listing shard by shard
  // keeps verification's memory flat. Names that are not blob ids are returned too, so
  // verification can report strays.
  virtual Result<std::vector<std::string>> ListShard(const std::string& shard) = 0;
  // Age of a blob (for the sweep's grace period).
  virtual Result<FileInfo> Stat(const std::string& blob_id) = 0;
};

// dir/<id[0:2]>/<id>, files 0600.
class FileBlobStore final : public BlobStore {
 public:
  // `fs` must outlive the store. `dir` must exist.
  FileBlobStore(FileSystem& fs, std::string dir, bool sync);
  Status Put(const std::string& blob_id, ByteView sealed) override;
  Result<Bytes> Get(const std::string& blob_id) override;
  Status Remove(const std::string& blob_id) override;
  Result<std::vector<std::string>> ListShard(const std::string& shard) override;
  Result<FileInfo> Stat(const std::string& blob_id) override;

  std::string PathOf(const std::string& blob_id) const;

 private:
  FileSystem& fs_;
  const std::string dir_;
  const bool sync_;
};

// True for 32 lower-case hex characters.
bool IsBlobId(std::string_view id);

}  // namespace hokan
